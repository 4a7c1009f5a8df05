package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind tells what a token is.
type Kind uint8

// The kinds of token a post is split into. Mentions and URLs are dropped by
// the tokeniser: they name people or point at them, and carry no opinion.
const (
	Word     Kind = iota + 1 // a case-folded word, umlauts kept, ß kept
	Hashtag                  // a hashtag without its '#', case-folded
	Emoji                    // one emoji (variation selectors and skin tones removed)
	Emoticon                 // an ASCII emoticon such as :-) or <3
	Punct                    // a clause boundary: . , ; : ! ? and the like
)

// Token is one unit of a post.
type Token struct {
	Text string
	Kind Kind
}

// Tokenize splits a post into tokens. Words and hashtags are lower-cased;
// mentions (@name, @name@host), e-mail addresses and URLs (http://…,
// https://…, www.…) are dropped;
// emoji and emoticons are kept as tokens of their own; sentence punctuation is
// kept as Punct so that rules can see where a clause ends.
func Tokenize(post string) []Token {
	toks := make([]Token, 0, len(post)/5+1)
	s := post
	// plainUntil is the length of s at the end of the last run checked and
	// found to hold no @: word starts inside it need no second look, which
	// keeps "a.b.c.…" linear.
	plainUntil := len(s) + 1
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case unicode.IsSpace(r):
			s = s[n:]
		case isURLStart(s):
			s = s[wordEnd(s, notSpace):]
		case r == '@':
			// A mention, or an e-mail-like handle: neither is an opinion.
			s = s[n:]
			s = s[wordEnd(s, handleRune):]
		case r == '#' || r == '＃':
			rest := s[n:]
			e := wordEnd(rest, wordRune)
			if h := trimApostrophes(rest[:e]); h != "" {
				toks = append(toks, Token{Text: fold(h), Kind: Hashtag})
			}
			s = rest[e:]
		case wordStart(r) && len(s) <= plainUntil && isAddress(s, &plainUntil):
			// An e-mail address names a person as much as a mention does.
			s = s[wordEnd(s, notSpace):]
		case wordStart(r):
			e := max(wordEnd(s, wordRune), n) // a word starts with a letter, so e >= n anyway
			if w := trimApostrophes(s[:e]); w != "" {
				toks = append(toks, Token{Text: fold(w), Kind: Word})
			}
			s = s[e:]
		default:
			if emo, l := emoticonAt(s); l > 0 {
				toks = append(toks, Token{Text: emo, Kind: Emoticon})
				s = s[l:]
				continue
			}
			if isEmoji(r) {
				toks = append(toks, Token{Text: string(r), Kind: Emoji})
				s = s[n:]
				continue
			}
			if isClauseMark(r) {
				toks = append(toks, Token{Text: string(r), Kind: Punct})
			}
			s = s[n:]
		}
	}
	return toks
}

// fold lower-cases a word. ß stays ß (the stemmer turns it into ss); the
// capital ẞ becomes ß.
func fold(w string) string {
	return strings.Map(func(r rune) rune {
		if r == 'ẞ' {
			return 'ß'
		}
		if r == '’' {
			return '\''
		}
		return unicode.ToLower(r)
	}, w)
}

func trimApostrophes(w string) string { return strings.Trim(w, "'’-") }

// wordRune reports whether r may be part of a word: letters, digits, and the
// apostrophe and hyphen inside words (don't, E-Mail).
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' || r == '-' || r == '_'
}

// wordStart reports whether a word may begin with r.
func wordStart(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func handleRune(r rune) bool { return wordRune(r) || r == '@' || r == '.' }

func notSpace(r rune) bool { return !unicode.IsSpace(r) }

// wordEnd returns the byte length of the prefix of s whose runes satisfy ok;
// a trailing '.' of a handle is left for the sentence.
func wordEnd(s string, ok func(rune) bool) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !ok(r) {
			break
		}
		i += n
	}
	for i > 0 && (s[i-1] == '.' || s[i-1] == '-') {
		i--
	}
	return i
}

// isAddress reports whether the run of address characters s starts with
// looks like an e-mail address: an @ after at least one character. When it
// does not, it records in plainUntil where that run ends.
func isAddress(s string, plainUntil *int) bool {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '@' {
			return i > 0
		}
		if !wordRune(r) && r != '.' {
			break
		}
		i += n
	}
	*plainUntil = len(s) - i
	return false
}

func isURLStart(s string) bool {
	l := strings.ToLower(s[:min(len(s), 12)])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "www.")
}

func isClauseMark(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '…', '¡', '¿', '(', ')', '"', '„', '“', '”', '–', '—':
		return true
	}
	return false
}

// isEmoji reports whether r is a pictographic emoji. Joiners, variation
// selectors and skin-tone modifiers are not: they are skipped, so 👍🏽 counts as 👍.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F300 && r <= 0x1F5FF, // symbols and pictographs
		r >= 0x1F600 && r <= 0x1F64F, // emoticons
		r >= 0x1F680 && r <= 0x1F6FF, // transport and map
		r >= 0x1F900 && r <= 0x1F9FF, // supplemental symbols and pictographs
		r >= 0x1FA70 && r <= 0x1FAFF, // symbols and pictographs extended-A
		r >= 0x2600 && r <= 0x27BF:   // miscellaneous symbols, dingbats (❤, ☹, ✅)
		return !(r >= 0x1F3FB && r <= 0x1F3FF)
	}
	return false
}

// emoticons are matched longest first.
var emoticons = []string{
	">:-(", ">:(", ":'-(", ":'(", ":'-)", ":')",
	":-)", ":-(", ":-D", ":-P", ":-p", ":-/", ":-|", ";-)", ":-O", ":-o",
	":)", ":(", ":D", ":P", ":p", ":/", ":|", ";)", ":O", ":o", "=)", "=(", "<3", "</3", "^^", "^_^",
}

func emoticonAt(s string) (string, int) {
	for _, e := range emoticons {
		if strings.HasPrefix(s, e) {
			next := s[len(e):]
			// ":/" in "https://" never reaches here; still, an emoticon must end the token.
			if r, _ := utf8.DecodeRuneInString(next); next != "" && (unicode.IsLetter(r) || unicode.IsDigit(r)) && e != "<3" {
				continue
			}
			return e, len(e)
		}
	}
	return "", 0
}
