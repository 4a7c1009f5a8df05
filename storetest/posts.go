package storetest

import (
	"testing"
	"time"

	"tresor"
)

// postTests are the store's part of publishing company posts.
var postTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"PostKeepsItsKeyAndAttempts", testPostKeepsKeyAndAttempts},
	{"UnconfirmedPostStaysDue", testUnconfirmedPostStaysDue},
}

// channelWithPost stores a channel and a post on it, due at epoch.
func channelWithPost(t *testing.T, s tresor.Store) *tresor.Post {
	t.Helper()
	chID := newID()
	ch := &tresor.SocialChannelRow{SocialChannel: tresor.SocialChannel{ID: chID, Network: "mastodon", Name: "Acme", Account: "@acme@social.example",
		CreatedAt: epoch, UpdatedAt: epoch}, Credentials: []byte("sealed"),
		Sealing: tresor.Sealing{Key: &tresor.WrappedKey{Subject: chID, Version: 1, KEKVersion: 1, Wrapped: []byte("wrapped")}, KeyIsNew: true}}
	p := &tresor.Post{ID: newID(), ChannelID: chID, Text: "Neu im Laden", PublishAt: epoch, CreatedBy: "system", CreatedAt: epoch,
		Key: "3kabcdefghij2"}
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertChannel(ctx, ch); err != nil {
			return err
		}
		return tx.InsertPost(ctx, p)
	})
	return p
}

func readPost(t *testing.T, s tresor.Store, id string) *tresor.Post {
	t.Helper()
	ps, err := s.Read().Posts(ctx, tresor.PostQuery{Page: tresor.Page{Limit: 10}})
	must(t, err)
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("post %s not found", id)
	return nil
}

func testPostKeepsKeyAndAttempts(t *testing.T, s tresor.Store) {
	p := channelWithPost(t, s)
	if got := readPost(t, s, p.ID); got.Key != p.Key || got.Attempts != 0 || got.AttemptedAt != nil {
		t.Fatalf("new post: key %q attempts %d at %v", got.Key, got.Attempts, got.AttemptedAt)
	}
	at := epoch.Add(time.Minute)
	p.Attempts, p.AttemptedAt, p.Unconfirmed = 2, &at, "no answer"
	update(t, s, func(tx tresor.Tx) error { return tx.PostDone(ctx, p) })
	got := readPost(t, s, p.ID)
	if got.Key != p.Key || got.Attempts != 2 || got.AttemptedAt == nil || !got.AttemptedAt.Equal(at) || got.Unconfirmed != "no answer" {
		t.Errorf("after an attempt: %+v", got)
	}
}

func testUnconfirmedPostStaysDue(t *testing.T, s tresor.Store) {
	p := channelWithPost(t, s)
	due := func() int {
		ps, err := s.Read().Posts(ctx, tresor.PostQuery{DueBefore: epoch.Add(time.Hour), Page: tresor.Page{Limit: 10}})
		must(t, err)
		return len(ps)
	}
	p.Attempts, p.Unconfirmed = 1, "no answer"
	update(t, s, func(tx tresor.Tx) error { return tx.PostDone(ctx, p) })
	if n := due(); n != 1 {
		t.Errorf("an unconfirmed post is not due: %d due", n)
	}
	at := epoch.Add(time.Minute)
	p.PublishedAt, p.RemoteID, p.Unconfirmed = &at, "113", ""
	update(t, s, func(tx tresor.Tx) error { return tx.PostDone(ctx, p) })
	if n := due(); n != 0 {
		t.Errorf("a published post is still due: %d due", n)
	}
}
