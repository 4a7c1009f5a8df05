package text

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Post is one tokenised post as term counting sees it. Author is an opaque
// pseudonym (the listening gate's keyed hash), used only to count distinct
// contributors so that a caller can suppress terms below k authors; empty
// means unknown.
type Post struct {
	Bucket string
	Lang   Language
	Author string
	Tokens []Token
}

// TermCount is how often a term or hashtag occurred in a bucket: in how many
// posts, and from how many distinct authors.
type TermCount struct {
	Term    string
	Posts   int
	Authors int
}

// Cooccurrence counts, per bucket, the stemmed terms and the hashtags that
// appear beside a topic's keywords. Stop words, the topic's own keywords and
// hashtags, numbers and one-letter words are left out. A term counts once per
// post. It is not safe for concurrent use.
type Cooccurrence struct {
	exclude  map[string]bool // stems and folded hashtags of the topic's keywords
	terms    map[string]map[string]*tally
	hashtags map[string]map[string]*tally
}

type tally struct {
	posts   int
	authors map[string]struct{}
}

// NewCooccurrence returns a counter for a topic with the given keywords
// (words or #hashtags, any case, any of the supported languages).
func NewCooccurrence(keywords []string) *Cooccurrence {
	c := &Cooccurrence{exclude: map[string]bool{}, terms: map[string]map[string]*tally{}, hashtags: map[string]map[string]*tally{}}
	for _, k := range keywords {
		for _, t := range Tokenize(k) {
			if t.Kind != Word && t.Kind != Hashtag {
				continue
			}
			c.exclude["#"+t.Text] = true
			for _, lang := range []Language{German, English} {
				c.exclude[Stem(lang, t.Text)] = true
			}
		}
	}
	return c
}

// Add counts one post.
func (c *Cooccurrence) Add(p Post) {
	terms, tags := PostTerms(p.Lang, p.Tokens)
	for _, st := range terms {
		if !c.exclude[st] {
			count(c.terms, p.Bucket, st, p.Author)
		}
	}
	for _, h := range tags {
		if !c.exclude["#"+h] {
			count(c.hashtags, p.Bucket, h, p.Author)
		}
	}
}

// PostTerms are the stemmed terms and the hashtags (without '#') of one
// post's tokens, each once, in the order they first occur: stop words,
// numbers and one-letter words are left out.
func PostTerms(lang Language, toks []Token) (terms, hashtags []string) {
	seenT, seenH := map[string]bool{}, map[string]bool{}
	for _, t := range toks {
		switch t.Kind {
		case Word:
			if IsStopWord(lang, t.Text) || utf8.RuneCountInString(t.Text) < 2 || isNumber(t.Text) {
				continue
			}
			if st := Stem(lang, t.Text); !seenT[st] {
				seenT[st] = true
				terms = append(terms, st)
			}
		case Hashtag:
			if !seenH[t.Text] {
				seenH[t.Text] = true
				hashtags = append(hashtags, t.Text)
			}
		}
	}
	return terms, hashtags
}

func count(m map[string]map[string]*tally, bucket, term, author string) {
	b := m[bucket]
	if b == nil {
		b = map[string]*tally{}
		m[bucket] = b
	}
	t := b[term]
	if t == nil {
		t = &tally{authors: map[string]struct{}{}}
		b[term] = t
	}
	t.posts++
	if author != "" {
		t.authors[author] = struct{}{}
	}
}

func isNumber(w string) bool {
	return strings.Trim(w, "0123456789.,-") == ""
}

// Buckets returns the buckets seen, sorted.
func (c *Cooccurrence) Buckets() []string {
	var bs []string
	for b := range c.terms {
		bs = append(bs, b)
	}
	for b := range c.hashtags {
		if _, ok := c.terms[b]; !ok {
			bs = append(bs, b)
		}
	}
	slices.Sort(bs)
	return bs
}

// TopTerms returns the n most frequent stems of a bucket, most posts first,
// ties by term.
func (c *Cooccurrence) TopTerms(bucket string, n int) []TermCount { return top(c.terms[bucket], n) }

// TopHashtags returns the n most frequent hashtags (without '#') of a bucket.
func (c *Cooccurrence) TopHashtags(bucket string, n int) []TermCount {
	return top(c.hashtags[bucket], n)
}

func top(m map[string]*tally, n int) []TermCount {
	out := make([]TermCount, 0, len(m))
	for term, t := range m {
		out = append(out, TermCount{Term: term, Posts: t.posts, Authors: len(t.authors)})
	}
	slices.SortFunc(out, func(a, b TermCount) int {
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return strings.Compare(a.Term, b.Term)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
