// Command searchcompare measures Tresor's own in-memory search index (package
// tresor/search) against bleve v2 in memory on the same synthetic people and
// the same queries: build time, heap growth, query latency and hit counts
// (issue [2.3]). It is a module of its own so that the main module does not
// depend on bleve.
//
//	go run . -n 100000
//	go run . -n 1000000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/character"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	bquery "github.com/blevesearch/bleve/v2/search/query"

	"tresor/search"
)

// The fields of a person, as bits for Tresor's index and as names for bleve.
var fieldNames = []string{"name", "email", "", "place", "employer", "position"}

const allFields search.Field = 63

// person is one synthetic person: the texts both indexes get.
type person struct {
	id                 string
	given, family      string
	email              string
	postal, town       string
	employer, position string
	order, order2      string
}

// people makes n people the way search/bench_test.go's BenchmarkIndex does:
// 70 % common German family names, 30 % made of three syllables.
func people(n int) []person {
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
	out := make([]person, n)
	for i := range out {
		p := &out[i]
		p.id = fmt.Sprintf("0190f5a4-7c3e-7a51-9b0e-%012d", i)
		p.given, p.family = given[r.IntN(len(given))], fam()
		p.order, p.order2 = search.Fold(p.family+" "+p.given), fam()
		p.email = fmt.Sprintf("%s.%s.%d@example.org", strings.ToLower(p.given), strings.ToLower(p.family), i)
		p.postal, p.town = fmt.Sprintf("%05d", r.IntN(90000)+10000), "Berlin"
		p.employer, p.position = fam()+" GmbH", "Leitung Einkauf"
	}
	return out
}

func (p *person) doc() search.Doc {
	return search.Doc{ID: p.id,
		Meta: search.Meta{Version: 1, Owner: "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b", Order: p.order, Order2: p.order2},
		Values: []search.Value{{Field: 1, Kind: search.Text, Text: p.given}, {Field: 1, Kind: search.Text, Text: p.family},
			{Field: 2, Kind: search.Email, Text: p.email}, {Field: 8, Kind: search.Text, Text: p.postal},
			{Field: 8, Kind: search.Text, Text: p.town}, {Field: 16, Kind: search.Text, Text: p.employer},
			{Field: 32, Kind: search.Text, Text: p.position}}}
}

// bleveDoc is the same texts as doc, one bleve field per Tresor field.
func (p *person) bleveDoc() map[string]any {
	return map[string]any{"name": p.given + " " + p.family, "email": p.email,
		"place": p.postal + " " + p.town, "employer": p.employer, "position": p.position}
}

// A query and its class.
type query struct {
	class string
	text  string
}

var classes = []string{"exact", "prefix", "typo", "two words"}

// queries returns the 600 queries: 200 family names as typed, 100 prefixes
// (the first 4 letters), 100 family names of 6 letters or more with one
// letter left out, 200 given and family name.
func queries(ps []person) []query {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func() *person { return &ps[r.IntN(len(ps))] }
	var out []query
	for range 200 {
		out = append(out, query{"exact", pick().family})
	}
	for range 100 {
		out = append(out, query{"prefix", string([]rune(pick().family)[:4])})
	}
	for n := 0; n < 100; {
		f := []rune(pick().family)
		if len(f) < 6 {
			continue
		}
		i := r.IntN(len(f))
		out = append(out, query{"typo", string(slices.Delete(f, i, i+1))})
		n++
	}
	for range 200 {
		p := pick()
		out = append(out, query{"two words", p.given + " " + p.family})
	}
	return out
}

// bleveWords is a tokenizer that splits like Tresor's index: a word is a run
// of letters and digits.
const bleveWords = "tresor_words"

func init() {
	err := registry.RegisterTokenizer(bleveWords, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return character.NewCharacterTokenizer(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }), nil
	})
	if err != nil {
		panic(err)
	}
}

