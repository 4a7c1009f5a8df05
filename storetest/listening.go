package storetest

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"testing"
	"time"

	"tresor"
)

// listeningTests are the store's part of social listening.
var listeningTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"ListeningTopicRoundTripAndVersion", testListeningTopic},
	{"ListeningAuthorsCountOncePerRowAndWindow", testListeningAuthors},
	{"ListeningPostsInOneCallCountAsOneByOne", testListeningPosts},
	{"ListeningAuthorCountsOnceUnderConcurrentWriters", testListeningConcurrentAuthors},
	{"ListeningSeenPostCountsOnce", testListeningSeen},
	{"ListeningBatchesBeyondOneStatementCountLikeOneByOne", testListeningLargeBatches},
	{"ListeningWindowCloseLeavesOnlyAggregates", testListeningClose},
	{"ListeningDroppedCountersAdd", testListeningDropped},
	{"ListeningBudgetSpendsUpToExactlyTheBudget", testListeningBudgetExact},
	{"ListeningBudgetConcurrentReadsDoNotOverspend", testListeningBudgetConcurrent},
	{"ListeningBudgetSurvivesTopicChanges", testListeningBudgetUpdate},
	{"ListeningReleaseIsGivenAgainUntilPruned", testListeningRelease},
}

func listeningTopic(t *testing.T, s tresor.Store) *tresor.ListeningTopic {
	t.Helper()
	top := &tresor.ListeningTopic{ID: newID(), Name: "Acme", Keywords: []string{"#acme"}, Networks: []string{"mastodon"}, Languages: []string{"de"},
		Purpose: "analytics", CreatedBy: newID(), CreatedAt: epoch, UpdatedAt: epoch, Version: 1}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertListeningTopic(ctx, top) })
	return top
}

func listeningWindow(t *testing.T, s tresor.Store) *tresor.ListeningWindow {
	t.Helper()
	id := newID()
	w := &tresor.ListeningWindow{ID: id, Start: epoch.Truncate(time.Hour), End: epoch.Truncate(time.Hour).AddDate(0, 0, 7),
		Key: tresor.WrappedKey{Subject: id, Version: 1, KEKVersion: 1, Wrapped: []byte("wrapped")}, Sealed: []byte("sealed key")}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertListeningWindow(ctx, w) })
	return w
}

func aggRow(topicID, kind, term string) *tresor.ListeningAggregate {
	return &tresor.ListeningAggregate{TopicID: topicID, Width: tresor.BucketDay, Start: epoch.Truncate(24 * time.Hour), Network: "mastodon",
		Language: "de", Kind: kind, Term: term, Posts: 1, Positive: 1}
}

func testListeningTopic(t *testing.T, s tresor.Store) {
	top := listeningTopic(t, s)
	got, err := s.Read().ListeningTopic(ctx, top.ID)
	must(t, err)
	if got.Name != "Acme" || !slices.Equal(got.Keywords, top.Keywords) || !slices.Equal(got.Languages, top.Languages) || got.Purpose != "analytics" ||
		!got.CreatedAt.Equal(epoch) || got.Version != 1 || got.Cursors != nil {
		t.Fatalf("round trip: %+v", got)
	}
	got.Name, got.Version = "Acme GmbH", 2
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateListeningTopic(ctx, got, 1) })
	err = s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateListeningTopic(ctx, got, 1) })
	wantCode(t, err, tresor.ECVersionMismatch)
	update(t, s, func(tx tresor.Tx) error { return tx.SetListeningCursor(ctx, top.ID, "mastodon", epoch) })
	// An older time does not move the cursor back.
	update(t, s, func(tx tresor.Tx) error { return tx.SetListeningCursor(ctx, top.ID, "mastodon", epoch.Add(-time.Hour)) })
	got, err = s.Read().ListeningTopic(ctx, top.ID)
	must(t, err)
	if got.Name != "Acme GmbH" || !got.Cursors["mastodon"].Equal(epoch) {
		t.Fatalf("after update: %+v", got)
	}
	all, err := s.Read().ListeningTopics(ctx)
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("%d topics", len(all))
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteListeningTopic(ctx, top.ID) })
	wantCode(t, errOf(s.Read().ListeningTopic(ctx, top.ID)), tresor.ECNotFound)
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteListeningTopic(ctx, top.ID) }), tresor.ECNotFound)
}

