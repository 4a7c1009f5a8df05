package search

import (
	"cmp"
	"container/heap"
	"sort"
	"strings"
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

// Query is a search.
type Query struct {
	Text   string
	Fields Field           // the fields the searcher may use; 0 finds nothing
	Keep   func(Meta) bool // if set, only documents it keeps are hits
	Offset int
	Limit  int
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
	if isPhone(q) {
		return []token{{text: digits(q), raw: true}}
	}
	var out []token
	for _, f := range strings.Fields(q) {
		if strings.Contains(f, "@") {
			out = append(out, token{text: strings.ToLower(strings.TrimPrefix(f, "@")), raw: true})
			continue
		}
		for _, w := range words(f) {
			out = append(out, token{text: w})
		}
	}
	return out
}

// isPhone reports whether q looks like a phone number: digits with the
// usual separators, at least seven of them.
func isPhone(q string) bool {
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
	if len(toks) == 0 || q.Fields == 0 {
		return Result{}
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var scores map[uint32]int
	for i, tk := range toks {
		m := ix.match(tk, q.Fields)
		if i == 0 {
			scores = make(map[uint32]int, len(m))
			for n, s := range m {
				scores[n] = int(s)
			}
			continue
		}
		for n, s := range scores {
			if ms, ok := m[n]; ok {
				scores[n] = s + int(ms)
			} else {
				delete(scores, n)
			}
		}
		if len(scores) == 0 {
			break
		}
	}
	k := q.Offset + q.Limit
	top := &ranked{ix: ix}
	total := 0
	for n, s := range scores {
		d := ix.docs[n]
		if q.Keep != nil && !q.Keep(d.Meta) {
			continue
		}
		total++
		c := candidate{n: n, score: s}
		if top.Len() < k {
			heap.Push(top, c)
		} else if k > 0 && top.better(c, top.c[0]) {
			top.c[0] = c
			heap.Fix(top, 0)
		}
	}
	// The heap holds the best k, worst first.
	hits := make([]Hit, top.Len())
	for i := len(hits) - 1; i >= 0; i-- {
		c := heap.Pop(top).(candidate)
		hits[i] = Hit{ID: ix.docs[c.n].id, Score: c.score}
	}
	if q.Offset >= len(hits) {
		return Result{Total: total}
	}
	return Result{Hits: hits[q.Offset:], Total: total}
}

// match returns the documents a token matches in the fields, with how well.
func (ix *Index) match(tk token, fields Field) map[uint32]uint8 {
	out := map[uint32]uint8{}
	add := func(t uint32, how uint8) {
		for _, p := range ix.terms[t].post {
			if p.mask&fields != 0 && out[p.doc] < how {
				out[p.doc] = how
			}
		}
	}
	if t, ok := ix.byText[tk.text]; ok {
		add(t, matchExact)
	}
	if len(tk.text) >= prefixMin {
		reached := 0
		prefix := func(texts []string) {
			i := sort.SearchStrings(texts, tk.text)
			for ; i < len(texts) && reached < maxPrefixTerms && strings.HasPrefix(texts[i], tk.text); i++ {
				if t, ok := ix.byText[texts[i]]; ok && texts[i] != tk.text {
					add(t, matchPrefix)
					reached++
				}
			}
		}
		prefix(ix.sorted)
		for _, s := range ix.fresh {
			if reached < maxPrefixTerms && s != tk.text && strings.HasPrefix(s, tk.text) {
				if t, ok := ix.byText[s]; ok {
					add(t, matchPrefix)
					reached++
				}
			}
		}
	}
	if !tk.raw && len(tk.text) >= typoMin && typoWord(tk.text) {
		for _, t := range ix.typoCandidates(tk.text) {
			if tm := ix.terms[t]; tm.word && tm.text != tk.text && distanceOne(tm.text, tk.text) {
				add(t, matchTypo)
			}
		}
	}
	return out
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
	addAll(ix.typos[w])
	for _, del := range deletions(w) {
		if t, ok := ix.byText[del]; ok {
			addAll([]uint32{t})
		}
		addAll(ix.typos[del])
	}
	return out
}

type candidate struct {
	n     uint32
	score int
}

// ranked is a heap of candidates with the worst on top.
type ranked struct {
	ix *Index
	c  []candidate
}

func (r *ranked) better(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	da, db := r.ix.docs[a.n], r.ix.docs[b.n]
	if c := cmp.Compare(da.Order, db.Order); c != 0 {
		return c < 0
	}
	return da.id < db.id
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
