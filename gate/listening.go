package gate

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// Social listening (R10): topics, and the aggregates the listening gate
// (listening_gate.go) counts public posts into. Every call is made under a
// purpose the policy lets listen (listens: true); a topic is seen and
// changed only under the purpose it was made for.

var _ tresor.ListeningService = (*Gate)(nil)

// authorizeListening checks the actor and that the declared purpose may
// listen. Listening yields aggregates only, so a purpose restricted to
// aggregates (analytics) may.
func (g *Gate) authorizeListening(ctx context.Context) (*request, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in, or send an API token in the Authorization header.")
	}
	req := &request{g: g, actor: a, now: tresor.Truncate(g.now()), purpose: tresor.PurposeFrom(ctx)}
	pu, err := g.policy.PermitListening(a, req.purpose)
	if err == nil && a.Kind != tresor.ActorSystem {
		err = tresor.CheckSeparationOfDuties(a.Roles)
	}
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "access", "", nil, nil, err))
		return nil, err
	}
	req.pu = pu
	return req, nil
}

// CreateTopic adds a listening topic for the declared purpose.
func (g *Gate) CreateTopic(ctx context.Context, t *tresor.ListeningTopic) error {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return err
	}
	t.EpsilonSpent = 0
	if err := t.Check(); err != nil {
		return err
	}
	if err := g.checkBudget(t); err != nil {
		return err
	}
	g.dpView(t)
	t.ID, t.Purpose, t.Cursors = newID(), req.purpose, nil
	t.CreatedBy = req.actor.UserID
	if t.CreatedBy == "" {
		t.CreatedBy = "system"
	}
	t.CreatedAt, t.UpdatedAt, t.Version = req.now, req.now, 1
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertListeningTopic(ctx, t); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "listening.topic_created", t.ID, req.purpose)
	})
}

// Topics lists the topics of the declared purpose.
func (g *Gate) Topics(ctx context.Context) ([]*tresor.ListeningTopic, error) {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return nil, err
	}
	all, err := g.store.Read().ListeningTopics(ctx)
	if err != nil {
		return nil, err
	}
	out := []*tresor.ListeningTopic{}
	for _, t := range all {
		if t.Purpose == req.purpose || req.actor.Kind == tresor.ActorSystem {
			out = append(out, g.dpView(t))
		}
	}
	return out, nil
}

// Topic returns one topic of the declared purpose; a topic of another
// purpose does not exist for the caller.
func (g *Gate) Topic(ctx context.Context, id string) (*tresor.ListeningTopic, error) {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return nil, err
	}
	return g.topicFor(ctx, req, id)
}

func (g *Gate) topicFor(ctx context.Context, req *request, id string) (*tresor.ListeningTopic, error) {
	t, err := g.store.Read().ListeningTopic(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Purpose != req.purpose && req.actor.Kind != tresor.ActorSystem {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no listening topic with id %q for the purpose %q.", id, req.purpose)
	}
	return g.dpView(t), nil
}

// UpdateTopic changes a topic's name, keywords, networks, channels,
// languages or privacy budget; ifVersion, if not 0, must be the topic's
// version. Differential privacy, once on, stays on: exact figures after
// noisy ones would undo what the noise protected.
func (g *Gate) UpdateTopic(ctx context.Context, id string, p tresor.ListeningTopicPatch, ifVersion int64) (*tresor.ListeningTopic, error) {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return nil, err
	}
	t, err := g.topicFor(ctx, req, id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && ifVersion != t.Version {
		return nil, tresor.Errorf(tresor.ECVersionMismatch, "The topic was changed by someone else in the meantime; read it again and repeat your change.")
	}
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = slices.Clone(*src)
		}
	}
	if p.Name != nil {
		t.Name = *p.Name
	}
	set(&t.Keywords, p.Keywords)
	set(&t.Networks, p.Networks)
	set(&t.Channels, p.Channels)
	set(&t.Languages, p.Languages)
	if err := t.Check(); err != nil {
		return nil, err
	}
	budget := t.EpsilonBudget
	if (p.DP != nil && !*p.DP && t.DP) || (p.EpsilonBudget != nil && *p.EpsilonBudget <= 0 && t.DP) {
		var pr tresor.Problems
		pr.Add("dp", "differential privacy, once on, stays on: exact figures after noisy ones would undo what the noise protected")
		return nil, pr.Err("topic")
	}
	if p.DP != nil && *p.DP {
		t.DP = true
	}
	if p.EpsilonBudget != nil {
		t.EpsilonBudget = *p.EpsilonBudget
	}
	if err := g.checkBudget(t); err != nil {
		return nil, err
	}
	detail := req.purpose
	if t.EpsilonBudget != budget {
		detail += " epsilon_budget " + strconv.FormatFloat(t.EpsilonBudget, 'f', -1, 64)
	}
	prev := t.Version
	t.Version, t.UpdatedAt = prev+1, req.now
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.UpdateListeningTopic(ctx, t, prev); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "listening.topic_changed", t.ID, detail)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteTopic removes a topic with its aggregates; ifVersion, if not 0,
// must be the topic's version.
func (g *Gate) DeleteTopic(ctx context.Context, id string, ifVersion int64) error {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return err
	}
	t, err := g.topicFor(ctx, req, id)
	if err != nil {
		return err
	}
	if ifVersion != 0 && ifVersion != t.Version {
		return tresor.Errorf(tresor.ECVersionMismatch, "The topic was changed by someone else in the meantime; read it again and repeat your change.")
	}
	defer g.listening.stop(id)
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.DeleteListeningTopic(ctx, id); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "listening.topic_deleted", id, req.purpose)
	})
}

