package gate_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/listen/text"
	"tresor/sqlite"
	"tresor/storetest"
)

// benchSentences are the texts of the benchmark's posts: German and
// English, positive, negative and neutral, with hashtags and a few that
// reveal a special category (dropped by the gate, as in real streams).
var benchSentences = []struct{ lang, text string }{
	{"de", "Der #AcmeKaffee ist heute wirklich großartig, die Bohnen schmecken frisch und kräftig #Frühstück"},
	{"de", "Leider war der #AcmeKaffee diesmal nicht gut, viel zu bitter und die Lieferung kam zu spät"},
	{"de", "Habe den neuen #AcmeKaffee im Büro probiert, ganz okay für den Preis #Montag"},
	{"de", "Nie wieder! Der Kundenservice von #AcmeKaffee hat mich total enttäuscht 😠"},
	{"de", "Morgens ein #AcmeKaffee und abends Tee, so läuft mein Tag #Routine"},
	{"de", "Der Espresso von #AcmeKaffee ist nicht schlecht, aber die Crema könnte besser sein"},
	{"en", "The #AcmeKaffee beans are absolutely amazing, best coffee I had this year #coffee"},
	{"en", "Really disappointed by #AcmeKaffee, the package arrived broken and the support never answered"},
	{"en", "Trying #AcmeKaffee with oat milk today, not bad at all 😊 #breakfast"},
	{"en", "Is #AcmeKaffee worth the price? It tastes fine but I am not sure"},
	{"en", "Brewed #AcmeKaffee for the whole team this morning, everyone loved it #office"},
	{"de", "Seit meiner Therapie trinke ich nur noch entkoffeinierten #AcmeKaffee"},
}

// benchPosts are n public posts of 5,000 authors over the 24 hours before at.
func benchPosts(n int, at time.Time) []tresor.SocialPost {
	out := make([]tresor.SocialPost, n)
	for i := range out {
		s := benchSentences[i%len(benchSentences)]
		out[i] = tresor.SocialPost{ID: fmt.Sprintf("bench-%d", i), Network: "mastodon", Author: fmt.Sprintf("@user%d@social.example", i%5000),
			Text: fmt.Sprintf("%s %d", s.text, i%97), Visibility: tresor.PostPublic, Language: s.lang,
			CreatedAt: at.Add(-time.Duration(i%(24*60)) * time.Minute)}
	}
	return out
}

// oneShotNet streams its posts once and ends the stream.
type oneShotNet struct {
	fakeNet
	posts []tresor.SocialPost
}

func (s *oneShotNet) Stream(_ context.Context, _ []string, fn func(tresor.SocialPost)) error {
	for _, p := range s.posts {
		fn(p)
	}
	return nil
}

// BenchmarkListeningGate pushes b.N posts through the listening gate on
// SQLite (screen, pseudonymise, analyse, aggregate, store) and, in the same
// run, only tokenises the same posts; it reports both rates and their
// ratio, on SQLite and (with TRESOR_TEST_POSTGRES set) on PostgreSQL. Run
// it with an exact count, e.g.
//
//	go test ./gate -run '^$' -bench 'ListeningGate$' -benchtime 20000x
func BenchmarkListeningGate(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchListeningGate(b, datadir.Config{DataDir: b.TempDir(), Migrate: true}) })
	b.Run("postgres", func(b *testing.B) {
		benchListeningGate(b, datadir.Config{DB: storetest.PostgresURL(b), DataDir: b.TempDir(), Migrate: true})
	})
}

