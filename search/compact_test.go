package search

import (
	"fmt"
	"slices"
	"testing"
)

// TestCompactStorage proves the rules of the index's compact form: ids kept
// as bytes come back as given, reused document numbers keep postings in
// order, a word from two fields keeps each posting's fields, and the typo
// table, keyed by hashes, still finds every word and forgets removed ones.
func TestCompactStorage(t *testing.T) {
	uuid := func(i int) string { return fmt.Sprintf("0190f5a4-7c3e-7a51-9b0e-%012d", i) }
	t.Run("UUID ids and other ids come back as they were given", func(t *testing.T) {
		ix := New()
		ix.Put(person(uuid(7), "Anna", "Berg"), person("legacy-7", "Anne", "Berg"), person("0190F5A4-7C3E-7A51-9B0E-000000000008", "Ute", "Berg"))
		ix.SetReady()
		got := find(ix, "berg", all)
		slices.Sort(got)
		want := []string{uuid(7), "0190F5A4-7C3E-7A51-9B0E-000000000008", "legacy-7"}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a reused document number keeps the postings in order", func(t *testing.T) {
		ix := New()
		for i := range 5 {
			ix.Put(person(uuid(i), "Jan", fmt.Sprintf("Berg%c", 'a'+i)))
		}
		ix.SetReady()
		ix.Remove(uuid(1), uuid(3))
		ix.Put(person(uuid(10), "Jan", "Stein"), person(uuid(11), "Jan", "Stein"), person(uuid(12), "Jan", "Stein"))
		if got := len(find(ix, "jan", all)); got != 6 {
			t.Fatalf("jan finds %d, want 6", got)
		}
		ix.Remove(uuid(11))
		got := find(ix, "jan", all)
		if len(got) != 5 || slices.Contains(got, uuid(11)) || slices.Contains(got, uuid(1)) {
			t.Errorf("after removals jan finds %v", got)
		}
		for _, tm := range ix.terms {
			if !slices.IsSorted(tm.docs) {
				t.Errorf("postings of %q out of order: %v", tm.text, tm.docs)
			}
		}
	})
	t.Run("a word from two fields keeps each posting's fields", func(t *testing.T) {
		ix := New()
		ix.Put(person(uuid(1), "Anna", "Berlin"), person(uuid(2), "Anna", "Stein", Value{fCity, Text, "Berlin"}),
			person(uuid(3), "Otto", "Kahn", Value{fCity, Text, "Berlin"}))
		ix.SetReady()
		if got := find(ix, "berlin", fName); !slices.Equal(got, []string{uuid(1)}) {
			t.Errorf("berlin as a name finds %v", got)
		}
		if got := find(ix, "berlin", fCity); len(got) != 2 || slices.Contains(got, uuid(1)) {
			t.Errorf("berlin as a city finds %v", got)
		}
	})
	t.Run("Only and Not decide which documents may be hits", func(t *testing.T) {
		ix := New()
		ix.Put(person(uuid(1), "Jan", "Berg"), person(uuid(2), "Jan", "Stein"), person("odd", "Jan", "Kahn"))
		ix.SetReady()
		if got := ids(ix.Search(Query{Text: "jan", Fields: all, Limit: 10, Only: []string{uuid(2), "odd", "unknown"}})); len(got) != 2 || slices.Contains(got, uuid(1)) {
			t.Errorf("Only: %v", got)
		}
		if got := ids(ix.Search(Query{Fields: all, Limit: 10, Only: []string{}})); len(got) != 0 {
			t.Errorf("an empty Only keeps nothing, got %v", got)
		}
		if got := ids(ix.Search(Query{Fields: all, Limit: 10, Not: []string{uuid(1)}})); len(got) != 2 || slices.Contains(got, uuid(1)) {
			t.Errorf("Not: %v", got)
		}
	})
	t.Run("words sharing a deletion are each found with a typo, and a removed one is forgotten", func(t *testing.T) {
		ix := New()
		// Hansen and Hanson share the deletion "hansn".
		ix.Put(person(uuid(1), "Eva", "Hansen"), person(uuid(2), "Eva", "Hanson"))
		ix.SetReady()
		if got := find(ix, "hansan", all); len(got) != 2 {
			t.Errorf("hansan finds %v, want both", got)
		}
		ix.Remove(uuid(2))
		if got := find(ix, "hansan", all); !slices.Equal(got, []string{uuid(1)}) {
			t.Errorf("after removing hanson, hansan finds %v", got)
		}
		if _, ok := ix.typoMore[typoHash("hansn")]; ok {
			t.Errorf("the shared deletion still lists several words")
		}
	})
	t.Run("an index whose documents are all removed holds no term", func(t *testing.T) {
		ix := New()
		ix.Put(person(uuid(1), "Jan", "Berg"), person("odd", "Eva", "Stein"))
		ix.SetReady()
		ix.Remove(uuid(1), "odd")
		if ix.Len() != 0 || len(ix.byText) != 0 || len(ix.typos) != 0 || len(ix.byID) != 0 || len(ix.oddIDs) != 0 {
			t.Errorf("left: %d docs, %d terms, %d typos, %d ids, %d odd ids", ix.Len(), len(ix.byText), len(ix.typos), len(ix.byID), len(ix.oddIDs))
		}
	})
}
