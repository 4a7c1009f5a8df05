package gate

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"tresor"
)

// Differential privacy of listening topics (R10), optional per topic. A
// topic with DP on publishes its figures with noise, and every trend read
// spends the policy's ε per read of the topic's budget, recorded in the
// same transaction as the read's audit entry; a read that would spend
// more than the budget is refused (privacy_budget_exhausted).
//
// The unit protected is one post (event-level DP): a read is ε-DP with
// respect to adding or removing one post. A person who wrote m posts in
// the buckets read is protected with m·ε for the counts of posts,
// sentiment and terms, and with ε per bucket for the author count (an
// author counts at most once per bucket). Figures are noised as follows,
// ε split evenly between a bucket's figures and its terms':
//
//   - a bucket's sentiment counts and author count: one post adds 1 to
//     exactly one sentiment count and at most 1 to the author count of the
//     one bucket (network × language × time) it falls in: sensitivity 2,
//     noise scale 2/(ε/2). The bucket's posts are the sum of the noisy
//     sentiment counts (computed from released figures, so they spend no
//     budget of their own);
//   - terms and hashtags: one post adds to at most listenTermsPerPost
//     terms and as many hashtags, 1 post and at most 1 author each:
//     sensitivity 4·listenTermsPerPost (80), noise scale 80/(ε/2). Term
//     figures are therefore only useful for large topics; the top terms
//     are chosen by their noisy counts, and a term whose noisy posts are
//     0 is left out.
//
// Noise is discrete Laplace (two-sided geometric), P(x) ∝ exp(−|x|/scale),
// the integer counterpart of the Laplace mechanism, which is ε-DP for
// integer counts; it is drawn from crypto/rand. Noisy figures are
// clamped at 0 and an author count at the posts' (both post-processing).
//
// Not covered by ε: k-anonymity is decided on the true author counts, so
// that the R10 promise — no figure of fewer than k people is shown — stays
// exact; whether a bucket, term or hashtag is withheld therefore depends
// on true counts, and so does whether a bucket exists at all (a bucket
// without posts has no row, and a chart shows it as 0). Someone who knows
// every author of a bucket but one, at exactly k, can learn from its being
// shown whether that one posted. The noise protects the figures, not the
// pattern of what is withheld (docs/listening-privacy.md).

// dpReuse is how long an answer released under differential privacy is
// given again, without spending, to a read of the same topic, bucket width
// and range. Re-serving a released answer reveals nothing new; its figures
// may lag the stored aggregates by up to this long.
const dpReuse = time.Hour

// The sensitivities (L1, per post) of a bucket's noised figures and of all
// term and hashtag figures of a bucket.
const (
	dpBucketSensitivity = 2
	dpTermSensitivity   = 4 * listenTermsPerPost
)

// dpNoise draws discrete Laplace noise from crypto/rand.
type dpNoise struct {
	r           io.Reader
	bucketScale float64
	termScale   float64
	err         error
}

// newDPNoise prepares the noise of one read that spends epsilon.
func newDPNoise(epsilon float64) *dpNoise {
	half := epsilon / 2
	return &dpNoise{r: bufio.NewReaderSize(rand.Reader, 4096), bucketScale: dpBucketSensitivity / half, termScale: dpTermSensitivity / half}
}

// uniform returns a uniform number in (0, 1] with 53 random bits.
func (n *dpNoise) uniform() float64 {
	var b [8]byte
	if _, err := io.ReadFull(n.r, b[:]); err != nil {
		n.err = fmt.Errorf("listening noise: %w", err)
		return 1
	}
	return float64(binary.LittleEndian.Uint64(b[:])>>11+1) / (1 << 53)
}

// geometric returns G ≥ 0 with P(G ≥ g) = a^g.
func (n *dpNoise) geometric(a float64) int {
	g := math.Floor(math.Log(n.uniform()) / math.Log(a))
	if g > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(g)
}

// draw returns discrete Laplace noise of the scale: the difference of two
// geometric draws with parameter a = exp(−1/scale).
func (n *dpNoise) draw(scale float64) int {
	a := math.Exp(-1 / scale)
	return n.geometric(a) - n.geometric(a)
}

// noisy returns v with noise of the scale, at least 0.
func (n *dpNoise) noisy(v int, scale float64) int {
	return max(v+n.draw(scale), 0)
}

// bucket noises a shown bucket's figures.
func (n *dpNoise) bucket(b *tresor.TrendBucket) {
	if b.Suppressed || b.Sentiment == nil {
		return
	}
	s := b.Sentiment
	s.Negative, s.Neutral, s.Positive = n.noisy(s.Negative, n.bucketScale), n.noisy(s.Neutral, n.bucketScale), n.noisy(s.Positive, n.bucketScale)
	posts := s.Negative + s.Neutral + s.Positive
	authors := min(n.noisy(*b.Authors, n.bucketScale), posts)
	b.Posts, b.Authors = &posts, &authors
}

