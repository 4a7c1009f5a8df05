package gate

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tresor"
)

// TestTrendCSVTellsNoNumberOfASuppressedBucket: below k the CSV line of a
// bucket has empty figures and the reason, as the JSON has no figures; a
// term that looks like a formula is written as text.
func TestTrendCSVTellsNoNumberOfASuppressedBucket(t *testing.T) {
	posts, authors := 42, 17
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tr := &tresor.ListeningTrend{Bucket: tresor.BucketDay, K: 10, Buckets: []tresor.TrendBucket{
		{Start: start, Network: "mastodon", Language: "de", Posts: &posts, Authors: &authors, Sentiment: &tresor.SentimentCounts{Positive: 42},
			Hashtags: []tresor.TrendTerm{{Term: "#acme", Posts: 42, Authors: 17}}, Terms: []tresor.TrendTerm{{Term: "=cmd", Posts: 12, Authors: 11}}},
		{Start: start.AddDate(0, 0, 1), Network: "mastodon", Language: "de", Suppressed: true, Reason: &tresor.Reason{Code: "k_anonymity", Message: "Fewer than 10."}},
	}}
	var buf bytes.Buffer
	if err := (&Gate{}).WriteTrendCSV(&buf, tr); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("CSV:\n%s", buf.String())
	}
	if want := "2026-01-05T00:00:00Z,mastodon,de,false,42,17,0,0,42,'=cmd,#acme,"; lines[1] != want {
		t.Errorf("shown bucket = %q, want %q", lines[1], want)
	}
	if want := "2026-01-06T00:00:00Z,mastodon,de,true,,,,,,,,Fewer than 10."; lines[2] != want {
		t.Errorf("suppressed bucket = %q, want %q", lines[2], want)
	}
}
