package gate_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// BenchmarkSearch measures the people search on SQLite the way a server
// meets it: the index is built at start from the sealed rows (read, decrypt,
// index), and each search goes through the gate (the index, reading and
// decrypting the page of hits, the audit entry). The comparison in the same
// run is a page of the plain list of the same size (read, decrypt, audit).
//
//	TRESOR_BENCH_CONTACTS=1000000 TRESOR_BENCH_DIR=/some/dir go test ./gate -run '^$' -bench Search -benchtime 1x -timeout 2h
//
// The data directory is filled once and kept for the next run. See
// docs/benchmarks.md.
func BenchmarkSearch(b *testing.B) {
	n := 100000
	if s := os.Getenv("TRESOR_BENCH_CONTACTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dir := os.Getenv("TRESOR_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	cfg := datadir.Config{DataDir: dir, Migrate: true}
	marker := filepath.Join(dir, fmt.Sprintf("contacts-%d", n))
	if _, err := os.Stat(marker); err != nil {
		fillSearchBench(b, cfg, n)
		if err := os.WriteFile(marker, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		anon0, rss0, heap0 := memory()
		g, err := datadir.Open(context.Background(), cfg, gate.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := g.WaitSearch(context.Background()); err != nil {
			b.Fatal(err)
		}
		build := time.Since(start)
		anon1, rss1, heap1 := memory()
		b.ReportMetric(build.Seconds(), "build_s")
		// The resident set grows by the index (anonymous memory) and by any
		// file pages mapped (the readers no longer map the database, see
		// sqlite.Open): the index's share is the anonymous part.
		b.ReportMetric(float64(anon1-anon0)/(1<<20), "rss_anon_growth_MB")
		b.ReportMetric(float64(rss1-rss0)/(1<<20), "rss_growth_MB")
		b.ReportMetric(float64(heap1-heap0)/(1<<20), "heap_growth_MB")
		sales := salesContext(b, g)
		rng := rand.New(rand.NewPCG(7, 11))
		var one, two, list []time.Duration
		after := ""
		for i := range 400 {
			q := searchQuery(rng, i%2 == 1)
			t0 := time.Now()
			l, err := g.Contacts(sales, tresor.ContactFilter{Query: q, Page: tresor.Page{Limit: 25}})
			d := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if i%2 == 1 {
				two = append(two, d)
			} else {
				one = append(one, d)
			}
			_ = l
			// The comparison: the next page of the plain list.
			t0 = time.Now()
			pl, err := g.Contacts(sales, tresor.ContactFilter{Page: tresor.Page{After: after, Limit: 25}})
			list = append(list, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			after, _ = tresor.DecodeCursor(pl.Next)
		}
		b.ReportMetric(ms(pct(one, 50)), "one_word_p50_ms")
		b.ReportMetric(ms(pct(one, 95)), "one_word_p95_ms")
		b.ReportMetric(ms(pct(two, 50)), "two_words_p50_ms")
		b.ReportMetric(ms(pct(two, 95)), "two_words_p95_ms")
		b.ReportMetric(ms(pct(list, 95)), "list_page_p95_ms")
		b.ReportMetric(float64(g.SearchState().Documents), "indexed")
		g.Close()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// memory returns the anonymous and the whole resident set and the heap in
// use, after a collection.
func memory() (anon, rss, heap uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	raw, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "RssAnon:") {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = kb << 10
			} else {
				anon = kb << 10
			}
		}
	}
	return anon, rss, m.HeapInuse
}

func salesContext(b *testing.B, g *gate.Gate) context.Context {
	email := fmt.Sprintf("bench-%d@example.org", time.Now().UnixNano())
	u, _, err := g.CreateUser(system(), email, []tresor.Role{tresor.RoleSales})
	if err != nil {
		b.Fatal(err)
	}
	return tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: email, Roles: u.Roles}), "sales")
}