// terms noises the figures of a bucket's terms or hashtags; one whose
// noisy posts are 0 is left out (post-processing: it spends nothing).
func (n *dpNoise) terms(ts []tresor.TrendTerm) []tresor.TrendTerm {
	out := ts[:0]
	for _, t := range ts {
		t.Posts = n.noisy(t.Posts, n.termScale)
		t.Authors = min(n.noisy(t.Authors, n.termScale), t.Posts)
		if t.Posts > 0 {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// describe is what a trend says about its noise.
func (n *dpNoise) describe() *tresor.TrendNoise {
	return &tresor.TrendNoise{Mechanism: "discrete_laplace", BucketScale: n.bucketScale, TermScale: n.termScale}
}

// checkBudget fills in and checks a topic's differential privacy: a budget
// given turns it on; on without a budget takes the policy's; the budget
// lies within the policy's bounds and not below what is spent.
func (g *Gate) checkBudget(t *tresor.ListeningTopic) error {
	l := g.policy.Listening
	if t.EpsilonBudget != 0 {
		t.DP = true
	}
	if !t.DP {
		return nil
	}
	if t.EpsilonBudget == 0 {
		t.EpsilonBudget = l.EpsilonBudget
	}
	var p tresor.Problems
	switch {
	case t.EpsilonBudget < l.EpsilonPerQuery || t.EpsilonBudget > l.EpsilonBudgetMax:
		p.Add("epsilon_budget", "the privacy budget must lie between %g (one read) and %g (policy listening.dp_epsilon_budget_max)", l.EpsilonPerQuery, l.EpsilonBudgetMax)
	case t.EpsilonBudget < t.EpsilonSpent:
		p.Add("epsilon_budget", "the privacy budget cannot be less than what is spent (%g)", t.EpsilonSpent)
	}
	return p.Err("topic")
}

// dpView fills in what a topic says about its differential privacy.
func (g *Gate) dpView(t *tresor.ListeningTopic) *tresor.ListeningTopic {
	t.EpsilonPerQuery = 0
	if t.DP {
		t.EpsilonPerQuery = g.policy.Listening.EpsilonPerQuery
	}
	return t
}

// dpTrend answers a trend read of a DP topic in one transaction: the answer
// released for the same query within dpReuse again, spending nothing; or
// else the policy's ε spent of the topic's budget (refused beyond it), the
// noisy answer computed and kept for reuse — with the read's audit entry.
func (g *Gate) dpTrend(ctx context.Context, req *request, t *tresor.ListeningTopic, q tresor.TrendQuery) (*tresor.ListeningTrend, error) {
	// The end rounded up to a bucket's start selects the same buckets, and
	// makes reads that default to "now" the same query.
	if end := q.Bucket.Start(q.To); !end.Equal(q.To) {
		q.To = nextBucket(q.Bucket, end)
	}
	query := fmt.Sprintf("%s/%d/%d", q.Bucket, q.From.UnixMicro(), q.To.UnixMicro())
	eps := g.policy.Listening.EpsilonPerQuery
	var out *tresor.ListeningTrend
	var refused error
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		out = nil
		body, at, ok, err := tx.ListeningRelease(ctx, t.ID, query, req.now.Add(-dpReuse))
		if err != nil {
			return err
		}
		if ok {
			out = &tresor.ListeningTrend{}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("listening release of topic %s: %w", t.ID, err)
			}
			at := at.UTC()
			out.Epsilon, out.ReleasedAt = 0, &at
		} else if ok, err = tx.SpendListeningBudget(ctx, t.ID, eps); err != nil {
			return err
		}
		cur, err := tx.ListeningTopic(ctx, t.ID)
		if err != nil {
			return err
		}
		if out != nil {
			out.EpsilonSpent, out.EpsilonBudget = cur.EpsilonSpent, cur.EpsilonBudget
			return g.eventIn(ctx, tx, "listening.trend_read", t.ID, fmt.Sprintf("%s released again", q.Bucket))
		}
		if !ok {
			refused = g.policy.RefuseBudget(cur.EpsilonSpent, cur.EpsilonBudget)
			return refused
		}
		noise := newDPNoise(eps)
		if out, err = g.trendOf(ctx, tx, t, q, noise); err != nil {
			return err
		}
		if noise.err != nil {
			return noise.err
		}
		out.Epsilon, out.Noise = eps, noise.describe()
		out.EpsilonSpent, out.EpsilonBudget = cur.EpsilonSpent, cur.EpsilonBudget
		body, err = json.Marshal(out)
		if err != nil {
			return err
		}
		if err := tx.PutListeningRelease(ctx, t.ID, query, req.now, body, req.now.Add(-dpReuse)); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "listening.trend_read", t.ID, fmt.Sprintf("%s epsilon %g", q.Bucket, eps))
	})
	if refused != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "listening.trend_read", eventObject("listening.trend_read"), []string{t.ID}, nil, refused))
		return nil, refused
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nextBucket returns the start of the bucket after the one starting at start.
func nextBucket(b tresor.ListeningBucket, start time.Time) time.Time {
	switch b {
	case tresor.BucketHour:
		return start.Add(time.Hour)
	case tresor.BucketDay:
		return start.AddDate(0, 0, 1)
	default:
		return start.AddDate(0, 0, 7)
	}
}