// listeningPost is a post of author with the rows, each row named by a
// hash of its key (the gate keys them with the window's key).
func listeningPost(windowID, author string, rows ...*tresor.ListeningAggregate) tresor.ListeningPost {
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		h := fnv.New64a()
		fmt.Fprint(h, r.TopicID, r.Width, r.Start.UnixMicro(), r.Network, r.Language, r.Kind, "\x00", r.Term)
		ids[i] = h.Sum64()
	}
	return tresor.ListeningPost{WindowID: windowID, Author: []byte(author), Rows: rows, RowIDs: ids}
}

func addListening(tx tresor.Tx, windowID, author string, rows ...*tresor.ListeningAggregate) error {
	return tx.AddListeningPosts(ctx, []tresor.ListeningPost{listeningPost(windowID, author, rows...)})
}

// testListeningConcurrentAuthors: writers that count the same author into
// the same row at the same moment count the author once.
func testListeningConcurrentAuthors(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx tresor.Tx) error {
				return addListening(tx, w.ID, "a", aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", "kaffee"))
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	rows, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(rows) != 2 || rows[0].Posts != writers || rows[0].Authors != 1 || rows[1].Authors != 1 {
		t.Fatalf("after %d concurrent writers of one author: %+v %+v", writers, rows[0], rows[len(rows)-1])
	}
}

func testListeningAuthors(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	add := func(author string, rows ...*tresor.ListeningAggregate) {
		update(t, s, func(tx tresor.Tx) error { return addListening(tx, w.ID, author, rows...) })
	}
	add("a", aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", "kaffee"))
	add("a", aggRow(top.ID, "bucket", ""))
	add("b", aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", "kaffee"))
	rows, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want a bucket and a term", len(rows))
	}
	b, term := rows[0], rows[1]
	if b.Kind != "bucket" || b.Posts != 3 || b.Authors != 2 || b.Positive != 3 || term.Term != "kaffee" || term.Posts != 2 || term.Authors != 2 {
		t.Fatalf("bucket %+v, term %+v", b, term)
	}
	other, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketWeek, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("another width: %d rows", len(other))
	}
}

func testListeningPosts(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	post := func(author string, rows ...*tresor.ListeningAggregate) tresor.ListeningPost {
		return listeningPost(w.ID, author, rows...)
	}
	// The same posts as testListeningAuthors, in one call, and once more
	// by an author already counted.
	update(t, s, func(tx tresor.Tx) error {
		return tx.AddListeningPosts(ctx, []tresor.ListeningPost{
			post("a", aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", "kaffee")),
			post("a", aggRow(top.ID, "bucket", "")),
			post("b", aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", "kaffee")),
		})
	})
	update(t, s, func(tx tresor.Tx) error {
		return tx.AddListeningPosts(ctx, []tresor.ListeningPost{post("b", aggRow(top.ID, "bucket", ""))})
	})
	rows, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want a bucket and a term", len(rows))
	}
	b, term := rows[0], rows[1]
	if b.Kind != "bucket" || b.Posts != 4 || b.Authors != 2 || b.Positive != 4 || term.Term != "kaffee" || term.Posts != 2 || term.Authors != 2 {
		t.Fatalf("bucket %+v, term %+v", b, term)
	}
}

func testListeningSeen(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	for i, want := range []bool{true, false} {
		var isNew bool
		update(t, s, func(tx tresor.Tx) (err error) {
			got, err := tx.MarkListeningSeen(ctx, []tresor.ListeningSeen{{WindowID: w.ID, TopicID: top.ID, Hash: []byte("post-hash")}})
			if err == nil {
				isNew = got[0]
			}
			return err
		})
		if isNew != want {
			t.Fatalf("mark %d: new = %v, want %v", i, isNew, want)
		}
	}
}

// testListeningLargeBatches: batches larger than one statement's rows
// count as one post at a time would.
func testListeningLargeBatches(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	var seen []tresor.ListeningSeen
	for i := range 250 {
		seen = append(seen, tresor.ListeningSeen{WindowID: w.ID, TopicID: top.ID, Hash: fmt.Appendf(nil, "post-%d", i)})
	}
	seen = append(seen, seen[:30]...) // delivered twice in one batch
	var got []bool
	update(t, s, func(tx tresor.Tx) (err error) { got, err = tx.MarkListeningSeen(ctx, seen); return err })
	for i, isNew := range got {
		if isNew != (i < 250) {
			t.Fatalf("post %d of the batch: new = %v", i, isNew)
		}
	}
	update(t, s, func(tx tresor.Tx) (err error) { got, err = tx.MarkListeningSeen(ctx, seen[:250]); return err })
	if slices.Contains(got, true) {
		t.Fatal("a post seen before is new again")
	}
	var posts []tresor.ListeningPost
	for i := range 250 {
		posts = append(posts, listeningPost(w.ID, fmt.Sprintf("author-%d", i), aggRow(top.ID, "bucket", ""), aggRow(top.ID, "term", fmt.Sprintf("t%d", i%3))))
	}
	for i := range 120 { // the first 120 authors once more
		posts = append(posts, listeningPost(w.ID, fmt.Sprintf("author-%d", i), aggRow(top.ID, "bucket", "")))
	}
	update(t, s, func(tx tresor.Tx) error { return tx.AddListeningPosts(ctx, posts) })
	rows, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(rows) != 4 || rows[0].Kind != "bucket" || rows[0].Posts != 370 || rows[0].Authors != 250 {
		t.Fatalf("after 370 posts of 250 authors: %d rows, first %+v", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if r.Authors < 83 || r.Authors > 84 || r.Posts != r.Authors {
			t.Fatalf("term %+v, want 83 or 84 authors of one post each", r)
		}
	}
}

func testListeningClose(t *testing.T, s tresor.Store) {
	top, w := listeningTopic(t, s), listeningWindow(t, s)
	update(t, s, func(tx tresor.Tx) error {
		if _, err := tx.MarkListeningSeen(ctx, []tresor.ListeningSeen{{WindowID: w.ID, TopicID: top.ID, Hash: []byte("p")}}); err != nil {
			return err
		}
		return addListening(tx, w.ID, "a", aggRow(top.ID, "bucket", ""))
	})
	ws, err := s.Read().ListeningWindows(ctx)
	must(t, err)
	if len(ws) != 1 || ws[0].ID != w.ID || !ws[0].Start.Equal(w.Start) || !bytes.Equal(ws[0].Sealed, w.Sealed) || !bytes.Equal(ws[0].Key.Wrapped, w.Key.Wrapped) {
		t.Fatalf("windows: %+v", ws)
	}
	// A second window of the same start is a conflict (servers race to open it).
	dup := *w
	dup.ID = newID()
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertListeningWindow(ctx, &dup) }), tresor.ECConflict)
	update(t, s, func(tx tresor.Tx) error { return tx.CloseListeningWindow(ctx, w.ID) })
	ws, err = s.Read().ListeningWindows(ctx)
	must(t, err)
	if len(ws) != 0 {
		t.Fatalf("%d windows after close", len(ws))
	}
	rows, err := s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if len(rows) != 1 || rows[0].Authors != 1 {
		t.Fatalf("aggregates after close: %+v", rows)
	}
	// The same pseudonym in a new window is a new author of the row: the
	// old window's pseudonyms are gone.
	w2 := listeningWindow(t, s)
	update(t, s, func(tx tresor.Tx) error {
		return addListening(tx, w2.ID, "a", aggRow(top.ID, "bucket", ""))
	})
	rows, err = s.Read().ListeningAggregates(ctx, top.ID, tresor.BucketDay, epoch.Add(-48*time.Hour), epoch.Add(time.Hour))
	must(t, err)
	if rows[0].Authors != 2 {
		t.Fatalf("authors = %d after the window closed, want 2", rows[0].Authors)
	}
}

