package bluesky

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tresor"
)

// TestStreamSince: a stream started again catches up on the posts made
// after the time it is given; a new stream delivers only what comes later.
func TestStreamSince(t *testing.T) {
	f := newFake(t)
	t0 := time.Now().Add(-time.Hour)
	hit := func(i int) map[string]any {
		return postView(fmt.Sprintf("at://did:plc:bob/app.bsky.feed.post/3kold%04d", i), "bafy", "did:plc:bob", "bob.example",
			fmt.Sprintf("Tresor Nr. %d", i), t0.Add(time.Duration(i)*time.Minute), nil)
	}
	for i := 1; i <= 4; i++ {
		f.addSearchHit("tresor", hit(i))
	}
	c := connect(t, f, Options{PollInterval: 20 * time.Millisecond})
	run := func(since time.Time) []string {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan tresor.SocialPost, 100)
		done := make(chan error, 1)
		calls := f.count("app.bsky.feed.searchPosts")
		go func() { done <- c.StreamSince(ctx, []string{"tresor"}, since, func(p tresor.SocialPost) { got <- p }) }()
		waitFor(t, func() bool { return f.count("app.bsky.feed.searchPosts") >= calls+2 })
		cancel()
		<-done
		close(got)
		var ids []string
		for p := range got {
			ids = append(ids, p.ID[strings.LastIndex(p.ID, "/")+1:])
		}
		return ids
	}
	t.Run("the first search after a restart delivers the posts after since, oldest first", func(t *testing.T) {
		got := run(t0.Add(2*time.Minute + time.Second))
		if strings.Join(got, ",") != "3kold0003,3kold0004" {
			t.Errorf("caught up %v, want the posts 3 and 4", got)
		}
	})
	t.Run("a stream without since only records what is there", func(t *testing.T) {
		if got := run(time.Time{}); len(got) != 0 {
			t.Errorf("a new stream delivered %v", got)
		}
	})
}
