package search

import (
	"slices"
	"strings"
)

// NameKey returns the form under which two spellings of one name compare
// equal: folded words with written-out umlauts taken back, so that Müller,
// Mueller and MÜLLER give the same key. It is a key for finding duplicate
// candidates, not for display.
func NameKey(s string) string {
	ws := words(s)
	for i, w := range ws {
		if c := collapsed(w); c != "" {
			ws[i] = c
		}
	}
	return strings.Join(ws, " ")
}

// Groups returns the ids of the documents that share a key, in groups of
// two or more, each group and the list sorted by id. key maps a document's
// metadata to its key; "" leaves the document out.
func (ix *Index) Groups(key func(Meta) string) [][]string {
	by := map[string][]uint32{}
	var out [][]string
	ix.mu.RLock()
	for n := range ix.ndocs {
		d := ix.doc(n)
		if !d.live {
			continue
		}
		if k := key(ix.meta(d)); k != "" {
			by[k] = append(by[k], n)
		}
	}
	// Only the ids of documents in a group are written out.
	for _, ns := range by {
		if len(ns) > 1 {
			ids := make([]string, len(ns))
			for i, n := range ns {
				ids[i] = ix.idOf(n)
			}
			slices.Sort(ids)
			out = append(out, ids)
		}
	}
	ix.mu.RUnlock()
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}
