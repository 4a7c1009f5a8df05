package gate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/social/mastodon"
	"tresor/socialtest"
)

// TestPublishToAFrozenServer: the Mastodon-API server hangs (its process
// stopped with SIGSTOP) while a post goes out. The post is unconfirmed with
// the reason on the channel, the next run while it still hangs sends
// nothing, and once the server goes on the next run publishes the post —
// finding it if the server stored the request it had received, sending it
// again under its key if not: one status on the server either way.
func TestPublishToAFrozenServer(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	factory := func(_ context.Context, _ string, creds []byte) (tresor.Connector, error) {
		var c mastodon.Credentials
		if err := json.Unmarshal(creds, &c); err != nil {
			return nil, err
		}
		return mastodon.New(c, mastodon.Options{HTTPClient: &http.Client{Timeout: 3 * time.Second}})
	}
	clk := &clock{t: time.Now().UTC()}
	g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(clk.now), gate.WithConnectors(factory))
	creds, err := json.Marshal(mastodon.Credentials{Server: gts.URL, AccessToken: acme.Token, ClientID: acme.ClientID, ClientSecret: acme.ClientSecret})
	must(t, err)
	ch, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: creds})
	must(t, err)
	mk := as(t, g, "marketing@acme.example", "marketing", tresor.RoleMarketing)
	text := "Neu: der Winterkatalog, trotz Hänger einmal"
	statuses := func() int {
		var me struct{ ID string }
		must(t, gts.Do("GET", "/api/v1/accounts/verify_credentials", acme.Token, nil, 200, &me))
		var ss []struct{ Content string }
		must(t, gts.Do("GET", "/api/v1/accounts/"+url.PathEscape(me.ID)+"/statuses?limit=40", acme.Token, nil, 200, &ss))
		n := 0
		for _, s := range ss {
			if strings.Contains(s.Content, "Winterkatalog") {
				n++
			}
		}
		return n
	}
	post := func() *tresor.Post {
		l, err := g.Posts(system(), tresor.PostQuery{ChannelID: ch.ID, Page: tresor.Page{Limit: 10}})
		must(t, err)
		return l.Items[0]
	}

	gts.Freeze(t)
	p, err := g.SchedulePost(mk, &tresor.Post{ChannelID: ch.ID, Text: text})
	must(t, err)
	t.Run("a post to a hanging server is unconfirmed, with the reason, not failed", func(t *testing.T) {
		if p.Unconfirmed == "" || p.Error != "" || p.PublishedAt != nil {
			t.Fatalf("post to a frozen server: %+v", p)
		}
	})
	t.Run("while the server still hangs, the next run sends nothing", func(t *testing.T) {
		clk.advance(time.Minute)
		if _, err := g.PublishDue(system()); err != nil {
			t.Logf("publish run: %v", err)
		}
		if got := post(); got.PublishedAt != nil || got.Unconfirmed == "" {
			t.Fatalf("post after a run against the frozen server: %+v", got)
		}
	})
	gts.Thaw(t)
	t.Run("once the server goes on, the next run publishes the post, and it is on the server once", func(t *testing.T) {
		statuses() // the server answers again
		clk.advance(time.Minute)
		if _, err := g.PublishDue(system()); err != nil {
			t.Fatal(err)
		}
		if got := post(); got.PublishedAt == nil || got.RemoteID == "" || got.Unconfirmed != "" || got.Error != "" {
			t.Errorf("post after the server came back: %+v", got)
		}
		clk.advance(time.Minute)
		if _, err := g.PublishDue(system()); err != nil {
			t.Fatal(err)
		}
		if n := statuses(); n != 1 {
			t.Errorf("%d statuses with the text on the server, want 1", n)
		}
	})
}
