package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestMarketerPreviewsACampaignThenSendsIt proves the campaign pages'
// rules: nothing is sent before the pre-flight page shows whom the campaign
// reaches and whom it leaves out per reason; a form with an error keeps
// what was typed; sending reaches only those with consent.
func TestMarketerPreviewsACampaignThenSendsIt(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	mk := tresor.WithPurpose(sys, "marketing")
	var ids []string
	for _, p := range []struct{ given, email string }{{"Erika", "erika@example.de"}, {"Hans", "hans@example.de"}} {
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: p.given, FamilyName: "Muster", Emails: []string{p.email}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
		must(t, a.g.CreateContact(mk, c))
		ids = append(ids, c.ID)
	}
	_, err := a.g.RecordConsent(mk, ids[0], tresor.ConsentRequest{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant,
		Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
	must(t, err)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("mia@example.org")
	b0.choosePurpose("marketing")

	t.Run("a form with an error keeps what was typed", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/campaigns"), chromedp.WaitVisible(`#campaign-name`),
			chromedp.SendKeys(`#campaign-subject-de`, "Neuigkeiten im Dezember"), chromedp.Click(`#campaign-create`),
			chromedp.WaitVisible(`.field-error`))
		v, err := chromedp.Run(b.ctx, chromedp.Value(`#campaign-subject-de`))
		must(t, err)
		if v != "Neuigkeiten im Dezember" {
			t.Fatalf("the subject typed is gone: %q", v)
		}
		b.checkAccessibility("campaigns (with errors)")
	})
	t.Run("the pre-flight page shows whom it reaches and whom not, per reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#campaign-name`, "December news"), chromedp.SendKeys(`#campaign-body-de`, "Was es Neues gibt."),
			chromedp.Click(`#campaign-create`), chromedp.WaitVisible(`#campaign-eligible`))
		if got := b.text("#campaign-eligible"); !strings.HasSuffix(got, "1") {
			t.Fatalf("eligible = %q", got)
		}
		if got := b.text("#campaign-excluded"); !strings.Contains(got, "1") || !strings.Contains(strings.ToLower(got), "consent") {
			t.Fatalf("excluded = %q", got)
		}
		if got := b.text("#campaign-sample"); !strings.Contains(got, "Erika") || strings.Contains(got, "Hans") {
			t.Fatalf("sample = %q", got)
		}
		if to := campaignMail(a); len(to) != 0 {
			t.Fatalf("mail went to %v before sending", to)
		}
		b.checkAccessibility("campaign pre-flight")
		b.screenshot("campaign-preflight-en")
	})
	t.Run("sending reaches only the person who consented", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Focus(`#campaign-send`), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#campaign-report`))
		if to := campaignMail(a); len(to) != 1 || to[0] != "erika@example.de" {
			t.Fatalf("mail went to %v", campaignMail(a))
		}
		b.checkAccessibility("campaign sent")
	})
	t.Run("the pre-flight page speaks German", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`header .tools a[lang=de]`), chromedp.WaitVisible(`#campaigns`),
			chromedp.Click(`#campaigns a`), chromedp.WaitVisible(`#campaign-name`))
		if got := b.text("h1"); got != "Kampagne" {
			t.Fatalf("title = %q", got)
		}
		b.screenshot("campaign-preflight-de")
	})
}

// campaignMail lists the recipients of the mails that were not about an
// account (the test users get a notice when their password is set).
func campaignMail(a *api) []string {
	var to []string
	for _, m := range a.mail.all() {
		if !strings.HasSuffix(m.To, "@example.org") {
			to = append(to, m.To)
		}
	}
	return to
}
