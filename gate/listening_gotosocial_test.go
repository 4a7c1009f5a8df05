package gate_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/policy"
	"tresor/social/mastodon"
	"tresor/socialtest"
)

// tagPolls counts the answers to hashtag-timeline requests, so the test
// knows when a stream has taken its first look (the Mastodon connector
// replays nothing from before that).
type tagPolls struct{ n atomic.Int64 }

func (c *tagPolls) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.Path, "/timelines/tag/") {
		c.n.Add(1)
	}
	return resp, err
}

// gtsPost is one status an account of the real server posts.
type gtsPost struct {
	who        int
	visibility string // public or private (followers only)
	lang, text string
}

// TestListeningOnGoToSocial runs a topic's stream through the real Mastodon
// connector against a real GoToSocial, with k = 5. Twelve accounts post
// statuses with the topic's hashtag: six public German ones, three public
// English ones (a language bucket below k), two followers-only ones, one
// revealing health and one revealing religion.
func TestListeningOnGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	var fans []*socialtest.Account
	for i := range 12 {
		fans = append(fans, gts.Account(t, fmt.Sprintf("kaffeefan%02d", i)))
	}
	host := strings.ToLower(gts.Host)
	pol := policy.Default()
	pol.Listening.K = policy.MinListeningK

	// Followers-only and special-category posts come first: the stream
	// reads oldest first, so once the last public post is counted every
	// other one has passed the gate.
	script := func(tag string) []gtsPost {
		return []gtsPost{
			{9, "private", "de", "Nur für meine Follower: der " + tag + " ist mein Geheimtipp"},
			{3, "private", "de", "Unter uns: " + tag + " schmeckt mir am besten"},
			{11, "public", "de", "Seit meiner Chemotherapie wegen Krebs trinke ich nur noch " + tag},
			{10, "public", "en", "After church on Sunday I always pray and drink " + tag},
			{0, "public", "de", "Der " + tag + " ist gut zum Frühstück"},
			{1, "public", "de", "Der " + tag + " ist gut, die Bohnen frisch"},
			{2, "public", "de", "Guter Kaffee: " + tag},
			{3, "public", "de", "Bohnen vom " + tag + " sind prima"},
			{4, "public", "de", "Heute wieder " + tag + " getrunken"},
			{5, "public", "de", "Morgens " + tag + ", abends Tee"},
			{6, "public", "en", "I love " + tag + " in the morning"},
			{7, "public", "en", "Great beans from " + tag},
			{8, "public", "en", "Trying " + tag + " today"},
		}
	}

	run := func(t *testing.T, cfg datadir.Config, raw *sql.DB, tag string) {
		polls := &tagPolls{}
		clk := &clock{t: time.Now().UTC()}
		factory := func(_ context.Context, network string, creds []byte) (tresor.Connector, error) {
			var c mastodon.Credentials
			if err := json.Unmarshal(creds, &c); err != nil {
				return nil, err
			}
			return mastodon.New(c, mastodon.Options{HTTPClient: &http.Client{Transport: polls, Timeout: 15 * time.Second}, PollInterval: 150 * time.Millisecond})
		}
		g := openGate(t, cfg, gate.WithClock(clk.now), gate.WithPolicy(pol), gate.WithConnectors(factory))
		creds, err := json.Marshal(mastodon.Credentials{Server: gts.URL, AccessToken: acme.Token, ClientID: acme.ClientID, ClientSecret: acme.ClientSecret})
		must(t, err)
		_, err = g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: creds})
		must(t, err)
		analyst := as(t, g, "analyst@acme.example", "analytics", tresor.RoleAnalyst)
		topic := &tresor.ListeningTopic{Name: "Acme Kaffee", Keywords: []string{tag}, Networks: []string{"mastodon"}}
		must(t, g.CreateTopic(analyst, topic))

		// The streams run on the social loop's entry point until cancelled.
		ctx, cancel := context.WithCancel(system())
		defer cancel()
		must(t, g.SyncListening(ctx))
		waitFor(t, "the stream's first poll", func() bool { return polls.n.Load() > 0 })
		posts := script(tag)
		for _, p := range posts {
			must(t, gts.Do("POST", "/api/v1/statuses", fans[p.who].Token,
				url.Values{"status": {p.text}, "visibility": {p.visibility}, "language": {p.lang}}, http.StatusOK, nil))
		}
		counted := func() int {
			var n sql.NullInt64
			must(t, raw.QueryRow("SELECT sum(posts) FROM listening_aggregates WHERE width = 'hour' AND kind = 'bucket'").Scan(&n))
			return int(n.Int64)
		}
		waitFor(t, "the nine public posts counted", func() bool { return counted() >= 9 })
		before := polls.n.Load()
		waitFor(t, "two more polls", func() bool { return polls.n.Load() >= before+2 })
		cancel()
		if n := counted(); n != 9 {
			t.Fatalf("%d posts counted, want the 9 public ones without special categories", n)
		}

		checkTrendSixShownThreeSuppressed(t, g, analyst, topic.ID, clk.now(), "mastodon", "the public posts are counted and the followers-only ones absent (")

		t.Run("the special-category posts are in no bucket, only in the global counter", func(t *testing.T) {
			var n int
			must(t, raw.QueryRow("SELECT count(*) FROM listening_aggregates WHERE language = 'en' AND kind = 'bucket' AND (posts <> 3 OR authors <> 3)").Scan(&n))
			if n != 0 {
				t.Errorf("%d English buckets hold more than the 3 public English posts", n)
			}
			must(t, raw.QueryRow(`SELECT count(*) FROM listening_aggregates WHERE term LIKE '%krebs%' OR term LIKE '%chemo%'
				OR term LIKE '%church%' OR term LIKE '%pray%' OR term LIKE '%sunday%' OR term LIKE '%geheim%' OR term LIKE '%follow%'`).Scan(&n))
			if n != 0 {
				t.Errorf("%d aggregate rows carry a word of a special-category or followers-only post", n)
			}
			dropped, err := g.ListeningDropped(analyst)
			must(t, err)
			if dropped["special"] != 2 {
				t.Errorf("global dropped counters = %v, want special 2", dropped)
			}
		})

		// The needles: every handle in its forms, and every post's text.
		var needles []string
		for _, a := range fans {
			needles = append(needles, a.Username, "@"+a.Username+"@"+host, a.ID)
		}
		for _, p := range posts {
			needles = append(needles, p.text)
		}
		closeWindowThenSearchDisk(t, g, clk, cfg, raw, tag, needles, "after the window closes no handle or text is on disk")
	}

	onBothBackends(t, run)
}

// waitFor polls cond for up to 60 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
