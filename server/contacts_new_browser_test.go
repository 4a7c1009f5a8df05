package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestADealAndACaseOpenFromTheContactPage proves the contact page's two
// forms: a deal opens in the first stage of the pipeline, a case for the
// service agent; a refused form keeps what was typed and says why.
func TestADealAndACaseOpenFromTheContactPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales, tresor.RoleService)
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster", Emails: []string{"erika@example.de"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("kim@example.org")
	b0.choosePurpose("sales")

	t.Run("a deal with a value that is no number is refused and kept", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#deal-title`),
			chromedp.SendKeys(`#deal-title`, "Fleet renewal"), chromedp.SendKeys(`#deal-value`, "twelve"), chromedp.Click(`#deal-submit`),
			chromedp.WaitVisible(`#deal-error`))
		v, err := chromedp.Run(b.ctx, chromedp.Value(`#deal-title`))
		must(t, err)
		if v != "Fleet renewal" {
			t.Fatalf("the title typed is gone: %q", v)
		}
		b.checkAccessibility("contact (a refused deal)")
	})
	t.Run("a deal opens in the pipeline's first stage", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#deal-value`, "12500.00"), chromedp.Focus(`#deal-submit`), chromedp.KeyEvent("\r"))
		b.waitText("main", "Fleet renewal")
		l, err := a.g.Deals(tresor.WithPurpose(sys, "sales"), tresor.DealFilter{ContactID: c.ID, Page: tresor.Page{Limit: 10}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Stage != "lead" || l.Items[0].Value != "12500.00" {
			t.Fatalf("deals %+v", l.Items)
		}
	})
	t.Run("a case opens for the service agent", func(t *testing.T) {
		b := b0.in(t)
		b.choosePurpose("service")
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#newcase-subject`),
			chromedp.SendKeys(`#newcase-subject`, "Invoice 4711 is wrong"), chromedp.Focus(`#newcase-submit`), chromedp.KeyEvent("\r"))
		if got := b.waitText("#case-subject", "Invoice 4711"); !strings.Contains(got, "Invoice 4711 is wrong") {
			t.Fatalf("case page shows %q", got)
		}
	})
}
