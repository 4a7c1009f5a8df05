package gate_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"tresor"
)

// publishEnv is a gate with one channel on net, and the marketing context
// that may publish on it.
type publishEnv struct {
	*privacyEnv
	net *fakeNet
	ch  *tresor.SocialChannel
}

func newPublishEnv(t *testing.T) *publishEnv {
	t.Helper()
	net := &fakeNet{}
	e, _ := socialGate(t, net)
	ch, err := e.g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme",
		Credentials: json.RawMessage(`{"token":"` + fakeToken + `"}`)})
	must(t, err)
	return &publishEnv{privacyEnv: e, net: net, ch: ch}
}

// post returns the stored post of an id.
func (e *publishEnv) post(t *testing.T, id string) *tresor.Post {
	t.Helper()
	l, err := e.g.Posts(system(), tresor.PostQuery{ChannelID: e.ch.ID, Page: tresor.Page{Limit: 100}})
	must(t, err)
	for _, p := range l.Items {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("post %s not found", id)
	return nil
}

// events returns the actions of the audit entries about posts, in order.
func (e *publishEnv) events(t *testing.T, id string) []string {
	t.Helper()
	l, err := e.g.AuditLog(system(), tresor.AuditFilter{ContactID: id, Action: "post.", Page: tresor.Page{Limit: 100}})
	must(t, err)
	var out []string
	for _, a := range l.Items {
		out = append(out, a.Action)
	}
	slices.Sort(out)
	return out
}

func (e *publishEnv) publishDue(t *testing.T) {
	t.Helper()
	if _, err := e.g.PublishDue(system()); err != nil {
		t.Fatal(err)
	}
}

// TestPublishWithoutAnswerDoesNotPostTwice proves that a post whose
// attempt got no answer is neither failed nor sent twice: its key is chosen
// before the first attempt, the next run looks for it on the network and
// records it published, or sends it again under the same key.
func TestPublishWithoutAnswerDoesNotPostTwice(t *testing.T) {
	t.Run("an attempt whose answer was lost leaves the post unconfirmed, not failed", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.lost = 1
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Neu: unser Frühjahrsangebot"})
		must(t, err)
		got := e.post(t, p.ID)
		if got.PublishedAt != nil || got.Error != "" || got.Unconfirmed == "" {
			t.Fatalf("post after a lost answer: %+v", got)
		}
		if ev := e.events(t, p.ID); !slices.Equal(ev, []string{"post.scheduled", "post.unconfirmed"}) {
			t.Errorf("audit: %v", ev)
		}
	})

	t.Run("the next run finds the post on the network and records it published with its remote id, posting nothing", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.lost = 1
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Neu: unser Frühjahrsangebot"})
		must(t, err)
		e.publishDue(t)
		got := e.post(t, p.ID)
		if got.PublishedAt == nil || got.RemoteID != "p1" || got.URL != "https://social.example/p1" || got.Unconfirmed != "" || got.Error != "" {
			t.Fatalf("post after the next run: %+v", got)
		}
		if len(e.net.published) != 1 || len(e.net.keys) != 1 {
			t.Errorf("posts on the network %v, calls of Publish %v; want one of each", e.net.published, e.net.keys)
		}
		if ev := e.events(t, p.ID); !slices.Equal(ev, []string{"post.published", "post.scheduled", "post.unconfirmed"}) {
			t.Errorf("audit: %v", ev)
		}
		e.publishDue(t) // a published post is not due any more
		if len(e.net.keys) != 1 {
			t.Errorf("a published post was sent again: %v", e.net.keys)
		}
	})

	t.Run("a post not found on the network is sent again under the same key, once", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.dropped = 1
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Tag der offenen Tür"})
		must(t, err)
		e.publishDue(t)
		got := e.post(t, p.ID)
		if got.PublishedAt == nil || got.RemoteID != "p1" {
			t.Fatalf("post after the retry: %+v", got)
		}
		if len(e.net.keys) != 2 || e.net.keys[0] != e.net.keys[1] || len(e.net.keys[0]) != 13 || len(e.net.published) != 1 {
			t.Errorf("keys of the attempts %v, posts %v; want the same key twice and one post", e.net.keys, e.net.published)
		}
	})

	t.Run("a refusal of the network is a failure at once and is not tried again", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.refuse = &tresor.ErrConnector{Network: "mastodon", Op: "publish", Err: errors.New("422 Unprocessable Entity: text too long")}
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Zu lang"})
		must(t, err)
		if got := e.post(t, p.ID); got.Error == "" || got.Unconfirmed != "" || got.PublishedAt != nil {
			t.Fatalf("refused post: %+v", got)
		}
		e.publishDue(t)
		if len(e.net.keys) != 1 {
			t.Errorf("a refused post was sent again: %v", e.net.keys)
		}
		if ev := e.events(t, p.ID); !slices.Equal(ev, []string{"post.failed", "post.scheduled"}) {
			t.Errorf("audit: %v", ev)
		}
	})

	t.Run("while the network cannot be asked whether the post is there, it is not sent again", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.dropped = 1
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Herbstkatalog"})
		must(t, err)
		e.net.lookFail = &tresor.ErrConnector{Network: "mastodon", Op: "published", Err: tresor.ErrOutcomeUnknown}
		e.publishDue(t)
		if got := e.post(t, p.ID); len(e.net.keys) != 1 || got.Unconfirmed == "" || got.Error != "" {
			t.Fatalf("post %+v, attempts %v", got, e.net.keys)
		}
		e.net.lookFail = nil
		e.publishDue(t)
		if got := e.post(t, p.ID); got.PublishedAt == nil || len(e.net.published) != 1 {
			t.Fatalf("post %+v, network %v", got, e.net.published)
		}
	})

	t.Run("a post that never gets an answer fails after five attempts", func(t *testing.T) {
		e := newPublishEnv(t)
		e.net.dropped = 100
		p, err := e.g.SchedulePost(e.ctx["marketing"], &tresor.Post{ChannelID: e.ch.ID, Text: "Winterpause"})
		must(t, err)
		for range 6 {
			e.publishDue(t)
		}
		got := e.post(t, p.ID)
		if len(e.net.keys) != 5 || got.Error == "" || got.Unconfirmed != "" || got.PublishedAt != nil {
			t.Fatalf("post %+v after %d attempts", got, len(e.net.keys))
		}
		if ev := e.events(t, p.ID); !slices.Equal(ev, []string{"post.failed", "post.scheduled", "post.unconfirmed", "post.unconfirmed",
			"post.unconfirmed", "post.unconfirmed"}) {
			t.Errorf("audit: %v", ev)
		}
	})
}
