package gate

import (
	"slices"

	"tresor/listen/text"
)

// textAnalyzer is social listening's analyzer: the tokeniser, stemmers and
// the German and English sentiment scorer of package listen/text. Mentions,
// e-mail addresses and links never become terms (the tokeniser drops them).
type textAnalyzer struct{}

// Analyze implements Analyzer: the post's sentiment (-1, 0, 1), its stemmed
// terms and its hashtags ('#' first), each once.
func (textAnalyzer) Analyze(lang, post string) (int, []string, []string) {
	l := text.Language(lang)
	toks := text.Tokenize(post)
	terms, tags := text.PostTerms(l, toks)
	for i, h := range tags {
		tags[i] = "#" + h
	}
	return int(text.Score(l, toks).Label), terms, tags
}

// without is list without the elements of drop.
func without(list, drop []string) []string {
	if len(drop) == 0 {
		return list
	}
	return slices.DeleteFunc(list, func(s string) bool { return slices.Contains(drop, s) })
}
