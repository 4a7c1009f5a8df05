package gate_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
)

// streamNet is a fake network whose Stream hands out the posts it holds,
// then waits for the end of the context, as a real stream does.
type streamNet struct {
	fakeNet
	smu   sync.Mutex
	posts []tresor.SocialPost
}

func (s *streamNet) Stream(ctx context.Context, _ []string, fn func(tresor.SocialPost)) error {
	s.smu.Lock()
	posts := append([]tresor.SocialPost(nil), s.posts...)
	s.smu.Unlock()
	for _, p := range posts {
		fn(p)
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s *streamNet) add(ps ...tresor.SocialPost) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.posts = append(s.posts, ps...)
}

// listenEnv is a gate with a fake network, a channel on it and a topic of
// the analytics purpose.
type listenEnv struct {
	g       *gate.Gate
	net     *streamNet
	clock   *clock
	cfg     datadir.Config
	raw     *sql.DB
	analyst context.Context
	topic   *tresor.ListeningTopic
}

func listenBackends(t *testing.T, fn func(t *testing.T, e *listenEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, newListenEnv(t, datadir.Config{DataDir: dir, Migrate: true}, raw))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		raw, err := sql.Open("pgx", url)
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, newListenEnv(t, datadir.Config{DB: url, DataDir: t.TempDir(), Migrate: true}, raw))
	})
}

