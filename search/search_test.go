package search

import (
	"fmt"
	"slices"
	"testing"
)

const (
	fName Field = 1 << iota
	fEmail
	fPhone
	fCity
	fHandle
	all = fName | fEmail | fPhone | fCity | fHandle
)

func person(id, given, family string, more ...Value) Doc {
	return Doc{ID: id, Values: append([]Value{{fName, Text, given}, {fName, Text, family}}, more...),
		Meta: Meta{Version: 1, Order: fold(family + " " + given)}}
}

func ids(r Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func find(ix *Index, q string, fields Field) []string {
	return ids(ix.Search(Query{Text: q, Fields: fields, Limit: 50}))
}

func TestFolding(t *testing.T) {
	ix := New()
	ix.Put(
		person("mueller", "Hans", "Müller"),
		person("mueller2", "Eva", "Mueller"),
		person("gross", "Jana", "Groß"),
		person("francois", "François", "Lefèvre"),
		person("zoe", "Zoë", "Łukasiewicz"),
		person("oezdemir", "Ayşe", "Özdemir"),
	)
	ix.SetReady()
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"mueller", []string{"mueller2", "mueller"}},
		{"muller", []string{"mueller2", "mueller"}},
		{"MÜLLER", []string{"mueller2", "mueller"}},
		{"Müller", []string{"mueller2", "mueller"}},
		{"gross", []string{"gross"}},
		{"GROSS", []string{"gross"}},
		{"groß", []string{"gross"}},
		{"francois", []string{"francois"}},
		{"FRANÇOIS lefevre", []string{"francois"}},
		{"zoe", []string{"zoe"}},
		{"lukasiewicz", []string{"zoe"}},
		{"ozdemir", []string{"oezdemir"}},
		{"oezdemir", []string{"oezdemir"}},
		{"ayse", []string{"oezdemir"}},
	} {
		t.Run(fmt.Sprintf("%s finds %v", c.query, c.want), func(t *testing.T) {
			got := find(ix, c.query, all)
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("search %q found %v, want %v", c.query, got, want)
			}
		})
	}
}

