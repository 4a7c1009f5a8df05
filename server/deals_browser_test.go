package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tresor"
	"tresor/datadir"
	"tresor/otp"
)

// salesBoard creates, through the gate with the system's context and the
// purpose sales, an organization with a contact and three deals owned by
// the user with the e-mail address; it returns the organization and the deals.
func salesBoard(t *testing.T, a *api, email string) (*tresor.Organization, []*tresor.Deal) {
	t.Helper()
	ctx := tresor.WithPurpose(sys, "sales")
	u, err := a.g.User(sys, email)
	must(t, err)
	org := &tresor.Organization{Name: "Nordwind Logistik GmbH", Industry: "Logistics", Website: "https://nordwind.example"}
	must(t, a.g.CreateOrganization(ctx, org))
	c := &tresor.Contact{OrganizationID: org.ID, ContactDetails: tresor.ContactDetails{GivenName: "Jana", FamilyName: "Berg", Position: "Head of fleet"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(ctx, c))
	var deals []*tresor.Deal
	for _, d := range []tresor.Deal{
		{Title: "Fleet renewal", Stage: "lead", Value: "12345.67", ExpectedClose: "2026-12-18"},
		{Title: "Warehouse sensors", Stage: "lead", Value: "1000.00", ExpectedClose: "2027-01-15"},
		{Title: "Cold chain <script>", Stage: "qualified", Value: "5000.00"},
	} {
		d.PipelineID, d.Currency, d.OwnerID, d.OrganizationID, d.ContactID = tresor.DefaultPipelineID, "EUR", u.ID, org.ID, c.ID
		must(t, a.g.CreateDeal(ctx, &d))
		deals = append(deals, &d)
	}
	return org, deals
}

// TestSalespersonMovesADealByKeyboard proves the deal board's rules in a
// real browser: a salesperson who chose the purpose sales sees a column per
// stage with its count and sum, moves a deal with the keyboard alone (Tab to
// the button, Enter), and sees the columns change; a stale move overwrites
// nothing; German sums read 12.345,67 €; the table and the organization
// pages pass axe-core.
func TestSalespersonMovesADealByKeyboard(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	org, deals := salesBoard(t, a, "sam@example.org")
	fleet, sensors := deals[0], deals[1]
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")

	t.Run("without a purpose the board explains how to choose one", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`.deals-refusal`))
		if got := b.text(".deals-refusal"); !strings.Contains(got, "Choose the purpose") || !strings.Contains(got, "purpose_missing") {
			t.Fatalf("refusal = %q", got)
		}
		b.checkAccessibility("deals (no purpose)")
	})
	t.Run("the board shows a column per stage with its count and sum", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#purpose-select`, "sales"), chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`#board`))
		for _, id := range []string{"lead", "qualified", "proposal", "negotiation", "won", "lost"} {
			b.run(chromedp.WaitVisible(`#stage-` + id))
		}
		if got := b.text("#total-lead"); got != "Deals: 2 · €13,345.67" {
			t.Errorf("lead total = %q", got)
		}
		if got := b.text("#total-qualified"); got != "Deals: 1 · €5,000.00" {
			t.Errorf("qualified total = %q", got)
		}
		if got := b.text("#deal-" + fleet.ID); !strings.Contains(got, "Nordwind Logistik GmbH") || !strings.Contains(got, "18 Dec 2026") || !strings.Contains(got, "you") {
			t.Errorf("card = %q", got)
		}
		if got := b.text("#stage-qualified + p + ol h3"); got != "Cold chain <script>" {
			t.Errorf("a hostile title shows as %q", got)
		}
		b.checkAccessibility("deals board")
		b.screenshot("deals-en")
	})
	t.Run("a deal moves to the next stage by keyboard alone", func(t *testing.T) {
		b := b0.in(t)
		target := fmt.Sprintf(`#deal-%s .deals-next`, fleet.ID)
		b.run(chromedp.Focus(`#deals-pipeline, .deals-views a`))
		reached := false
		for range 80 {
			b.run(chromedp.KeyEvent(kb.Tab))
			on, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, target)))
			must(t, err)
			if on {
				reached = true
				break
			}
		}
		if !reached {
			t.Fatal("Tab never reached the next-stage button")
		}
		b.run(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`#stage-qualified ~ ol #deal-`+fleet.ID))
		if got := b.text("#total-lead"); got != "Deals: 1 · €1,000.00" {
			t.Errorf("lead total after the move = %q", got)
		}
		if got := b.text("#total-qualified"); got != "Deals: 2 · €17,345.67" {
			t.Errorf("qualified total after the move = %q", got)
		}
		d, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), fleet.ID)
		must(t, err)
		if d.Stage != "qualified" {
			t.Fatalf("stored stage = %q", d.Stage)
		}
		focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.closest('.deals-card')?.id || ''`))
		must(t, err)
		if focused != "deal-"+fleet.ID {
			t.Errorf("after the move the focus is on %q, not on the moved deal", focused)
		}
	})
	t.Run("a stale move shows that the deal changed meanwhile and overwrites nothing", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+sensors.ID))
		// Someone else moves the deal after the page was loaded.
		_, err := a.g.UpdateDeal(tresor.WithPurpose(sys, "sales"), sensors.ID, tresor.Update{Patch: json.RawMessage(`{"stage":"proposal"}`)})
		must(t, err)
		b.run(chromedp.Focus(`#deal-`+sensors.ID+` .deals-next`), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`#board .error`))
		if got := b.text("#board .error"); !strings.Contains(got, "changed meanwhile") || !strings.Contains(got, "version_mismatch") {
			t.Errorf("stale move shows %q", got)
		}
		d, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), sensors.ID)
		must(t, err)
		if d.Stage != "proposal" {
			t.Fatalf("the stale move overwrote the stage: %q", d.Stage)
		}
	})
	t.Run("a deal is marked lost with a reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+sensors.ID),
			chromedp.Click(`#deal-`+sensors.ID+` summary`),
			chromedp.SetValue(`#reason-`+sensors.ID+`-lost`, "competitor"),
			chromedp.Focus(`#deal-`+sensors.ID+` button.deals-lost`), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(`#stage-lost ~ ol #deal-`+sensors.ID))
		d, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), sensors.ID)
		must(t, err)
		if d.Stage != "lost" || d.ClosedAt == nil || d.OutcomeReason != "competitor" {
			t.Fatalf("deal after marking lost: stage %q closed %v reason %q", d.Stage, d.ClosedAt, d.OutcomeReason)
		}
		if got := b.text("#deal-" + sensors.ID + " .deals-reason"); got != "Competitor" {
			t.Errorf("the card shows the reason as %q", got)
		}
	})
	t.Run("the table lists the deals with their reasons", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals?view=table"), chromedp.WaitVisible(`.deals-table`))
		got := b.text(".deals-table tbody")
		for _, want := range []string{"Fleet renewal", "Warehouse sensors", "€12,345.67", "18 Dec 2026", "Nordwind Logistik GmbH", "Competitor"} {
			if !strings.Contains(got, want) {
				t.Errorf("table %q lacks %s", got, want)
			}
		}
		b.checkAccessibility("deals table")
	})
	t.Run("the organization list and page show its contacts and deals", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/organizations"), chromedp.WaitVisible(`.orgs-table`))
		b.checkAccessibility("organizations")
		b.run(chromedp.Click(`.orgs-table a[href="/organizations/`+org.ID+`"]`), chromedp.WaitVisible(`.orgs-list`))
		if got := b.text("h1"); got != org.Name {
			t.Errorf("the organization page's heading is %q", got)
		}
		if got := b.text(".orgs-list"); !strings.Contains(got, "Jana Berg") {
			t.Errorf("contacts = %q", got)
		}
		if got := b.text(".deals-table"); !strings.Contains(got, "Fleet renewal") || !strings.Contains(got, "Qualified") {
			t.Errorf("deals = %q", got)
		}
		b.checkAccessibility("organization")
		b.screenshotBoth("organization")
	})
	t.Run("the German board shows sums as 12.345,67 €", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/lang/de?back=/deals"), chromedp.WaitVisible(`#board`))
		if got := b.text("#stage-qualified"); got != "Qualifiziert" {
			t.Errorf("the default pipeline's stage in German = %q", got)
		}
		if got := b.text("#total-qualified"); got != "Deals: 2 · 17.345,67 €" {
			t.Errorf("German qualified total = %q", got)
		}
		if got := b.text("#deal-" + fleet.ID); !strings.Contains(got, "12.345,67 €") || !strings.Contains(got, "18.12.2026") {
			t.Errorf("German card = %q", got)
		}
		b.checkAccessibility("deals board (de)")
		b.screenshot("deals-de")
		b.run(chromedp.Navigate(b.url+"/deals?view=table&sort=-value"), chromedp.WaitVisible(`.deals-table`))
		if got := b.text(`.deals-table th[aria-sort="descending"]`); !strings.HasPrefix(got, "Wert") {
			t.Errorf("the German table is sorted by %q", got)
		}
		if got := b.text(".deals-table tbody"); !strings.Contains(got, "12.345,67 €") || !strings.Contains(got, "Wettbewerber") {
			t.Errorf("German table = %q", got)
		}
		b.checkAccessibility("deals table (de)")
		b.screenshot("deals-table-de")
	})
}

