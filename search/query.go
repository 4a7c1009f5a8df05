package search

import (
	"cmp"
	"container/heap"
	"sort"
	"strings"
	"sync"
)

// How well a query word matched a term.
const (
	matchTypo   = 1
	matchPrefix = 2
	matchExact  = 3
)

// prefixMin is the shortest query word matched as a prefix; a shorter one
// matches whole words only.
const prefixMin = 2

// maxPrefixTerms bounds the terms one prefix reaches: a short prefix of a
// common beginning matches so much that more would rank nothing better.
const maxPrefixTerms = 20000

// Order is how hits are ordered.
type Order uint8

// The orders of hits.
const (
	ByScore   Order = iota // best match first, then Meta.Order
	ByOrder                // Meta.Order (a name)
	ByOrder2               // Meta.Order2 (an organization), then Meta.Order
	ByUpdated              // the most recently changed first
)

// Query is a search. An empty Text lists every document Keep keeps, in the
// order By (ByScore is then ByOrder).
type Query struct {
	By     Order
	Text   string
	Fields Field           // the fields the searcher may use; 0 finds nothing
	Keep   func(Meta) bool // if set, only documents it keeps are hits
	Offset int
	Limit  int
	// Exact are documents found by an exact index of the caller's (an
	// e-mail address, a phone number): they are hits ranked first, if Keep
	// keeps them, whatever the words match.
	Exact []string
	// Only, if not nil, are the only documents that may be hits; Not are
	// documents that may not (Keep does not see ids).
	Only, Not []string
}

// Hit is a found document.
type Hit struct {
	ID    string
	Score int
}

// Result is one page of hits, best first, and the number of all hits.
type Result struct {
	Hits  []Hit
	Total int
}

// token is one word of a query: folded, or raw for an address or a number.
type token struct {
	text string
	raw  bool // matched as typed (lower case): an e-mail, a handle, a phone number
}

// tokens splits a query into its words. A query that is a phone number in
// any usual format is one token of its international digits.
func tokens(q string) []token {
	q = strings.TrimSpace(q)
	if IsPhone(q) {
		return []token{{text: digits(q), raw: true}}
	}
	var out []token
	for _, f := range strings.Fields(q) {
		if strings.HasPrefix(f, "@") {
			// a handle: matched as typed
			out = append(out, token{text: strings.ToLower(strings.TrimPrefix(f, "@")), raw: true})
			continue
		}
		for _, w := range words(f) {
			out = append(out, token{text: w})
		}
	}
	return out
}

// IsPhone reports whether q looks like a phone number: digits with the
// usual separators, at least seven of them.
func IsPhone(q string) bool {
	n := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune("+ ()/.-", r):
		default:
			return false
		}
	}
	return n >= 7
}

// Search finds the documents that match every word of the query in a field
// of q.Fields, best first: a word matched exactly scores 3, as a prefix 2,
// with a typo 1; equal scores are in Meta.Order.
func (ix *Index) Search(q Query) Result {
	toks := tokens(q.Text)
	if strings.TrimSpace(q.Text) == "" {
		return ix.all(q)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if q.Fields == 0 {
		toks = nil
	}
	sc := ix.slots(int(ix.ndocs))
	defer scratches.Put(sc)
	f := ix.filter(q)
	// Each token's best match per document, then summed over the tokens:
	// a document stays a candidate while it matched every token so far.
	for i, tk := range toks {
		sc.tok = sc.tok[:0]
		for _, r := range ix.match(tk) {
			tm := &ix.terms[r.t]
			for i, n := range tm.docs {
				if tm.maskAt(i)&q.Fields == 0 || sc.best[n] >= r.how {
					continue
				}
				if sc.best[n] == 0 {
					sc.tok = append(sc.tok, n)
				}
				sc.best[n] = r.how
			}
		}
		for _, n := range sc.tok {
			if int(sc.count[n]) == i {
				if i == 0 {
					sc.cand = append(sc.cand, n)
				}
				sc.total[n] += uint16(sc.best[n])
				sc.count[n]++
			}
			sc.best[n] = 0
		}
	}
	for _, id := range q.Exact {
		if n, ok := ix.number(id); ok {
			if sc.count[n] == 0 && len(toks) > 0 || len(toks) == 0 && sc.total[n] == 0 {
				sc.cand = append(sc.cand, n)
			}
			sc.total[n], sc.count[n] = matchExact*100, uint8(len(toks))
		}
	}
	top := &ranked{ix: ix, by: q.By, k: q.Offset + q.Limit}
	for _, n := range sc.cand {
		if int(sc.count[n]) == len(toks) {
			top.offer(q, f, n, int(sc.total[n]))
		}
		sc.total[n], sc.count[n] = 0, 0
	}
	sc.cand = sc.cand[:0]
	return top.result(q)
}

// scores is a search's working memory, one slot per document number,
// reused between searches (every slot it touched is zeroed again).
type scores struct {
	best  []uint8  // the current token's best match
	total []uint16 // the sum over the tokens so far
	count []uint8  // how many tokens matched so far
	tok   []uint32 // the documents the current token touched
	cand  []uint32 // the documents the first token touched
}

var scratches sync.Pool

func (ix *Index) slots(n int) *scores {
	sc, _ := scratches.Get().(*scores)
	if sc == nil {
		sc = &scores{}
	}
	if len(sc.best) < n {
		n += n / 8 // room for the documents to come
		sc.best, sc.total, sc.count = make([]uint8, n), make([]uint16, n), make([]uint8, n)
	}
	return sc
}

// all lists every document Keep keeps.
func (ix *Index) all(q Query) Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	by := q.By
	if by == ByScore {
		by = ByOrder
	}
	top := &ranked{ix: ix, by: by, k: q.Offset + q.Limit}
	f := ix.filter(q)
	for n := range ix.ndocs {
		if ix.doc(n).live {
			top.offer(q, f, n, 0)
		}
	}
	return top.result(q)
}

