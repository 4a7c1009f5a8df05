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
	"bytes"
	"slices"
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

// term is one indexed text and the documents that have it. The postings
// are two parallel lists ordered by document number; masks is nil while
// every posting has the same mask, held once in mask (most terms come from
// one field only).
type term struct {
	text  string
	docs  []uint32
	masks []Field
	mask  Field
	word  bool // a word of a Text value: found with a typo too
}

// maskAt returns the fields the i-th posting came from.
func (t *term) maskAt(i int) Field {
	if t.masks == nil {
		return t.mask
	}
	return t.masks[i]
}

// add puts document n into the postings, keeping them ordered (a number
// reused after a removal can be smaller than the last).
func (t *term) add(n uint32, m Field) {
	i := len(t.docs)
	if i > 0 && t.docs[i-1] > n {
		i, _ = slices.BinarySearch(t.docs, n)
	}
	if len(t.docs) == 0 {
		t.mask = m
	} else if t.masks == nil && m != t.mask {
		t.masks = make([]Field, len(t.docs), cap(t.docs))
		for j := range t.masks {
			t.masks[j] = t.mask
		}
	}
	t.docs = slices.Insert(t.docs, i, n)
	if t.masks != nil {
		t.masks = slices.Insert(t.masks, i, m)
	}
}

// drop takes document n out of the postings.
func (t *term) drop(n uint32) {
	if i, ok := slices.BinarySearch(t.docs, n); ok {
		t.docs = slices.Delete(t.docs, i, i+1)
		if t.masks != nil {
			t.masks = slices.Delete(t.masks, i, i+1)
		}
	}
}