func testListeningDropped(t *testing.T, s tresor.Store) {
	update(t, s, func(tx tresor.Tx) error { return tx.CountListeningDropped(ctx, "special", 1) })
	update(t, s, func(tx tresor.Tx) error { return tx.CountListeningDropped(ctx, "special", 2) })
	got, err := s.Read().ListeningDropped(ctx)
	must(t, err)
	if got["special"] != 3 {
		t.Fatalf("dropped = %v", got)
	}
}

// dpTopic is a topic with differential privacy on and a budget of ε.
func dpTopic(t *testing.T, s tresor.Store, budget float64) *tresor.ListeningTopic {
	t.Helper()
	top := &tresor.ListeningTopic{ID: newID(), Name: "Acme", Keywords: []string{"#acme"}, Networks: []string{"mastodon"},
		Purpose: "analytics", CreatedBy: newID(), CreatedAt: epoch, UpdatedAt: epoch, Version: 1, EpsilonBudget: budget}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertListeningTopic(ctx, top) })
	return top
}

func spend(t *testing.T, s tresor.Store, id string, e float64) bool {
	t.Helper()
	var ok bool
	update(t, s, func(tx tresor.Tx) (err error) {
		ok, err = tx.SpendListeningBudget(ctx, id, e)
		return err
	})
	return ok
}

