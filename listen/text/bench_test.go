package text

import "testing"

// BenchmarkScore measures tokenising and scoring the evaluation sentences;
// it reports posts/s, the figure quoted in docs/sentiment.md.
func BenchmarkScore(b *testing.B) {
	set := loadEvaluation(b)
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		e := set[i%len(set)]
		ScoreText(e.lang, e.sentence)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkTokenize is the floor: the same posts only tokenised.
func BenchmarkTokenize(b *testing.B) {
	set := loadEvaluation(b)
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		Tokenize(set[i%len(set)].sentence)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkCooccurrence measures term and hashtag counting on tokenised posts.
func BenchmarkCooccurrence(b *testing.B) {
	set := loadEvaluation(b)
	posts := make([]Post, len(set))
	for i, e := range set {
		posts[i] = Post{Bucket: "b", Lang: e.lang, Author: "x", Tokens: Tokenize(e.sentence)}
	}
	c := NewCooccurrence([]string{"#tresor"})
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		c.Add(posts[i%len(posts)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}
