package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestServiceAgentTakesOverAndClosesACase proves the service inbox's rules:
// a service agent works a case with the keyboard alone, a stale form does
// not overwrite a newer change, and a purpose that may not see what was
// said sees the case with its content withheld and the reason.
func TestServiceAgentTakesOverAndClosesACase(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleService)
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	k := &tresor.Case{Channel: tresor.ChannelEmail, CaseContent: tresor.CaseContent{Subject: "Invoice 4711 is wrong", Description: "Charged twice."},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateCase(tresor.WithPurpose(sys, "service"), k))

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")
	b0.choosePurpose("service")

	t.Run("the inbox lists the case", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/cases"), chromedp.WaitVisible(`#cases`))
		if got := b.text("#cases"); !strings.Contains(got, "Invoice 4711 is wrong") {
			t.Fatalf("inbox = %q", got)
		}
		b.checkAccessibility("service inbox")
		b.screenshotBoth("cases")
	})
	t.Run("the agent takes the case over with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`#cases a`), chromedp.WaitVisible(`#case-take`),
			chromedp.Focus(`#case-take`), chromedp.KeyEvent("\r"), chromedp.WaitNotPresent(`#case-take`))
		if got := b.waitText("#case-assignee", "me"); got != "me" {
			t.Fatalf("assignee = %q", got)
		}
		b.checkAccessibility("case")
	})
	t.Run("the agent closes the case with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#case-new-status`, "closed"), chromedp.Focus(`#case-set-status`), chromedp.KeyEvent("\r"))
		if got := b.waitText("#case-status", "closed"); got != "closed" {
			t.Fatalf("status = %q", got)
		}
	})
	t.Run("a stale form does not overwrite a newer change", func(t *testing.T) {
		b := b0.in(t)
		// The page still shows the version before this change by another hand.
		_, err := a.g.UpdateCase(tresor.WithPurpose(sys, "service"), k.ID, tresor.Update{Patch: []byte(`{"priority":"urgent"}`)})
		must(t, err)
		b.run(chromedp.SetValue(`#case-new-status`, "open"), chromedp.Click(`#case-set-status`), chromedp.WaitVisible(`main .error`))
		if got := b.text("main .error"); !strings.Contains(got, "changed meanwhile") {
			t.Fatalf("message = %q", got)
		}
		stored, err := a.g.Case(tresor.WithPurpose(sys, "service"), k.ID)
		must(t, err)
		if stored.Status != tresor.CaseClosed || stored.Priority != tresor.PriorityUrgent {
			t.Fatalf("stored %s/%s", stored.Status, stored.Priority)
		}
		b.screenshot("case-en")
	})
	t.Run("the reply box says before sending whether a reply is allowed and why", func(t *testing.T) {
		b := b0.in(t)
		svc := tresor.WithPurpose(sys, "service")
		_, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme support", Credentials: []byte(`{"token":"t"}`)})
		must(t, err)
		ct := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster",
			SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@erika@social.example"}}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(svc, ct))
		sc := &tresor.Case{Channel: tresor.ChannelSocial, Network: "mastodon", ContactID: ct.ID,
			CaseContent: tresor.CaseContent{Subject: "Where is my parcel?"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateCase(svc, sc))
		b.run(chromedp.Navigate(b.url+"/cases/"+sc.ID), chromedp.WaitVisible(`#case-reach`))
		reach := b.text("#case-reach")
		if !strings.Contains(reach, "(") { // every answer names its rule's code
			t.Fatalf("the reply box gives no reason: %q", reach)
		}
		if !strings.Contains(reach, "allows") {
			t.Fatalf("a service reply to a customer under contract is refused: %q", reach)
		}
		b.run(chromedp.SendKeys(`#reply-text`, "It left our warehouse today."), chromedp.Focus(`#reply-send`), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(`#case-reply-sent`))
		l, err := a.g.Interactions(svc, tresor.InteractionFilter{ContactID: ct.ID, Page: tresor.Page{Limit: 10}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Body != "It left our warehouse today." {
			t.Fatalf("interactions after the reply: %+v", l.Items)
		}
		b.checkAccessibility("case with the reply box")
		b.screenshot("case-reply-en")
	})
	t.Run("marketing sees the case with what was said withheld", func(t *testing.T) {
		c := newChromeFor(t, a)
		c.language("de")
		c.signIn("mia@example.org")
		c.choosePurpose("marketing")
		c.run(chromedp.Navigate(c.url+"/cases/"+k.ID), chromedp.WaitVisible(`#case-subject`))
		if got := c.text("#case-subject"); !strings.Contains(got, "nicht freigegeben") || strings.Contains(got, "4711") {
			t.Fatalf("subject for marketing = %q", got)
		}
		c.checkAccessibility("case (marketing, de)")
		c.screenshot("case-withheld-de")
	})
}
