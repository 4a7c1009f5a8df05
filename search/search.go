// Package search is an in-memory full-text index for finding people whose
// names and identifiers are sealed in the database. It holds folded words,
// e-mail addresses, phone numbers and handles, each tagged with the field it
// came from, so that a search can be limited to the fields the searcher may
// see. It never writes anything to disk; the gate builds it from decrypted
// records at start and keeps it current on every write.
//
// Words are folded (Müller, Mueller, MÜLLER and Muller are one word, Groß is
// gross, accents go); a query word matches a word exactly, as a prefix, or —
// for query words of five letters or more — with one typo. Results rank exact
// over prefix over typo matches.
package search

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Field is one source of text in a document, as a bit: the caller defines
// them (a name, an e-mail, a postal city …) and passes the fields a search
// may use as a mask. At most 16.
type Field uint16

// Kind says how a value is split into terms.
type Kind uint8

// The kinds of values.
const (
	Text   Kind = iota // words; found by prefix and with one typo
	Email              // an e-mail address: its words and its domain
	Phone              // a phone number in E.164 (+49301234567)
	Handle             // a handle on a network (@anna@example.social)
)

// Value is one piece of text of a document.
type Value struct {
	Field Field
	Kind  Kind
	Text  string
}

// Meta is what a search may filter and order on besides the text.
type Meta struct {
	ID      string // the document's id (set by the index)
	Version int64  // a put with an older version than the stored one is ignored
	Owner   string // the owning user's id
	Org     string // the organization's id
	Updated int64  // when the document last changed, in microseconds since 1970
	Flags   uint8  // caller-defined states (restricted, archived, …)
	Order   string // the tie-break among equal scores, e.g. the folded name
	Order2  string // a second order, e.g. the organization
}

// Doc is one document: an id, its values and its metadata.
type Doc struct {
	ID     string
	Values []Value
	Meta
}

type posting struct {
	doc  uint32
	mask Field
}

type term struct {
	text string
	post []posting // ordered by doc
	word bool      // a word of a Text value: found with a typo too
}

type doc struct {
	terms []uint32
	key   uint64 // the first bytes of Meta.Order, for comparing quickly
	Meta
}

// orderKey is the first eight bytes of an order text as a number that sorts
// as the text does; an empty text sorts last.
func orderKey(s string) uint64 {
	if s == "" {
		return ^uint64(0)
	}
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}

// Index is safe for concurrent use: searches share a read lock, writes take
// the write lock.
type Index struct {
	mu     sync.RWMutex
	docs   []*doc // by document number; nil once removed
	byID   map[string]uint32
	terms  []term // by term number
	free   []uint32
	byText map[string]uint32
	// sorted and fresh hold the texts of the terms for prefix matching:
	// sorted is in order, fresh has the newest, unordered, until it is merged.
	// Texts of removed terms stay until the next merge and are skipped.
	sorted, fresh []string
	// typos maps a word with one letter deleted to the words it came from.
	typos map[string][]uint32
	gone  map[string]bool // ids removed while the index is warming up
	warm  bool
	// strs interns the owners and organizations: few, and on every document.
	strs map[string]string
	// scratch is put's buffer of a document's terms.
	scratch []docTerm
}

type docTerm struct {
	text string
	mask Field
	word bool
}

// New returns an empty index that is warming up: Ready tells when the
// caller has loaded every document.
func New() *Index {
	return &Index{byID: map[string]uint32{}, byText: map[string]uint32{}, typos: map[string][]uint32{},
		gone: map[string]bool{}, strs: map[string]string{}}
}

// SetReady marks the index as complete; searches before then may miss
// documents.
func (ix *Index) SetReady() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.warm, ix.gone = true, nil
	ix.mergeFresh()
}

// Ready reports whether the index holds every document.
func (ix *Index) Ready() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.warm
}

// Len returns the number of documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// Put adds or replaces documents. A document older than the one held (by
// Meta.Version), or removed while the index was warming up, is ignored: the
// loader at start may read a record that a write has changed since.
func (ix *Index) Put(docs ...Doc) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range docs {
		ix.put(&docs[i])
	}
}

func (ix *Index) put(d *Doc) {
	if n, ok := ix.byID[d.ID]; ok {
		if ix.docs[n].Version > d.Version {
			return
		}
		ix.remove(n)
	} else if _, ok := ix.gone[d.ID]; ok {
		return // removed since the loader read it
	}
	ts := ix.scratch[:0]
	for _, v := range d.Values {
		for _, t := range terms(v) {
			i := slices.IndexFunc(ts, func(x docTerm) bool { return x.text == t })
			if i < 0 {
				ts = append(ts, docTerm{text: t})
				i = len(ts) - 1
			}
			ts[i].mask |= v.Field
			ts[i].word = ts[i].word || v.Kind == Text
		}
	}
	ix.scratch = ts
	n := uint32(len(ix.docs))
	dd := &doc{Meta: d.Meta, terms: make([]uint32, 0, len(ts))}
	dd.ID, dd.Owner, dd.Org, dd.key = d.ID, ix.intern(d.Owner), ix.intern(d.Org), orderKey(d.Order)
	ix.docs = append(ix.docs, dd)
	ix.byID[d.ID] = n
	for _, x := range ts {
		t := ix.termOf(x.text, x.word)
		ix.terms[t].post = append(ix.terms[t].post, posting{doc: n, mask: x.mask})
		dd.terms = append(dd.terms, t)
	}
}

// intern returns the one copy of a string the index keeps.
func (ix *Index) intern(s string) string {
	if s == "" {
		return ""
	}
	if c, ok := ix.strs[s]; ok {
		return c
	}
	ix.strs[s] = s
	return s
}

