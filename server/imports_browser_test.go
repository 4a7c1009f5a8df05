package server_test

import (
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

// connectionsCSV is a small LinkedIn export (Connections.csv): its
// preamble, two people with public profiles, one whose e-mail address only
// connections see, and one without anything to find them by again.
const connectionsCSV = "Notes:\r\n" +
	"\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\r\n" +
	"\r\n" +
	"First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n" +
	"Ada,Lovelace,https://www.linkedin.com/in/ada-lovelace,,Analytical Engines,CTO,31 Jan 2026\r\n" +
	"Grace,Hopper,https://www.linkedin.com/in/grace-hopper,grace@example.org,Navy,Rear Admiral,02 Feb 2026\r\n" +
	"Nobody,Known,,,,,03 Feb 2026\r\n"

// TestImporterRunsADryRunThenTheImport proves the imports page: a sales
// user checks a LinkedIn export in a dry run that stores nothing, sees the
// counts and the rules explained, then runs the import; a file that is not
// an export gets a clear page and stores nothing.
func TestImporterRunsADryRunThenTheImport(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("ines@example.org", tresor.RoleSales)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	connections := file("Connections.csv", connectionsCSV)
	stored := func(t *testing.T) int {
		t.Helper()
		l, err := a.g.Contacts(tresor.WithPurpose(sys, "sales"), tresor.ContactFilter{Page: tresor.Page{Limit: 100}})
		must(t, err)
		return len(l.Items)
	}
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("ines@example.org")
	b0.run(chromedp.Navigate(b0.url+"/imports"), chromedp.WaitVisible(`#purpose-select`),
		chromedp.SetValue(`#purpose-select`, "sales"), chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`#imports-file`))

	t.Run("the form offers only the legal bases of the purpose", func(t *testing.T) {
		b := b0.in(t)
		if got := b.text(".imports-purpose strong"); got != "Sales" {
			t.Fatalf("purpose shown = %q", got)
		}
		opts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#imports-basis option')].map(o => o.value)`))
		must(t, err)
		if strings.Join(opts, ",") != "contract,legitimate_interest,consent" {
			t.Fatalf("legal bases offered for sales: %v", opts)
		}
		b.checkAccessibility("imports")
		b.screenshot("imports-en")
	})
	t.Run("a dry run reports the counts and stores nothing", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#imports-format`, "linkedin"), chromedp.SetValue(`#imports-basis`, "contract"),
			chromedp.SetUploadFiles(`#imports-file`, []string{connections}), chromedp.Click(`#imports-dry`),
			chromedp.WaitVisible(`.imports-report`))
		if got := b.text("#imports-created"); got != "2" {
			t.Errorf("contacts the dry run would create = %q", got)
		}
		report := b.text(".imports-report")
		for _, want := range []string{"nothing has been stored", "not public", "no e-mail address, phone number or handle", "Row 6", "not_public", "no_identifier"} {
			if !strings.Contains(report, want) {
				t.Errorf("the report lacks %q:\n%s", want, report)
			}
		}
		if n := stored(t); n != 0 {
			t.Fatalf("the dry run stored %d contacts", n)
		}
		b.checkAccessibility("imports report")
		b.screenshot("imports-report-en")
	})
	t.Run("the report speaks German", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/lang/de?back=/imports"), chromedp.WaitVisible(`#imports-file`))
		if got := b.text(`label[for=imports-basis]`); got != "Rechtsgrundlage" {
			t.Errorf("the German form's label = %q", got)
		}
		b.checkAccessibility("imports (de)")
		b.screenshot("imports-de")
		b.run(chromedp.SetUploadFiles(`#imports-file`, []string{connections}), chromedp.Click(`#imports-dry`),
			chromedp.WaitVisible(`.imports-report`))
		report := b.text(".imports-report")
		for _, want := range []string{"Probelauf", "noch nichts gespeichert", "nicht öffentlich", "Zeile 6"} {
			if !strings.Contains(report, want) {
				t.Errorf("the German report lacks %q:\n%s", want, report)
			}
		}
		b.checkAccessibility("imports report (de)")
		b.screenshot("imports-report-de")
		b.run(chromedp.Navigate(b.url+"/lang/en?back=/imports"), chromedp.WaitVisible(`#imports-file`),
			chromedp.SetUploadFiles(`#imports-file`, []string{connections}), chromedp.Click(`#imports-dry`))
		// The German page had a report too: wait for the English one, or
		// the next step acts on a page that is going away.
		b.waitText(".imports-report", "nothing has been stored yet")
	})
	t.Run("the import runs with the same file and the contacts exist", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetUploadFiles(`#imports-file`, []string{connections}), chromedp.Click(`#imports-run`),
			chromedp.WaitVisible(`#imports-status`))
		importsWaitDone(b)
		b.run(chromedp.WaitVisible(`.imports-next`))
		if got := b.text("#imports-created"); got != "2" {
			t.Errorf("contacts created = %q", got)
		}
		if got := b.text("#imports-status h2"); got != "The import is done" {
			t.Errorf("state shown = %q", got)
		}
		if n := stored(t); n != 2 {
			t.Fatalf("the import stored %d contacts, want 2", n)
		}
		if got, _ := chromedp.Run(b.ctx, chromedp.AttributeValue(`.imports-next a.button`, "href")); got.Value != "/contacts" {
			t.Errorf("link after the import = %q", got.Value)
		}
		b.checkAccessibility("imports done")
		b.screenshot("imports-done-en")
	})
	t.Run("the history lists the import: when, by whom, which file, what it stored", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-history`))
		row := b.text("#imports-history tbody tr")
		for _, want := range []string{"ines@example.org", "Connections.csv", "LinkedIn", "Sales", "done"} {
			if !strings.Contains(row, want) {
				t.Errorf("the history's row lacks %q: %q", want, row)
			}
		}
		if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#imports-history tbody tr').length`)); n != 1 {
			t.Errorf("history rows = %d, want 1 (a dry run leaves none)", n)
		}
		b.checkAccessibility("imports history")
		b.screenshot("imports-history-en")
	})
	t.Run("a large import shows its progress until it is done, then the history has it", func(t *testing.T) {
		// A browser of its own: a browser's session is limited in time.
		b1 := newChromeFor(t, a)
		b1.language("en")
		b1.signIn("ines@example.org")
		b1.choosePurpose("sales")
		b := b1.in(t)
		var big strings.Builder
		big.WriteString("First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n")
		for i := range 30000 {
			fmt.Fprintf(&big, "Erika,Muster%d,https://www.linkedin.com/in/erika-muster-%d,,Muster GmbH,Einkauf,12 Mar 2024\r\n", i, i)
		}
		large := file("Large.csv", big.String())
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-file`), chromedp.SetValue(`#imports-basis`, "contract"),
			chromedp.SetUploadFiles(`#imports-file`, []string{large}), chromedp.Click(`#imports-dry`), chromedp.WaitVisible(`.imports-report`),
			chromedp.SetUploadFiles(`#imports-file`, []string{large}), chromedp.Click(`#imports-run`), chromedp.WaitVisible(`#imports-status`))
		if state := importsAttr(b, "#imports-status", "data-state"); state == "running" {
			// The page polls every second; without JS the link shows the state anew.
			if importsAttr(b, "#imports-refresh", "href") == "" {
				t.Error("a running import has no link to show its state anew")
			}
			b.checkAccessibility("imports running")
			b.screenshot("imports-running-en")
		} else {
			t.Logf("the import was done before its page showed (state %s)", state)
		}
		importsWaitDone(b)
		if got := b.text("#imports-created"); got != "30,000" {
			t.Errorf("created = %q", got)
		}
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-history`))
		if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#imports-history tbody tr').length`)); n != 2 {
			t.Errorf("history rows = %d, want 2", n)
		}
		b.run(chromedp.Navigate(b.url+"/lang/de?back=/imports"), chromedp.WaitVisible(`#imports-history`))
		if got := b.text("#imports-history thead"); !strings.Contains(got, "Begonnen") {
			t.Errorf("the German history's head = %q", got)
		}
		b.checkAccessibility("imports history (de)")
		b.screenshot("imports-history-de")
		b.run(chromedp.Navigate(b.url+"/lang/en?back=/imports"), chromedp.WaitVisible(`#imports-history`))
	})
	t.Run("a malformed file gets a clear page and stores nothing", func(t *testing.T) {
		b := b0.in(t)
		before := stored(t)
		bad := file("broken.csv", "this is not,an export\n\"unterminated\n")
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-file`),
			chromedp.SetUploadFiles(`#imports-file`, []string{bad}), chromedp.Click(`#imports-dry`),
			chromedp.WaitVisible(`.imports-problem`))
		if got := b.text(".imports-problem h2"); !strings.Contains(got, "cannot be read") {
			t.Errorf("problem shown = %q", got)
		}
		if got := b.text(".imports-problem"); !strings.Contains(got, "validation_failed") || !strings.Contains(got, "Nothing has been stored") {
			t.Errorf("problem page = %q", got)
		}
		if n := stored(t); n != before {
			t.Fatalf("contacts after the malformed file: %d, before %d", n, before)
		}
		b.checkAccessibility("imports malformed")
		b.screenshot("imports-refused-en")
	})
	t.Run("a file of the wrong type gets a clear page", func(t *testing.T) {
		b := b0.in(t)
		png := file("photo.csv", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-file`),
			chromedp.SetUploadFiles(`#imports-file`, []string{png}), chromedp.Click(`#imports-dry`),
			chromedp.WaitVisible(`.imports-problem`))
		if got := b.text(".imports-problem"); !strings.Contains(got, "not a file of the chosen format") || !strings.Contains(got, "unsupported_media_type") {
			t.Errorf("problem page = %q", got)
		}
	})
	t.Run("a generic CSV file shows its columns for the mapping", func(t *testing.T) {
		b := b0.in(t)
		kontakte := file("kontakte.csv", "Vorname;Nachname;E-Mail;Firma\r\nAda;Lovelace;ada@example.org;Analytical Engines\r\n")
		b.run(chromedp.Navigate(b.url+"/imports"), chromedp.WaitVisible(`#imports-file`), chromedp.SetValue(`#imports-format`, "csv"),
			chromedp.SetUploadFiles(`#imports-file`, []string{kontakte}), chromedp.Click(`#imports-dry`),
			chromedp.WaitVisible(`.imports-columns`))
		if got := b.text(".imports-columns ul"); !strings.Contains(got, "E-Mail") || !strings.Contains(got, "Firma") {
			t.Errorf("columns shown = %q", got)
		}
		b.checkAccessibility("imports csv columns")
		b.screenshot("imports-columns-en")
	})
}

// importsAttr is an attribute of the first element the selector finds ("" if none).
// importsWaitDone waits until the import's page shows it done: the page
// polls every second; should a poll be lost (a loaded machine), the page is
// shown anew, as its link does without JavaScript.
func importsWaitDone(b *chrome) {
	b.t.Helper()
	for i := 0; i < 120; i++ {
		if importsAttr(b, "#imports-status", "data-state") == "done" {
			return
		}
		time.Sleep(500 * time.Millisecond)
		if i%10 == 9 {
			b.run(chromedp.Reload(), chromedp.WaitVisible(`#imports-status`))
		}
	}
	b.t.Fatalf("the import is not done after a minute: state %q", importsAttr(b, "#imports-status", "data-state"))
}

func importsAttr(b *chrome, sel, name string) string {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		return ""
	}
	return got.Value
}