func TestMatching(t *testing.T) {
	ix := New()
	ix.Put(
		person("anna", "Anna", "Schneider", Value{fEmail, Email, "anna.schneider@example.org"},
			Value{fPhone, Phone, "+49 30 1234567"}, Value{fCity, Text, "Berlin"}),
		person("annabel", "Annabel", "Schmidt", Value{fHandle, Handle, "@annabel@social.example"}),
		person("schneiders", "Karl", "Schneiders"),
		person("schreiber", "Ute", "Schreiber"),
	)
	ix.SetReady()
	t.Run("a word matches whole words and prefixes, whole words first", func(t *testing.T) {
		if got := find(ix, "anna", all); !slices.Equal(got, []string{"anna", "annabel"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("two words must both match", func(t *testing.T) {
		if got := find(ix, "anna schn", all); !slices.Equal(got, []string{"anna"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("one typo finds a word of five letters or more, ranked after exact and prefix", func(t *testing.T) {
		if got := find(ix, "schnieder", all); !slices.Equal(got, []string{"anna"}) {
			t.Errorf("swapped letters: got %v", got)
		}
		if got := find(ix, "schneider", all); !slices.Equal(got, []string{"anna", "schneiders"}) {
			t.Errorf("exact before prefix: got %v", got)
		}
		if got := find(ix, "shreiber", all); !slices.Equal(got, []string{"schreiber"}) {
			t.Errorf("a left-out letter: got %v", got)
		}
		if got := find(ix, "schreibxr", all); !slices.Equal(got, []string{"schreiber"}) {
			t.Errorf("a wrong letter: got %v", got)
		}
	})
	t.Run("a short word finds no typo", func(t *testing.T) {
		if got := find(ix, "anno", all); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("two typos find nothing", func(t *testing.T) {
		if got := find(ix, "schnaidar", all); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("an e-mail address is found by its words and its domain", func(t *testing.T) {
		for _, q := range []string{"anna.schneider@example.org", "anna.schn", "example.org", "schneider@exam"} {
			if got := find(ix, q, fEmail); !slices.Equal(got, []string{"anna"}) {
				t.Errorf("%q: got %v", q, got)
			}
		}
	})
	t.Run("a phone number is found in any format", func(t *testing.T) {
		for _, q := range []string{"+49301234567", "030 1234567", "0049 (30) 123-4567", "+49 30 12345"} {
			if got := find(ix, q, fPhone); !slices.Equal(got, []string{"anna"}) {
				t.Errorf("%q: got %v", q, got)
			}
		}
	})
	t.Run("a handle is found with or without its at sign", func(t *testing.T) {
		for _, q := range []string{"@annabel@social.example", "@annabel@social", "@annabel"} {
			if got := find(ix, q, fHandle); !slices.Equal(got, []string{"annabel"}) {
				t.Errorf("%q: got %v", q, got)
			}
		}
	})
	t.Run("a field the searcher may not use finds nothing", func(t *testing.T) {
		if got := find(ix, "berlin", all&^fCity); len(got) != 0 {
			t.Errorf("got %v", got)
		}
		if got := find(ix, "berlin", fCity); !slices.Equal(got, []string{"anna"}) {
			t.Errorf("got %v", got)
		}
		if got := find(ix, "030 1234567", fName|fEmail); len(got) != 0 {
			t.Errorf("phone without the phone field: got %v", got)
		}
	})
}

func TestChanges(t *testing.T) {
	t.Run("a removed document is found no more and its words are dropped", func(t *testing.T) {
		ix := New()
		ix.Put(person("a", "Wiebke", "Quandt"), person("b", "Wiebke", "Lorenz"))
		ix.SetReady()
		ix.Remove("a")
		if got := find(ix, "quandt", all); len(got) != 0 {
			t.Errorf("got %v", got)
		}
		if _, ok := ix.byText["quandt"]; ok {
			t.Error("the word of the removed document stayed in the index")
		}
		if got := find(ix, "wiebke", all); !slices.Equal(got, []string{"b"}) {
			t.Errorf("got %v", got)
		}
		ix.mergeFresh()
		if slices.Contains(ix.sorted, "quandt") {
			t.Error("the removed word stayed in the prefix list after a merge")
		}
	})
	t.Run("a changed document is found by its new words only", func(t *testing.T) {
		ix := New()
		ix.Put(person("a", "Wiebke", "Quandt"))
		ix.SetReady()
		d := person("a", "Wiebke", "Hansen")
		d.Version = 2
		ix.Put(d)
		if got := find(ix, "quandt", all); len(got) != 0 {
			t.Errorf("old name: got %v", got)
		}
		if got := find(ix, "hansen", all); !slices.Equal(got, []string{"a"}) {
			t.Errorf("new name: got %v", got)
		}
	})
	t.Run("an older version does not replace a newer one", func(t *testing.T) {
		ix := New()
		d := person("a", "Wiebke", "Hansen")
		d.Version = 2
		ix.Put(d)
		ix.Put(person("a", "Wiebke", "Quandt"))
		if got := find(ix, "quandt", all); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("a document removed while warming up is not brought back by the loader", func(t *testing.T) {
		ix := New()
		ix.Remove("a")
		ix.Put(person("a", "Wiebke", "Quandt"))
		ix.SetReady()
		if got := find(ix, "quandt", all); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("new words are found before and after they are merged", func(t *testing.T) {
		ix := New()
		ix.SetReady()
		for i := range 10000 {
			ix.Put(person(fmt.Sprint(i), "Given", fmt.Sprintf("family%05d", i)))
		}
		if got := find(ix, "family0999", all); len(got) != 10 {
			t.Errorf("found %d by prefix, want 10", len(got))
		}
		if got := find(ix, "family09999", all); !slices.Equal(got, []string{"9999"}) {
			t.Errorf("got %v", got)
		}
	})
}

func TestPaging(t *testing.T) {
	ix := New()
	for i := range 30 {
		ix.Put(person(fmt.Sprintf("p%02d", i), "Jan", fmt.Sprintf("Name%02d", i)))
	}
	ix.SetReady()
	var all2 []string
	for off := 0; off < 30; off += 7 {
		r := ix.Search(Query{Text: "jan", Fields: all, Offset: off, Limit: 7})
		if r.Total != 30 {
			t.Fatalf("total %d", r.Total)
		}
		all2 = append(all2, ids(r)...)
	}
	want := make([]string, 30)
	for i := range want {
		want[i] = fmt.Sprintf("p%02d", i)
	}
	if !slices.Equal(all2, want) {
		t.Errorf("pages gave %v", all2)
	}
	r := ix.Search(Query{Text: "jan", Fields: all, Limit: 50, Keep: func(m Meta) bool { return m.Order < "name10" }})
	if r.Total != 10 || len(r.Hits) != 10 {
		t.Errorf("kept %d of %d", len(r.Hits), r.Total)
	}
}

func TestDistanceOne(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"mueller", "mueller", true}, {"mueller", "muelller", true}, {"mueller", "mueler", true},
		{"mueller", "muellar", true}, {"mueller", "muelelr", true}, {"mueller", "meullre", false},
		{"mueller", "mueleer", true}, {"abc", "abcde", false}, {"abcd", "bacd", true}, {"abcd", "badc", false},
	} {
		if got := distanceOne(c.a, c.b); got != c.want {
			t.Errorf("distanceOne(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestOrders(t *testing.T) {
	ix := New()
	for i, p := range []struct{ id, family, org string }{{"c", "Cäsar", "Beta"}, {"a", "Adler", ""}, {"b", "Bauer", "Alpha"}, {"x", "", "Alpha"}} {
		d := person(p.id, "", p.family)
		d.Order, d.Order2, d.Updated = fold(p.family), fold(p.org), int64(i)
		ix.Put(d)
	}
	ix.SetReady()
	for _, c := range []struct {
		name string
		by   Order
		want []string
	}{
		{"without words, by name, the unnamed last", ByScore, []string{"a", "b", "c", "x"}},
		{"by organization, then name, without one last", ByOrder2, []string{"b", "x", "c", "a"}},
		{"by the latest change", ByUpdated, []string{"x", "b", "a", "c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(ix.Search(Query{By: c.by, Fields: all, Limit: 10})); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestExactDocumentsRankFirst(t *testing.T) {
	ix := New()
	ix.Put(person("a", "Jan", "Berg"), person("b", "Jan", "Bergmann"), person("c", "Ute", "Stein"))
	ix.SetReady()
	t.Run("a document the caller found exactly comes first, even without a matching word", func(t *testing.T) {
		got := ids(ix.Search(Query{Text: "030 1234567", Fields: all, Limit: 10, Exact: []string{"c"}}))
		if !slices.Equal(got, []string{"c"}) {
			t.Errorf("got %v", got)
		}
		got = ids(ix.Search(Query{Text: "berg", Fields: all, Limit: 10, Exact: []string{"b"}}))
		if !slices.Equal(got, []string{"b", "a"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("an exact document the query leaves out stays out", func(t *testing.T) {
		got := ids(ix.Search(Query{Text: "x@example.org", Fields: all, Limit: 10, Exact: []string{"c"}, Not: []string{"c"}}))
		if len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
}