// idFilter is a query's Only and Not as sets of document numbers.
type idFilter struct {
	only, not map[uint32]bool
}

func (ix *Index) filter(q Query) idFilter {
	set := func(ids []string) map[uint32]bool {
		m := make(map[uint32]bool, len(ids))
		for _, id := range ids {
			if n, ok := ix.number(id); ok {
				m[n] = true
			}
		}
		return m
	}
	var f idFilter
	if q.Only != nil {
		f.only = set(q.Only)
	}
	if len(q.Not) > 0 {
		f.not = set(q.Not)
	}
	return f
}

// offer adds a document to the hits if the query keeps it, keeping the best k.
func (r *ranked) offer(q Query, f idFilter, n uint32, score int) {
	if f.only != nil && !f.only[n] || f.not[n] {
		return
	}
	if q.Keep != nil && !q.Keep(r.ix.meta(r.ix.doc(n))) {
		return
	}
	r.total++
	c := candidate{n: n, score: score}
	if r.Len() < r.k {
		heap.Push(r, c)
	} else if r.k > 0 && r.better(c, r.c[0]) {
		r.c[0] = c
		heap.Fix(r, 0)
	}
}

// result returns the page of hits the query asked for.
func (r *ranked) result(q Query) Result {
	ix, top, total := r.ix, r, r.total
	// The heap holds the best k, worst first.
	hits := make([]Hit, top.Len())
	for i := len(hits) - 1; i >= 0; i-- {
		c := heap.Pop(top).(candidate)
		hits[i] = Hit{ID: ix.idOf(c.n), Score: c.score}
	}
	if q.Offset >= len(hits) {
		return Result{Total: total}
	}
	return Result{Hits: hits[q.Offset:], Total: total}
}

// match returns the documents a token matches in the fields, with how well.
// reach is a term a query token reaches, and how well.
type reach struct {
	t   uint32
	how uint8
}

// match returns the terms a token reaches: the word itself, the words it
// begins, and the words one typo away.
func (ix *Index) match(tk token) []reach {
	var rs []reach
	if t, ok := ix.byText[tk.text]; ok {
		rs = append(rs, reach{t, matchExact})
	}
	if len(tk.text) >= prefixMin {
		reached := 0
		prefix := func(texts []string) {
			i := sort.SearchStrings(texts, tk.text)
			for ; i < len(texts) && reached < maxPrefixTerms && strings.HasPrefix(texts[i], tk.text); i++ {
				if t, ok := ix.byText[texts[i]]; ok && texts[i] != tk.text {
					rs = append(rs, reach{t, matchPrefix})
					reached++
				}
			}
		}
		prefix(ix.sorted)
		for _, s := range ix.fresh {
			if reached < maxPrefixTerms && s != tk.text && strings.HasPrefix(s, tk.text) {
				if t, ok := ix.byText[s]; ok {
					rs = append(rs, reach{t, matchPrefix})
					reached++
				}
			}
		}
	}
	if !tk.raw && len(tk.text) >= typoMin && typoWord(tk.text) {
		for _, t := range ix.typoCandidates(tk.text) {
			if tm := ix.terms[t]; tm.word && tm.text != tk.text && distanceOne(tm.text, tk.text) {
				rs = append(rs, reach{t, matchTypo})
			}
		}
	}
	return rs
}

// typoCandidates returns the words that may be one edit from w: those equal
// to w with a letter left out, and those that equal w or one of its
// deletions after a letter is left out of them.
func (ix *Index) typoCandidates(w string) []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	addAll := func(ts []uint32) {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	addAll(ix.typosOf(w))
	for _, del := range deletions(w) {
		if t, ok := ix.byText[del]; ok {
			addAll([]uint32{t})
		}
		addAll(ix.typosOf(del))
	}
	return out
}

type candidate struct {
	n     uint32
	score int
}

// ranked is a heap of candidates with the worst on top.
type ranked struct {
	ix    *Index
	by    Order
	k     int
	total int
	c     []candidate
}

func (r *ranked) better(a, b candidate) bool {
	da, db := r.ix.doc(a.n), r.ix.doc(b.n)
	switch r.by {
	case ByScore:
		if a.score != b.score {
			return a.score > b.score
		}
	case ByOrder2:
		if c := emptyLast(da.order2, db.order2); c != 0 {
			return c < 0
		}
	case ByUpdated:
		if da.updated != db.updated {
			return da.updated > db.updated
		}
	}
	if da.key != db.key {
		return da.key < db.key
	}
	if c := emptyLast(da.order, db.order); c != 0 {
		return c < 0
	}
	return r.ix.idLess(a.n, b.n)
}

// emptyLast compares two texts, an empty one after every other.
func emptyLast(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return cmp.Compare(a, b)
}

func (r *ranked) Len() int           { return len(r.c) }
func (r *ranked) Less(i, j int) bool { return r.better(r.c[j], r.c[i]) }
func (r *ranked) Swap(i, j int)      { r.c[i], r.c[j] = r.c[j], r.c[i] }
func (r *ranked) Push(x any)         { r.c = append(r.c, x.(candidate)) }
func (r *ranked) Pop() any {
	x := r.c[len(r.c)-1]
	r.c = r.c[:len(r.c)-1]
	return x
}
