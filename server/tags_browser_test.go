package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestMarketerTagsContactsAndSavesASegment proves the workspace's part of
// tags and segments: a marketer puts a tag on a contact with the form of
// the contact page, is refused a tag that reveals a special category with
// the reason beside the form, tags an organization, filters the contact
// list by tag, saves a segment and opens its members; every page passes
// axe-core, in English and German.
func TestMarketerTagsContactsAndSavesASegment(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	mk := tresor.WithPurpose(sys, "marketing")
	org := &tresor.Organization{Name: "Beispiel GmbH", Industry: "Maschinenbau"}
	must(t, a.g.CreateOrganization(mk, org))
	person := func(given, family, email string) *tresor.Contact {
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: family, Emails: []string{email}},
			OrganizationID: org.ID, Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
		must(t, a.g.CreateContact(mk, c))
		_, err := a.g.RecordConsent(mk, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
			Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "newsletter v1"}})
		must(t, err)
		return c
	}
	erika, max := person("Erika", "Mustermann", "erika@example.org"), person("Max", "Muster", "max@example.org")
	_, err := a.g.TagContact(mk, max.ID, "Newsletter")
	must(t, err)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("mia@example.org")
	b0.choosePurpose("marketing")

	t.Run("a tag is added on the contact page and shown there", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+erika.ID), chromedp.WaitVisible(`#tags-new`),
			chromedp.SendKeys(`#tags-new`, "Messe 2026"), chromedp.Submit(`#tags-new`))
		b.waitText(`#tags .tags-list`, "Messe 2026")
		b.checkAccessibility("contact (tags)")
		b.screenshotBoth("tags-contact")
	})
	t.Run("a tag that reveals a special category is refused beside the form", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+erika.ID), chromedp.WaitVisible(`#tags-new`),
			chromedp.SendKeys(`#tags-new`, "Diabetiker"), chromedp.Submit(`#tags-new`))
		if got := b.waitText(`#tags-error`, "special category"); !strings.Contains(got, "Art. 9 GDPR") {
			t.Errorf("refusal = %q", got)
		}
		if got := b.text(`#tags .tags-list`); strings.Contains(got, "Diabetiker") {
			t.Errorf("the refused tag is shown: %q", got)
		}
		b.checkAccessibility("contact (tag refused)")
		b.screenshot("tags-refused-en")
		// The language switch goes back to the page without the refusal:
		// the German page is asked for with it.
		b.switchLanguage("de")
		b.run(chromedp.Navigate(b.url + "/contacts/" + erika.ID + "?tag_error=special_category"))
		if got := b.waitText(`#tags-error`, "besondere Kategorie"); !strings.Contains(got, "Art. 9 DSGVO") {
			t.Errorf("German refusal = %q", got)
		}
		b.checkAccessibility("contact (tag refused, de)")
		b.screenshot("tags-refused-de")
		b.switchLanguage("en")
	})
	t.Run("an organization is tagged on its page", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/organizations/"+org.ID), chromedp.WaitVisible(`#tags-new`),
			chromedp.SendKeys(`#tags-new`, "Partner"), chromedp.Submit(`#tags-new`))
		b.waitText(`#tags .tags-list`, "Partner")
		b.checkAccessibility("organization (tags)")
		b.screenshot("tags-organization-en")
		b.run(chromedp.Click(`#tags .tags-remove-button`))
		b.waitText(`#tags .tags-list`, "No tags yet")
	})
	t.Run("the contact list filters by tag", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts"), chromedp.WaitVisible(`table.contacts-list`),
			chromedp.Click(`details.contacts-filters summary`), chromedp.SendKeys(`#contacts-tag`, "messe 2026"), chromedp.Submit(`#contacts-tag`),
			chromedp.WaitVisible(`a.contacts-reset`)) // the filtered list offers to reset its filter
		list := b.waitText(`table.contacts-list tbody`, "Erika Mustermann")
		if strings.Contains(list, "Max Muster") {
			t.Errorf("the tag filter shows an untagged contact: %q", list)
		}
		b.checkAccessibility("contacts (tag filter)")
		b.screenshot("tags-contacts-filter-en")
	})
	t.Run("a segment is saved and its members are listed", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(`nav a[href="/segments"]`), chromedp.Click(`nav a[href="/segments"]`),
			chromedp.WaitVisible(`#segment-name`))
		b.checkAccessibility("segments (empty)")
		b.run(chromedp.SendKeys(`#segment-name`, "Newsletter mit Einwilligung"), chromedp.SendKeys(`#segment-tag`, "Newsletter"),
			chromedp.SetValue(`#segment-consent-purpose`, "marketing"), chromedp.SetValue(`#segment-consent-channel`, "email"),
			chromedp.SetValue(`#segment-consent-state`, "granted"), chromedp.Click(`#segment-save`))
		b.waitText(`p.notice`, "saved")
		if got := b.text(`#segments`); !strings.Contains(got, "Newsletter mit Einwilligung") || !strings.Contains(got, "Newsletter") {
			t.Errorf("segments = %q", got)
		}
		b.checkAccessibility("segment (saved)")
		b.screenshotBoth("segments")
		b.run(chromedp.Click(`#segment-members`), chromedp.WaitVisible(`table.contacts-list`))
		list := b.waitText(`table.contacts-list tbody`, "Max Muster")
		if strings.Contains(list, "Erika") {
			t.Errorf("the segment's members include a contact without its tag: %q", list)
		}
		b.checkAccessibility("contacts (segment)")
		b.screenshot("segments-members-en")
	})
	t.Run("a campaign takes its audience from the segment", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/campaigns"), chromedp.WaitVisible(`#campaign-segment`),
			chromedp.SendKeys(`#campaign-name`, "Einladung"), chromedp.SendKeys(`#campaign-subject-de`, "Einladung"),
			chromedp.SendKeys(`#campaign-body-de`, "Hallo!"))
		segment, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#campaign-segment option:nth-child(2)").value`))
		must(t, err)
		b.run(chromedp.SetValue(`#campaign-segment`, segment), chromedp.Click(`#campaign-create`), chromedp.WaitVisible(`#campaign-eligible`))
		if got := b.text(`#campaign-sample`); !strings.Contains(got, "Max Muster") || strings.Contains(got, "Erika") {
			t.Errorf("the audience from the segment: %q", got)
		}
		if got := b.text(`#campaign-eligible`); !strings.Contains(got, "1") {
			t.Errorf("eligible = %q", got)
		}
		b.checkAccessibility("campaign (segment audience)")
	})
}