func benchListeningGate(b *testing.B, cfg datadir.Config) {
	clk := newClock()
	posts := benchPosts(b.N, clk.now())
	net := &oneShotNet{posts: posts}
	g, err := datadir.Open(context.Background(), cfg,
		gate.WithLogger(slog.New(slog.DiscardHandler)), gate.WithClock(clk.now),
		gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return net, nil }))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	if _, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"x"}`)}); err != nil {
		b.Fatal(err)
	}
	u, _, err := g.CreateUser(system(), "analyst@acme.example", []tresor.Role{tresor.RoleAnalyst})
	if err != nil {
		b.Fatal(err)
	}
	analyst := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles}), "analytics")
	if err := g.CreateTopic(analyst, &tresor.ListeningTopic{Name: "Acme", Keywords: []string{"#AcmeKaffee"}, Networks: []string{"mastodon"}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()

	// The floor: the same posts only tokenised.
	began := time.Now()
	tokens := 0
	for _, p := range posts {
		tokens += len(text.Tokenize(p.Text))
	}
	parsed := time.Since(began)

	began = time.Now()
	rep, err := g.ListenFor(system(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	gated := time.Since(began)
	b.StopTimer()
	if rep.Counted+rep.Dropped["special"]+sum(rep.Dropped) == 0 || tokens == 0 {
		b.Fatalf("nothing passed: %+v", rep)
	}
	parseRate := float64(len(posts)) / parsed.Seconds()
	gateRate := float64(len(posts)) / gated.Seconds()
	b.ReportMetric(parseRate, "parsed-posts/s")
	b.ReportMetric(gateRate, "gate-posts/s")
	b.ReportMetric(gateRate/parseRate, "gate/parse")
	b.ReportMetric(float64(rep.Counted), "counted")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkListeningTrendYear reads one topic's trend of a year in daily
// buckets, among 100 topics with a year of daily aggregates each (a bucket,
// 10 terms and 5 hashtags per day and network). Run it with
//
//	go test ./gate -run '^$' -bench ListeningTrendYear -benchtime 200x
func BenchmarkListeningTrendYear(b *testing.B) {
	dir := b.TempDir()
	clk := newClock()
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: dir, Migrate: true},
		gate.WithLogger(slog.New(slog.DiscardHandler)), gate.WithClock(clk.now))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	u, _, err := g.CreateUser(system(), "analyst@acme.example", []tresor.Role{tresor.RoleAnalyst})
	if err != nil {
		b.Fatal(err)
	}
	analyst := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles}), "analytics")
	var topics []string
	for i := range 100 {
		t := &tresor.ListeningTopic{Name: fmt.Sprintf("Topic %d", i), Keywords: []string{fmt.Sprintf("#topic%d", i)}, Networks: []string{"mastodon"}}
		if err := g.CreateTopic(analyst, t); err != nil {
			b.Fatal(err)
		}
		topics = append(topics, t.ID)
	}
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO listening_aggregates (topic_id, width, start_at, network, language, kind, term, posts, authors, negative, neutral, positive)
		VALUES ($1, 'day', $2, 'mastodon', 'de', $3, $4, 40, 20, 10, 20, 10)`)
	if err != nil {
		b.Fatal(err)
	}
	first := tresor.BucketDay.Start(clk.now()).AddDate(-1, 0, 0)
	for _, id := range topics {
		for d := range 365 {
			at := first.AddDate(0, 0, d).UnixMicro()
			kinds := []struct{ kind, term string }{{"bucket", ""}}
			for j := range 10 {
				kinds = append(kinds, struct{ kind, term string }{"term", fmt.Sprintf("wort%d", j)})
			}
			for j := range 5 {
				kinds = append(kinds, struct{ kind, term string }{"hashtag", fmt.Sprintf("#tag%d", j)})
			}
			for _, k := range kinds {
				if _, err := ins.Exec(id, at, k.kind, k.term); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	q := tresor.TrendQuery{From: first, To: first.AddDate(0, 0, 365), Bucket: tresor.BucketDay}
	b.ResetTimer()
	var worst time.Duration
	for i := 0; b.Loop(); i++ {
		began := time.Now()
		tr, err := g.Trend(analyst, topics[i%len(topics)], q)
		if d := time.Since(began); d > worst {
			worst = d
		}
		if err != nil || len(tr.Buckets) != 365 {
			b.Fatalf("trend: %v, %d buckets", err, len(tr.Buckets))
		}
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
