package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/social/mastodon"
	"tresor/socialtest"
	"tresor/storetest"
)

// errAnswerLost is a lost answer: the request reached the server.
var errAnswerLost = errors.New("timeout awaiting response headers")

// answerLoss passes every request on, and loses the answers to the next
// lose posts of statuses.
type answerLoss struct{ lose atomic.Int32 }

func (l *answerLoss) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses" && l.lose.Add(-1) >= 0 {
		resp.Body.Close()
		return nil, errAnswerLost
	}
	return resp, err
}

// TestPublishWithoutAnswerOnGoToSocial runs the gate's publishing through
// the real Mastodon connector against a real GoToSocial whose first answer
// is lost after it posted: the post is unconfirmed, not failed, and the
// next run records it published with the status's id, leaving one status
// on the server (GoToSocial ignores the Idempotency-Key, so the gate looks
// before it sends again).
func TestPublishWithoutAnswerOnGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	run := func(t *testing.T, cfg datadir.Config, text string) {
		loss := &answerLoss{}
		factory := func(_ context.Context, network string, creds []byte) (tresor.Connector, error) {
			var c mastodon.Credentials
			if err := json.Unmarshal(creds, &c); err != nil {
				return nil, err
			}
			return mastodon.New(c, mastodon.Options{HTTPClient: &http.Client{Transport: loss, Timeout: 15 * time.Second}})
		}
		clk := &clock{t: time.Now().UTC()}
		g := openGate(t, cfg, gate.WithClock(clk.now), gate.WithConnectors(factory))
		creds, err := json.Marshal(mastodon.Credentials{Server: gts.URL, AccessToken: acme.Token, ClientID: acme.ClientID, ClientSecret: acme.ClientSecret})
		must(t, err)
		ch, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: creds})
		must(t, err)
		mk := as(t, g, "marketing@acme.example", "marketing", tresor.RoleMarketing)

		loss.lose.Store(1)
		p, err := g.SchedulePost(mk, &tresor.Post{ChannelID: ch.ID, Text: text})
		must(t, err)
		if p.Unconfirmed == "" || p.Error != "" || p.PublishedAt != nil {
			t.Fatalf("post after a lost answer: %+v", p)
		}
		clk.advance(time.Minute)
		if _, err := g.PublishDue(system()); err != nil {
			t.Fatal(err)
		}
		l, err := g.Posts(system(), tresor.PostQuery{ChannelID: ch.ID, Page: tresor.Page{Limit: 10}})
		must(t, err)
		got := l.Items[0]

		var me struct{ ID string }
		must(t, gts.Do("GET", "/api/v1/accounts/verify_credentials", acme.Token, nil, 200, &me))
		var ss []struct{ ID, Content string }
		must(t, gts.Do("GET", "/api/v1/accounts/"+url.PathEscape(me.ID)+"/statuses?limit=40", acme.Token, nil, 200, &ss))
		var on []string
		for _, s := range ss {
			if strings.Contains(s.Content, text) {
				on = append(on, s.ID)
			}
		}
		if len(on) != 1 {
			t.Fatalf("%d statuses with the text on the server, want 1", len(on))
		}
		if got.PublishedAt == nil || got.RemoteID != on[0] || got.URL == "" || got.Unconfirmed != "" || got.Error != "" {
			t.Errorf("post after the next run: %+v; want published as status %s", got, on[0])
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		run(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, "Neu: der Sommerkatalog, einmal")
	})
	t.Run("postgres", func(t *testing.T) {
		run(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true}, "Neu: der Herbstkatalog, einmal")
	})
}
