package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestDPODay proves the DPO cockpit's lists on a working day: the
// data-protection officer sees a restricted and an objected contact (each
// linking to the contact's page) and the legal holds in force, and finds,
// by searching the audit trail by a contact in a time range, the read of
// that contact by a sales user; a range that ends before it starts is
// refused next to the fields.
func TestDPODay(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	// One officer per browser: a browser's session is limited in time.
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	a.userWithPassword("dora@example.org", tresor.RoleDPO)
	a.userWithPassword("dirk@example.org", tresor.RoleDPO)
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	restricted := seedContact(t, a, `{"given_name":"Rita","family_name":"Ruhig","emails":["rita@example.de"],"legal_basis":"contract"}`)
	objected := seedContact(t, a, `{"given_name":"Otto","family_name":"Ohne","emails":["otto@example.de"],"legal_basis":"contract"}`)
	read := seedContact(t, a, `{"given_name":"Lena","family_name":"Lesbar","emails":["lena@example.de"],"legal_basis":"contract"}`)
	for _, c := range []call{
		{method: "POST", path: "/api/v1/contacts/" + restricted + "/restriction", body: `{"restricted":true}`, role: tresor.RoleDPO, purpose: "data_protection"},
		{method: "POST", path: "/api/v1/contacts/" + restricted + "/holds", body: `{"reason":"Rechtsstreit 2026-17"}`, role: tresor.RoleDPO, purpose: "data_protection"},
		{method: "POST", path: "/api/v1/contacts/" + objected + "/objection", role: tresor.RoleDPO, purpose: "data_protection"},
	} {
		if r := a.do(c); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// Sam, in sales, reads Lena's contact.
	sam, err := a.g.User(sys, "sam@example.org")
	must(t, err)
	samCtx := tresor.WithPurpose(tresor.WithActor(sys, &tresor.Actor{Kind: tresor.ActorUser, UserID: sam.ID, Email: sam.Email, Roles: sam.Roles}), "sales")
	_, err = a.g.Contact(samCtx, read)
	must(t, err)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")

	t.Run("the cockpit shows a restricted and an objected contact, each linking to its page", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#look-through`), chromedp.Click(`#look-through`),
			chromedp.WaitVisible(`#restricted-contacts`), chromedp.WaitVisible(`#objected-contacts`))
		if got := b.text("#restricted-contacts tbody"); !strings.Contains(got, "Rita Ruhig") || strings.Contains(got, "Otto") || strings.Contains(got, "Lena") {
			t.Errorf("restricted = %q", got)
		}
		if got := b.text("#objected-contacts tbody"); !strings.Contains(got, "Otto Ohne") || strings.Contains(got, "Rita") || strings.Contains(got, "Lena") {
			t.Errorf("objected = %q", got)
		}
		if got := importsAttr(b, "#restricted-contacts tbody a", "href"); got != "/contacts/"+restricted {
			t.Errorf("the restricted contact links to %q", got)
		}
		if got := importsAttr(b, "#objected-contacts tbody a", "href"); got != "/contacts/"+objected {
			t.Errorf("the objected contact links to %q", got)
		}
	})
	t.Run("the cockpit shows the legal holds in force", func(t *testing.T) {
		b := b0.in(t)
		if got := b.text("#active-holds tbody"); !strings.Contains(got, "Rechtsstreit 2026-17") || !strings.Contains(got, restricted) {
			t.Errorf("active holds = %q", got)
		}
		if got := importsAttr(b, "#active-holds tbody a", "href"); got != "/contacts/"+restricted {
			t.Errorf("the hold links to %q", got)
		}
		b.checkAccessibility("dpo lists")
		b.screenshot("dpo-day-en")
	})
	today := time.Now().UTC().Format(time.DateOnly)
	b0 = newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dora@example.org")
	b0.choosePurpose("data_protection")
	b0.run(chromedp.Navigate(b0.url + "/dpo"))
	t.Run("the audit search by the contact finds the sales user's read", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#audit-contact`, read), chromedp.SetValue(`#audit-since`, today), chromedp.SetValue(`#audit-until`, today),
			chromedp.Submit(`#audit-contact`), chromedp.WaitVisible(`#audit-entries`))
		got := b.text("#audit-entries tbody")
		if !strings.Contains(got, "user:"+sam.ID) || !strings.Contains(got, "contact.read") || !strings.Contains(got, "Sales") {
			t.Fatalf("audit entries for the contact = %q", got)
		}
		if got := importsAttr(b, "#audit-entries tbody a", "href"); got != "/contacts/"+read {
			t.Errorf("the entry links to %q", got)
		}
		b.checkAccessibility("dpo audit search")
		b.screenshot("dpo-audit-en")
	})
	t.Run("a range that ends before it starts is refused next to the fields", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo?contact="+read+"&since=2026-12-02&until=2026-11-01"), chromedp.WaitVisible(`#audit-date-error`))
		if got := b.text("#audit-date-error"); !strings.Contains(got, "YYYY-MM-DD") {
			t.Errorf("error = %q", got)
		}
		if got := importsAttr(b, "#audit-until", "value"); got != "2026-11-01" {
			t.Errorf("the typed day was not kept: %q", got)
		}
	})
	b0 = newChromeFor(t, a)
	b0.language("de")
	b0.signInWithSecondFactor("dirk@example.org")
	b0.choosePurpose("data_protection")
	t.Run("the cockpit speaks German", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#look-through`), chromedp.Click(`#look-through`),
			chromedp.WaitVisible(`#restricted-contacts`))
		if got := b.text("#h-restricted"); got != "Verarbeitung eingeschränkt" {
			t.Errorf("German heading = %q", got)
		}
		b.run(chromedp.SendKeys(`#audit-contact`, read), chromedp.Submit(`#audit-contact`), chromedp.WaitVisible(`#audit-entries`))
		b.checkAccessibility("dpo (de)")
		b.screenshot("dpo-day-de")
	})
}