// bleveMapping folds as far as bleve's own filters go: ASCII folding
// (ä → a, ß → ss, é → e, ı → i, ł → l), words of letters and digits, lower
// case. Fields are indexed only: no stored values, term vectors or doc values.
func bleveMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer("tresor", map[string]any{
		"type":          custom.Name,
		"char_filters":  []string{asciifolding.Name},
		"tokenizer":     bleveWords,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	im.DefaultAnalyzer = "tresor"
	dm := bleve.NewDocumentStaticMapping()
	for _, name := range fieldNames {
		if name == "" {
			continue
		}
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = "tresor"
		fm.Store, fm.IncludeTermVectors, fm.DocValues, fm.IncludeInAll = false, false, false, true
		dm.AddFieldMappingsAt(name, fm)
	}
	im.DefaultMapping = dm
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}

// bleveQuery is the closest bleve has to a Tresor search: every word of the
// query (as the analyzer folds it) must match in some field (the composite
// _all field), either exactly (MatchQuery, boost 3), as a prefix
// (PrefixQuery, boost 2) or, for words of five letters or more, with one edit
// (FuzzyQuery, fuzziness 1, boost 1).
func bleveQuery(im *mapping.IndexMappingImpl, text string) (bquery.Query, error) {
	toks, err := im.AnalyzeText("tresor", []byte(text))
	if err != nil {
		return nil, err
	}
	var words []bquery.Query
	for _, t := range toks {
		w := string(t.Term)
		exact := bleve.NewMatchQuery(w)
		exact.SetBoost(3)
		prefix := bleve.NewPrefixQuery(w)
		prefix.SetBoost(2)
		either := bleve.NewDisjunctionQuery(exact, prefix)
		if utf8.RuneCountInString(w) >= 5 {
			typo := bleve.NewFuzzyQuery(w)
			typo.SetFuzziness(1)
			typo.SetBoost(1)
			either.AddQuery(typo)
		}
		words = append(words, either)
	}
	return bleve.NewConjunctionQuery(words...), nil
}

// result is what one index did.
type result struct {
	name   string
	build  time.Duration
	heapMB float64
	lat    map[string][]time.Duration // by class, and "all"
	total  []int                      // hits per query
	checks []string
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func runTresor(ps []person, qs []query, checks []string) result {
	docs := make([]search.Doc, len(ps))
	for i := range ps {
		docs[i] = ps[i].doc()
	}
	h0 := heapNow()
	start := time.Now()
	ix := search.New()
	for i := 0; i < len(docs); i += 1000 {
		ix.Put(docs[i:min(len(docs), i+1000)]...)
	}
	ix.SetReady()
	res := result{name: "Tresor search", build: time.Since(start), lat: map[string][]time.Duration{}}
	res.heapMB = float64(int64(heapNow())-int64(h0)) / (1 << 20)
	find := func(q string) (int, []string) {
		r := ix.Search(search.Query{Text: q, Fields: allFields, Limit: 25})
		ids := make([]string, len(r.Hits))
		for i, h := range r.Hits {
			ids[i] = h.ID
		}
		return r.Total, ids
	}
	measure(&res, qs, func(q string) int { n, _ := find(q); return n })
	runtime.KeepAlive(docs)
	runtime.KeepAlive(ix)
	res.checks = correctness(checks, func(ps []person) func(string) []string {
		small := search.New()
		for i := range ps {
			small.Put(ps[i].doc())
		}
		small.SetReady()
		return func(q string) []string {
			r := small.Search(search.Query{Text: q, Fields: allFields, Limit: 25})
			var ids []string
			for _, h := range r.Hits {
				ids = append(ids, h.ID)
			}
			return ids
		}
	})
	return res
}

func newBleve(kind string) (bleve.Index, *mapping.IndexMappingImpl, error) {
	im, err := bleveMapping()
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case "upsidedown":
		ix, err := bleve.NewMemOnly(im)
		return ix, im, err
	case "scorch":
		// scorch with no path keeps its segments in memory (no persister,
		// no merger).
		ix, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
		return ix, im, err
	}
	return nil, nil, fmt.Errorf("unknown bleve index %q", kind)
}

func runBleve(ps []person, qs []query, checks []string, kind string) (result, error) {
	h0 := heapNow()
	start := time.Now()
	ix, im, err := newBleve(kind)
	if err != nil {
		return result{}, err
	}
	for i := 0; i < len(ps); i += 1000 {
		b := ix.NewBatch()
		for j := i; j < min(len(ps), i+1000); j++ {
			if err := b.Index(ps[j].id, ps[j].bleveDoc()); err != nil {
				return result{}, err
			}
		}
		if err := ix.Batch(b); err != nil {
			return result{}, err
		}
	}
	res := result{name: "bleve " + kind, build: time.Since(start), lat: map[string][]time.Duration{}}
	res.heapMB = float64(int64(heapNow())-int64(h0)) / (1 << 20)
	var failed error
	find := func(ix bleve.Index, q string) (int, []string) {
		bq, err := bleveQuery(im, q)
		if err == nil {
			var r *bleve.SearchResult
			if r, err = ix.Search(bleve.NewSearchRequestOptions(bq, 25, 0, false)); err == nil {
				ids := make([]string, len(r.Hits))
				for i, h := range r.Hits {
					ids[i] = h.ID
				}
				return int(r.Total), ids
			}
		}
		failed = err
		return 0, nil
	}
	measure(&res, qs, func(q string) int { n, _ := find(ix, q); return n })
	runtime.KeepAlive(ix)
	if failed != nil {
		return res, failed
	}
	if err := ix.Close(); err != nil {
		return res, err
	}
	res.checks = correctness(checks, func(ps []person) func(string) []string {
		small, _, err := newBleve(kind)
		if err != nil {
			failed = err
			return func(string) []string { return nil }
		}
		for i := range ps {
			if err := small.Index(ps[i].id, ps[i].bleveDoc()); err != nil {
				failed = err
			}
		}
		return func(q string) []string { _, ids := find(small, q); return ids }
	})
	return res, failed
}

// measure runs every query once, after ten unmeasured ones to warm up.
func measure(res *result, qs []query, find func(string) int) {
	for _, q := range qs[:10] {
		find(q.text)
	}
	for _, q := range qs {
		t0 := time.Now()
		n := find(q.text)
		d := time.Since(t0)
		res.lat[q.class] = append(res.lat[q.class], d)
		res.lat["all"] = append(res.lat["all"], d)
		res.total = append(res.total, n)
	}
}

// The correctness cases: a few people and queries, and which of them each
// query should find.
var checkPeople = []person{
	{id: "mueller-umlaut", given: "Jürgen", family: "Müller"},
	{id: "mueller-digraph", given: "Hans", family: "Mueller"},
	{id: "gross", given: "Lena", family: "Groß"},
	{id: "francois", given: "François", family: "Lefèvre"},
	{id: "yilmaz", given: "Ayşe", family: "Yılmaz"},
	{id: "zoe", given: "Zoë", family: "Łukaszewicz"},
	{id: "muellerhoefer", given: "Peter", family: "Müllerhöfer"},
}

var checkCases = []string{
	"Müller", "mueller", "muller", "MÜLLER", "Mül", "Muel",
	"Groß", "gross", "GROSS", "francois", "lefevre", "Lefèvre", "ayse", "yilmaz", "Yılmaz", "zoe", "lukaszewicz", "Mülller",
	"Muellerhoefer", "mullerhofer",
}

// correctness builds a small index with the check people and returns, per
// case, the ids found.
func correctness(cases []string, build func([]person) func(string) []string) []string {
	ps := slices.Clone(checkPeople)
	for i := range ps {
		p := &ps[i]
		p.order = search.Fold(p.family + " " + p.given)
		p.email = strings.ToLower(p.given) + "@example.org"
	}
	find := build(ps)
	var out []string
	for _, q := range cases {
		ids := find(q)
		slices.Sort(ids)
		out = append(out, strings.Join(ids, ","))
	}
	return out
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func main() {
	n := flag.Int("n", 100000, "the number of people")
	which := flag.String("index", "both", "tresor, bleve or both")
	kind := flag.String("bleve", "upsidedown", "bleve's index: upsidedown (bleve.NewMemOnly) or scorch (in memory, no path)")
	flag.Parse()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("n=%d  %s  GOMAXPROCS=%d  load %s", *n, runtime.Version(), runtime.GOMAXPROCS(0), load)
	t0 := time.Now()
	ps := people(*n)
	qs := queries(ps)
	fmt.Printf("generated %d people in %.1f s\n", len(ps), time.Since(t0).Seconds())
	var results []result
	if *which == "both" || *which == "tresor" {
		results = append(results, runTresor(ps, qs, checkCases))
		fmt.Printf("%s done\n", results[len(results)-1].name)
	}
	if *which == "both" || *which == "bleve" {
		res, err := runBleve(ps, qs, checkCases, *kind)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bleve:", err)
			os.Exit(1)
		}
		results = append(results, res)
	}
	runtime.KeepAlive(ps)

	fmt.Printf("\n| Index | Build | Heap | Query p50 / p95 / max (ms) | exact p50/p95 | prefix p50/p95 | typo p50/p95 | two words p50/p95 |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Printf("| %s | %.2f s | %.0f MB | %s / %s / %s |", r.name, r.build.Seconds(), r.heapMB,
			ms(pct(r.lat["all"], 0.50)), ms(pct(r.lat["all"], 0.95)), ms(pct(r.lat["all"], 1)))
		for _, c := range classes {
			fmt.Printf(" %s / %s |", ms(pct(r.lat[c], 0.50)), ms(pct(r.lat[c], 0.95)))
		}
		fmt.Println()
	}
	if len(results) == 2 {
		a, b := results[0], results[1]
		fmt.Printf("\nHits per query (total), %s against %s:\n", a.name, b.name)
		for _, c := range classes {
			same, more, fewer := 0, 0, 0
			var sa, sb int
			for i, q := range qs {
				if q.class != c {
					continue
				}
				sa, sb = sa+a.total[i], sb+b.total[i]
				switch {
				case a.total[i] == b.total[i]:
					same++
				case a.total[i] > b.total[i]:
					more++
				default:
					fewer++
				}
			}
			fmt.Printf("  %-9s same total %3d, Tresor more %3d, Tresor fewer %3d; mean hits %d against %d\n",
				c, same, more, fewer, sa/max(1, same+more+fewer), sb/max(1, same+more+fewer))
		}
		for i, q := range qs {
			if a.total[i] != b.total[i] {
				fmt.Printf("  first differing query: %q (%s): %d against %d\n", q.text, q.class, a.total[i], b.total[i])
				break
			}
		}
	}
	fmt.Printf("\nCorrectness (people: ")
	for _, p := range checkPeople {
		fmt.Printf("%s=%s %s; ", p.id, p.given, p.family)
	}
	fmt.Printf(")\n| Query |")
	for _, r := range results {
		fmt.Printf(" %s |", r.name)
	}
	fmt.Printf("\n|---|")
	for range results {
		fmt.Printf("---|")
	}
	fmt.Println()
	for i, c := range checkCases {
		fmt.Printf("| %s |", c)
		for _, r := range results {
			fmt.Printf(" %s |", r.checks[i])
		}
		fmt.Println()
	}
}