func testListeningBudgetExact(t *testing.T, s tresor.Store) {
	// 0.1 is not exact in binary: 30 reads of 0.1 must still fill 3.0 exactly.
	top := dpTopic(t, s, 3)
	for i := range 30 {
		if !spend(t, s, top.ID, 0.1) {
			t.Fatalf("read %d of 30 refused: the budget of 3 holds 30 reads of 0.1", i+1)
		}
	}
	if spend(t, s, top.ID, 0.1) {
		t.Fatal("read 31 spent beyond the budget")
	}
	got, err := s.Read().ListeningTopic(ctx, top.ID)
	must(t, err)
	if got.EpsilonBudget != 3 || got.EpsilonSpent != 3 {
		t.Fatalf("budget %v, spent %v; want 3 and 3", got.EpsilonBudget, got.EpsilonSpent)
	}
	// A topic without differential privacy has no budget to spend.
	plain := listeningTopic(t, s)
	if spend(t, s, plain.ID, 0.1) {
		t.Fatal("a topic without differential privacy spent a budget")
	}
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error {
		_, err := tx.SpendListeningBudget(ctx, "no-such-topic", 0.1)
		return err
	}), tresor.ECNotFound)
}

func testListeningBudgetConcurrent(t *testing.T, s tresor.Store) {
	// 40 reads at once on a budget of 10 reads: exactly 10 spend.
	top := dpTopic(t, s, 5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	spent := 0
	errs := make(chan error, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := s.Update(ctx, func(tx tresor.Tx) (err error) {
				ok, err = tx.SpendListeningBudget(ctx, top.ID, 0.5)
				return err
			})
			if err != nil {
				errs <- err
				return
			}
			if ok {
				mu.Lock()
				spent++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent read failed: %v", err)
	}
	if spent != 10 {
		t.Errorf("%d of 40 concurrent reads spent 0.5 of a budget of 5, want exactly 10", spent)
	}
	got, err := s.Read().ListeningTopic(ctx, top.ID)
	must(t, err)
	if got.EpsilonSpent != 5 {
		t.Errorf("spent %v, want 5", got.EpsilonSpent)
	}
}

func testListeningBudgetUpdate(t *testing.T, s tresor.Store) {
	top := dpTopic(t, s, 2)
	if !spend(t, s, top.ID, 1.5) {
		t.Fatal("refused within the budget")
	}
	// Changing the topic (here: its budget) keeps what is spent.
	top.Name, top.EpsilonBudget, top.Version = "Acme GmbH", 4, 2
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateListeningTopic(ctx, top, 1) })
	got, err := s.Read().ListeningTopic(ctx, top.ID)
	must(t, err)
	if got.EpsilonBudget != 4 || got.EpsilonSpent != 1.5 {
		t.Fatalf("after the change: budget %v, spent %v; want 4 and 1.5", got.EpsilonBudget, got.EpsilonSpent)
	}
}

func testListeningRelease(t *testing.T, s tresor.Store) {
	top := dpTopic(t, s, 10)
	put := func(query string, at time.Time, body string, prune time.Time) {
		update(t, s, func(tx tresor.Tx) error { return tx.PutListeningRelease(ctx, top.ID, query, at, []byte(body), prune) })
	}
	get := func(query string, since time.Time) (string, time.Time, bool) {
		b, at, ok, err := s.Read().ListeningRelease(ctx, top.ID, query, since)
		must(t, err)
		return string(b), at, ok
	}
	put("day/1/2", epoch, `{"a":1}`, epoch.Add(-time.Hour))
	if b, at, ok := get("day/1/2", epoch.Add(-time.Hour)); !ok || b != `{"a":1}` || !at.Equal(epoch) {
		t.Fatalf("release = %q at %v (%v)", b, at, ok)
	}
	if _, _, ok := get("day/1/3", epoch.Add(-time.Hour)); ok {
		t.Fatal("another query got the release")
	}
	if _, _, ok := get("day/1/2", epoch.Add(time.Second)); ok {
		t.Fatal("a release older than asked for was given")
	}
	// A new release of the query replaces it; older releases are pruned.
	put("day/1/2", epoch.Add(time.Minute), `{"a":2}`, epoch.Add(-time.Hour))
	if b, _, _ := get("day/1/2", epoch); b != `{"a":2}` {
		t.Fatalf("replaced release = %q", b)
	}
	put("day/5/6", epoch.Add(2*time.Hour), `{"b":1}`, epoch.Add(time.Hour))
	if _, _, ok := get("day/1/2", time.Time{}); ok {
		t.Fatal("a release from before the prune time is kept")
	}
	// Releases go with their topic.
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteListeningTopic(ctx, top.ID) })
	if _, _, ok := get("day/5/6", time.Time{}); ok {
		t.Fatal("a release outlived its topic")
	}
}