// termOf returns the number of the term with the text, adding it if new.
func (ix *Index) termOf(text string, word bool) uint32 {
	if t, ok := ix.byText[text]; ok {
		if word && !ix.terms[t].word {
			ix.terms[t].word = true
			ix.addTypos(t)
		}
		return t
	}
	text = strings.Clone(text) // not a slice of a larger text the index would keep alive
	var t uint32
	if k := len(ix.free); k > 0 {
		t, ix.free = ix.free[k-1], ix.free[:k-1]
		ix.terms[t] = term{text: text, word: word}
	} else {
		t = uint32(len(ix.terms))
		ix.terms = append(ix.terms, term{text: text, word: word})
	}
	ix.byText[text] = t
	ix.fresh = append(ix.fresh, text)
	// While warming up nobody searches: the texts are sorted once at the end.
	if ix.warm && len(ix.fresh) > 4096+len(ix.sorted)/64 {
		ix.mergeFresh()
	}
	if word {
		ix.addTypos(t)
	}
	return t
}

// typoMin is the length from which a word is found with one typo.
const typoMin = 5

func (ix *Index) addTypos(t uint32) {
	text := ix.terms[t].text
	if !typoWord(text) {
		return
	}
	for _, del := range deletions(text) {
		if !slices.Contains(ix.typos[del], t) {
			ix.typos[del] = append(ix.typos[del], t)
		}
	}
}

func (ix *Index) dropTypos(t uint32) {
	text := ix.terms[t].text
	if !ix.terms[t].word || !typoWord(text) {
		return
	}
	for _, del := range deletions(text) {
		l := slices.DeleteFunc(ix.typos[del], func(u uint32) bool { return u == t })
		if len(l) == 0 {
			delete(ix.typos, del)
		} else {
			ix.typos[del] = l
		}
	}
}

// typoWord reports whether a word can be found with a typo: four letters
// or more (a query of five letters finds it with one left out), no digits.
func typoWord(w string) bool {
	return len(w) >= typoMin-1 && !strings.ContainsAny(w, "0123456789")
}

// deletions returns the word with each one letter left out.
func deletions(s string) []string {
	out := make([]string, 0, len(s))
	for i, r := range s {
		w := s[:i] + s[i+len(string(r)):]
		if len(out) == 0 || out[len(out)-1] != w {
			out = append(out, w)
		}
	}
	return out
}

// mergeFresh sorts the fresh texts into the sorted ones, dropping the texts
// of removed terms.
func (ix *Index) mergeFresh() {
	slices.Sort(ix.fresh)
	merged := make([]string, 0, len(ix.sorted)+len(ix.fresh))
	i, j := 0, 0
	for i < len(ix.sorted) || j < len(ix.fresh) {
		var s string
		if j == len(ix.fresh) || i < len(ix.sorted) && ix.sorted[i] < ix.fresh[j] {
			s, i = ix.sorted[i], i+1
		} else {
			s, j = ix.fresh[j], j+1
		}
		if _, ok := ix.byText[s]; ok && (len(merged) == 0 || merged[len(merged)-1] != s) {
			merged = append(merged, s)
		}
	}
	ix.sorted, ix.fresh = merged, ix.fresh[:0]
}

// Remove takes documents out of the index at once: no search finds them
// afterwards, and words no other document has are dropped.
func (ix *Index) Remove(ids ...string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, id := range ids {
		if n, ok := ix.byID[id]; ok {
			ix.remove(n)
			delete(ix.byID, id)
		}
		if !ix.warm {
			ix.gone[id] = true
		}
	}
}

func (ix *Index) remove(n uint32) {
	d := ix.docs[n]
	for _, t := range d.terms {
		tm := &ix.terms[t]
		i, ok := sort.Find(len(tm.post), func(i int) int { return int(n) - int(tm.post[i].doc) })
		if ok {
			tm.post = slices.Delete(tm.post, i, i+1)
		}
		if len(tm.post) == 0 {
			ix.dropTypos(t)
			delete(ix.byText, tm.text)
			ix.terms[t] = term{}
			ix.free = append(ix.free, t)
		}
	}
	ix.docs[n] = nil
}

// terms splits a value into the terms it is indexed under.
func terms(v Value) []string {
	switch v.Kind {
	case Email:
		// The words of the address (numbers in the local part are left
		// out: they find nobody). The whole address, unique to one person,
		// is not kept: the caller finds it by an exact index of its own
		// (the gate's blind index), and memory stays small.
		s := strings.ToLower(strings.TrimSpace(v.Text))
		at := max(strings.LastIndexByte(s, '@'), 0)
		var out []string
		for _, w := range words(s[:at]) {
			if strings.Trim(w, "0123456789") != "" {
				out = append(out, w)
			}
		}
		return append(out, words(s[at:])...)
	case Phone:
		if d := digits(v.Text); d != "" {
			return []string{d}
		}
		return nil
	case Handle:
		s := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v.Text), "@"))
		out := []string{s}
		if at := strings.IndexByte(s, '@'); at > 0 {
			out = append(out, s[:at])
		}
		return append(out, words(s)...)
	default:
		var out []string
		for w := range strings.FieldsFuncSeq(v.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			out = append(out, spellings(w)...)
		}
		return out
	}
}

// digits returns the digits of a phone number in international form: a
// leading 00 is dropped, and a national number (0 then the area code) is
// read as German.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	plus := strings.HasPrefix(strings.TrimSpace(s), "+")
	switch {
	case d == "":
		return ""
	case !plus && strings.HasPrefix(d, "00"):
		return d[2:]
	case !plus && strings.HasPrefix(d, "0"):
		return "49" + d[1:]
	}
	return d
}
