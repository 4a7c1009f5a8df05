package text

import "github.com/kljensen/snowball/english"

// Language is a post's language as an ISO 639-1 code.
type Language string

// The languages this package handles.
const (
	German  Language = "de"
	English Language = "en"
)

// Stem returns the stem of a lower-case word in the given language; words of
// other languages are returned unchanged.
func Stem(lang Language, word string) string {
	switch lang {
	case German:
		return StemGerman(word)
	case English:
		return english.Stem(word, true)
	}
	return word
}
