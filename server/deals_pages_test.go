package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

var dealRow = regexp.MustCompile(`<tr id="row-([0-9a-f-]+)">`)

// TestDealTableSortsAndChartCounts proves, without JavaScript, that the
// table is sorted on the server by the column head's order across its pages,
// that an order the heads do not offer is refused, that the board's chart
// carries the numbers of its columns, and that a lost deal needs a reason
// (the error at its field, in German too).
func TestDealTableSortsAndChartCounts(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	_, deals := salesBoard(t, a, "sam@example.org")
	ctx := tresor.WithPurpose(sys, "sales")
	values := map[string]int64{}
	for _, d := range deals {
		values[d.ID] = d.ValueMinor
	}
	// 52 more deals in the proposal stage: the table has two pages.
	for i := range 52 {
		d := &tresor.Deal{Title: fmt.Sprintf("Extra %02d", i), PipelineID: tresor.DefaultPipelineID, Stage: "proposal",
			Value: fmt.Sprintf("%d.00", (i*37)%101), Currency: "EUR"}
		must(t, a.g.CreateDeal(ctx, d))
		values[d.ID] = d.ValueMinor
	}
	b := newBrowser(t, a.url)
	b.signIn("sam@example.org", webPassword)
	csrf := b.get("/").field(t, "csrf")
	b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/deals"}}, nil)

	t.Run("the table's pages follow the order of the column head", func(t *testing.T) {
		var got []string
		next := "/deals?view=table&sort=-value"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("the pages do not end")
			}
			p := b.get(next)
			if p.status != http.StatusOK {
				t.Fatalf("%s: %d", next, p.status)
			}
			if pages == 0 && !strings.Contains(p.body, `aria-sort="descending"><a class="deals-sort" href="/deals?pipeline=default&amp;sort=value&amp;view=table">Value`) {
				t.Errorf("the value column is not marked as sorted descending with a link to ascending")
			}
			for _, m := range dealRow.FindAllStringSubmatch(p.body, -1) {
				got = append(got, m[1])
			}
			next = ""
			if strings.Contains(p.body, `rel="next"`) {
				next = p.between(t, `<a rel="next" href="`, `"`)
			}
		}
		if len(got) != len(values) {
			t.Fatalf("the pages list %d deals, want %d", len(got), len(values))
		}
		if !slices.IsSortedFunc(got, func(x, y string) int {
			if values[x] != values[y] {
				return int(values[y] - values[x]) // descending
			}
			return strings.Compare(y, x)
		}) {
			t.Fatal("the pages are not in descending order of value, then id")
		}
		if len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
			t.Fatal("a deal is listed twice")
		}
	})
	t.Run("the table is sorted by title", func(t *testing.T) {
		p := b.get("/deals?view=table&sort=title")
		var titles []string
		for _, m := range regexp.MustCompile(`<tr id="row-[0-9a-f-]+"><td>([^<]*)</td>`).FindAllStringSubmatch(p.body, -1) {
			titles = append(titles, html.UnescapeString(m[1]))
		}
		if len(titles) != 50 || titles[0] != "Cold chain <script>" || titles[1] != "Extra 00" || !slices.IsSorted(titles) {
			t.Fatalf("titles %q", titles)
		}
	})
	t.Run("an order the table does not offer is refused", func(t *testing.T) {
		if p := b.get("/deals?view=table&sort=owner"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "invalid_parameter") {
			t.Fatalf("%d", p.status)
		}
		if p := b.get("/deals?view=table&sort=title&cursor=bogus"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "invalid_cursor") {
			t.Fatalf("%d", p.status)
		}
		if p := b.get("/deals?view=table&cursor=" + tresor.EncodeCursor(deals[0].ID)); p.status != http.StatusBadRequest || !strings.Contains(p.body, "invalid_cursor") {
			t.Fatalf("a cursor of the unsorted list: %d", p.status)
		}
	})
	t.Run("the chart carries the numbers of the columns", func(t *testing.T) {
		p := b.get("/deals")
		numbers := p.between(t, `<table class="sr-only" id="deals-chart-numbers">`, `</table>`)
		for _, want := range []string{
			`<tr><th scope="row">Lead</th><td>2</td><td>€13,345.67</td></tr>`,
			`<tr><th scope="row">Qualified</th><td>1</td><td>€5,000.00</td></tr>`,
			`<tr><th scope="row">Won</th><td>0</td><td>€0.00</td></tr>`,
		} {
			if !strings.Contains(numbers, want) {
				t.Errorf("the chart's numbers lack %s: %s", want, numbers)
			}
		}
		// 52 deals in proposal make the longest count bar; lead's sum the longest value bar.
		svg := p.between(t, `<svg class="deals-chart-svg"`, `</svg>`)
		if !strings.Contains(svg, `<title id="deals-chart-title">Deals per stage: number and value</title>`) {
			t.Errorf("the chart has no title: %s", svg)
		}
		var proposalSum int64
		for id, v := range values {
			if !slices.ContainsFunc(deals, func(d *tresor.Deal) bool { return d.ID == id }) {
				proposalSum += v
			}
		}
		wantSum := 330 * proposalSum / 1334567
		if !strings.Contains(svg, `class="deals-bar-count" x="150" y="`) || !strings.Contains(svg, `width="330" height="15"/><text x="486" y="`) {
			t.Errorf("no bar has the full length: %s", svg)
		}
		if !strings.Contains(svg, fmt.Sprintf(`width="%d" height="15"`, wantSum)) && !strings.Contains(svg, fmt.Sprintf(`width="%d" height="15"`, wantSum+1)) {
			t.Errorf("the proposal stage's value bar is not %d long: %s", wantSum, svg)
		}
	})
	t.Run("a lost deal without a reason shows the error at the field, in German", func(t *testing.T) {
		b.get("/lang/de?back=/deals")
		d := deals[0]
		p := b.post("/deals/"+d.ID+"/stage", url.Values{"csrf": {csrf}, "stage": {"lost"}, "version": {fmt.Sprint(d.Version)}, "pipeline": {"default"}}, nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", p.status)
		}
		field := p.between(t, `<select id="reason-`+d.ID+`-lost"`, `</p>`)
		if !strings.Contains(field, `aria-invalid="true" aria-describedby="reason-error-`+d.ID+`"`) || !strings.Contains(field, "Ein verlorener Deal braucht einen Grund") {
			t.Errorf("the field shows no error: %s", field)
		}
		got, err := a.g.Deal(ctx, d.ID)
		must(t, err)
		if got.Stage != "lead" || got.OutcomeReason != "" {
			t.Fatalf("the deal moved without a reason: %q", got.Stage)
		}
		b.get("/lang/en?back=/deals")
	})
}
