package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tresor"
	"tresor/datadir"
)

// TestSalespersonWorksWithAContact proves the contacts area's rules: a
// salesperson working for sales finds a contact by e-mail address, opens
// it and logs a call with the keyboard alone, and sees it on the timeline;
// a marketer sees the postal address withheld, with its category and why,
// in English and German; every page passes axe-core.
func TestSalespersonWorksWithAContact(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	sales := tresor.WithPurpose(sys, "sales")
	erika := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann",
		Emails: []string{"erika@example.org"}, SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@erika@social.example"}}, Phones: []string{"+49301234567"}, Organization: "Beispiel GmbH", Position: "Einkaufsleiterin",
		PostalAddress: &tresor.PostalAddress{Street: "Unter den Linden 1", PostalCode: "10117", City: "Berlin", Country: "DE"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract, Source: tresor.SourceManual}}
	must(t, a.g.CreateContact(sales, erika))
	_, err := a.g.RecordConsent(tresor.WithPurpose(sys, "marketing"), erika.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
		Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "newsletter v1"}})
	must(t, err)
	other := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Max", FamilyName: "Muster", Emails: []string{"max@example.org"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(sales, other))

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")

	t.Run("without a purpose the list explains how to choose one", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts"), chromedp.WaitVisible(`#contacts-no-purpose`))
		if got := b.text("#contacts-no-purpose"); !strings.Contains(got, "declared purpose") {
			t.Fatalf("explanation = %q", got)
		}
		b.checkAccessibility("contacts (no purpose)")
	})
	t.Run("the list shows the contacts the purpose may see", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#purpose-select`, "sales"), chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`table.contacts-list`))
		list := b.text("table.contacts-list")
		for _, want := range []string{"Erika Mustermann", "Beispiel GmbH", "Einkaufsleiterin", "erika@example.org", "Max Muster"} {
			if !strings.Contains(list, want) {
				t.Errorf("list %q lacks %q", list, want)
			}
		}
		if got := b.text("#contacts-search-help"); !strings.Contains(got, "one typo is forgiven") {
			t.Errorf("search help = %q", got)
		}
		b.checkAccessibility("contacts")
		b.screenshot("contacts-list-en")
	})
	t.Run("a salesperson finds a contact by name, folded, and by e-mail", func(t *testing.T) {
		b := b0.in(t)
		for _, q := range []string{"mustermann erika", "MÜSTERMANN", "Erika@Example.org"} {
			b.run(chromedp.Navigate(b.url+"/contacts"), chromedp.WaitVisible(`#contacts-q`),
				chromedp.SendKeys(`#contacts-q`, q), chromedp.Submit(`#contacts-q`), chromedp.WaitVisible(`#contacts-total`))
			list := b.text("table.contacts-list tbody")
			if !strings.Contains(list, "Erika Mustermann") || strings.Contains(list, "Max Muster") {
				t.Fatalf("search %q gave %q", q, list)
			}
		}
		if got := b.text("#contacts-total"); !strings.HasPrefix(got, "1 found") {
			t.Errorf("total = %q", got)
		}
		b.checkAccessibility("contacts (search)")
		b.screenshotBoth("contacts-search")
	})
	t.Run("a query too long is explained next to the box", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts?q="+strings.Repeat("x", 201)), chromedp.WaitVisible(`#contacts-q-error`))
		if got := b.text("#contacts-q-error"); !strings.Contains(got, "at most 200") {
			t.Fatalf("error = %q", got)
		}
		b.checkAccessibility("contacts (bad search)")
	})
	t.Run("the list sorts by family name and filters by organization", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts?sort=name"), chromedp.WaitVisible(`table.contacts-list`))
		rows := b.text("table.contacts-list tbody")
		if i, j := strings.Index(rows, "Max Muster"), strings.Index(rows, "Erika Mustermann"); i < 0 || j < 0 || i > j {
			t.Errorf("by family name: %q", rows)
		}
		b.run(chromedp.Click(`details.contacts-filters summary`), chromedp.SetValue(`#contacts-sort`, "name"), chromedp.Submit(`#contacts-sort`),
			chromedp.WaitVisible(`table.contacts-list`))
		b.checkAccessibility("contacts (filters open)")
	})
	t.Run("the contact page shows every field with its provenance and the reach answers", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts?q=erika@example.org"), chromedp.WaitVisible(`table.contacts-list`),
			chromedp.Click(`table.contacts-list tbody a`), chromedp.WaitVisible(`#contacts-fields-h`))
		if got := b.text("h1"); got != "Erika Mustermann" {
			t.Errorf("h1 = %q", got)
		}
		if got := b.text(`dd[data-category="contact.postal"]`); !strings.Contains(got, "Unter den Linden 1") {
			t.Errorf("postal address = %q", got)
		}
		b.run(chromedp.Click(`dd[data-category="contact.postal"] summary`))
		prov := b.text(`dd[data-category="contact.postal"] details dl`)
		for _, want := range []string{"contract (Art. 6(1)(b) GDPR)", "Sales", "system"} {
			if !strings.Contains(prov, want) {
				t.Errorf("provenance %q lacks %q", prov, want)
			}
		}
		reach := b.text(".contacts-reach")
		for _, want := range []string{"E-mail:", "Phone:", "Post:"} {
			if !strings.Contains(reach, want) {
				t.Errorf("reach panel %q lacks %q", reach, want)
			}
		}
		basis, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#log-basis').value`))
		must(t, err)
		if basis != "contract" {
			t.Errorf("the log form offers the legal basis %q, not the contact's own (contract)", basis)
		}
		b.checkAccessibility("contact")
	})
	t.Run("a call without a subject is refused next to the field, keeping what was typed", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#log-body`, "Rief zurück"), chromedp.Submit(`#log-body`), chromedp.WaitVisible(`#log-subject-error`))
		if got := b.text("#log-subject-error"); !strings.Contains(got, "what it was about") {
			t.Errorf("error = %q", got)
		}
		body, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#log-body').value`))
		must(t, err)
		if body != "Rief zurück" {
			t.Errorf("the notes typed are gone: %q", body)
		}
		b.checkAccessibility("contact (form error)")
	})
	t.Run("a call is logged with the keyboard and shows on the timeline", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Focus(`#log-direction`), chromedp.KeyEvent(kb.Tab))
		focused, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		must(t, err)
		if focused != "log-subject" {
			t.Fatalf("Tab after the direction focuses %q", focused)
		}
		b.run(chromedp.KeyEvent("Quarterly review call"), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`main p.notice`))
		items := b.text(".contacts-timeline ol")
		if !strings.Contains(items, "Call") || !strings.Contains(items, "Quarterly review call") {
			t.Fatalf("timeline %q", items)
		}
		l, err := a.g.Interactions(sales, tresor.InteractionFilter{ContactID: erika.ID, Page: tresor.Page{Limit: 10}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Kind != tresor.KindCall || l.Items[0].Subject != "Quarterly review call" || l.Items[0].Body != "Rief zurück" {
			t.Fatalf("interactions %+v", l.Items)
		}
		b.checkAccessibility("contact (logged)")
		b.screenshot("contact-en")
	})
	t.Run("a marketer sees the postal address withheld with the reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`header form[action="/logout"] button`), chromedp.WaitVisible(`#email`))
		b.signIn("mia@example.org")
		b.run(chromedp.Navigate(b.url+"/contacts/"+erika.ID), chromedp.WaitVisible(`#purpose-select`),
			chromedp.SetValue(`#purpose-select`, "marketing"), chromedp.Submit(`#purpose-select`), chromedp.WaitVisible(`#contacts-fields-h`))
		if got := b.text(`dd[data-category="contact.postal"]`); !strings.Contains(got, "withheld: Postal address — not released for Marketing") ||
			strings.Contains(got, "Linden") {
			t.Fatalf("postal address for marketing = %q", got)
		}
		if got := b.text(`.contacts-reach li[data-channel="email"]`); !strings.HasPrefix(got, "E-mail: yes") {
			t.Errorf("reach by e-mail after consent = %q", got)
		}
		if got := b.text(".contacts-timeline ol"); !strings.Contains(got, "Consent") || !strings.Contains(got, "Granted: Marketing · E-mail") {
			t.Errorf("timeline %q lacks the consent", got)
		}
		if got := b.text(`.contacts-reach li[data-channel="social_dm:mastodon"]`); !strings.HasPrefix(got, "Direct message on mastodon: no") ||
			!strings.Contains(got, "consent") {
			t.Errorf("reach by Mastodon direct message = %q", got)
		}
		b.checkAccessibility("contact (marketing)")
	})
	t.Run("the withheld address is explained in German", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`header .tools a[lang=de]`), chromedp.WaitVisible(`#contacts-fields-h`))
		if got := b.text(`dd[data-category="contact.postal"]`); !strings.Contains(got, "Postanschrift — für Marketing nicht freigegeben") {
			t.Fatalf("postal address for marketing in German = %q", got)
		}
		b.checkAccessibility("contact (de)")
		b.screenshot("contact-de")
		b.run(chromedp.Click(`main a[href="/contacts"]`), chromedp.WaitVisible(`table.contacts-list`))
		if got := b.text("#contacts-search-help"); !strings.Contains(got, "ein Tippfehler wird verziehen") {
			t.Errorf("search help in German = %q", got)
		}
		b.checkAccessibility("contacts (de)")
		b.screenshot("contacts-list-de")
	})
}