// TestDealMovesWithoutJavaScript proves the move is a plain form: with the
// session's form token it answers 303 back to the board; without it, nothing moves.
func TestDealMovesWithoutJavaScript(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	_, deals := salesBoard(t, a, "sam@example.org")
	b := newBrowser(t, a.url)
	start := b.signIn("sam@example.org", webPassword)
	if start.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", start.status)
	}
	csrf := b.get("/").field(t, "csrf")
	b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/deals"}}, nil)
	d := deals[0]
	form := url.Values{"stage": {"qualified"}, "version": {fmt.Sprint(d.Version)}, "pipeline": {"default"}}

	t.Run("a move without the session's form token is refused", func(t *testing.T) {
		if r := b.post("/deals/"+d.ID+"/stage", form, nil); r.status != http.StatusForbidden {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("a plain form moves the deal and answers 303 back to the board", func(t *testing.T) {
		form.Set("csrf", csrf)
		r := b.post("/deals/"+d.ID+"/stage", form, nil)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/deals?") || !strings.Contains(r.header.Get("Location"), "moved="+d.ID) {
			t.Fatalf("answer %d %q", r.status, r.header.Get("Location"))
		}
		if page := b.get(r.header.Get("Location")); !strings.Contains(page.body, `id="deal-`+d.ID+`"`) {
			t.Fatalf("board after the move: %d %.2000s\n%s", page.status, page.body, a.logs.String())
		}
	})
	t.Run("the same form sent twice moves the deal once and reports no conflict", func(t *testing.T) {
		r := b.post("/deals/"+d.ID+"/stage", form, nil)
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.Contains(loc, "moved="+d.ID) || strings.Contains(loc, "stale") {
			t.Fatalf("answer %d %q", r.status, loc)
		}
	})
	t.Run("a stale form moves nothing", func(t *testing.T) {
		form.Set("stage", "lead")
		r := b.post("/deals/"+d.ID+"/stage", form, nil)
		if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "stale=") {
			t.Fatalf("answer %d %q", r.status, r.header.Get("Location"))
		}
		got, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), d.ID)
		must(t, err)
		if got.Stage != "qualified" {
			t.Fatalf("stage %q", got.Stage)
		}
	})
	t.Run("a deal marked lost records its reason", func(t *testing.T) {
		got, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), d.ID)
		must(t, err)
		r := b.post("/deals/"+d.ID+"/stage", url.Values{"csrf": {csrf}, "stage": {"lost"}, "version": {fmt.Sprint(got.Version)}, "reason": {"price"}}, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("answer %d %.1000s", r.status, r.body)
		}
		if got, err = a.g.Deal(tresor.WithPurpose(sys, "sales"), d.ID); err != nil || got.Stage != "lost" || got.OutcomeReason != "price" {
			t.Fatalf("deal after marking lost: %v %+v", err, got)
		}
	})
	t.Run("a refused move through htmx comes back to the board with its rule", func(t *testing.T) {
		got, err := a.g.Deal(tresor.WithPurpose(sys, "sales"), d.ID)
		must(t, err)
		r := b.post("/deals/"+d.ID+"/stage", url.Values{"csrf": {csrf}, "stage": {"nowhere"}, "version": {fmt.Sprint(got.Version)}}, map[string]string{"HX-Request": "true"})
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.Contains(loc, "refused=validation_failed") {
			t.Fatalf("answer %d %q", r.status, loc)
		}
		if page := b.get(loc); !strings.Contains(page.body, "<code>validation_failed</code>") {
			t.Fatalf("board does not name the rule: %s", page.body[strings.Index(page.body, "<main"):])
		}
		if page := b.get("/deals?refused=no_such_rule"); strings.Contains(page.body, "<code>no_such_rule</code>") || !strings.Contains(page.body, `id="board"`) {
			t.Fatal("the board repeats a code Tresor does not have")
		}
	})
	t.Run("a reason the form does not offer is refused", func(t *testing.T) {
		form.Set("reason", "<b>x</b>")
		if r := b.post("/deals/"+d.ID+"/stage", form, nil); r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
}

// TestOrganizationsAndPipelinesAsPages proves the rules of the organization
// list and of a second pipeline, without JavaScript.
func TestOrganizationsAndPipelinesAsPages(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	org, _ := salesBoard(t, a, "sam@example.org")
	ctx := tresor.WithPurpose(sys, "sales")
	for i := range 55 {
		must(t, a.g.CreateOrganization(ctx, &tresor.Organization{Name: fmt.Sprintf("Org %02d", i)}))
	}
	b := newBrowser(t, a.url)
	b.signIn("sam@example.org", webPassword)
	csrf := b.get("/").field(t, "csrf")

	t.Run("without a purpose the list explains how to choose one", func(t *testing.T) {
		r := b.get("/organizations")
		if r.status != http.StatusOK || !strings.Contains(r.body, "purpose_missing") {
			t.Fatalf("%d %.400s", r.status, r.body)
		}
	})
	b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/organizations"}}, nil)
	t.Run("the list pages by cursor", func(t *testing.T) {
		first := b.get("/organizations")
		if n := strings.Count(first.body, `<tr><td><a href="/organizations/`); n != 50 {
			t.Fatalf("first page has %d organizations", n)
		}
		next := first.between(t, `<a href="/organizations?cursor=`, `"`)
		second := b.get("/organizations?cursor=" + next)
		if n := strings.Count(second.body, `<tr><td><a href="/organizations/`); n != 6 || strings.Contains(second.body, `rel="next"`) {
			t.Fatalf("second page has %d organizations", n)
		}
	})
	t.Run("a cursor Tresor did not issue is refused", func(t *testing.T) {
		if r := b.get("/organizations?cursor=bogus"); r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("an unknown organization is not found", func(t *testing.T) {
		if r := b.get("/organizations/00000000-0000-4000-8000-000000000000"); r.status != http.StatusNotFound {
			t.Fatalf("status %d", r.status)
		}
		if r := b.get("/organizations/" + org.ID); r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
	})
	t.Run("several pipelines get a chooser and a move stays on its pipeline", func(t *testing.T) {
		pl := &tresor.Pipeline{Name: "Partners", Stages: []tresor.Stage{{ID: "talk", Name: "Talk", Outcome: tresor.OutcomeOpen}, {ID: "signed", Name: "Signed", Outcome: tresor.OutcomeOpen}}}
		pl.ID = "partners"
		must(t, a.g.CreatePipeline(sys, pl))
		d := &tresor.Deal{Title: "Reseller", PipelineID: "partners", Stage: "talk", Value: "5000", Currency: "JPY"}
		must(t, a.g.CreateDeal(ctx, d))
		must(t, a.g.CreateDeal(ctx, &tresor.Deal{Title: "Gulf", PipelineID: "partners", Stage: "signed", Value: "1234.567", Currency: "KWD"}))
		board := b.get("/deals")
		if !strings.Contains(board.body, `<option value="partners"`) {
			t.Fatalf("no pipeline chooser: %.300s", board.body)
		}
		partners := b.get("/deals?pipeline=partners")
		if !strings.Contains(partners.body, `id="deal-`+d.ID+`"`) || strings.Contains(partners.body, "Fleet renewal") {
			t.Fatal("the partners board shows other deals or not its own")
		}
		for _, want := range []string{"JPY 5,000.00", "KWD 1,234.56"} {
			if !strings.Contains(partners.body, want) {
				t.Errorf("a currency without two decimals: the board lacks %s", want)
			}
		}
		r := b.post("/deals/"+d.ID+"/stage", url.Values{"csrf": {csrf}, "stage": {"signed"}, "version": {fmt.Sprint(d.Version)}, "pipeline": {"partners"}}, nil)
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.Contains(loc, "pipeline=partners") {
			t.Fatalf("answer %d %q", r.status, loc)
		}
	})
}

// TestDealAndOrganizationPagesRenderForEveryRole proves that the pages render
// for every role under every purpose it may choose, with an empty and a full
// database: the page, a refusal with its rule, or 403 for a role the area is
// not for — never an internal error.
func TestDealAndOrganizationPagesRenderForEveryRole(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	roles := []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO, tresor.RoleAnalyst, tresor.RoleAuditor, tresor.RoleAdmin}
	for _, r := range roles {
		a.userWithPassword("page-"+string(r)+"@example.org", r)
	}
	browsers := map[tresor.Role]*browser{}
	for _, r := range roles {
		b := newBrowser(t, a.url)
		if in := b.signIn("page-"+string(r)+"@example.org", webPassword); in.header.Get("Location") == "/account/mfa" {
			// Privileged roles set up their second factor first.
			enroll := b.get("/account/mfa")
			key, err := otp.DecodeSecret(enroll.between(t, `id="totp-secret">`, "<"))
			must(t, err)
			b.post("/account/mfa", url.Values{"csrf": {enroll.field(t, "csrf")}, "code": {otp.Code(key, time.Now())}}, nil)
		}
		browsers[r] = b
	}
	for _, full := range []bool{false, true} {
		if full {
			salesBoard(t, a, "page-sales@example.org")
		}
		for _, r := range roles {
			t.Run(fmt.Sprintf("%s full=%v", r, full), func(t *testing.T) {
				b := browsers[r]
				b.t = t
				start := b.get("/")
				if start.status != http.StatusOK {
					t.Fatalf("%s's start page answers %d %s", r, start.status, start.header.Get("Location"))
				}
				csrf := start.field(t, "csrf")
				purposes := append([]string{""}, a.g.PurposesOf([]tresor.Role{r})...)
				for _, p := range purposes {
					if p != "" {
						b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {p}, "back": {"/"}}, nil)
					}
					for _, path := range []string{"/deals", "/deals?view=table", "/organizations"} {
						res := b.get(path)
						if res.status >= 500 || res.status == http.StatusOK && !strings.Contains(res.body, "<main") {
							t.Errorf("%s under %q: %d %.300s", path, p, res.status, res.body)
						}
						if full && r == tresor.RoleSales && p == "sales" && path == "/deals" && !strings.Contains(res.body, "Fleet renewal") {
							t.Errorf("the full board lacks its deals: %d", res.status)
						}
					}
				}
			})
		}
	}
}

