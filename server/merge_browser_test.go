package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestDuplicatesPage proves the duplicates page: a sales person sees the
// pair Müller/Mueller at one organization, opens the confirmation, is
// stopped until they confirm, merges, and lands on the survivor; the old
// page of the absorbed contact leads there too.
func TestDuplicatesPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales)
	sales := tresor.WithPurpose(sys, "sales")
	into := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Hans", FamilyName: "Müller", Organization: "Acme AG",
		Emails: []string{"hans@acme.example"}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	from := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Hans", FamilyName: "Mueller", Organization: "Acme AG",
		Phones: []string{"+49 30 5550101"}}, Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest,
		BalancingNote: "Met at a trade fair; expects to hear about the product."}}
	must(t, a.g.CreateContact(sales, into))
	must(t, a.g.CreateContact(sales, from))
	first, second := into, from
	if from.ID < into.ID {
		first, second = from, into // the page pairs by id; the first of a pair stays
	}

	b0 := newChromeFor(t, a)
	b0.language("de")
	b0.signIn("kim@example.org")
	b0.choosePurpose("sales")
	t.Run("the pair is listed with its reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts"), chromedp.WaitVisible(`#contacts-duplicates`), chromedp.Click(`#contacts-duplicates`),
			chromedp.WaitVisible(`#dup-table`))
		if got := b.text("#dup-table tbody"); !strings.Contains(got, "Müller") || !strings.Contains(got, "Mueller") ||
			!strings.Contains(got, "gleicher Name bei derselben Organisation") {
			t.Fatalf("the list shows %q", got)
		}
		b.checkAccessibility("contacts duplicates (de)")
		b.screenshot("contacts-duplicates-de")
	})
	t.Run("the merge waits for the confirmation", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`a.dup-merge`), chromedp.WaitVisible(`#merge-form`))
		b.checkAccessibility("contacts merge confirmation (de)")
		b.screenshot("contacts-merge-de")
		b.run(chromedp.Focus(`#merge-submit`), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#merge-error`))
		if _, err := a.g.Contact(sales, second.ID); err != nil {
			t.Fatalf("merged without confirmation: %v", err)
		}
	})
	t.Run("confirmed, the contacts are merged", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`#merge-confirm`), chromedp.Focus(`#merge-submit`), chromedp.KeyEvent("\r"))
		b.waitText("main .notice", "zusammengeführt")
		_, err := a.g.Contact(sales, second.ID)
		if tresor.ErrorCode(err) != tresor.ECMerged {
			t.Fatalf("the absorbed contact: %v", err)
		}
		got, err := a.g.Contact(sales, first.ID)
		must(t, err)
		if len(got.Emails) != 1 || len(got.Phones) != 1 {
			t.Fatalf("the survivor: %+v", got.ContactDetails)
		}
	})
	t.Run("the old page leads to the survivor", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+second.ID), chromedp.WaitVisible(`main h1`))
		loc, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
		must(t, err)
		if loc != "/contacts/"+first.ID {
			t.Fatalf("the old page is at %q, want the survivor's", loc)
		}
	})
}