// maxTrendBuckets bounds the time buckets of one trend.
const maxTrendBuckets = 5000

// Trend returns a topic's aggregates over [From, To) in buckets of one
// width. A bucket with fewer than k distinct authors is suppressed: its
// figures are left out and the reason given. Terms and hashtags with fewer
// than k authors are left out, neither named nor counted. A topic with
// differential privacy spends the policy's ε per read of its budget, or
// refuses the read when the budget would be exceeded, and its figures
// carry noise (listening_dp.go).
func (g *Gate) Trend(ctx context.Context, id string, q tresor.TrendQuery) (*tresor.ListeningTrend, error) {
	req, err := g.authorizeListening(ctx)
	if err != nil {
		return nil, err
	}
	t, err := g.topicFor(ctx, req, id)
	if err != nil {
		return nil, err
	}
	if q.Bucket == "" {
		q.Bucket = tresor.BucketDay
	}
	if !q.Bucket.Valid() {
		return nil, tresor.Errorf(tresor.ECValidation, "bucket must be hour, day or week, not %q.", q.Bucket)
	}
	if q.To.IsZero() {
		q.To = req.now
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	q.From, q.To = q.Bucket.Start(q.From), q.To.UTC()
	if !q.From.Before(q.To) {
		return nil, tresor.Errorf(tresor.ECValidation, "from must be before to.")
	}
	width := map[tresor.ListeningBucket]time.Duration{tresor.BucketHour: time.Hour, tresor.BucketDay: 24 * time.Hour, tresor.BucketWeek: 7 * 24 * time.Hour}[q.Bucket]
	if q.To.Sub(q.From)/width > maxTrendBuckets {
		return nil, tresor.Errorf(tresor.ECValidation, "The range holds more than %d buckets of a %s; choose a shorter range or a wider bucket.", maxTrendBuckets, q.Bucket)
	}
	if t.DP {
		return g.dpTrend(ctx, req, t, q)
	}
	g.event(ctx, "listening.trend_read", t.ID, string(q.Bucket))
	return g.trendOf(ctx, g.store.Read(), t, q, nil)
}

// trendOf computes a trend from the stored aggregates, with noise if
// noise is not nil.
func (g *Gate) trendOf(ctx context.Context, rd tresor.ListeningReader, t *tresor.ListeningTopic, q tresor.TrendQuery, noise *dpNoise) (*tresor.ListeningTrend, error) {
	rows, err := rd.ListeningAggregates(ctx, t.ID, q.Bucket, q.From, q.To)
	if err != nil {
		return nil, err
	}
	k := g.policy.Listening.K
	out := &tresor.ListeningTrend{TopicID: t.ID, Bucket: q.Bucket, From: q.From, To: q.To, K: k, Buckets: []tresor.TrendBucket{}}
	type key struct {
		start             int64
		network, language string
	}
	index := map[key]int{}
	var terms = map[key][]*tresor.ListeningAggregate{}
	for _, r := range rows {
		kk := key{r.Start.UnixMicro(), r.Network, r.Language}
		if r.Kind != "bucket" {
			terms[kk] = append(terms[kk], r)
			continue
		}
		b := tresor.TrendBucket{Start: r.Start, Network: r.Network, Language: r.Language}
		if r.Authors < k {
			b.Suppressed, b.Reason = true, suppressedReason(k)
		} else {
			posts, authors := r.Posts, r.Authors
			b.Posts, b.Authors = &posts, &authors
			b.Sentiment = &tresor.SentimentCounts{Negative: r.Negative, Neutral: r.Neutral, Positive: r.Positive}
			if noise != nil {
				noise.bucket(&b)
			}
		}
		index[kk] = len(out.Buckets)
		out.Buckets = append(out.Buckets, b)
	}
	for kk, ts := range terms {
		i, ok := index[kk]
		if !ok || out.Buckets[i].Suppressed {
			continue
		}
		b := &out.Buckets[i]
		for _, r := range ts {
			if r.Authors < k {
				b.TermsSuppressed = true
				continue
			}
			tt := tresor.TrendTerm{Term: r.Term, Posts: r.Posts, Authors: r.Authors}
			if r.Kind == "hashtag" {
				b.Hashtags = append(b.Hashtags, tt)
			} else {
				b.Terms = append(b.Terms, tt)
			}
		}
		if noise != nil {
			b.Terms, b.Hashtags = noise.terms(b.Terms), noise.terms(b.Hashtags)
		}
		b.Terms, b.Hashtags = topTerms(b.Terms), topTerms(b.Hashtags)
	}
	return out, nil
}

// topTermsShown is how many terms and hashtags a bucket shows.
const topTermsShown = 10

func topTerms(ts []tresor.TrendTerm) []tresor.TrendTerm {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Posts != ts[j].Posts {
			return ts[i].Posts > ts[j].Posts
		}
		return ts[i].Term < ts[j].Term
	})
	if len(ts) > topTermsShown {
		ts = ts[:topTermsShown]
	}
	return ts
}