// doc is what the index keeps of a document: its terms and metadata in a
// compact form. An id that is a UUID is kept as its 16 bytes; another id
// in Index.oddIDs.
type doc struct {
	terms   []uint32
	order   string
	order2  string
	key     uint64 // the first bytes of order, for comparing quickly
	version int64
	updated int64
	id      [16]byte
	owner   uint32 // in Index.names; 0 is none
	org     uint32
	flags   uint8
	live    bool
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

// chunkBits sets the documents per chunk: documents are kept in chunks of
// 4096 so that the index grows without copying them all.
const chunkBits = 12

// Index is safe for concurrent use: searches share a read lock, writes take
// the write lock.
type Index struct {
	mu     sync.RWMutex
	chunks [][]doc // documents by number, in chunks
	ndocs  uint32  // the numbers handed out
	live   int
	byID   map[[16]byte]uint32
	// oddIDs are the ids that are not UUIDs (tests and imports of old data
	// use such), by document number and back.
	oddIDs  map[uint32]string
	byOdd   map[string]uint32
	freeDoc []uint32 // numbers of removed documents, to be reused
	terms   []term   // by term number
	free    []uint32
	byText  map[string]uint32
	// sorted and fresh hold the texts of the terms for prefix matching:
	// sorted is in order, fresh has the newest, unordered, until it is merged.
	// Texts of removed terms stay until the next merge and are skipped.
	sorted, fresh []string
	// typos finds the words with a letter left out: by the hash of such a
	// deletion, the one word it came from, or typoMany when several did
	// (then typoMore holds them). A hash may be shared by unrelated texts:
	// a match found through it is checked by distanceOne.
	typos    map[uint64]uint32
	typoMore map[uint64][]uint32
	gone     map[string]bool // ids removed while the index is warming up
	warm     bool
	// names interns owners and organizations: few, and on every document.
	names   []string
	nameIdx map[string]uint32
	// scratch is put's buffer of a document's terms.
	scratch []docTerm
}

// typoMany marks a deletion shared by several words.
const typoMany = ^uint32(0)

type docTerm struct {
	text string
	mask Field
	word bool
}

// New returns an empty index that is warming up: Ready tells when the
// caller has loaded every document.
func New() *Index {
	return &Index{byID: map[[16]byte]uint32{}, oddIDs: map[uint32]string{}, byOdd: map[string]uint32{},
		byText: map[string]uint32{}, typos: map[uint64]uint32{}, typoMore: map[uint64][]uint32{},
		gone: map[string]bool{}, names: []string{""}, nameIdx: map[string]uint32{"": 0}}
}

// doc returns document n.
func (ix *Index) doc(n uint32) *doc {
	return &ix.chunks[n>>chunkBits][n&(1<<chunkBits-1)]
}

// meta returns what Keep sees of document n.
func (ix *Index) meta(d *doc) Meta {
	return Meta{Version: d.version, Owner: ix.names[d.owner], Org: ix.names[d.org], Updated: d.updated,
		Flags: d.flags, Order: d.order, Order2: d.order2}
}

// number returns the number of the document with the id.
func (ix *Index) number(id string) (uint32, bool) {
	if u, ok := parseUUID(id); ok {
		n, ok := ix.byID[u]
		return n, ok
	}
	n, ok := ix.byOdd[id]
	return n, ok
}

// idOf returns the id of document n.
func (ix *Index) idOf(n uint32) string {
	if s, ok := ix.oddIDs[n]; ok {
		return s
	}
	return formatUUID(ix.doc(n).id)
}

// idLess orders documents by id as their texts sort (the bytes of a UUID
// sort as its canonical text does), without writing the ids out.
func (ix *Index) idLess(a, b uint32) bool {
	if len(ix.oddIDs) == 0 {
		return bytes.Compare(ix.doc(a).id[:], ix.doc(b).id[:]) < 0
	}
	_, oa := ix.oddIDs[a]
	_, ob := ix.oddIDs[b]
	if !oa && !ob {
		return bytes.Compare(ix.doc(a).id[:], ix.doc(b).id[:]) < 0
	}
	return ix.idOf(a) < ix.idOf(b)
}

// SetReady marks the index as complete; searches before then may miss
// documents. The lists grown while loading are trimmed to their length.
func (ix *Index) SetReady() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.warm, ix.gone = true, nil
	ix.mergeFresh()
	for i := range ix.terms {
		t := &ix.terms[i]
		if cap(t.docs) > len(t.docs)+len(t.docs)/16 {
			t.docs = slices.Clip(slices.Clone(t.docs))
			if t.masks != nil {
				t.masks = slices.Clip(slices.Clone(t.masks))
			}
		}
	}
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
	return ix.live
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
	if n, ok := ix.number(d.ID); ok {
		if ix.doc(n).version > d.Version {
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
	var n uint32
	if k := len(ix.freeDoc); k > 0 {
		n, ix.freeDoc = ix.freeDoc[k-1], ix.freeDoc[:k-1]
	} else {
		n = ix.ndocs
		ix.ndocs++
		if int(n>>chunkBits) == len(ix.chunks) {
			ix.chunks = append(ix.chunks, make([]doc, 1<<chunkBits))
		}
	}
	dd := ix.doc(n)
	*dd = doc{terms: make([]uint32, 0, len(ts)), order: strings.Clone(d.Order), order2: ix.internOrder(d.Order2),
		key: orderKey(d.Order), version: d.Version, updated: d.Updated, owner: ix.intern(d.Owner), org: ix.intern(d.Org),
		flags: d.Flags, live: true}
	if u, ok := parseUUID(d.ID); ok {
		dd.id = u
		ix.byID[u] = n
	} else {
		id := strings.Clone(d.ID)
		ix.oddIDs[n], ix.byOdd[id] = id, n
	}
	ix.live++
	for _, x := range ts {
		t := ix.termOf(x.text, x.word)
		ix.terms[t].add(n, x.mask)
		dd.terms = append(dd.terms, t)
	}
}

// intern returns the number of an owner or organization id.
func (ix *Index) intern(s string) uint32 {
	if n, ok := ix.nameIdx[s]; ok {
		return n
	}
	n := uint32(len(ix.names))
	s = strings.Clone(s)
	ix.names = append(ix.names, s)
	ix.nameIdx[s] = n
	return n
}

// internOrder returns the one copy of a second order text (an
// organization's name: shared by many documents).
func (ix *Index) internOrder(s string) string {
	if s == "" {
		return ""
	}
	return ix.names[ix.intern(s)]
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

// typoHash is the key of a deletion in the typo table (FNV-1a).
func typoHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (ix *Index) addTypos(t uint32) {
	text := ix.terms[t].text
	if !typoWord(text) {
		return
	}
	for _, del := range deletions(text) {
		h := typoHash(del)
		switch u, ok := ix.typos[h]; {
		case !ok:
			ix.typos[h] = t
		case u == t:
		case u == typoMany:
			if !slices.Contains(ix.typoMore[h], t) {
				ix.typoMore[h] = append(ix.typoMore[h], t)
			}
		default:
			ix.typos[h] = typoMany
			ix.typoMore[h] = []uint32{u, t}
		}
	}
}

func (ix *Index) dropTypos(t uint32) {
	text := ix.terms[t].text
	if !ix.terms[t].word || !typoWord(text) {
		return
	}
	for _, del := range deletions(text) {
		h := typoHash(del)
		switch u := ix.typos[h]; u {
		case t:
			delete(ix.typos, h)
		case typoMany:
			l := slices.DeleteFunc(ix.typoMore[h], func(u uint32) bool { return u == t })
			switch len(l) {
			case 1:
				ix.typos[h] = l[0]
				delete(ix.typoMore, h)
			default:
				ix.typoMore[h] = l
			}
		}
	}
}

// typosOf returns the words with a deletion that hashes as s does.
func (ix *Index) typosOf(s string) []uint32 {
	h := typoHash(s)
	switch u, ok := ix.typos[h]; {
	case !ok:
		return nil
	case u == typoMany:
		return ix.typoMore[h]
	default:
		return []uint32{u}
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
		if n, ok := ix.number(id); ok {
			ix.remove(n)
		}
		if !ix.warm {
			ix.gone[id] = true
		}
	}
}

func (ix *Index) remove(n uint32) {
	d := ix.doc(n)
	for _, t := range d.terms {
		tm := &ix.terms[t]
		tm.drop(n)
		if len(tm.docs) == 0 {
			ix.dropTypos(t)
			delete(ix.byText, tm.text)
			ix.terms[t] = term{}
			ix.free = append(ix.free, t)
		}
	}
	if id, ok := ix.oddIDs[n]; ok {
		delete(ix.oddIDs, n)
		delete(ix.byOdd, id)
	} else {
		delete(ix.byID, d.id)
	}
	*d = doc{}
	ix.live--
	ix.freeDoc = append(ix.freeDoc, n)
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

// parseUUID reads an id in the canonical form of a UUID (lower-case hex,
// as the store makes them); anything else is not one.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi > 15 || lo > 15 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// formatUUID writes a UUID in its canonical form.
func formatUUID(u [16]byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return string(b)
}
