package search

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIndex measures the index alone (no database, no decryption):
// building it from N synthetic people and one-word searches, with the heap
// it takes. go test ./search -run '^$' -bench Index -benchtime 1x
func BenchmarkIndex(b *testing.B) {
	n := 100000
	if s := os.Getenv("TRESOR_BENCH_CONTACTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	given := strings.Fields("Anna Maria Ursula Peter Michael Thomas Jürgen Zoë Ayşe François Lena Jonas")
	family := strings.Fields("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Groß Yılmaz")
	syl := strings.Fields("ber bach brand dorf eck feld gart hau hof horn kamp kirch kling land lind mann mei ner rath reich")
	fam := func() string {
		if r.IntN(10) < 7 {
			return family[r.IntN(len(family))]
		}
		return syl[r.IntN(len(syl))] + syl[r.IntN(len(syl))] + syl[r.IntN(len(syl))]
	}
	docs := make([]Doc, n)
	for i := range docs {
		g, f := given[r.IntN(len(given))], fam()
		docs[i] = Doc{ID: fmt.Sprintf("0190f5a4-7c3e-7a51-9b0e-%012d", i), Meta: Meta{Version: 1, Owner: "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b", Order: fold(f + " " + g), Order2: fam()},
			Values: []Value{{1, Text, g}, {1, Text, f}, {2, Email, fmt.Sprintf("%s.%s.%d@example.org", strings.ToLower(g), strings.ToLower(f), i)},
				{8, Text, fmt.Sprintf("%05d", r.IntN(90000)+10000)}, {8, Text, "Berlin"},
				{16, Text, fam() + " GmbH"}, {32, Text, "Leitung Einkauf"}}}
	}
	for range b.N {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		ix := New()
		for i := 0; i < n; i += 1000 {
			ix.Put(docs[i:min(n, i+1000)]...)
		}
		ix.SetReady()
		b.ReportMetric(time.Since(start).Seconds(), "build_s")
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "heap_MB")
		b.ReportMetric(float64(len(ix.terms)), "terms")
		if p := os.Getenv("TRESOR_BENCH_HEAP"); p != "" {
			f, _ := os.Create(p)
			pprof.WriteHeapProfile(f)
			f.Close()
		}
		// The family names are few here: each is shared by about one in
		// twenty people, far more than in a real customer base.
		var ds []time.Duration
		for i := range 400 {
			q := family[i%len(family)]
			if i%2 == 1 {
				q = given[i%len(given)] + " " + q
			}
			t0 := time.Now()
			ix.Search(Query{Text: q, Fields: 63, Limit: 25})
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2])/1e6, "query_p50_ms")
		b.ReportMetric(float64(ds[len(ds)*95/100])/1e6, "query_p95_ms")
		b.ReportMetric(float64(ds[len(ds)-1])/1e6, "query_max_ms")
		runtime.KeepAlive(ix)
	}
}
