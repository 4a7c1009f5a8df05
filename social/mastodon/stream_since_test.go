package mastodon

import (
	"context"
	"sync"
	"testing"
	"time"

	"tresor"
)

// TestStreamSince: a stream started again catches up on the statuses made
// after the time it is given, paging back through the tag's timeline.
func TestStreamSince(t *testing.T) {
	f := newFake(t)
	erika := f.account("erika", "Erika", "")
	t0 := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	var list []map[string]any
	for i := range 100 { // more than two pages
		s := f.status(erika, "<p>#acme</p>", "public")
		s["created_at"] = t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		list = append(list, s)
	}
	f.tags["acme"] = list
	c := f.connector(Options{PollInterval: 10 * time.Millisecond})
	run := func(since time.Time) []tresor.SocialPost {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var mu sync.Mutex
		var got []tresor.SocialPost
		done := make(chan error, 1)
		before := f.requestsTo("/api/v1/timelines/tag/acme")
		go func() {
			done <- c.StreamSince(ctx, []string{"#acme"}, since, func(p tresor.SocialPost) { mu.Lock(); got = append(got, p); mu.Unlock() })
		}()
		waitFor(t, "a second poll", func() bool { return f.requestsTo("/api/v1/timelines/tag/acme") >= before+4 })
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	t.Run("the first poll after a restart delivers every status after since, oldest first", func(t *testing.T) {
		got := run(t0.Add(9*time.Minute + time.Second)) // the statuses 10 … 99
		if len(got) != 90 || got[0].ID != list[10]["id"] || got[89].ID != list[99]["id"] {
			t.Fatalf("caught up %d statuses (first %v), want the 90 after since", len(got), got)
		}
	})
	t.Run("a stream without since only records where the timeline stands", func(t *testing.T) {
		if got := run(time.Time{}); len(got) != 0 {
			t.Errorf("a new stream delivered %d statuses", len(got))
		}
	})
}