// dragDeal drags the deal's card onto the stage's column as a person's
// mouse does: the browser's own drag events, with one DataTransfer, reach
// the page's handlers (chromedp's mouse cannot start a native drag).
func dragDeal(b *chrome, dealID, stage string) {
	b.t.Helper()
	b.run(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const card = document.querySelector(%q), col = document.querySelector(%q);
		const dt = new DataTransfer();
		const fire = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		fire(card, "dragstart"); fire(col, "dragenter"); fire(col, "dragover"); fire(col, "drop"); fire(card, "dragend");
	})()`, "#deal-"+dealID+" h3", ".deals-column[data-stage="+stage+"] h2")))
}

// TestSalespersonDragsADealAndSortsTheTable proves the board's drag and
// drop and the table's order in a real browser: a card dropped on another
// stage's column moves there (the same form as the buttons, the board
// swapped in place); a stale drop overwrites nothing and says so; a drop on
// the lost column asks for the reason, and marking lost without one shows
// the error at the field; the table sorts by its column heads with the
// keyboard alone, and every view passes axe-core.
func TestSalespersonDragsADealAndSortsTheTable(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	_, deals := salesBoard(t, a, "sam@example.org")
	fleet, sensors, cold := deals[0], deals[1], deals[2]
	ctx := tresor.WithPurpose(sys, "sales")
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")
	b0.choosePurpose("sales")

	t.Run("a card dropped on another stage's column moves there", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+sensors.ID), chromedp.WaitVisible(`.deals-dnd-hint`))
		draggable, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector("#deal-%s").draggable`, sensors.ID)))
		must(t, err)
		b.checkAccessibility("deals board (drag and drop)")
		must(t, err)
		if !draggable {
			t.Fatal("the script did not make the cards draggable")
		}
		b.run(chromedp.Evaluate[chromedp.Void](`window.dealsSamePage = true`))
		dragDeal(b, sensors.ID, "proposal")
		b.run(chromedp.WaitVisible(`.deals-column[data-stage=proposal] #deal-` + sensors.ID))
		same, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.dealsSamePage === true`))
		must(t, err)
		if !same {
			t.Error("the drop loaded the page anew instead of swapping the board")
		}
		if got := b.text("#total-proposal"); got != "Deals: 1 · €1,000.00" {
			t.Errorf("proposal total after the drop = %q", got)
		}
		if got := b.text("#total-lead"); got != "Deals: 1 · €12,345.67" {
			t.Errorf("lead total after the drop = %q", got)
		}
		d, err := a.g.Deal(ctx, sensors.ID)
		must(t, err)
		if d.Stage != "proposal" {
			t.Fatalf("stored stage = %q", d.Stage)
		}
		// The board was swapped in place, not loaded anew: the chart's numbers follow.
		numbers, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#deals-chart-numbers").textContent`))
		must(t, err)
		if !strings.Contains(numbers, "Proposal1€1,000.00") {
			t.Errorf("the chart's numbers after the drop: %q", numbers)
		}
		// Dragging the card again, from its new column, works on the swapped board.
		dragDeal(b, sensors.ID, "negotiation")
		b.run(chromedp.WaitVisible(`.deals-column[data-stage=negotiation] #deal-` + sensors.ID))
	})
	t.Run("a stale drop shows that the deal changed meanwhile and overwrites nothing", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+cold.ID))
		_, err := a.g.UpdateDeal(ctx, cold.ID, tresor.Update{Patch: json.RawMessage(`{"stage":"negotiation"}`)})
		must(t, err)
		dragDeal(b, cold.ID, "proposal")
		if got := b.waitText("#board .error", "changed meanwhile"); !strings.Contains(got, "version_mismatch") {
			t.Errorf("stale drop shows %q", got)
		}
		d, err := a.g.Deal(ctx, cold.ID)
		must(t, err)
		if d.Stage != "negotiation" {
			t.Fatalf("the stale drop overwrote the stage: %q", d.Stage)
		}
	})
	t.Run("a drop on the lost column asks for the reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+fleet.ID))
		dragDeal(b, fleet.ID, "lost")
		focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		must(t, err)
		if focused != "reason-"+fleet.ID+"-lost" {
			t.Errorf("after the drop the focus is on %q, not on the reason", focused)
		}
		d, err := a.g.Deal(ctx, fleet.ID)
		must(t, err)
		if d.Stage != "lead" {
			t.Fatalf("the drop moved the deal without a reason: %q", d.Stage)
		}
	})
	t.Run("marking lost without a reason shows the error at the field", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals"), chromedp.WaitVisible(`#deal-`+fleet.ID),
			chromedp.Focus(`#deal-`+fleet.ID+` summary`), chromedp.KeyEvent(kb.Enter),
			chromedp.Focus(`#deal-`+fleet.ID+` button.deals-lost`), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(`#reason-error-`+fleet.ID))
		if got := b.text(`#reason-error-` + fleet.ID); !strings.Contains(got, "A lost deal needs a reason") {
			t.Errorf("the error reads %q", got)
		}
		invalid, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector("#reason-%s-lost").getAttribute("aria-invalid")`, fleet.ID)))
		must(t, err)
		if invalid != "true" {
			t.Errorf("the reason's field is not marked invalid")
		}
		d, err := a.g.Deal(ctx, fleet.ID)
		must(t, err)
		if d.Stage != "lead" {
			t.Fatalf("the deal moved without a reason: %q", d.Stage)
		}
		b.checkAccessibility("deals board (reason missing)")
		// With a reason chosen by the keyboard the deal is lost.
		b.run(chromedp.Focus(`#reason-`+fleet.ID+`-lost`), chromedp.SetValue(`#reason-`+fleet.ID+`-lost`, "timing"),
			chromedp.Focus(`#deal-`+fleet.ID+` button.deals-lost`), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(`#stage-lost ~ ol #deal-`+fleet.ID))
		if got := b.text(`#deal-` + fleet.ID + ` .deals-reason`); got != "Timing" {
			t.Errorf("the card shows the reason %q", got)
		}
	})
	t.Run("the table sorts by its column heads with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/deals?view=table"), chromedp.WaitVisible(`.deals-table`))
		sorted := func() (string, string) {
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".deals-table th[aria-sort]")].map(th => th.textContent.trim() + "|" + th.getAttribute("aria-sort"))`))
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("%d columns say they are sorted: %q", len(got), got)
			}
			h, s, _ := strings.Cut(got[0], "|")
			return h, s
		}
		titles := func() string {
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".deals-table tbody td:first-child")].map(td => td.textContent)`))
			must(t, err)
			return strings.Join(got, ", ")
		}
		if h, s := sorted(); !strings.HasPrefix(h, "Stage") || s != "ascending" {
			t.Errorf("the table starts sorted by %q %s", h, s)
		}
		b.run(chromedp.Focus(`.deals-table th a[href*="sort=value"]`), chromedp.KeyEvent(kb.Enter))
		b.waitText(`.deals-table th[aria-sort="ascending"]`, "Value")
		if got := titles(); got != "Warehouse sensors, Cold chain <script>, Fleet renewal" {
			t.Errorf("by value ascending: %s", got)
		}
		b.run(chromedp.Focus(`.deals-table th a[href*="sort=-value"]`), chromedp.KeyEvent(kb.Enter))
		b.waitText(`.deals-table th[aria-sort="descending"]`, "Value")
		if got := titles(); got != "Fleet renewal, Cold chain <script>, Warehouse sensors" {
			t.Errorf("by value descending: %s", got)
		}
		b.checkAccessibility("deals table (sorted)")
		b.screenshot("deals-table-en")
	})
}