// Names for the synthetic people: common German (and other) given and
// family names, and family names made of syllables for the long tail a real
// customer base has.
var (
	benchGiven = strings.Fields(`Anna Maria Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea
		Gabriele Claudia Susanne Christine Birgit Stefanie Julia Katharina Sandra Nicole Lena Leonie Emma Sophie Hannah Mia
		Zoë Chloé Ayşe Fatma Agnieszka Małgorzata Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter Stefan Christian
		Uwe Werner Horst Frank Dieter Manfred Ralf Bernd Markus Jörg Sven Tobias Lukas Jonas Leon Finn Mehmet Mustafa Piotr
		Krzysztof François José Søren Björn`)
	benchFamily = strings.Fields(`Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer
		Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause
		Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller
		Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht
		Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich
		Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold
		Wolff Pfeiffer Yılmaz Kaya Demir Şahin Nowak Kowalski Wiśniewski Rossi Russo García Martínez Dubois Lefèvre`)
	benchSyllables = strings.Fields(`ber bach brand dorf eck feld gart hau hof horn kamp kirch kling land lind mann mei ner
		rath reich ring roth sand schein stein tal wald wein wies zell`)
	benchDomains   = strings.Fields(`example.org example.de beispiel.de muster.com firma.de mail.example web.example`)
	benchCities    = strings.Fields(`Berlin Hamburg München Köln Frankfurt Stuttgart Düsseldorf Leipzig Dortmund Essen Bremen Dresden Hannover Nürnberg Bochum Wuppertal Bielefeld Bonn Münster Mannheim Augsburg Wiesbaden Mönchengladbach Gelsenkirchen Aachen Braunschweig Kiel Chemnitz Halle Magdeburg Freiburg Krefeld Mainz Lübeck Erfurt Oberhausen Rostock Kassel Hagen Potsdam Saarbrücken`)
	benchPositions = strings.Fields(`Einkauf Vertrieb Geschäftsführung Marketing Buchhaltung Personal Entwicklung Support Logistik Produktion`)
)

func benchFamilyName(r *rand.Rand) string {
	if r.IntN(10) < 7 {
		return benchFamily[r.IntN(len(benchFamily))]
	}
	var s strings.Builder
	for i := range 2 + r.IntN(2) {
		syl := benchSyllables[r.IntN(len(benchSyllables))]
		if i == 0 {
			syl = strings.ToUpper(syl[:1]) + syl[1:]
		}
		s.WriteString(syl)
	}
	return s.String()
}

func benchPerson(r *rand.Rand, i int) *tresor.Contact {
	given, family := benchGiven[r.IntN(len(benchGiven))], benchFamilyName(r)
	local := strings.ToLower(strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(given + "." + family))
	local = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c == '.' {
			return c
		}
		return 'x'
	}, local)
	return &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: family,
		Emails: []string{fmt.Sprintf("%s.%d@%s", local, i, benchDomains[r.IntN(len(benchDomains))])},
		Phones: []string{fmt.Sprintf("+49 %d %07d", 30+r.IntN(900), i)},
		PostalAddress: &tresor.PostalAddress{Street: benchFamilyName(r) + "straße " + strconv.Itoa(1+r.IntN(200)),
			PostalCode: fmt.Sprintf("%05d", 10000+r.IntN(89999)), City: benchCities[r.IntN(len(benchCities))], Country: "DE"},
		Organization: benchFamilyName(r) + " " + []string{"GmbH", "AG", "KG", "GmbH & Co. KG", "e.K."}[r.IntN(5)],
		Position:     "Leitung " + benchPositions[r.IntN(len(benchPositions))]},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

// fillSearchBench creates n synthetic contacts, 10,000 per transaction.
func fillSearchBench(b *testing.B, cfg datadir.Config, n int) {
	g, err := datadir.Open(context.Background(), cfg, gate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	sales := salesContext(b, g)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i += chunk {
		cs := make([]*tresor.Contact, 0, chunk)
		for j := i; j < min(n, i+chunk); j++ {
			cs = append(cs, benchPerson(r, j))
		}
		if err := g.CreateContacts(sales, cs); err != nil {
			b.Fatal(err)
		}
	}
}

// searchQuery is what people type: a family name (sometimes folded, cut
// short or with a typo), or a given and a family name.
func searchQuery(r *rand.Rand, two bool) string {
	family := benchFamily[r.IntN(len(benchFamily))]
	if r.IntN(4) == 0 {
		family = benchFamilyName(r)
	}
	switch r.IntN(4) {
	case 1:
		family = strings.ToLower(family)
	case 2:
		if len(family) > 5 {
			family = family[:4] // a prefix
		}
	case 3:
		if k := len(family); k >= 6 {
			family = family[:k-2] + family[k-1:] // a typo: a letter left out
		}
	}
	if two {
		return benchGiven[r.IntN(len(benchGiven))] + " " + family
	}
	return family
}
