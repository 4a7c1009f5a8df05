package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestDPORestrictsAContactOnItsPage proves the contact page's data
// protection actions: only the data-protection purpose is offered them;
// a restriction made there hides the person from sales at once, and an
// objection suppresses them for marketing.
func TestDPORestrictsAContactOnItsPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	a.userWithPassword("kim@example.org", tresor.RoleSales)
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster", Emails: []string{"erika@example.de"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))

	sales := signedInAs(t, a, "kim@example.org")
	t.Run("sales is not offered the data-protection actions", func(t *testing.T) {
		p := sales.get("/contacts/" + c.ID)
		if p.status != http.StatusOK || strings.Contains(p.body, `id="contacts-dp"`) {
			t.Fatalf("sales sees %d, data-protection panel %v", p.status, strings.Contains(p.body, `id="contacts-dp"`))
		}
	})

	b0 := newChromeFor(t, a)
	b0.language("de")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")
	t.Run("the DPO restricts processing with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#dp-restrict`),
			chromedp.Focus(`#dp-restrict`), chromedp.KeyEvent("\r"))
		b.waitText("main .notice", "eingeschränkt")
		b.checkAccessibility("contact (data protection, de)")
		b.screenshot("contact-dpo-de")
	})
	t.Run("the restricted person is hidden from sales at once", func(t *testing.T) {
		p := sales.get("/contacts/" + c.ID)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "contact_restricted") {
			t.Fatalf("sales reads the restricted contact: %d %.300s", p.status, p.body)
		}
	})
	t.Run("the DPO records an objection", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Focus(`#dp-object`), chromedp.KeyEvent("\r"))
		b.waitText("main .notice", "Widerspruch")
		stored, err := a.g.Contact(tresor.WithPurpose(sys, "data_protection"), c.ID)
		must(t, err)
		if stored.ObjectedAt == nil || stored.RestrictedAt == nil {
			t.Fatalf("objected %v restricted %v", stored.ObjectedAt, stored.RestrictedAt)
		}
	})
	t.Run("an erasure reason that names the person is refused at the field, keeping it", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#erase-reason`),
			chromedp.SendKeys(`#erase-reason`, "Antrag von erika@example.de"), chromedp.Click(`#erase-confirm`),
			chromedp.Focus(`#dp-erase`), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#erase-error`))
		if got := b.text("#erase-error"); !strings.Contains(got, "reason_personal") {
			t.Fatalf("error = %q", got)
		}
		kept, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#erase-reason').value`))
		must(t, err)
		if kept != "Antrag von erika@example.de" {
			t.Errorf("the reason typed is gone: %q", kept)
		}
		b.checkAccessibility("contact (erasure refused, de)")
		if _, err := a.g.Contact(tresor.WithPurpose(sys, "data_protection"), c.ID); err != nil {
			t.Fatalf("the refused erasure erased: %v", err)
		}
	})
	t.Run("the DPO erases the person, who is found no more", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#erase-reason`),
			chromedp.SendKeys(`#erase-reason`, "Antrag nach Art. 17 vom 2. Dezember"), chromedp.Click(`#erase-confirm`),
			chromedp.Focus(`#dp-erase`), chromedp.KeyEvent("\r"))
		b.waitText("main .notice", "gelöscht")
		_, err := a.g.Contact(tresor.WithPurpose(sys, "data_protection"), c.ID)
		if tresor.ErrorCode(err) != tresor.ECErased {
			t.Fatalf("after the erasure: %v", err)
		}
		l, err := a.g.Contacts(tresor.WithPurpose(sys, "data_protection"), tresor.ContactFilter{Query: "erika muster"})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatalf("the search still finds the erased person: %d", len(l.Items))
		}
	})
}
