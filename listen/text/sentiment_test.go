package text

import (
	"math"
	"testing"
)

func score(t *testing.T, lang Language, post string) Sentiment {
	t.Helper()
	return ScoreText(lang, post)
}

func wantLabel(t *testing.T, lang Language, post string, want Label) Sentiment {
	t.Helper()
	s := score(t, lang, post)
	if s.Label != want {
		t.Errorf("%s %q: %v (%.2f), want %v", lang, post, s.Label, s.Score, want)
	}
	return s
}

func TestSentimentRules(t *testing.T) {
	t.Run("lexicon words decide the label", func(t *testing.T) {
		wantLabel(t, German, "Der Service war großartig", Positive)
		wantLabel(t, German, "Die Lieferung war eine Katastrophe", Negative)
		wantLabel(t, English, "The support was excellent", Positive)
		wantLabel(t, English, "The app is terrible", Negative)
	})
	t.Run("a post without opinion is neutral", func(t *testing.T) {
		wantLabel(t, German, "Die Filiale öffnet um neun Uhr", Neutral)
		wantLabel(t, English, "The store opens at nine", Neutral)
	})
	t.Run("inflected forms are found through the stem", func(t *testing.T) {
		wantLabel(t, German, "Ein enttäuschendes Erlebnis", Negative)
		wantLabel(t, German, "Sehr schoene Filiale", Positive) // ae/oe/ue spelling of umlauts
		wantLabel(t, German, "Grossartiger Service", Positive) // ss for ß, as in Switzerland
		wantLabel(t, English, "They disappointed me", Negative)
	})
	t.Run("negation flips", func(t *testing.T) {
		for _, c := range []struct {
			lang      Language
			base, neg string
		}{
			{German, "Das Essen ist gut", "Das Essen ist nicht gut"},
			{German, "Ein gutes Angebot", "Kein gutes Angebot"},
			{German, "Das Design gefällt mir", "Das Design gefällt mir nicht"},
			{English, "The food is good", "The food is not good"},
			{English, "I recommend them", "I don't recommend them"},
			{English, "It was good", "It was never good"},
		} {
			b, n := score(t, c.lang, c.base), score(t, c.lang, c.neg)
			if b.Label != Positive || n.Label != Negative {
				t.Errorf("%q → %v, %q → %v; want positive, then negative", c.base, b.Label, c.neg, n.Label)
			}
		}
		wantLabel(t, German, "Nicht schlecht", Positive)
		wantLabel(t, English, "Not bad at all", Positive)
	})
	t.Run("negation stays in its clause", func(t *testing.T) {
		wantLabel(t, English, "Not cheap. But great", Positive)
		wantLabel(t, German, "Nicht billig, dafür großartig", Positive)
	})
	t.Run("intensifiers strengthen, diminishers weaken", func(t *testing.T) {
		for _, c := range []struct {
			lang                  Language
			plain, strong, weaker string
		}{
			{German, "Das war gut", "Das war sehr gut", "Das war etwas gut"},
			{German, "Das war schlecht", "Das war extrem schlecht", "Das war eher schlecht"},
			{English, "That was good", "That was very good", "That was slightly good"},
			{English, "That was bad", "That was extremely bad", "That was somewhat bad"},
		} {
			p, s, w := score(t, c.lang, c.plain), score(t, c.lang, c.strong), score(t, c.lang, c.weaker)
			if !(math.Abs(s.Score) > math.Abs(p.Score) && math.Abs(p.Score) > math.Abs(w.Score)) {
				t.Errorf("|%q| %.2f > |%q| %.2f > |%q| %.2f does not hold", c.strong, s.Score, c.plain, p.Score, c.weaker, w.Score)
			}
			if math.Signbit(s.Score) != math.Signbit(p.Score) || math.Signbit(w.Score) != math.Signbit(p.Score) {
				t.Errorf("an intensifier or diminisher changed the sign for %q", c.plain)
			}
		}
	})
	t.Run("kaum and barely weaken and turn", func(t *testing.T) {
		wantLabel(t, German, "Die App funktioniert kaum", Negative)
		wantLabel(t, English, "The app barely works", Negative)
		wantLabel(t, German, "Kaum Probleme", Positive)
	})
	t.Run("a word that is an intensifier counts on its own when nothing follows", func(t *testing.T) {
		wantLabel(t, German, "Einfach super", Positive)
		if a, b := score(t, German, "super schlecht"), score(t, German, "schlecht"); !(a.Score < b.Score) {
			t.Errorf("super schlecht %.2f is not worse than schlecht %.2f", a.Score, b.Score)
		}
	})
	t.Run("emoji and emoticons count", func(t *testing.T) {
		wantLabel(t, German, "Neue Filiale 😍", Positive)
		wantLabel(t, German, "Neue Filiale 😡", Negative)
		wantLabel(t, English, "New store :)", Positive)
		wantLabel(t, English, "New store :(", Negative)
		one, three := score(t, English, "Delivery 👍"), score(t, English, "Delivery 👍👍👍")
		if !(three.Score > one.Score) {
			t.Errorf("three thumbs %.2f not above one %.2f", three.Score, one.Score)
		}
	})
	t.Run("exclamation strengthens", func(t *testing.T) {
		for _, c := range []struct {
			lang        Language
			plain, loud string
		}{{German, "Das ist gut", "Das ist gut!!!"}, {English, "This is bad", "This is bad!!"}} {
			p, l := score(t, c.lang, c.plain), score(t, c.lang, c.loud)
			if !(math.Abs(l.Score) > math.Abs(p.Score)) || math.Signbit(l.Score) != math.Signbit(p.Score) {
				t.Errorf("%q %.2f is not a stronger %q %.2f", c.loud, l.Score, c.plain, p.Score)
			}
		}
		wantLabel(t, German, "Filiale zu!!!", Neutral) // no opinion to strengthen
	})
	t.Run("what follows aber or but weighs more", func(t *testing.T) {
		wantLabel(t, German, "Schönes Design, aber leider kaputt", Negative)
		wantLabel(t, English, "A bit expensive, but excellent quality", Positive)
	})
	t.Run("idioms are one unit", func(t *testing.T) {
		wantLabel(t, German, "Nie wieder diese Airline", Negative)
		wantLabel(t, English, "Thanks for nothing", Negative)
	})
	t.Run("a salutation is not an opinion", func(t *testing.T) {
		wantLabel(t, German, "Liebe Bahn, wann kommt der Zug?", Neutral)
	})
	t.Run("the score lies in (-1, 1) and has the label's sign", func(t *testing.T) {
		for _, p := range []string{"großartig großartig großartig!!! 😍😍😍", "furchtbar furchtbar 😡😡😡!!!"} {
			s := score(t, German, p)
			if math.Abs(s.Score) >= 1 || (s.Label == Positive) != (s.Score > 0) {
				t.Errorf("%q: %v %.3f", p, s.Label, s.Score)
			}
		}
	})
	t.Run("other languages are neutral", func(t *testing.T) {
		if s := score(t, "fr", "C'est excellent 😍"); s != (Sentiment{}) {
			t.Errorf("got %+v", s)
		}
	})
}

func TestLabelRoundTrips(t *testing.T) {
	for _, l := range []Label{Negative, Neutral, Positive} {
		got, err := ParseLabel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLabel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLabel("mixed"); err == nil {
		t.Error("ParseLabel accepted an unknown label")
	}
}
