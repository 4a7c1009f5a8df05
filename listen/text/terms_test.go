package text

import (
	"slices"
	"testing"
)

func TestCooccurrence(t *testing.T) {
	posts := []Post{
		{Bucket: "2026-12-01", Lang: German, Author: "a1", Tokens: Tokenize("#Tresor Lieferung wieder verspätet, Lieferungen sind ein Problem #Versand")},
		{Bucket: "2026-12-01", Lang: German, Author: "a2", Tokens: Tokenize("Tresor: die Lieferung kam pünktlich #versand")},
		{Bucket: "2026-12-01", Lang: German, Author: "a2", Tokens: Tokenize("Tresors Support antwortet schnell, Lieferung ok")},
		{Bucket: "2026-12-02", Lang: English, Author: "a3", Tokens: Tokenize("Tresor deliveries delayed again #shipping")},
	}
	c := NewCooccurrence([]string{"Tresor", "#tresor"})
	for _, p := range posts {
		c.Add(p)
	}
	day1 := c.TopTerms("2026-12-01", -1)
	find := func(list []TermCount, term string) (TermCount, bool) {
		i := slices.IndexFunc(list, func(tc TermCount) bool { return tc.Term == term })
		if i < 0 {
			return TermCount{}, false
		}
		return list[i], true
	}

	t.Run("terms are stemmed and counted once per post", func(t *testing.T) {
		tc, ok := find(day1, "liefer")
		if !ok || tc.Posts != 3 {
			t.Errorf("liefer: %+v, want 3 posts (Lieferung and Lieferungen in one post count once)", tc)
		}
	})
	t.Run("distinct authors are counted beside posts", func(t *testing.T) {
		tc, _ := find(day1, "liefer")
		if tc.Authors != 2 {
			t.Errorf("liefer: %d authors, want 2", tc.Authors)
		}
	})
	t.Run("the topic's own keywords are excluded in any inflection", func(t *testing.T) {
		for _, tc := range day1 {
			if tc.Term == "tresor" {
				t.Errorf("the topic keyword is counted: %+v", tc)
			}
		}
		if _, ok := find(c.TopHashtags("2026-12-01", -1), "tresor"); ok {
			t.Error("the topic hashtag is counted")
		}
	})
	t.Run("hashtags are counted folded, once per post", func(t *testing.T) {
		tc, ok := find(c.TopHashtags("2026-12-01", -1), "versand")
		if !ok || tc.Posts != 2 || tc.Authors != 2 {
			t.Errorf("versand: %+v, want 2 posts by 2 authors", tc)
		}
	})
	t.Run("buckets are kept apart", func(t *testing.T) {
		if got := c.Buckets(); !slices.Equal(got, []string{"2026-12-01", "2026-12-02"}) {
			t.Errorf("buckets %q", got)
		}
		if _, ok := find(c.TopTerms("2026-12-02", -1), "liefer"); ok {
			t.Error("a German term of day 1 appears in day 2")
		}
		if tc, ok := find(c.TopTerms("2026-12-02", -1), "deliveri"); !ok || tc.Posts != 1 {
			t.Errorf("deliveri on day 2: %+v", tc)
		}
	})
	t.Run("top n is ordered by posts and cut at n", func(t *testing.T) {
		top := c.TopTerms("2026-12-01", 2)
		if len(top) != 2 || top[0].Term != "liefer" || top[0].Posts < top[1].Posts {
			t.Errorf("top 2: %+v", top)
		}
	})
	t.Run("numbers and one-letter words are not terms", func(t *testing.T) {
		c := NewCooccurrence(nil)
		c.Add(Post{Bucket: "b", Lang: English, Tokens: Tokenize("x 2026 4.2 battery")})
		if got := c.TopTerms("b", -1); len(got) != 1 || got[0].Term != "batteri" {
			t.Errorf("terms %+v, want only batteri", got)
		}
	})
}