// ReasonKAnonymity is the code of a figure withheld below k authors.
const ReasonKAnonymity = "k_anonymity"

func suppressedReason(k int) *tresor.Reason {
	return &tresor.Reason{Code: ReasonKAnonymity,
		Message:   fmt.Sprintf("Fewer than %d different people wrote the posts of this bucket; its figures are withheld so that nobody can be singled out (k-anonymity, R10).", k),
		MessageDE: fmt.Sprintf("Weniger als %d verschiedene Personen haben die Beiträge dieses Zeitraums geschrieben; die Zahlen werden zurückgehalten, damit niemand herausgegriffen werden kann (k-Anonymität, R10).", k)}
}

// listeningPurposeOK reports whether the topic's purpose may still listen
// under the current policy (a changed policy stops a topic).
func (g *Gate) listeningPurposeOK(t *tresor.ListeningTopic) bool {
	pu, ok := g.policy.Purpose(t.Purpose)
	return ok && pu.Listens
}

// normalizeLanguage turns a network's language tag into a two-letter code,
// "und" when unknown.
func normalizeLanguage(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return "und"
	}
	return s
}

// WriteTrendCSV writes a trend as CSV, one line per bucket: a suppressed
// bucket's figures are empty and its reason given (in English); terms and
// hashtags are space-separated. Every cell goes through csvWriter.
func (g *Gate) WriteTrendCSV(w io.Writer, tr *tresor.ListeningTrend) error {
	cw := newCSVWriter(w)
	if err := cw.Write([]string{"start", "network", "language", "suppressed", "posts", "authors", "negative", "neutral", "positive",
		"terms", "hashtags", "reason"}); err != nil {
		return err
	}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	terms := func(ts []tresor.TrendTerm) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.Term
		}
		return strings.Join(s, " ")
	}
	for _, b := range tr.Buckets {
		rec := []string{b.Start.Format(time.RFC3339), b.Network, b.Language, strconv.FormatBool(b.Suppressed), num(b.Posts), num(b.Authors),
			"", "", "", terms(b.Terms), terms(b.Hashtags), ""}
		if b.Sentiment != nil {
			rec[6], rec[7], rec[8] = strconv.Itoa(b.Sentiment.Negative), strconv.Itoa(b.Sentiment.Neutral), strconv.Itoa(b.Sentiment.Positive)
		}
		if b.Reason != nil {
			rec[11] = b.Reason.Message
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}
