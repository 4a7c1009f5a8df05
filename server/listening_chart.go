package server

import (
	"sort"
	"strconv"
	"time"

	"tresor"
)

// The charts of a topic's page, drawn on the server as SVG (no script):
// posts over time, sentiment stacked, top terms and hashtags as bars. Each
// has a table with the same figures beside it. A time bucket the gate
// withholds (fewer than k authors) is drawn as a hatched gap and marked,
// never with a number. Colours are from the Okabe–Ito palette, which
// people with the common colour-vision deficiencies tell apart.

// trendCharts are the three charts of a trend.
type trendCharts struct {
	Width, Height int // of the time charts
	PlotTop       int
	PlotBottom    int
	PlotLeft      int
	PlotRight     int
	PlotH         int // PlotBottom - PlotTop
	AxisY         int // the baseline of the time axis' labels
	Cols          []trendCol
	VolTicks      []chartTick
	SentTicks     []chartTick
	AnyWithheld   bool
	Empty         bool // no bucket holds a post
	Terms         *termChart
}

// chartTick is a line of the y axis.
type chartTick struct {
	Y     int
	TextY int
	Label string
}

// trendCol is one time bucket of the range, over every network and language.
type trendCol struct {
	Label     string // the bucket's start, as the table and the axis show it
	AxisLabel string // "" when the axis skips it
	X, W      int    // the bar
	MidX      int
	Shown     bool // some network or language of the bucket is shown
	Withheld  bool // some network or language of the bucket is withheld
	Posts     int
	Neg, Neu  int
	Pos       int
	PostsS    string // the figures as the page writes them
	NegS      string
	NeuS      string
	PosS      string
	PostsY    int
	PostsH    int
	NegY      int
	NegH      int
	NeuY      int
	NeuH      int
	PosY      int
	PosH      int
}

// termChart is the bar chart of the top terms and hashtags.
type termChart struct {
	Width, Height int
	Rows          []termRow
	HashtagsY     int // the heading of the hashtags' part
	TagsEmptyY    int
	TermsEmpty    bool
	TagsEmpty     bool
	SomeWithheld  bool
	Terms, Tags   []termRow
}

type termRow struct {
	Term   string
	Posts  string
	Y      int // top of the bar
	TextY  int
	W      int
	TextX  int
	Hashtg bool
}

const (
	trendWidth   = 640
	trendHeight  = 250
	trendLeft    = 56
	trendRight   = 628
	trendTop     = 40
	trendBottom  = 210
	trendAxisGap = 18
	termLabelW   = 170
	termBarMax   = 360
	termRowH     = 22
)

func trendChartsOf(lang string, tr *tresor.ListeningTrend) *trendCharts {
	width := map[tresor.ListeningBucket]time.Duration{tresor.BucketHour: time.Hour, tresor.BucketDay: 24 * time.Hour, tresor.BucketWeek: 7 * 24 * time.Hour}[tr.Bucket]
	if width == 0 {
		width = 24 * time.Hour
	}
	c := &trendCharts{Width: trendWidth, Height: trendHeight, PlotTop: trendTop, PlotBottom: trendBottom, PlotLeft: trendLeft, PlotRight: trendRight,
		PlotH: trendBottom - trendTop, AxisY: trendBottom + trendAxisGap}
	index := map[int64]int{}
	for t := tr.Bucket.Start(tr.From); t.Before(tr.To); t = t.Add(width) {
		index[t.Unix()] = len(c.Cols)
		c.Cols = append(c.Cols, trendCol{Label: bucketLabel(lang, tr.Bucket, t)})
	}
	terms, tags := map[string]int{}, map[string]int{}
	someWithheld := false
	for _, b := range tr.Buckets {
		i, ok := index[tr.Bucket.Start(b.Start).Unix()]
		if !ok {
			continue
		}
		col := &c.Cols[i]
		if b.Suppressed {
			col.Withheld = true
			c.AnyWithheld = true
			continue
		}
		col.Shown = true
		if b.Posts != nil {
			col.Posts += *b.Posts
		}
		if b.Sentiment != nil {
			col.Neg += b.Sentiment.Negative
			col.Neu += b.Sentiment.Neutral
			col.Pos += b.Sentiment.Positive
		}
		for _, t := range b.Terms {
			terms[t.Term] += t.Posts
		}
		for _, t := range b.Hashtags {
			tags[t.Term] += t.Posts
		}
		someWithheld = someWithheld || b.TermsSuppressed
	}
	maxPosts, maxSent := 0, 0
	for _, col := range c.Cols {
		maxPosts = max(maxPosts, col.Posts)
		maxSent = max(maxSent, col.Neg+col.Neu+col.Pos)
	}
	c.Empty = maxPosts == 0
	maxPosts, maxSent = niceMax(maxPosts), niceMax(maxSent)
	n := max(1, len(c.Cols))
	step := float64(trendRight-trendLeft) / float64(n)
	every := (n + 7) / 8
	h := trendBottom - trendTop
	scale := func(v, m int) int {
		if v <= 0 {
			return 0
		}
		return max(1, v*h/m)
	}
	for i := range c.Cols {
		col := &c.Cols[i]
		col.X = trendLeft + int(float64(i)*step+step*0.15)
		col.W = max(1, int(step*0.7))
		col.MidX = trendLeft + int(float64(i)*step+step/2)
		if i%every == 0 {
			col.AxisLabel = col.Label
		}
		col.PostsS, col.NegS = formatNumber(lang, int64(col.Posts)), formatNumber(lang, int64(col.Neg))
		col.NeuS, col.PosS = formatNumber(lang, int64(col.Neu)), formatNumber(lang, int64(col.Pos))
		col.PostsH = scale(col.Posts, maxPosts)
		col.PostsY = trendBottom - col.PostsH
		col.NegH = scale(col.Neg, maxSent)
		col.NegY = trendBottom - col.NegH
		col.NeuH = scale(col.Neu, maxSent)
		col.NeuY = col.NegY - col.NeuH
		col.PosH = scale(col.Pos, maxSent)
		col.PosY = col.NeuY - col.PosH
	}
	c.VolTicks, c.SentTicks = ticks(lang, maxPosts), ticks(lang, maxSent)
	c.Terms = termChartOf(lang, terms, tags)
	c.Terms.SomeWithheld = someWithheld
	return c
}

