package text

import "testing"

// TestGermanStemmerFollowsSnowball checks the German stemmer on words whose
// stems were worked out by hand from the algorithm's description (the
// derivation is noted beside each pair).
func TestGermanStemmerFollowsSnowball(t *testing.T) {
	pairs := []struct{ word, stem, why string }{
		{"katzen", "katz", "R1 = zen; step 1 drops en"},
		{"häuser", "haus", "R1 = er; step 1 drops er; umlaut removed"},
		{"kinder", "kind", "step 1 drops er in R1"},
		{"landes", "land", "step 1 drops es in R1"},
		{"kenntnisse", "kenntnis", "step 1 drops e, then niss loses its last s"},
		{"ergebnisse", "ergebnis", "as kenntnisse"},
		{"aufeinanderfolgenden", "aufeinanderfolg", "step 1 drops en, step 3 drops end in R2"},
		{"schnellste", "schnell", "step 1 drops e, step 2 drops st after l"},
		{"schnellsten", "schnell", "step 1 drops en, step 2 drops st after l"},
		{"klügsten", "klug", "st after g, which has three letters before it"},
		{"beste", "best", "st lies before R1, so step 2 keeps it"},
		{"schlimmste", "schlimm", "st after m"},
		{"möglichkeiten", "moglich", "step 1 drops en; keit in R2 goes, lich before R2 stays"},
		{"freundlichkeit", "freundlich", "keit in R2 goes, lich outside R2 stays"},
		{"heiterkeit", "heiter", "keit in R2"},
		{"ärgerlich", "arg", "lich in R2 goes, then er in R1"},
		{"gefährlichen", "gefahr", "step 1 drops en, step 3 drops lich"},
		{"täglich", "taglich", "lich starts before R2"},
		{"geläufig", "gelauf", "ig in R2, not after e"},
		{"richtigen", "richtig", "ig starts before R2"},
		{"großartigen", "grossart", "ß becomes ss; en, then ig in R2"},
		{"ordnungsgemäß", "ordnungsgemass", "final s after s is not a valid s-ending"},
		{"lieferung", "liefer", "ung in R2"},
		{"feststellung", "feststell", "ung in R2"},
		{"enttäuschung", "enttausch", "ung in R2"},
		{"enttäuscht", "enttauscht", "t is no suffix"},
		{"mitarbeiter", "mitarbeit", "er in R1"},
		{"schönheit", "schonheit", "heit outside the empty R2 stays"},
		{"bauen", "bau", "u between vowels is a consonant, so R1 = en"},
		{"bayern", "bay", "y between vowels is a consonant; ern in R1"},
	}
	for _, p := range pairs {
		t.Run(p.word, func(t *testing.T) {
			if got := StemGerman(p.word); got != p.stem {
				t.Errorf("StemGerman(%q) = %q, want %q (%s)", p.word, got, p.stem, p.why)
			}
		})
	}
}

func TestStemUsesTheLanguagesStemmer(t *testing.T) {
	t.Run("English goes to the Snowball English stemmer", func(t *testing.T) {
		for w, want := range map[string]string{"disappointing": "disappoint", "delivered": "deliv", "crashes": "crash"} {
			if got := Stem(English, w); got != want {
				t.Errorf("Stem(en, %q) = %q, want %q", w, got, want)
			}
		}
	})
	t.Run("German goes to the German stemmer", func(t *testing.T) {
		if got := Stem(German, "katzen"); got != "katz" {
			t.Errorf("Stem(de, katzen) = %q", got)
		}
	})
	t.Run("other languages are left alone", func(t *testing.T) {
		if got := Stem("fr", "maisons"); got != "maisons" {
			t.Errorf("Stem(fr, maisons) = %q", got)
		}
	})
}
