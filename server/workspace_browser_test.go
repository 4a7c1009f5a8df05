package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// AxeEnv names axe-core's axe.min.js (npm, pinned in .ci/run); with
// RequireBrowserEnv set, a missing file fails the browser tests.
const AxeEnv = "TRESOR_TEST_AXE"

// chrome drives one Chromium for a test: steps that fail the test, the
// accessibility check and the screenshots.
type chrome struct {
	t   *testing.T
	ctx context.Context
	url string
}

func newChromeFor(t *testing.T, a *api) *chrome {
	return &chrome{t: t, ctx: newChrome(t), url: a.url}
}

// in returns the browser for a subtest, so that its failures end the subtest.
func (b *chrome) in(t *testing.T) *chrome {
	c := *b
	c.t = t
	return &c
}

func (b *chrome) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *chrome) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimSpace(v)
}

// waitText waits until the element's text contains want: after a click
// that loads a page, the old page may still show the element for a moment.
func (b *chrome) waitText(sel, want string) string {
	b.t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := chromedp.Run(b.ctx, chromedp.Text(sel, chromedp.AtLeast(0)))
		if err == nil {
			if got = strings.TrimSpace(v); strings.Contains(got, want) {
				return got
			}
		}
	}
	b.t.Fatalf("%s shows %q, not %q", sel, got, want)
	return got
}

// screenshotBoth takes the page's screenshot in English, as it is shown,
// then switches to German with the header's link, checks the German page's
// accessibility, takes it too, and switches back.
func (b *chrome) screenshotBoth(name string) {
	b.t.Helper()
	b.screenshot(name + "-en")
	b.switchLanguage("de")
	b.checkAccessibility(name + " (de)")
	b.screenshot(name + "-de")
	b.switchLanguage("en")
}

// switchLanguage follows the header's language link and waits for the page
// in that language.
func (b *chrome) switchLanguage(lang string) {
	b.t.Helper()
	b.run(chromedp.Click(`header .tools a[lang=` + lang + `]`))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState === "complete" ? document.documentElement.lang : ""`))
		if err == nil && got == lang {
			return
		}
	}
	b.t.Fatalf("the page did not switch to %s", lang)
}

// choosePurpose chooses the purpose in the header of the start page.
func (b *chrome) choosePurpose(purpose string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(`#purpose-select`),
		chromedp.SetValue(`#purpose-select`, purpose), chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`#start-purpose strong`))
}

// language chooses the pages' language with the switch's own link.
func (b *chrome) language(lang string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url + "/lang/" + lang + "?back=/login"))
}

// signIn signs the user in with the password of the test users.
func (b *chrome) signIn(email string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url+"/login"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email), chromedp.SendKeys(`#password`, webPassword),
		chromedp.Submit(`#password`), chromedp.WaitVisible(`header form[action="/logout"]`))
}

// axeViolation is what axe-core reports of one rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the page shown and fails the test on
// every serious or critical violation (WCAG 2 A and AA and best practices).
func (b *chrome) checkAccessibility(page string) {
	b.t.Helper()
	path := os.Getenv(AxeEnv)
	src, err := os.ReadFile(path)
	if path == "" || err != nil {
		if os.Getenv(RequireBrowserEnv) == "1" {
			b.t.Fatalf("%s must name axe-core's axe.min.js (%v)", AxeEnv, err)
		}
		b.t.Logf("accessibility check of %s skipped: set %s to axe-core's axe.min.js", page, AxeEnv)
		return
	}
	b.run(chromedp.Evaluate[chromedp.Void](string(src)))
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatal(err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("axe-core answered %q: %v", out, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, fmt.Sprint(n.Target...))
			}
			b.t.Errorf("%s: axe-core %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
		}
	}
}

// screenshot writes the page shown to docs/screenshots/NAME.png, for the
// README and for a person to look at.
func (b *chrome) screenshot(name string) {
	b.t.Helper()
	b.run(chromedp.EmulateViewport(1280, 860))
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestWorkspaceShowsThePurposeAndSwitchesIt proves the workspace's first
// rules: a signed-in person starts on "My day", chooses the purpose they
// work for in the header (only one their roles allow), sees it on every
// page, and every switch is audited; the pages speak German and English.
func TestWorkspaceShowsThePurposeAndSwitchesIt(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales, tresor.RoleService)
	kim, err := a.g.User(sys, "kim@example.org")
	must(t, err)
	close := time.Now().UTC().Format(time.DateOnly)
	must(t, a.g.CreateDeal(tresor.WithPurpose(sys, "sales"), &tresor.Deal{Title: "Muster GmbH renewal", Stage: "lead",
		Value: "12345.67", Currency: "EUR", OwnerID: kim.ID, ExpectedClose: tresor.Date(close)}))
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("kim@example.org")

	t.Run("the start page asks for a purpose first", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(`#purpose-select`))
		if got := b.text("main .notice"); !strings.Contains(got, "Choose the purpose") {
			t.Fatalf("notice = %q", got)
		}
		b.checkAccessibility("start (no purpose)")
	})
	t.Run("the purpose is chosen in the header and shown", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#purpose-select`, "sales"), chromedp.Submit(`#purpose-select`),
			chromedp.WaitVisible(`#start-purpose strong`))
		if got := b.text("#start-purpose strong"); got != "Sales" {
			t.Fatalf("purpose shown = %q", got)
		}
		b.checkAccessibility("start")
		b.screenshot("start-en")
	})
	t.Run("my day lists my deals expected to close this month", func(t *testing.T) {
		b := b0.in(t)
		if got := b.text("#start-deals + table"); !strings.Contains(got, "Muster GmbH renewal") || !strings.Contains(got, "€12,345.67") {
			t.Fatalf("deals on my day = %q", got)
		}
	})
	t.Run("the navigation offers the areas of the person's roles", func(t *testing.T) {
		b := b0.in(t)
		nav := b.text("nav")
		for _, want := range []string{"Contacts", "Deals", "Service inbox"} {
			if !strings.Contains(nav, want) {
				t.Errorf("navigation %q lacks %s", nav, want)
			}
		}
		for _, not := range []string{"Administration", "Data protection"} {
			if strings.Contains(nav, not) {
				t.Errorf("navigation %q offers %s to sales and service", nav, not)
			}
		}
	})
	t.Run("the language switch speaks German", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`header .tools a[lang=de]`))
		if got := b.waitText("#start-purpose strong", "Vertrieb"); got != "Vertrieb" {
			t.Fatalf("purpose in German = %q", got)
		}
		if got := b.text("h1"); got != "Mein Tag" {
			t.Fatalf("title in German = %q", got)
		}
		if got := b.text("#start-deals + table"); !strings.Contains(got, "12.345,67 €") {
			t.Fatalf("the deal's value in German = %q", got)
		}
		b.checkAccessibility("start (de)")
		b.screenshot("start-de")
	})
	t.Run("every switch of the purpose is audited", func(t *testing.T) {
		l, err := a.g.AuditLog(sys, tresor.AuditFilter{Action: "session.purpose", Page: tresor.Page{Limit: 10}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Purpose != "sales" {
			t.Fatalf("audit entries %+v", l.Items)
		}
	})
	t.Run("a purpose the roles do not allow is refused", func(t *testing.T) {
		b := b0.in(t)
		// A crafted form: the page offers only allowed purposes.
		b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('#purpose-select').add(new Option('x', 'marketing')); document.querySelector('#purpose-select').value = 'marketing'`),
			chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`main p`))
		if got := b.text("main p"); !strings.Contains(got, "marketing") {
			t.Fatalf("refusal shown = %q", got)
		}
	})
}
