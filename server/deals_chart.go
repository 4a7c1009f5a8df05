package server

import "slices"

// The board's chart: a bar chart of the number and the value of the deals
// in each stage, drawn on the server as SVG (no script), with the same
// numbers in a table for those who do not see it.

// dealChart is the geometry and the text of the chart, in the SVG's units.
type dealChart struct {
	Width, Height int
	Currency      string // the currency of the value bars: the one most deals use
	Others        bool   // some deals are in other currencies, which the value bars leave out
	Rows          []dealChartRow
}

// dealChartRow is one stage: its label and its two bars.
type dealChartRow struct {
	Label          string
	Y              int // the top of the row
	LabelY         int // the baseline of the stage's name
	CountY, SumY   int // the top of each bar
	TextCY, TextSY int // the baseline of each bar's text
	CountW, SumW   int // the length of each bar
	Count, Sum     string
	CountX, SumX   int // where each bar's text starts
}

// The chart's layout.
const (
	dealChartWidth   = 640
	dealChartLabelW  = 150 // the stage names, right-aligned before the bars
	dealChartBarMax  = 330 // the longest bar
	dealChartTop     = 34  // room for the legend
	dealChartRowH    = 46
	dealChartBarH    = 15
	dealChartPadding = 8
)

// dealChartOf draws the columns' counts and sums; nil without stages.
func dealChartOf(lang string, cols []*dealColumn) *dealChart {
	if len(cols) == 0 {
		return nil
	}
	// The value bars are in the currency most deals use.
	n := map[string]int64{}
	for _, c := range cols {
		for _, card := range c.Cards {
			if card.Deal.Currency != "" {
				n[card.Deal.Currency]++
			}
		}
	}
	ch := &dealChart{Width: dealChartWidth, Height: dealChartTop + len(cols)*dealChartRowH + dealChartPadding}
	for cur, k := range n {
		if k > n[ch.Currency] || (k == n[ch.Currency] && cur < ch.Currency) {
			ch.Currency = cur
		}
	}
	ch.Others = len(n) > 1
	var maxCount, maxSum int64
	sums := make([]int64, len(cols))
	for i, c := range cols {
		maxCount = max(maxCount, c.Count)
		if j := slices.IndexFunc(c.Sums, func(m moneySum) bool { return m.Currency == ch.Currency }); j >= 0 {
			sums[i] = c.Sums[j].Minor
		}
		maxSum = max(maxSum, sums[i])
	}
	for i, c := range cols {
		y := dealChartTop + i*dealChartRowH
		row := dealChartRow{Label: c.Label, Y: y, CountY: y + 6, SumY: y + 6 + dealChartBarH + 3,
			CountW: barLength(c.Count, maxCount), SumW: barLength(sums[i], maxSum),
			Count: formatNumber(lang, c.Count)}
		row.TextCY, row.TextSY = row.CountY+dealChartBarH-3, row.SumY+dealChartBarH-3
		row.LabelY = row.SumY + 2
		row.CountX = dealChartLabelW + row.CountW + 6
		row.SumX = dealChartLabelW + row.SumW + 6
		if ch.Currency != "" {
			row.Sum = formatMoney(lang, centsOf(sums[i], ch.Currency), ch.Currency)
		}
		ch.Rows = append(ch.Rows, row)
	}
	return ch
}

// barLength is v's bar when the longest is m's; a bar of a value above
// zero is at least 2 units long, so that it shows.
func barLength(v, m int64) int {
	if v <= 0 || m <= 0 {
		return 0
	}
	return max(2, int(float64(v)/float64(m)*dealChartBarMax))
}
