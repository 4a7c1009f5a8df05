package gate_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/policy"
	"tresor/social/bluesky"
	"tresor/socialtest"
)

// realATProto is a PDS with its AppView, started once for the package by
// the first test that asks for it.
var realATProto socialtest.SharedATProto

// searchPolls counts the answers to searchPosts, so the test knows when a
// stream has taken its first look (the Bluesky connector replays nothing
// from before that).
type searchPolls struct{ n atomic.Int64 }

func (c *searchPolls) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/app.bsky.feed.searchPosts") {
		c.n.Add(1)
	}
	return resp, err
}

// bskyPost is one post an account of the real PDS writes.
type bskyPost struct {
	who        int
	lang, text string
}

// TestListeningOnBluesky runs a topic's stream through the real Bluesky
// connector against a real PDS and AppView (searchPosts), with k = 5.
// Eleven accounts post with the topic's hashtag: six public German posts,
// three public English ones (a language bucket below k), one revealing
// health and one revealing religion. Bluesky has no followers-only posts
// (every post is public), so the GoToSocial test's followers-only rule has
// no counterpart here.
func TestListeningOnBluesky(t *testing.T) {
	atp := realATProto.Get(t)
	acme := atp.Account(t, "acme-listening")
	acmePassword := atp.AppPassword(t, acme)
	var fans []*socialtest.ATAccount
	for i := range 11 {
		fans = append(fans, atp.Account(t, fmt.Sprintf("kaffeefan%02d", i)))
	}
	pol := policy.Default()
	pol.Listening.K = policy.MinListeningK

	// The special-category posts come first: the stream reads oldest first,
	// so once the last public post is counted every other one has passed
	// the gate.
	script := func(tag string) []bskyPost {
		return []bskyPost{
			{9, "de", "Seit meiner Chemotherapie wegen Krebs trinke ich nur noch " + tag},
			{10, "en", "After church on Sunday I always pray and drink " + tag},
			{0, "de", "Der " + tag + " ist gut zum Frühstück"},
			{1, "de", "Der " + tag + " ist gut, die Bohnen frisch"},
			{2, "de", "Guter Kaffee: " + tag},
			{3, "de", "Bohnen vom " + tag + " sind prima"},
			{4, "de", "Heute wieder " + tag + " getrunken"},
			{5, "de", "Morgens " + tag + ", abends Tee"},
			{6, "en", "I love " + tag + " in the morning"},
			{7, "en", "Great beans from " + tag},
			{8, "en", "Trying " + tag + " today"},
		}
	}

	run := func(t *testing.T, cfg datadir.Config, raw *sql.DB, tag string) {
		polls := &searchPolls{}
		clk := &clock{t: time.Now().UTC()}
		factory := func(ctx context.Context, network string, creds []byte) (tresor.Connector, error) {
			c, err := bluesky.ParseCredentials(creds)
			if err != nil {
				return nil, err
			}
			return bluesky.New(ctx, c, bluesky.Options{HTTPClient: &http.Client{Transport: polls, Timeout: 15 * time.Second}, PollInterval: 150 * time.Millisecond})
		}
		g := openGate(t, cfg, gate.WithClock(clk.now), gate.WithPolicy(pol), gate.WithConnectors(factory))
		creds, err := json.Marshal(bluesky.Credentials{Service: atp.URL, Handle: acme.Handle, AppPassword: acmePassword})
		must(t, err)
		_, err = g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "bluesky", Name: "Acme", Credentials: creds})
		must(t, err)
		analyst := as(t, g, "analyst@acme.example", "analytics", tresor.RoleAnalyst)
		topic := &tresor.ListeningTopic{Name: "Acme Kaffee", Keywords: []string{tag}, Networks: []string{"bluesky"}}
		must(t, g.CreateTopic(analyst, topic))

		// The streams run on the social loop's entry point until cancelled.
		ctx, cancel := context.WithCancel(system())
		defer cancel()
		must(t, g.SyncListening(ctx))
		waitFor(t, "the stream's first poll", func() bool { return polls.n.Load() > 0 })
		posts := script(tag)
		for _, p := range posts {
			atp.Post(t, fans[p.who], socialtest.ATPost{Text: p.text, Langs: []string{p.lang}})
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

		checkTrendSixShownThreeSuppressed(t, g, analyst, topic.ID, clk.now(), "bluesky", "the public posts are counted (")

		t.Run("the special-category posts are in no bucket, only in the global counter", func(t *testing.T) {
			for lang, want := range map[string]int{"de": 6, "en": 3} {
				for _, width := range tresor.ListeningBuckets() {
					var n sql.NullInt64
					must(t, raw.QueryRow("SELECT sum(posts) FROM listening_aggregates WHERE language = $1 AND width = $2 AND kind = 'bucket'",
						lang, string(width)).Scan(&n))
					if int(n.Int64) != want {
						t.Errorf("the %s buckets of width %s count %d posts, want the %d public ones", lang, width, n.Int64, want)
					}
				}
			}
			var n int
			must(t, raw.QueryRow(`SELECT count(*) FROM listening_aggregates WHERE term LIKE '%krebs%' OR term LIKE '%chemo%'
				OR term LIKE '%church%' OR term LIKE '%pray%' OR term LIKE '%sunday%'`).Scan(&n))
			if n != 0 {
				t.Errorf("%d aggregate rows carry a word of a special-category post", n)
			}
			dropped, err := g.ListeningDropped(analyst)
			must(t, err)
			if dropped["special"] != 2 {
				t.Errorf("global dropped counters = %v, want special 2", dropped)
			}
		})

		// The needles: every handle in its forms, every DID, and every
		// post's text.
		var needles []string
		for _, a := range fans {
			needles = append(needles, strings.TrimSuffix(a.Handle, ".test"), a.Handle, "@"+a.Handle, a.DID)
		}
		for _, p := range posts {
			needles = append(needles, p.text)
		}
		closeWindowThenSearchDisk(t, g, clk, cfg, raw, tag, needles, "after the window closes no handle, DID or text is on disk")
	}

	onBothBackends(t, run)
}
