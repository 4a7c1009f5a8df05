package tresor

import (
	"context"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ListeningTopic is a subject the company listens for on social networks
// (R10): public posts that carry one of its keywords or hashtags are
// counted into aggregates per time bucket, network and language. No post,
// text or author is ever kept.
type ListeningTopic struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Keywords  []string `json:"keywords"`            // words or #hashtags
	Networks  []string `json:"networks"`            // listened to on every channel of these networks
	Channels  []string `json:"channels,omitempty"`  // or on these channels (ids)
	Languages []string `json:"languages,omitempty"` // ISO 639-1; empty for every language
	// Purpose is the purpose the topic was made for; it is read and changed
	// only under it.
	Purpose string `json:"purpose"`
	// DP: the topic's figures are published under differential privacy,
	// with noise. EpsilonBudget is then its total privacy loss ε (0 without
	// DP); every trend read spends EpsilonPerQuery of it, and EpsilonSpent
	// says how much is spent.
	DP              bool    `json:"dp"`
	EpsilonBudget   float64 `json:"epsilon_budget"`
	EpsilonSpent    float64 `json:"epsilon_spent"`
	EpsilonPerQuery float64 `json:"epsilon_per_query,omitempty"` // from the policy; 0 without DP
	// Cursors is the time of the newest post counted, per network.
	Cursors   map[string]time.Time `json:"cursors,omitempty"`
	CreatedBy string               `json:"created_by"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
	Version   int64                `json:"version"`
}

// ListeningTopicPatch changes a topic; nil fields stay.
type ListeningTopicPatch struct {
	Name      *string   `json:"name,omitempty"`
	Keywords  *[]string `json:"keywords,omitempty"`
	Networks  *[]string `json:"networks,omitempty"`
	Channels  *[]string `json:"channels,omitempty"`
	Languages *[]string `json:"languages,omitempty"`
	// DP turns differential privacy on; once on it stays on.
	// EpsilonBudget changes the budget (and turns DP on).
	DP            *bool    `json:"dp,omitempty"`
	EpsilonBudget *float64 `json:"epsilon_budget,omitempty"`
}

var languageCode = regexp.MustCompile(`^[a-z]{2}$`)

// Check reports what is wrong with a topic's fields (validation_failed).
func (t *ListeningTopic) Check() error {
	var p Problems
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || utf8.RuneCountInString(t.Name) > 100 {
		p.Add("name", "give the topic a name of up to 100 characters")
	}
	if len(t.Keywords) == 0 || len(t.Keywords) > 20 {
		p.Add("keywords", "give between 1 and 20 keywords or hashtags")
	}
	for i, k := range t.Keywords {
		k = strings.TrimSpace(k)
		t.Keywords[i] = k
		if k == "" || k == "#" || utf8.RuneCountInString(k) > 100 {
			p.Add("keywords", "a keyword has 1 to 100 characters")
			break
		}
		// Listening is about topics, never about a person (R10).
		if strings.HasPrefix(k, "@") || strings.Contains(k, "@") && !strings.HasPrefix(k, "#") {
			p.Add("keywords", "%q names an account; listening follows topics, never a person (R10)", k)
		}
	}
	if len(t.Networks) == 0 && len(t.Channels) == 0 {
		p.Add("networks", "name at least one network or channel to listen on")
	}
	for _, n := range t.Networks {
		if !ValidNetwork(n) {
			p.Add("networks", "%q is not a network Tresor knows", n)
		}
	}
	for _, c := range t.Channels {
		if !ValidID(c) {
			p.Add("channels", "%q is not a channel id", c)
		}
	}
	for i, l := range t.Languages {
		l = strings.ToLower(strings.TrimSpace(l))
		t.Languages[i] = l
		if !languageCode.MatchString(l) {
			p.Add("languages", "%q is not a two-letter language code (ISO 639-1)", l)
		}
	}
	return p.Err("topic")
}

// ListeningBucket is the width of a trend's time buckets.
type ListeningBucket string

// The bucket widths.
const (
	BucketHour ListeningBucket = "hour"
	BucketDay  ListeningBucket = "day"
	BucketWeek ListeningBucket = "week"
)

// ListeningBuckets lists the widths, narrowest first.
func ListeningBuckets() []ListeningBucket {
	return []ListeningBucket{BucketHour, BucketDay, BucketWeek}
}

// Start returns the start of the bucket t falls in (UTC; weeks start on Monday).
func (b ListeningBucket) Start(t time.Time) time.Time {
	t = t.UTC()
	switch b {
	case BucketHour:
		return t.Truncate(time.Hour)
	case BucketDay:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	default:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
}

// Valid reports whether b is a known width.
func (b ListeningBucket) Valid() bool { return b == BucketHour || b == BucketDay || b == BucketWeek }

// SentimentCounts is a sentiment distribution: posts per polarity.
type SentimentCounts struct {
	Negative int `json:"negative"`
	Neutral  int `json:"neutral"`
	Positive int `json:"positive"`
}

// ListeningTrend is a topic's aggregates over a time range.
type ListeningTrend struct {
	TopicID string          `json:"topic_id"`
	Bucket  ListeningBucket `json:"bucket"`
	From    time.Time       `json:"from"`
	To      time.Time       `json:"to"`
	// K is the least number of distinct authors a figure needs to be shown.
	K int `json:"k"`
	// Epsilon is the privacy loss this read spent of the topic's budget
	// under differential privacy (0: exact figures); its figures carry
	// noise, Noise says of which kind and scale.
	Epsilon float64     `json:"epsilon,omitempty"`
	Noise   *TrendNoise `json:"noise,omitempty"`
	// EpsilonSpent and EpsilonBudget are the topic's budget after this read.
	EpsilonSpent  float64 `json:"epsilon_spent,omitempty"`
	EpsilonBudget float64 `json:"epsilon_budget,omitempty"`
	// ReleasedAt, under differential privacy, is when this answer was
	// first released, if this read got it again for the same topic, range
	// and bucket (and spent nothing: Epsilon is 0).
	ReleasedAt *time.Time    `json:"released_at,omitempty"`
	Buckets    []TrendBucket `json:"buckets"`
}

// TrendBucket is one time bucket of one network and language. Below k
// distinct authors it is Suppressed: its figures are left out, and Reason
// says why.
type TrendBucket struct {
	Start      time.Time        `json:"start"`
	Network    string           `json:"network"`
	Language   string           `json:"language"`
	Suppressed bool             `json:"suppressed"`
	Reason     *Reason          `json:"reason,omitempty"`
	Posts      *int             `json:"posts,omitempty"`
	Authors    *int             `json:"authors,omitempty"`
	Sentiment  *SentimentCounts `json:"sentiment,omitempty"`
	Terms      []TrendTerm      `json:"terms,omitempty"`
	Hashtags   []TrendTerm      `json:"hashtags,omitempty"`
	// TermsSuppressed: some terms or hashtags had fewer than k authors and
	// are left out (neither named nor counted).
	TermsSuppressed bool `json:"terms_suppressed,omitempty"`
}

// TrendNoise describes the noise added to a trend's figures under
// differential privacy: discrete Laplace noise, P(x) ∝ exp(−|x|/scale),
// rounded figures clamped at 0.
type TrendNoise struct {
	Mechanism string `json:"mechanism"` // "discrete_laplace"
	// BucketScale is the scale of the noise on a bucket's posts, authors
	// and sentiment counts; TermScale on a term's or hashtag's.
	BucketScale float64 `json:"bucket_scale"`
	TermScale   float64 `json:"term_scale"`
}

// TrendTerm is a term or hashtag of a bucket with at least k authors.
type TrendTerm struct {
	Term    string `json:"term"`
	Posts   int    `json:"posts"`
	Authors int    `json:"authors"`
}

// TrendQuery selects a trend.
type TrendQuery struct {
	From, To time.Time
	Bucket   ListeningBucket
}

// ListeningReport says what one listening run did.
type ListeningReport struct {
	Topics  int `json:"topics"`
	Counted int `json:"counted"` // posts counted into aggregates
	// Dropped counts posts kept out of every aggregate, by reason
	// (not_public, special, duplicate, late, language).
	Dropped map[string]int `json:"dropped"`
}

// ListeningService runs social listening through the gate.
type ListeningService interface {
	CreateTopic(ctx context.Context, t *ListeningTopic) error
	Topics(ctx context.Context) ([]*ListeningTopic, error)
	Topic(ctx context.Context, id string) (*ListeningTopic, error)
	UpdateTopic(ctx context.Context, id string, p ListeningTopicPatch, ifVersion int64) (*ListeningTopic, error)
	DeleteTopic(ctx context.Context, id string, ifVersion int64) error
	Trend(ctx context.Context, id string, q TrendQuery) (*ListeningTrend, error)
	// WriteTrendCSV writes a trend as CSV, one line per bucket; a
	// suppressed bucket's figures are empty and its reason given.
	WriteTrendCSV(w io.Writer, tr *ListeningTrend) error
}

// ListeningReader reads topics and their aggregates.
type ListeningReader interface {
	ListeningTopic(ctx context.Context, id string) (*ListeningTopic, error)
	ListeningTopics(ctx context.Context) ([]*ListeningTopic, error)
	// ListeningAggregates returns a topic's aggregate rows of one bucket
	// width with from <= start < to.
	ListeningAggregates(ctx context.Context, topicID string, b ListeningBucket, from, to time.Time) ([]*ListeningAggregate, error)
	// ListeningRelease returns the answer released for a trend query of a
	// DP topic at or after since, and when; ok is false if there is none.
	ListeningRelease(ctx context.Context, topicID, query string, since time.Time) (body []byte, at time.Time, ok bool, err error)
	// ListeningWindows returns the open aggregation windows.
	ListeningWindows(ctx context.Context) ([]*ListeningWindow, error)
	// ListeningDropped returns the global counters of dropped posts.
	ListeningDropped(ctx context.Context) (map[string]int64, error)
}

// ListeningWriter writes topics, aggregates and the open windows' state.
type ListeningWriter interface {
	InsertListeningTopic(ctx context.Context, t *ListeningTopic) error
	// UpdateListeningTopic replaces a topic if its version is prev; its
	// spent privacy budget stays.
	UpdateListeningTopic(ctx context.Context, t *ListeningTopic, prev int64) error
	// DeleteListeningTopic deletes a topic with its aggregates and window state.
	DeleteListeningTopic(ctx context.Context, id string) error
	// SpendListeningBudget adds epsilon to a DP topic's spent budget if
	// the sum stays within the budget, in one conditional write (so that
	// concurrent reads never overspend), and reports whether it did.
	SpendListeningBudget(ctx context.Context, topicID string, epsilon float64) (bool, error)
	// PutListeningRelease keeps the answer released for a trend query of a
	// DP topic, replacing the query's older one, and deletes the topic's
	// releases from before prune.
	PutListeningRelease(ctx context.Context, topicID, query string, at time.Time, body []byte, prune time.Time) error
	// SetListeningCursor stores the newest post time counted on a network.
	SetListeningCursor(ctx context.Context, topicID, network string, at time.Time) error
	InsertListeningWindow(ctx context.Context, w *ListeningWindow) error
	// CloseListeningWindow deletes a window's key and every seen-post and
	// author pseudonym of it; the aggregates stay.
	CloseListeningWindow(ctx context.Context, id string) error
	// MarkListeningSeen records posts' keyed hashes in their windows and
	// reports for each whether it was new (a hash given twice is new at
	// most the first time).
	MarkListeningSeen(ctx context.Context, posts []ListeningSeen) ([]bool, error)
	// AddListeningPosts counts posts into aggregates: every row's posts and
	// sentiment are added; a row's author count grows where the row's id
	// is new to the author's set in the window (which the call extends).
	// Each aggregate row and each author is written once per call.
	AddListeningPosts(ctx context.Context, posts []ListeningPost) error
	// CountListeningDropped adds n to a global counter.
	CountListeningDropped(ctx context.Context, reason string, n int) error
}

// ListeningAggregate is one stored aggregate: a bucket (Kind "bucket") or
// one of its terms or hashtags (Kind "term", "hashtag", with Term).
type ListeningAggregate struct {
	TopicID  string
	Width    ListeningBucket
	Start    time.Time
	Network  string
	Language string
	Kind     string
	Term     string
	Posts    int
	Authors  int
	Negative int
	Neutral  int
	Positive int
}

// ListeningPost is what one post adds: its author's pseudonym in its
// window, and its aggregate rows with their ids (RowIDs[i] names Rows[i]
// in the window's author sets; the gate keys them with the window's key,
// so that they say nothing once it is destroyed).
type ListeningPost struct {
	WindowID string
	Author   []byte
	Rows     []*ListeningAggregate
	RowIDs   []uint64
}

// ListeningSeen is a post counted in an open window: the keyed hash of its
// id, against counting it twice.
type ListeningSeen struct {
	WindowID, TopicID string
	Hash              []byte
}

// ListeningWindow is an open aggregation window: its key pseudonymises
// authors and post ids; it is deleted when the window closes.
type ListeningWindow struct {
	ID    string
	Start time.Time
	End   time.Time
	Key   WrappedKey // wraps the data key that seals Sealed
	// Sealed is the window's pseudonymisation key, sealed.
	Sealed []byte
}
