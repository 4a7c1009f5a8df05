package text

import (
	"slices"
	"strings"
	"testing"
)

func texts(toks []Token, kind Kind) []string {
	var out []string
	for _, t := range toks {
		if t.Kind == kind {
			out = append(out, t.Text)
		}
	}
	return out
}

func TestTokenize(t *testing.T) {
	t.Run("words are case-folded and keep umlauts and ß", func(t *testing.T) {
		got := texts(Tokenize("Die GRÖẞTE Überraschung: Straße gesperrt"), Word)
		want := []string{"die", "größte", "überraschung", "straße", "gesperrt"}
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("English contractions stay one word", func(t *testing.T) {
		got := texts(Tokenize("I don’t like it, it's BROKEN"), Word)
		want := []string{"i", "don't", "like", "it", "it's", "broken"}
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("hashtags are kept without # and folded", func(t *testing.T) {
		toks := Tokenize("Wieder #Bahnchaos und #DB_Fail heute")
		if got := texts(toks, Hashtag); !slices.Equal(got, []string{"bahnchaos", "db_fail"}) {
			t.Errorf("hashtags %q", got)
		}
		if got := texts(toks, Word); !slices.Equal(got, []string{"wieder", "und", "heute"}) {
			t.Errorf("words %q", got)
		}
	})
	t.Run("mentions are dropped", func(t *testing.T) {
		toks := Tokenize("@anna und @bob@social.example finden @Support_DE gut.")
		for _, tok := range toks {
			for _, name := range []string{"anna", "bob", "social", "example", "support_de"} {
				if tok.Text == name {
					t.Errorf("mention part %q kept as %v", name, tok)
				}
			}
		}
		if got := texts(toks, Word); !slices.Equal(got, []string{"und", "finden", "gut"}) {
			t.Errorf("words %q", got)
		}
	})
	t.Run("e-mail addresses are dropped whole", func(t *testing.T) {
		got := texts(Tokenize("Schreibt an anna.schmidt@firma.example oder info@firma.example, danke"), Word)
		if !slices.Equal(got, []string{"schreibt", "an", "oder", "danke"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("URLs are dropped", func(t *testing.T) {
		got := texts(Tokenize("Siehe https://shop.example/p?id=4 und www.example.org/x. Toll"), Word)
		if !slices.Equal(got, []string{"siehe", "und", "toll"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("emoji are tokens of their own, skin tones and selectors dropped", func(t *testing.T) {
		got := texts(Tokenize("super👍🏽👍 love it ❤️!"), Emoji)
		if !slices.Equal(got, []string{"👍", "👍", "❤"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("emoticons are tokens, URLs' colons are not", func(t *testing.T) {
		got := texts(Tokenize("nice :) not :-( see https://x.example <3"), Emoticon)
		if !slices.Equal(got, []string{":)", ":-(", "<3"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("sentence marks are clause boundaries", func(t *testing.T) {
		got := texts(Tokenize("Gut, aber teuer!!"), Punct)
		if !slices.Equal(got, []string{",", "!", "!"}) {
			t.Errorf("got %q", got)
		}
	})
}

func TestStopWordsAreDropped(t *testing.T) {
	t.Run("function words are stop words", func(t *testing.T) {
		for _, w := range []string{"und", "der", "nicht", "schon"} {
			if !IsStopWord(German, w) {
				t.Errorf("%q is not a German stop word", w)
			}
		}
		for _, w := range []string{"the", "and", "don't", "very"} {
			if !IsStopWord(English, w) {
				t.Errorf("%q is not an English stop word", w)
			}
		}
	})
	t.Run("content words are not", func(t *testing.T) {
		for _, w := range []string{"lieferung", "akku", "schön"} {
			if IsStopWord(German, w) {
				t.Errorf("%q is a German stop word", w)
			}
		}
		for _, w := range []string{"delivery", "battery"} {
			if IsStopWord(English, w) {
				t.Errorf("%q is an English stop word", w)
			}
		}
	})
	t.Run("stop words never reach the term counts", func(t *testing.T) {
		c := NewCooccurrence(nil)
		c.Add(Post{Bucket: "b", Lang: German, Tokens: Tokenize("Die Lieferung und der Akku sind nicht da")})
		var got []string
		for _, tc := range c.TopTerms("b", -1) {
			got = append(got, tc.Term)
		}
		if !slices.Equal(got, []string{"akku", "liefer"}) {
			t.Errorf("terms %q, want only the stems of Akku and Lieferung", got)
		}
	})
}

// TestTokenizeStaysLinear feeds runs that once made the address check
// quadratic; at a megabyte each, a quadratic tokeniser would not finish.
func TestTokenizeStaysLinear(t *testing.T) {
	for _, unit := range []string{"a.", "a-", "ab_", "x'"} {
		post := strings.Repeat(unit, 1<<20/len(unit))
		if toks := Tokenize(post); len(toks) == 0 {
			t.Errorf("%q…: no tokens", unit)
		}
	}
}
