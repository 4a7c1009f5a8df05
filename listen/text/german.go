package text

import "strings"

// StemGerman stems a lower-case German word with the Snowball German
// algorithm, written here from its published description:
//
//   - ß becomes ss; u and y between two vowels are marked as consonants
//     (written U and Y while stemming).
//   - R1 is the region after the first non-vowel that follows a vowel, moved
//     so that at least three letters precede it; R2 is the same taken again
//     inside R1.
//   - Step 1 removes the longest of em ern er | e en es | s (s only after
//     b d f g h k l m n r t) when it lies in R1; after e/en/es a preceding
//     "niss" loses its last s.
//   - Step 2 removes the longest of en er est | st (st only after b d f g h k
//     l m n t that has at least three letters before it) when in R1.
//   - Step 3 removes derivational suffixes in R2: end ung (and then ig, not
//     after e), ig ik isch (not after e), lich heit (and then er or en in
//     R1), keit (and then lich or ig in R2).
//   - Finally U and Y turn back into u and y and ä ö ü lose their umlaut.
func StemGerman(word string) string {
	w := []rune(strings.ReplaceAll(word, "ß", "ss"))
	for i := 1; i+1 < len(w); i++ {
		if isGermanVowel(w[i-1]) && isGermanVowel(w[i+1]) {
			switch w[i] {
			case 'u':
				w[i] = 'U'
			case 'y':
				w[i] = 'Y'
			}
		}
	}
	r1 := regionAfter(w, 0)
	r2 := regionAfter(w, r1)
	if r1 < 3 {
		r1 = min(3, len(w))
	}

	w = germanStep1(w, r1)
	w = germanStep2(w, r1)
	w = germanStep3(w, r1, r2)

	for i, r := range w {
		switch r {
		case 'U':
			w[i] = 'u'
		case 'Y':
			w[i] = 'y'
		case 'ä':
			w[i] = 'a'
		case 'ö':
			w[i] = 'o'
		case 'ü':
			w[i] = 'u'
		}
	}
	return string(w)
}

func isGermanVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö', 'ü':
		return true
	}
	return false
}

// regionAfter returns the start of the region after the first non-vowel
// that follows a vowel, looking from index from on; len(w) when there is none.
func regionAfter(w []rune, from int) int {
	for i := from + 1; i < len(w); i++ {
		if !isGermanVowel(w[i]) && isGermanVowel(w[i-1]) {
			return i + 1
		}
	}
	return len(w)
}

func hasSuffix(w []rune, s string) bool {
	sr := []rune(s)
	if len(sr) > len(w) {
		return false
	}
	for i := range sr {
		if w[len(w)-len(sr)+i] != sr[i] {
			return false
		}
	}
	return true
}

// longestSuffix returns the longest of the suffixes w ends with, or "".
func longestSuffix(w []rune, suffixes ...string) string {
	best := ""
	for _, s := range suffixes {
		if len(s) > len(best) && hasSuffix(w, s) {
			best = s
		}
	}
	return best
}

func inRegion(w []rune, suffix string, region int) bool {
	return len(w)-len([]rune(suffix)) >= region
}

func validSEnding(r rune) bool  { return strings.ContainsRune("bdfghklmnrt", r) }
func validStEnding(r rune) bool { return strings.ContainsRune("bdfghklmnt", r) }

func germanStep1(w []rune, r1 int) []rune {
	suf := longestSuffix(w, "em", "ern", "er", "e", "en", "es", "s")
	if suf == "" || !inRegion(w, suf, r1) {
		return w
	}
	cut := len(w) - len([]rune(suf))
	switch suf {
	case "s":
		if cut == 0 || !validSEnding(w[cut-1]) {
			return w
		}
		return w[:cut]
	case "e", "en", "es":
		w = w[:cut]
		if hasSuffix(w, "niss") {
			w = w[:len(w)-1]
		}
		return w
	default:
		return w[:cut]
	}
}

func germanStep2(w []rune, r1 int) []rune {
	suf := longestSuffix(w, "en", "er", "est", "st")
	if suf == "" || !inRegion(w, suf, r1) {
		return w
	}
	cut := len(w) - len([]rune(suf))
	if suf == "st" {
		// The st-ending letter must itself have at least three letters before it.
		if cut-1 < 3 || !validStEnding(w[cut-1]) {
			return w
		}
	}
	return w[:cut]
}

func germanStep3(w []rune, r1, r2 int) []rune {
	suf := longestSuffix(w, "end", "ung", "ig", "ik", "isch", "lich", "heit", "keit")
	if suf == "" || !inRegion(w, suf, r2) {
		return w
	}
	cut := len(w) - len([]rune(suf))
	switch suf {
	case "end", "ung":
		w = w[:cut]
		if hasSuffix(w, "ig") && inRegion(w, "ig", r2) && !hasSuffix(w, "eig") {
			w = w[:len(w)-2]
		}
	case "ig", "ik", "isch":
		if cut > 0 && w[cut-1] == 'e' {
			return w
		}
		w = w[:cut]
	case "lich", "heit":
		w = w[:cut]
		if s := longestSuffix(w, "er", "en"); s != "" && inRegion(w, s, r1) {
			w = w[:len(w)-2]
		}
	case "keit":
		w = w[:cut]
		if s := longestSuffix(w, "lich", "ig"); s != "" && inRegion(w, s, r2) {
			w = w[:len(w)-len(s)]
		}
	}
	return w
}
