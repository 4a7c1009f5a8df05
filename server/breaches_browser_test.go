package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestBreachRegisterPage proves the DPO's breach register page: each breach
// with its 72-hour clock — time left for a fresh one, "overdue by" for one
// past its deadline, stopped once the authority was notified — and axe
// finds no violation.
func TestBreachRegisterPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	// One officer per browser: the second factor is enrolled at the first sign-in.
	officers := map[string]string{"en": "dana@example.org", "de": "dora@example.org"}
	for _, e := range officers {
		a.userWithPassword(e, tresor.RoleDPO)
	}
	dpo := tresor.WithPurpose(sys, "data_protection")
	fresh := &tresor.Breach{Title: "Laptop im Zug vergessen", AwareAt: time.Now().Add(-10 * time.Hour), Risk: tresor.BreachRiskHigh,
		BreachContent: tresor.BreachContent{Description: "Ein Laptop mit Kundendaten"}, PeopleAffected: 120, RecordsAffected: 480}
	late := &tresor.Breach{Title: "Fehlversand Rechnungen", AwareAt: time.Now().Add(-80 * time.Hour), Risk: tresor.BreachRiskSome,
		BreachContent: tresor.BreachContent{Description: "Rechnungen an falsche Empfänger"}, PeopleAffected: 3, RecordsAffected: 3}
	done := &tresor.Breach{Title: "Phishing-Konto", AwareAt: time.Now().Add(-30 * time.Hour), Risk: tresor.BreachRiskSome,
		BreachContent: tresor.BreachContent{Description: "Ein Konto übernommen"}}
	for _, b := range []*tresor.Breach{fresh, late, done} {
		must(t, a.g.CreateBreach(dpo, b))
	}
	_, err := a.g.SetBreachState(dpo, done.ID, tresor.BreachAuthorityNotified, "", 0)
	must(t, err)

	for _, lang := range []string{"en", "de"} {
		b0 := newChromeFor(t, a)
		b0.language(lang)
		b0.signInWithSecondFactor(officers[lang])
		b0.choosePurpose("data_protection")
		t.Run("the register shows the 72-hour clock of each breach ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/dpo/breaches"), chromedp.WaitVisible(`#breaches`))
			want := map[string][]string{
				"en": {"left: 61 h", "overdue by 8 h", "stopped (notified)", "high risk"},
				"de": {"noch 61 h", "überfällig seit 8 h", "angehalten (gemeldet)", "hohes Risiko"},
			}[lang]
			rows := []string{b.text("#breach-" + fresh.ID), b.text("#breach-" + late.ID), b.text("#breach-" + done.ID), b.text("#breach-" + fresh.ID)}
			for i, w := range want {
				if !strings.Contains(rows[i], w) {
					t.Errorf("row %d = %q, want %q", i, rows[i], w)
				}
			}
			if strings.Contains(b.text("#breaches"), "Kundendaten") {
				t.Error("the description is shown in the list")
			}
			b.checkAccessibility("breach register " + lang)
			b.screenshot("dpo-breaches-" + lang)
		})
	}
}
