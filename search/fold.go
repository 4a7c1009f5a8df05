package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold turns one word into the form it is indexed and searched under: lower
// case, German umlauts to their base letter, ß to ss, accents removed
// (François → francois, Zoë → zoe, Łukasz → lukasz). Other letters and digits
// stay; everything else is dropped.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				b.WriteByte(byte(r))
			}
		case r == 'ß':
			b.WriteString("ss")
		default:
			if base, ok := latin[r]; ok {
				b.WriteString(base)
			} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// Fold returns a text as it sorts: lower case, umlauts and accents folded,
// the words separated by one space (Müller, Hans → muller hans).
func Fold(s string) string { return strings.Join(words(s), " ") }

// digraphs returns the spelling of a word with umlauts written out
// (Müller → mueller), or "" if the word has none.
func digraphs(s string) string {
	if !strings.ContainsAny(strings.ToLower(s), "äöü") {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ä':
			b.WriteString("ae")
		case 'ö':
			b.WriteString("oe")
		case 'ü':
			b.WriteString("ue")
		default:
			b.WriteRune(r)
		}
	}
	return fold(b.String())
}

// collapsed returns a folded word with written-out umlauts taken back
// (mueller → muller), or "" if it has none: a Mueller is found as Müller.
func collapsed(f string) string {
	if !strings.Contains(f, "ae") && !strings.Contains(f, "oe") && !strings.Contains(f, "ue") {
		return ""
	}
	return strings.NewReplacer("ae", "a", "oe", "o", "ue", "u").Replace(f)
}

// words splits a text into folded words: Anne-Marie Groß → anne, marie, gross.
func words(s string) []string {
	var out []string
	for w := range strings.FieldsFuncSeq(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if f := fold(w); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// spellings returns the folded forms a word is indexed under.
func spellings(w string) []string {
	f := fold(w)
	if f == "" {
		return nil
	}
	out := []string{f}
	if d := digraphs(w); d != "" && d != f {
		out = append(out, d)
	}
	if c := collapsed(f); c != "" && c != f {
		out = append(out, c)
	}
	return out
}

// latin maps accented Latin letters (lower case) to their base letters.
var latin = map[rune]string{}

func init() {
	for base, accented := range map[string]string{
		"a": "àáâãäåāăąǎ", "ae": "æ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęě", "g": "ĝğġģ",
		"h": "ĥħ", "i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀł", "n": "ñńņňŉ",
		"o": "òóôõöøōŏő", "oe": "œ", "r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "th": "þ",
		"u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range accented {
			latin[r] = base
		}
	}
}

// distanceOne reports whether a and b differ by at most one edit: a letter
// inserted, deleted, replaced, or two neighbours swapped.
func distanceOne(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		return true
	}
	if len(a) == len(b) {
		if a[i+1:] == b[i+1:] {
			return true // replaced
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:] // swapped
	}
	return a[i:] == b[i+1:] // inserted into b
}
