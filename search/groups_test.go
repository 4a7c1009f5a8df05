package search

import (
	"slices"
	"testing"
)

func TestGroups(t *testing.T) {
	t.Run("spellings of one name give one key", func(t *testing.T) {
		for _, s := range []string{"Müller Hans", "Mueller Hans", "MÜLLER hans", "muller, Hans"} {
			if got := NameKey(s); got != "muller hans" {
				t.Errorf("NameKey(%q) = %q, want muller hans", s, got)
			}
		}
	})
	t.Run("documents sharing a key are grouped", func(t *testing.T) {
		ix := New()
		ix.Put(Doc{ID: "b", Meta: Meta{Order: Fold("Mueller Hans"), Order2: "acme"}},
			Doc{ID: "a", Meta: Meta{Order: Fold("Müller Hans"), Order2: "acme"}},
			Doc{ID: "c", Meta: Meta{Order: Fold("Müller Hans"), Order2: "other"}},
			Doc{ID: "d", Meta: Meta{Order: Fold("Schmidt Eva"), Order2: "acme"}})
		got := ix.Groups(func(m Meta) string { return NameKey(m.Order) + "|" + m.Order2 })
		if want := [][]string{{"a", "b"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("Groups = %v, want %v", got, want)
		}
		ix.Remove("a")
		if got := ix.Groups(func(m Meta) string { return NameKey(m.Order) + "|" + m.Order2 }); len(got) != 0 {
			t.Errorf("after removal Groups = %v, want none", got)
		}
	})
}
