package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestBreachPageInTheBrowser proves the DPO's work on a breach in a real
// browser, in English and German: a breach is recorded with the register's
// form, its page shows the running 72-hour clock, the facts are saved, the
// drafts for the authority and the people appear in both languages, and
// axe finds no violation on the register or the breach's page.
func TestBreachPageInTheBrowser(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	officers := map[string]string{"en": "dana@example.org", "de": "dora@example.org"}
	for _, e := range officers {
		a.userWithPassword(e, tresor.RoleDPO)
	}
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	sam, err := a.g.User(sys, "sam@example.org")
	must(t, err)
	samCtx := tresor.WithPurpose(tresor.WithActor(sys, &tresor.Actor{Kind: tresor.ActorUser, UserID: sam.ID, Email: sam.Email, Roles: sam.Roles}), "sales")
	since := time.Now().UTC().Add(-time.Hour)
	for _, n := range []string{"Paula", "Peter", "Petra"} {
		must(t, a.g.CreateContact(samCtx, &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: n, FamilyName: "Betroffen",
			Emails: []string{strings.ToLower(n) + "@example.org"}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}))
	}
	dpo := tresor.WithPurpose(sys, "data_protection")
	aware := time.Now().UTC().Add(-26*time.Hour - 20*time.Minute).Format("2006-01-02T15:04")

	for _, lang := range []string{"en", "de"} {
		b0 := newChromeFor(t, a)
		b0.language(lang)
		b0.signInWithSecondFactor(officers[lang])
		b0.choosePurpose("data_protection")
		title := map[string]string{"en": "Sales account used from abroad", "de": "Vertriebskonto aus dem Ausland benutzt"}[lang]
		t.Run("a breach is recorded with the register's form ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/dpo/breaches"), chromedp.WaitVisible(`#breach-new-title`))
			b.checkAccessibility("breach register with the form " + lang)
			b.run(chromedp.SendKeys(`#breach-new-title`, title),
				chromedp.SetValue(`#breach-new-aware`, aware),
				chromedp.SendKeys(`#breach-new-description`, "Sam's password was used from an unknown address; contacts were read."),
				chromedp.SetValue(`#breach-new-risk`, "high"),
				chromedp.Click(`#breach-new-go`))
			b.waitText(`#breach-notice`, map[string]string{"en": "recorded", "de": "erfasst"}[lang])
			want := map[string]string{"en": "left: 45 h", "de": "noch 45 h"}[lang]
			if got := b.text(`#breach-clock-time`); !strings.Contains(got, want) {
				t.Fatalf("clock %q, want %q", got, want)
			}
		})
		t.Run("the facts are saved and the drafts follow them ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.SetValue(`#breach-categories`, "names, e-mail addresses"),
				chromedp.SetValue(`#breach-consequences`, "Phishing mails to the people concerned are possible."),
				chromedp.SetValue(`#breach-measures`, "Password reset, second factor enforced, sessions ended."),
				chromedp.Click(`#breach-facts-save`))
			b.waitText(`#breach-notice`, map[string]string{"en": "saved", "de": "gespeichert"}[lang])
			for _, sel := range []string{`#breach-draft-authority-de`, `#breach-draft-authority-en`, `#breach-draft-people-de`, `#breach-draft-people-en`} {
				v, err := chromedp.Run(b.ctx, chromedp.Value(sel))
				if err != nil || !strings.Contains(v, "Password reset, second factor enforced") {
					t.Fatalf("%s = %q (%v)", sel, v, err)
				}
			}
		})
		t.Run("the page with the scope and the log passes axe ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			l, err := a.g.Breaches(dpo, tresor.Page{Limit: 10})
			must(t, err)
			var id string
			for _, x := range l.Items {
				if x.Title == title {
					id = x.ID
				}
			}
			_, err = a.g.CountBreachScope(dpo, id, "user:"+sam.ID, since, time.Now().UTC().Add(time.Minute))
			must(t, err)
			b.run(chromedp.Navigate(b.url+"/dpo/breaches/"+id), chromedp.WaitVisible(`#breach-scope-counts`))
			if got := b.text(`#breach-scope-contacts`); got != "3" {
				t.Fatalf("scope contacts %q", got)
			}
			if strings.Contains(b.text(`main`), "Paula") {
				t.Fatal("the page names a contact")
			}
			b.checkAccessibility("breach page " + lang)
			b.screenshot("dpo-breach-" + lang)
		})
	}
}