func newListenEnv(t *testing.T, cfg datadir.Config, raw *sql.DB) *listenEnv {
	t.Helper()
	e := &listenEnv{net: &streamNet{}, clock: newClock(), cfg: cfg, raw: raw}
	e.open(t)
	_, err := e.g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"x"}`)})
	must(t, err)
	e.analyst = as(t, e.g, "analyst@acme.example", "analytics", tresor.RoleAnalyst)
	e.topic = &tresor.ListeningTopic{Name: "Acme Kaffee", Keywords: []string{"#acmekaffee"}, Networks: []string{"mastodon"}}
	must(t, e.g.CreateTopic(e.analyst, e.topic))
	return e
}

// open opens (again) the gate on the environment's database.
func (e *listenEnv) open(t *testing.T) {
	t.Helper()
	e.g = openGate(t, e.cfg, gate.WithClock(e.clock.now),
		gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return e.net, nil }))
}

// run lets the streams deliver.
func (e *listenEnv) run(t *testing.T) *tresor.ListeningReport {
	t.Helper()
	rep, err := e.g.ListenFor(system(), 300*time.Millisecond)
	must(t, err)
	return rep
}

// day is the trend's bucket of the clock's day, or nil.
func (e *listenEnv) day(t *testing.T) *tresor.TrendBucket {
	t.Helper()
	tr, err := e.g.Trend(e.analyst, e.topic.ID, tresor.TrendQuery{From: e.clock.now().Add(-24 * time.Hour), To: e.clock.now().Add(time.Hour), Bucket: tresor.BucketDay})
	must(t, err)
	start := tresor.BucketDay.Start(e.clock.now())
	for i := range tr.Buckets {
		if tr.Buckets[i].Start.Equal(start) {
			return &tr.Buckets[i]
		}
	}
	return nil
}

func author(i int) string { return fmt.Sprintf("@fan%02d@social.example", i) }

// posts makes one public post by each of n authors (numbered from first).
func (e *listenEnv) posts(first, n int, id, text string) []tresor.SocialPost {
	var out []tresor.SocialPost
	for i := first; i < first+n; i++ {
		out = append(out, tresor.SocialPost{ID: fmt.Sprintf("%s-%d", id, i), Network: "mastodon", Author: author(i),
			Text: fmt.Sprintf(text, i), Visibility: tresor.PostPublic, Language: "de", CreatedAt: e.clock.now().Add(-time.Minute)})
	}
	return out
}

func posts(b *tresor.TrendBucket) int {
	if b == nil || b.Posts == nil {
		return -1
	}
	return *b.Posts
}

func TestListeningGate(t *testing.T) {
	t.Run("purposes without listening are refused", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			for _, c := range []struct {
				role    tresor.Role
				purpose string
			}{{tresor.RoleSales, "sales"}, {tresor.RoleService, "service"}, {tresor.RoleMarketing, "marketing"}} {
				ctx := as(t, e.g, string(c.role)+"@acme.example", c.purpose, c.role)
				err := e.g.CreateTopic(ctx, &tresor.ListeningTopic{Name: "x", Keywords: []string{"x"}, Networks: []string{"mastodon"}})
				wantCode(t, err, tresor.ECPurposeNotAllowed)
				if !strings.Contains(err.Error(), "listen") {
					t.Errorf("%s: the refusal does not say why: %v", c.purpose, err)
				}
				_, err = e.g.Trend(ctx, e.topic.ID, tresor.TrendQuery{})
				wantCode(t, err, tresor.ECPurposeNotAllowed)
			}
			err := e.g.CreateTopic(e.analyst, &tresor.ListeningTopic{Name: "Erika", Keywords: []string{"@erika@social.example"}, Networks: []string{"mastodon"}})
			wantCode(t, err, tresor.ECValidation) // a topic never follows a person
			pr := as(t, e.g, "pr@acme.example", "pr", tresor.RolePR)
			must(t, e.g.CreateTopic(pr, &tresor.ListeningTopic{Name: "Presse", Keywords: []string{"acme"}, Networks: []string{"mastodon"}}))
			// A topic of another purpose does not exist for pr.
			_, err = e.g.Trend(pr, e.topic.ID, tresor.TrendQuery{})
			wantCode(t, err, tresor.ECNotFound)
		})
	})

	t.Run("followers-only posts are ignored", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 12, "pub", "Der #AcmeKaffee ist gut zum #Frühstück, sagt Nummer %d")...)
			for _, p := range e.posts(20, 12, "fol", "Nur für Follower %d #AcmeKaffee") {
				p.Visibility = tresor.PostFollowers
				e.net.add(p)
			}
			rep := e.run(t)
			if rep.Dropped["not_public"] != 12 || rep.Counted != 12 {
				t.Errorf("report = %+v, want 12 counted and 12 not public", rep)
			}
			b := e.day(t)
			if posts(b) != 12 || *b.Authors != 12 || b.Sentiment.Positive != 12 {
				t.Fatalf("day bucket = %+v, want 12 posts by 12 authors, all positive", b)
			}
			// The topic's own hashtag co-occurs with every post: it is left out.
			if len(b.Hashtags) != 1 || b.Hashtags[0].Term != "#frühstück" {
				t.Errorf("hashtags = %+v", b.Hashtags)
			}
		})
	})

	t.Run("a post revealing a special category is dropped and counted only globally", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 12, "pub", "Der #AcmeKaffee schmeckt %d")...)
			e.net.add(tresor.SocialPost{ID: "health", Author: author(50), Visibility: tresor.PostPublic, Language: "de", CreatedAt: e.clock.now(),
				Text: "Seit meiner Chemotherapie wegen Krebs trinke ich nur noch #AcmeKaffee"})
			rep := e.run(t)
			if rep.Counted != 12 || len(rep.Dropped) != 0 {
				t.Errorf("report = %+v: the special post shows in the run's report", rep)
			}
			b := e.day(t)
			if posts(b) != 12 || *b.Authors != 12 {
				t.Fatalf("day bucket = %+v, want 12 posts by 12 authors", b)
			}
			var n int
			must(t, e.raw.QueryRow("SELECT count(*) FROM listening_aggregates WHERE term LIKE '%krebs%' OR term LIKE '%chemo%'").Scan(&n))
			if n != 0 {
				t.Errorf("%d aggregate rows carry a word of the health post", n)
			}
			dropped, err := e.g.ListeningDropped(e.analyst)
			must(t, err)
			if dropped["special"] != 1 {
				t.Errorf("global dropped counters = %v, want special 1", dropped)
			}
		})
	})

	t.Run("a bucket with fewer than k authors is suppressed without its number", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			// 9 authors, one of them writing 5 times: 13 posts, below k=10.
			e.net.add(e.posts(0, 9, "a", "#AcmeKaffee Nummer %d")...)
			for i := range 4 {
				e.net.add(tresor.SocialPost{ID: fmt.Sprintf("again-%d", i), Author: author(0), Text: "#AcmeKaffee nochmal", Visibility: tresor.PostPublic,
					Language: "de", CreatedAt: e.clock.now()})
			}
			e.run(t)
			b := e.day(t)
			if b == nil || !b.Suppressed || b.Posts != nil || b.Authors != nil || b.Sentiment != nil || b.Terms != nil || b.Hashtags != nil {
				t.Fatalf("bucket of 9 authors = %+v, want suppressed without figures", b)
			}
			if b.Reason == nil || b.Reason.Code != gate.ReasonKAnonymity || !strings.Contains(b.Reason.Message, "10") || b.Reason.MessageDE == "" {
				t.Errorf("reason = %+v", b.Reason)
			}
			out, _ := json.Marshal(b)
			if bytes.Contains(out, []byte("13")) || bytes.Contains(out, []byte(`"posts"`)) || bytes.Contains(out, []byte(`"authors"`)) {
				t.Errorf("the suppressed bucket's JSON tells a number: %s", out)
			}
			// The tenth author lifts it to k.
			e.net.add(e.posts(9, 1, "b", "#AcmeKaffee Nummer %d")...)
			e.run(t)
			if b := e.day(t); b.Suppressed || posts(b) != 14 || *b.Authors != 10 {
				t.Errorf("bucket of 10 authors = %+v, want shown: 14 posts, 10 authors", b)
			}
		})
	})

	t.Run("a term with fewer than k authors is neither named nor counted", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 10, "a", "#AcmeKaffee Bohnen %d")...)
			e.net.add(tresor.SocialPost{ID: "rare", Author: author(0), Text: "#AcmeKaffee Geheimrezept", Visibility: tresor.PostPublic,
				Language: "de", CreatedAt: e.clock.now()})
			e.run(t)
			b := e.day(t)
			if posts(b) != 11 || !b.TermsSuppressed {
				t.Fatalf("bucket = %+v", b)
			}
			for _, tt := range b.Terms {
				if strings.HasPrefix(tt.Term, "geheimrezept") {
					t.Errorf("a term of one author is shown: %+v", tt)
				}
			}
			// Terms are Snowball stems: Bohnen → bohn.
			if len(b.Terms) != 1 || b.Terms[0].Term != "bohn" || b.Terms[0].Authors != 10 {
				t.Errorf("terms = %+v, want bohn by 10 authors", b.Terms)
			}
		})
	})

	t.Run("the same author in two windows has unlinkable pseudonyms", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 1, "w1", "#AcmeKaffee %d")...)
			e.run(t)
			first := e.pseudonyms(t)
			if len(first) == 0 {
				t.Fatal("no pseudonym recorded in the open window")
			}
			var windows int
			must(t, e.raw.QueryRow("SELECT count(*) FROM listening_windows").Scan(&windows))
			if windows != 1 {
				t.Fatalf("%d windows open, want 1", windows)
			}
			e.clock.advance(14 * 24 * time.Hour)
			e.run(t) // closes the first window
			for _, table := range []string{"listening_windows", "listening_authors", "listening_seen"} {
				var n int
				must(t, e.raw.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
				if n != 0 {
					t.Errorf("%s holds %d rows after the window closed", table, n)
				}
			}
			e.net.smu.Lock()
			e.net.posts = nil
			e.net.smu.Unlock()
			e.net.add(e.posts(0, 1, "w3", "#AcmeKaffee %d")...)
			e.run(t)
			second := e.pseudonyms(t)
			if len(second) == 0 {
				t.Fatal("no pseudonym in the new window")
			}
			for p := range second {
				if first[p] {
					t.Errorf("the author's pseudonym %x recurs in a later window", p)
				}
			}
		})
	})

	t.Run("no author handle or post text is on disk after a run", func(t *testing.T) {
		e := newListenEnv(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, nil)
		e.net.add(e.posts(0, 12, "pub", "Mein Lieblingsgetränk ist #AcmeKaffee, Grüße von Nummer %d")...)
		for _, p := range e.posts(20, 3, "fol", "Geheim unter Freunden %d #AcmeKaffee") {
			p.Visibility = tresor.PostFollowers
			e.net.add(p)
		}
		e.run(t)
		check := func(when string) {
			files, _ := filepath.Glob(filepath.Join(e.cfg.DataDir, "*"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				for _, p := range e.net.posts {
					for _, needle := range []string{p.Author, strings.SplitN(p.Author, "@", 3)[1], p.Text, p.ID} {
						if bytes.Contains(b, []byte(needle)) {
							t.Errorf("%s: %s holds %q", when, filepath.Base(f), needle)
						}
					}
				}
			}
		}
		check("open window")
		e.clock.advance(14 * 24 * time.Hour)
		e.run(t) // closes the window
		check("closed window")
	})

	t.Run("serve's social loop keeps the topics' streams running", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 12, "pub", "#AcmeKaffee %d")...)
			ctx, cancel := context.WithCancel(bg)
			done := make(chan struct{})
			go func() { defer close(done); e.g.WatchSocial(ctx, 20*time.Millisecond, "", false) }()
			deadline := time.Now().Add(10 * time.Second)
			for posts(e.day(t)) != 12 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			<-done
			if b := e.day(t); posts(b) != 12 {
				t.Errorf("bucket after the loop ran = %+v, want 12 posts", b)
			}
		})
	})

	t.Run("a restart resumes without double counting", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			e.net.add(e.posts(0, 12, "pub", "#AcmeKaffee %d")...)
			e.run(t)
			must(t, e.g.Close())
			e.open(t) // a new process on the same database
			e.net.add(e.posts(12, 1, "new", "#AcmeKaffee %d")...)
			rep := e.run(t)
			if rep.Counted != 1 || rep.Dropped["duplicate"] != 12 {
				t.Errorf("report after restart = %+v, want 1 counted and 12 duplicates", rep)
			}
			if b := e.day(t); posts(b) != 13 || *b.Authors != 13 {
				t.Errorf("bucket = %+v, want 13 posts by 13 authors", b)
			}
			top, err := e.g.Topic(e.analyst, e.topic.ID)
			must(t, err)
			if top.Cursors["mastodon"].IsZero() {
				t.Errorf("no cursor stored with the topic: %+v", top)
			}
		})
	})
}

// pseudonyms returns the author pseudonyms of the open window.
func (e *listenEnv) pseudonyms(t *testing.T) map[string]bool {
	t.Helper()
	rows, err := e.raw.Query("SELECT author FROM listening_authors")
	must(t, err)
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var b []byte
		must(t, rows.Scan(&b))
		out[string(b)] = true
	}
	must(t, rows.Err())
	return out
}
