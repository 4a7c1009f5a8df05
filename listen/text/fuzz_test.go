package text

import (
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzScoreText checks that any input, valid UTF-8 or not, is tokenised,
// stemmed and scored without a panic and with a score in (-1, 1).
func FuzzScoreText(f *testing.F) {
	for _, s := range []string{"", "!", "@", "#", "a@", "nicht", "ß", "üü", "Das ist nicht gut!!! 😡", "don't :-( <3 https://x", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, post string) {
		for _, lang := range []Language{German, English} {
			s := ScoreText(lang, post)
			if math.IsNaN(s.Score) || math.Abs(s.Score) >= 1 {
				t.Fatalf("%q: score %v", post, s.Score)
			}
			for _, tok := range Tokenize(post) {
				if tok.Text == "" {
					t.Fatalf("%q: empty token %+v", post, tok)
				}
				if utf8.ValidString(tok.Text) {
					Stem(lang, tok.Text)
				}
			}
		}
	})
}
