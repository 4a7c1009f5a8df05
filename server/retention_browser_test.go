package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// TestRetentionPreviewPage proves the cockpit's retention page: the preview
// lists who the next run would erase and who a legal hold keeps, changing
// nothing; the run needs the DPO's confirmation; confirmed, it erases what
// the preview showed; and axe finds no violation, in English and German.
func TestRetentionPreviewPage(t *testing.T) {
	// The clock runs, first 1,200 days behind (the old contacts), then on time.
	var behind atomic.Int64
	behind.Store(int64(1200 * 24 * time.Hour))
	clock := func() time.Time { return time.Now().Add(-time.Duration(behind.Load())).UTC() }
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(clock))
	sales := tresor.WithPurpose(sys, "sales")
	old := func(given string) *tresor.Contact {
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: "Altbestand", Emails: []string{strings.ToLower(given) + "@example.org"}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(sales, c))
		return c
	}
	gone, held := old("Gerda"), old("Hanna")
	behind.Store(0)
	fresh := old("Frida")
	dpoCtx := tresor.WithPurpose(sys, "data_protection")
	_, err := a.g.PlaceHold(dpoCtx, held.ID, "Rechtsstreit Az. 3 O 12/26")
	must(t, err)
	officers := map[string]string{"en": "rita@example.org", "de": "rolf@example.org", "run": "rosa@example.org"}
	for _, e := range officers {
		a.userWithPassword(e, tresor.RoleDPO)
	}

	for _, lang := range []string{"en", "de"} {
		b0 := newChromeFor(t, a)
		// Each officer enrols the second factor at the first sign-in.
		b0.language(lang)
		b0.signInWithSecondFactor(officers[lang])
		b0.choosePurpose("data_protection")
		t.Run("the preview lists who would go and who a hold keeps, changing nothing ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.Click(`#dpo-retention`), chromedp.WaitVisible(`#retention-preview`),
				chromedp.Click(`#retention-preview`), chromedp.WaitVisible(`#retention-report`))
			if got := b.text("#retention-erased"); got != "1" {
				t.Errorf("would erase %q, want 1", got)
			}
			if got := b.text("#retention-held"); got != "1" {
				t.Errorf("held %q, want 1", got)
			}
			actions := b.text("#retention-actions")
			if !strings.Contains(actions, gone.ID) || strings.Contains(actions, fresh.ID) || strings.Contains(actions, held.ID) {
				t.Errorf("the people listed: %q", actions)
			}
			if _, err := a.g.Contact(dpoCtx, gone.ID); err != nil {
				t.Errorf("the preview erased: %v", err)
			}
			b.checkAccessibility("retention preview " + lang)
			b.screenshot("dpo-retention-" + lang)
		})
	}
	t.Run("the run needs the confirmation, and a confirmed run erases what the preview showed, and only that", func(t *testing.T) {
		b := newChromeFor(t, a).in(t)
		b.language("en")
		b.signInWithSecondFactor(officers["run"])
		b.choosePurpose("data_protection")
		// Without the box (the browser would insist; a hostile client need not).
		b.run(chromedp.Navigate(b.url+"/dpo/retention?preview=1"), chromedp.WaitVisible(`#retention-run`))
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("retention-confirm").required = false`)); err != nil {
			t.Fatal(err)
		}
		b.run(chromedp.Click(`#retention-run`), chromedp.WaitVisible(`#retention-confirm-error`))
		if _, err := a.g.Contact(dpoCtx, gone.ID); err != nil {
			t.Fatalf("an unconfirmed run erased: %v", err)
		}
		b.run(chromedp.Navigate(b.url+"/dpo/retention?preview=1"), chromedp.WaitVisible(`#retention-run`),
			chromedp.Click(`#retention-confirm`), chromedp.Click(`#retention-run`))
		b.waitText("#h-report", "carried out")
		if _, err := a.g.Contact(dpoCtx, gone.ID); tresor.ErrorCode(err) != tresor.ECErased {
			t.Errorf("the expired contact: %v", err)
		}
		for _, c := range []*tresor.Contact{held, fresh} {
			if _, err := a.g.Contact(dpoCtx, c.ID); err != nil {
				t.Errorf("%s: %v", c.GivenName, err)
			}
		}
	})
}