// niceMax rounds a chart's largest value up to 1, 2 or 5 times a power of ten.
func niceMax(v int) int {
	if v <= 1 {
		return 1
	}
	p := 1
	for p*10 < v {
		p *= 10
	}
	for _, f := range []int{1, 2, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

func ticks(lang string, m int) []chartTick {
	h := trendBottom - trendTop
	out := []chartTick{{Y: trendBottom, TextY: trendBottom + 4, Label: "0"}}
	if m >= 2 && m%2 == 0 {
		out = append(out, chartTick{Y: trendBottom - h/2, TextY: trendBottom - h/2 + 4, Label: formatNumber(lang, int64(m/2))})
	}
	return append(out, chartTick{Y: trendTop, TextY: trendTop + 4, Label: formatNumber(lang, int64(m))})
}

// bucketLabel writes a bucket's start: a day, or a day and hour.
func bucketLabel(lang string, b tresor.ListeningBucket, t time.Time) string {
	t = t.UTC()
	day := t.Format("Jan 2")
	if lang == "de" {
		day = strconv.Itoa(t.Day()) + "." + strconv.Itoa(int(t.Month())) + "."
	}
	if b == tresor.BucketHour {
		return day + " " + t.Format("15:00")
	}
	return day
}

// termChartOf draws the ten terms and the ten hashtags with the most posts
// over the range; only those the gate showed (k authors or more in a bucket).
func termChartOf(lang string, terms, tags map[string]int) *termChart {
	top := func(m map[string]int) []termRow {
		var rows []termRow
		for k, v := range m {
			rows = append(rows, termRow{Term: k, W: v})
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].W != rows[j].W {
				return rows[i].W > rows[j].W
			}
			return rows[i].Term < rows[j].Term
		})
		if len(rows) > topTermsOnPage {
			rows = rows[:topTermsOnPage]
		}
		return rows
	}
	tc := &termChart{Width: trendWidth}
	ts, hs := top(terms), top(tags)
	m := 1
	for _, r := range append(append([]termRow(nil), ts...), hs...) {
		m = max(m, r.W)
	}
	y := 34
	place := func(rows []termRow, tag bool) []termRow {
		for i := range rows {
			r := &rows[i]
			r.Posts = formatNumber(lang, int64(r.W))
			r.Hashtg = tag
			r.W = max(2, r.W*termBarMax/m)
			r.Y = y
			r.TextY = y + 14
			r.TextX = termLabelW + r.W + 6
			y += termRowH
		}
		return rows
	}
	tc.Terms = place(ts, false)
	if len(ts) == 0 {
		y += termRowH
	}
	tc.TermsEmpty = len(ts) == 0
	y += 14
	tc.HashtagsY = y
	tc.TagsEmptyY = y + 26
	y += 12
	tc.Tags = place(hs, true)
	if len(hs) == 0 {
		y += termRowH
	}
	tc.TagsEmpty = len(hs) == 0
	tc.Rows = append(append([]termRow(nil), tc.Terms...), tc.Tags...)
	tc.Height = y + 8
	return tc
}

// topTermsOnPage is how many terms and hashtags the page draws.
const topTermsOnPage = 10
