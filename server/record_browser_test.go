package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestRecordPage proves the DPO's way to the record of processing
// activities: the cockpit links to it, and the page shows the controller,
// every purpose with its transfers, the measures as configured and the
// information texts (each opened from its summary), in English and German.
func TestRecordPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")

	t.Run("the cockpit links to the record", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#dpo-record`), chromedp.Click(`#dpo-record`), chromedp.WaitVisible(`#record-activities`))
		if got := b.text("#record-parties"); !strings.Contains(got, "Beispiel GmbH") || !strings.Contains(got, "dsb@example.org") {
			t.Fatalf("parties = %q", got)
		}
	})
	t.Run("the page shows the transfer, the measures and the information texts", func(t *testing.T) {
		b := b0.in(t)
		if got := b.text("#activity-pr .record-transfers"); !strings.Contains(got, "company.bsky.social") || !strings.Contains(got, "US") {
			t.Errorf("pr transfers = %q", got)
		}
		if got := b.text("#record-measure-list"); !strings.Contains(got, "AES-256-GCM") || !strings.Contains(got, "No backup recipient") {
			t.Errorf("measures = %q", got)
		}
		b.run(chromedp.Click(`#text-marketing summary`))
		if got := b.text("#text-marketing"); !strings.Contains(got, "withdraw a consent") {
			t.Errorf("marketing text = %q", got)
		}
		b.checkAccessibility("record")
		b.screenshotBoth("dpo-record")
	})
	t.Run("the record opens as a document of its own, its stylesheet allowed by the CSP", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`#record-document`), chromedp.WaitVisible(`#record-measure-list`))
		width, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).maxWidth`))
		if err != nil || width != "960px" {
			t.Fatalf("the document's stylesheet did not apply: max-width %q (%v)", width, err)
		}
		b.checkAccessibility("record document")
	})
}
