package server

import (
	"context"
	"io"
	"time"

	"tresor"
)

var fakeTopic = tresor.ListeningTopic{ID: testID, Name: "Acme Kaffee", Keywords: []string{"#acmekaffee"}, Networks: []string{"mastodon"},
	Purpose: "analytics", CreatedBy: testID, CreatedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC),
	UpdatedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), Version: 1}

func (f *fakeServices) CreateTopic(ctx context.Context, t *tresor.ListeningTopic) error {
	t.ID, t.Purpose, t.CreatedBy, t.CreatedAt, t.UpdatedAt, t.Version = fakeTopic.ID, "analytics", testID, fakeTopic.CreatedAt, fakeTopic.UpdatedAt, 1
	return nil
}

func (f *fakeServices) Topics(ctx context.Context) ([]*tresor.ListeningTopic, error) {
	f.filter = struct{}{} // the list has no filter
	t := fakeTopic
	return []*tresor.ListeningTopic{&t}, nil
}

func (f *fakeServices) Topic(ctx context.Context, id string) (*tresor.ListeningTopic, error) {
	t := fakeTopic
	t.Cursors = map[string]time.Time{"mastodon": fakeTopic.CreatedAt}
	return &t, nil
}

func (f *fakeServices) UpdateTopic(ctx context.Context, id string, p tresor.ListeningTopicPatch, ifVersion int64) (*tresor.ListeningTopic, error) {
	t := fakeTopic
	t.Version = 2
	return &t, nil
}

func (f *fakeServices) DeleteTopic(ctx context.Context, id string, ifVersion int64) error { return nil }

func (f *fakeServices) Trend(ctx context.Context, id string, q tresor.TrendQuery) (*tresor.ListeningTrend, error) {
	f.filter = q
	posts, authors := 42, 17
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	return &tresor.ListeningTrend{TopicID: id, Bucket: tresor.BucketDay, From: start, To: start.AddDate(0, 0, 2), K: 10, Buckets: []tresor.TrendBucket{
		{Start: start, Network: "mastodon", Language: "de", Posts: &posts, Authors: &authors,
			Sentiment: &tresor.SentimentCounts{Negative: 3, Neutral: 30, Positive: 9},
			Terms:     []tresor.TrendTerm{{Term: "kaffee", Posts: 20, Authors: 12}}, Hashtags: []tresor.TrendTerm{{Term: "#acmekaffee", Posts: 42, Authors: 17}},
			TermsSuppressed: true},
		{Start: start.AddDate(0, 0, 1), Network: "mastodon", Language: "de", Suppressed: true,
			Reason: &tresor.Reason{Code: "k_anonymity", Message: "Fewer than 10 different people wrote the posts of this bucket.", MessageDE: "Weniger als 10 verschiedene Personen."}},
	}}, nil
}

func (f *fakeServices) WriteTrendCSV(w io.Writer, tr *tresor.ListeningTrend) error {
	_, err := io.WriteString(w, "start,network,language,suppressed,posts,authors,negative,neutral,positive,terms,hashtags,reason\n")
	return err
}
