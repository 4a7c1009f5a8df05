package gate_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
)

// dpTopic makes a topic of the analyst with differential privacy and the
// budget (0: the policy's).
func (e *listenEnv) dpTopic(t *testing.T, budget float64) *tresor.ListeningTopic {
	t.Helper()
	top := &tresor.ListeningTopic{Name: "Acme Kaffee DP", Keywords: []string{"#acmekaffee"}, Networks: []string{"mastodon"}, DP: true, EpsilonBudget: budget}
	must(t, e.g.CreateTopic(e.analyst, top))
	return top
}

// trend reads the topic's days from the i+1st day before today on: each i
// is another query, which spends anew.
func (e *listenEnv) trend(t *testing.T, id string, i int) (*tresor.ListeningTrend, error) {
	t.Helper()
	return e.g.Trend(e.analyst, id, tresor.TrendQuery{From: e.clock.now().AddDate(0, 0, -1-i), To: e.clock.now().Add(time.Hour), Bucket: tresor.BucketDay})
}

func TestListeningDifferentialPrivacy(t *testing.T) {
	t.Run("reads spend up to exactly the budget and the next is refused with the rule", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			top := e.dpTopic(t, 2) // 0.5 per read: 4 reads
			if !top.DP || top.EpsilonBudget != 2 || top.EpsilonSpent != 0 || top.EpsilonPerQuery != 0.5 {
				t.Fatalf("new topic = %+v, want DP with a budget of 2, 0.5 per read", top)
			}
			for i := 1; i <= 4; i++ {
				tr, err := e.trend(t, top.ID, i)
				must(t, err)
				if tr.Epsilon != 0.5 || tr.EpsilonSpent != 0.5*float64(i) || tr.EpsilonBudget != 2 || tr.Noise == nil {
					t.Fatalf("read %d: epsilon %v, spent %v of %v, noise %+v", i, tr.Epsilon, tr.EpsilonSpent, tr.EpsilonBudget, tr.Noise)
				}
			}
			_, err := e.trend(t, top.ID, 5)
			wantCode(t, err, tresor.ECPrivacyBudget)
			te := tresor.AsError(err)
			if te == nil || !strings.Contains(te.Message, "budget") || !strings.Contains(te.Message, "2 of 2") ||
				!strings.Contains(te.MessageDE, "Budget") || !strings.Contains(te.MessageDE, "0,5") {
				t.Errorf("refusal = %#v, want the rule in English and German", err)
			}
			got, err := e.g.Topic(e.analyst, top.ID)
			must(t, err)
			if got.EpsilonSpent != 2 {
				t.Errorf("spent after the refusal = %v, want 2", got.EpsilonSpent)
			}
			// The budget may be raised within the policy; then reads go on.
			b := 3.0
			_, err = e.g.UpdateTopic(e.analyst, top.ID, tresor.ListeningTopicPatch{EpsilonBudget: &b}, 0)
			must(t, err)
			_, err = e.trend(t, top.ID, 5)
			must(t, err)
		})
	})

	t.Run("concurrent reads do not overspend", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			top := e.dpTopic(t, 2)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[tresor.Code]int{}
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.trend(t, top.ID, i)
					code := tresor.Code("ok")
					if err != nil {
						code = tresor.ErrorCode(err)
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes["ok"] != 4 || codes[tresor.ECPrivacyBudget] != 12 {
				t.Errorf("16 concurrent reads on a budget of 4: %v, want 4 answered and 12 refused", codes)
			}
			got, err := e.g.Topic(e.analyst, top.ID)
			must(t, err)
			if got.EpsilonSpent != 2 {
				t.Errorf("spent = %v, want 2", got.EpsilonSpent)
			}
		})
	})

	t.Run("noisy figures are never negative and suppressed figures stay withheld", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			top := e.dpTopic(t, 20) // 40 reads
			e.net.add(e.posts(0, 12, "de", "Der #AcmeKaffee mit Bohnen ist gut, sagt Nummer %d")...)
			for _, p := range e.posts(20, 3, "en", "#AcmeKaffee beans %d") { // 3 authors: below k
				p.Language = "en"
				e.net.add(p)
			}
			e.run(t)
			differs := false
			for i := range 40 {
				tr, err := e.trend(t, top.ID, i)
				must(t, err)
				if len(tr.Buckets) != 2 {
					t.Fatalf("buckets = %+v, want de and en", tr.Buckets)
				}
				for _, b := range tr.Buckets {
					if b.Language == "en" {
						if !b.Suppressed || b.Posts != nil || b.Authors != nil || b.Sentiment != nil || b.Terms != nil {
							t.Fatalf("the bucket of 3 authors = %+v, want withheld under DP too", b)
						}
						continue
					}
					if b.Suppressed {
						t.Fatalf("the bucket of 12 authors is withheld: %+v", b)
					}
					s := b.Sentiment
					if *b.Posts < 0 || *b.Authors < 0 || s.Negative < 0 || s.Neutral < 0 || s.Positive < 0 {
						t.Fatalf("a negative figure: %+v %+v", b, s)
					}
					if *b.Posts != s.Negative+s.Neutral+s.Positive || *b.Authors > *b.Posts {
						t.Fatalf("posts %d are not the sum of the sentiment %+v, or authors %d exceed them", *b.Posts, s, *b.Authors)
					}
					for _, tt := range append(b.Terms, b.Hashtags...) {
						if tt.Posts < 0 || tt.Authors < 0 || tt.Authors > tt.Posts {
							t.Fatalf("term figures %+v", tt)
						}
					}
					if *b.Posts != 12 || *b.Authors != 12 || s.Positive != 12 {
						differs = true
					}
				}
			}
			if !differs {
				t.Error("40 reads gave the exact figures every time: no noise is added")
			}
			// A topic without DP still answers exactly.
			b := e.day(t)
			if posts(b) != 12 || *b.Authors != 12 {
				t.Errorf("topic without DP: %+v, want the exact 12", b)
			}
		})
	})

	t.Run("the budget lies within the policy's bounds and DP cannot be turned off", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			for _, b := range []float64{0.1, 21, -1} {
				err := e.g.CreateTopic(e.analyst, &tresor.ListeningTopic{Name: "x", Keywords: []string{"x"}, Networks: []string{"mastodon"}, EpsilonBudget: b})
				wantCode(t, err, tresor.ECValidation)
			}
			top := e.dpTopic(t, 0)
			if top.EpsilonBudget != 10 {
				t.Errorf("DP without a budget: %v, want the policy's 10", top.EpsilonBudget)
			}
			off := false
			_, err := e.g.UpdateTopic(e.analyst, top.ID, tresor.ListeningTopicPatch{DP: &off}, 0)
			wantCode(t, err, tresor.ECValidation)
			zero := 0.0
			_, err = e.g.UpdateTopic(e.analyst, top.ID, tresor.ListeningTopicPatch{EpsilonBudget: &zero}, 0)
			wantCode(t, err, tresor.ECValidation)
			on := true
			plain, err := e.g.UpdateTopic(e.analyst, e.topic.ID, tresor.ListeningTopicPatch{DP: &on}, 0)
			must(t, err)
			if !plain.DP || plain.EpsilonBudget != 10 {
				t.Errorf("turned on later: %+v", plain)
			}
		})
	})
	t.Run("the same read within an hour gets the released answer again and spends nothing", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			top := e.dpTopic(t, 1) // two reads
			e.net.add(e.posts(0, 12, "de", "Der #AcmeKaffee ist gut, sagt Nummer %d")...)
			e.run(t)
			first, err := e.trend(t, top.ID, 0)
			must(t, err)
			if first.ReleasedAt != nil || first.Epsilon != 0.5 {
				t.Fatalf("first read: released_at %v, epsilon %v", first.ReleasedAt, first.Epsilon)
			}
			for range 5 {
				e.clock.advance(10 * time.Minute)
				again, err := e.trend(t, top.ID, 0)
				must(t, err)
				if again.ReleasedAt == nil || again.Epsilon != 0 || again.EpsilonSpent != 0.5 {
					t.Fatalf("read again: released_at %v, epsilon %v, spent %v; want the release, nothing spent", again.ReleasedAt, again.Epsilon, again.EpsilonSpent)
				}
				a, b := first.Buckets[0], again.Buckets[0]
				if *a.Posts != *b.Posts || *a.Authors != *b.Authors || *a.Sentiment != *b.Sentiment {
					t.Fatalf("read again: %+v, want the released %+v", b, a)
				}
			}
			// A read with the end left to "now" is the same query all day.
			q := tresor.TrendQuery{From: e.clock.now().AddDate(0, 0, -3), Bucket: tresor.BucketDay}
			_, err = e.g.Trend(e.analyst, top.ID, q)
			must(t, err)
			e.clock.advance(time.Minute)
			tr, err := e.g.Trend(e.analyst, top.ID, q)
			must(t, err)
			if tr.ReleasedAt == nil || tr.EpsilonSpent != 1 {
				t.Errorf("a read to now a minute later: released_at %v, spent %v; want the release of a minute ago, 1 spent", tr.ReleasedAt, tr.EpsilonSpent)
			}
			// After an hour the release is not given again: a new read spends.
			e.clock.advance(time.Hour)
			_, err = e.trend(t, top.ID, 0)
			wantCode(t, err, tresor.ECPrivacyBudget)
		})
	})
}
