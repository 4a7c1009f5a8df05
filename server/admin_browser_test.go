package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
	"tresor/otp"
)

// signInWithSecondFactor signs in a user whose roles require a second
// factor the first time: password, then the enrolment of a TOTP key the
// way a person does it (the secret from the page, a code from it).
func (b *chrome) signInWithSecondFactor(email string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url+"/login"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email), chromedp.SendKeys(`#password`, webPassword),
		chromedp.Submit(`#password`), chromedp.WaitVisible(`#totp-secret`))
	key, err := otp.DecodeSecret(b.text(`#totp-secret`))
	must(b.t, err)
	b.run(chromedp.SendKeys(`#code`, otp.Code(key, time.Now())), chromedp.Submit(`#code`), chromedp.WaitVisible(`#recovery-codes`))
}

// TestAdministratorAndDPOShareTheFourEyes proves the administration and the
// DPO cockpit keep the separation of duties of [2.1] on the pages: an
// administrator invites a person, the welcome mail goes to that person and
// no link appears; the role that reaches personal data waits; the same
// administrator cannot approve it (four eyes, explained in the person's
// language); the DPO, a second person, approves it on /dpo; a sales user is
// refused the administration with the reason.
func TestAdministratorAndDPOShareTheFourEyes(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("boss@example.org", tresor.RoleAdmin)
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	boss, err := a.g.User(sys, "boss@example.org")
	must(t, err)
	// Two contacts for the cockpit: one restricted with a legal hold, one
	// that objected to marketing.
	restricted := seedContact(t, a, `{"given_name":"Rita","family_name":"Ruhig","emails":["rita@example.de"],"legal_basis":"contract"}`)
	objected := seedContact(t, a, `{"given_name":"Otto","family_name":"Ohne","emails":["otto@example.de"],"legal_basis":"contract"}`)
	for _, c := range []call{
		{method: "POST", path: "/api/v1/contacts/" + restricted + "/restriction", body: `{"restricted":true}`, role: tresor.RoleDPO, purpose: "data_protection"},
		{method: "POST", path: "/api/v1/contacts/" + restricted + "/holds", body: `{"reason":"Rechtsstreit 2026-17"}`, role: tresor.RoleDPO, purpose: "data_protection"},
		{method: "POST", path: "/api/v1/contacts/" + objected + "/objection", role: tresor.RoleDPO, purpose: "data_protection"},
	} {
		if r := a.do(c); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}

	admin0 := newChromeFor(t, a)
	admin0.language("en")
	admin0.signInWithSecondFactor("boss@example.org")

	t.Run("an invitation mails the person and shows the grant pending, never a link", func(t *testing.T) {
		b := admin0.in(t)
		b.run(chromedp.Navigate(b.url+"/admin"), chromedp.WaitVisible(`#invite-email`),
			chromedp.SendKeys(`#invite-email`, "neu@example.org"), chromedp.Click(`#invite-role-sales`),
			chromedp.Submit(`#invite-email`), chromedp.WaitVisible(`#result`))
		if got := b.text("#result"); !strings.Contains(got, "welcome mail went to neu@example.org") || !strings.Contains(got, "sales") {
			t.Fatalf("result = %q", got)
		}
		if got := b.text(`#pending-grants`); !strings.Contains(got, "neu@example.org") || !strings.Contains(got, "sales") || !strings.Contains(got, "boss@example.org") {
			t.Fatalf("pending grants = %q", got)
		}
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML("html"))
		must(t, err)
		if strings.Contains(html, "token=") || strings.Contains(html, "reset-password") {
			t.Fatal("the page shows a link to set a password")
		}
		var mailed bool
		for _, m := range a.mail.all() {
			mailed = mailed || m.To == "neu@example.org" && strings.Contains(m.Text, "/reset-password?token=")
		}
		if !mailed {
			t.Fatal("no welcome mail went to the person")
		}
		if u, err := a.g.User(sys, "neu@example.org"); err != nil || slices.Contains(u.Roles, tresor.RoleSales) {
			t.Fatalf("the invited user holds %v before any approval (%v)", u, err)
		}
		// A second invitation stays pending for the cockpit to show.
		b.run(chromedp.SendKeys(`#invite-email`, "mia@example.org"), chromedp.Click(`#invite-role-marketing`),
			chromedp.Submit(`#invite-email`), chromedp.WaitVisible(`#pending-grants tr:nth-child(2)`))
		b.checkAccessibility("admin")
		b.screenshot("admin-en")
	})
	t.Run("the administrator who asked cannot approve: four eyes, in German", func(t *testing.T) {
		b := admin0.in(t)
		b.run(chromedp.Click(`header .tools a[lang=de]`), chromedp.WaitVisible(`#pending-grants button.approve`),
			chromedp.Click(`#pending-grants tr[data-for="`+neu(t, a)+`"] button.approve`), chromedp.WaitVisible(`div.refused-result`))
		got := b.text("#result")
		if !strings.Contains(got, "entscheidet eine zweite Person") || !strings.Contains(got, "four_eyes") {
			t.Fatalf("refusal = %q", got)
		}
		if u, err := a.g.User(sys, "neu@example.org"); err != nil || slices.Contains(u.Roles, tresor.RoleSales) {
			t.Fatalf("the refused approval gave the roles: %v (%v)", u, err)
		}
		b.checkAccessibility("admin (de, refused)")
		b.screenshot("admin-de")
	})

	t.Run("a user's tokens page is accessible", func(t *testing.T) {
		b := admin0.in(t)
		_, _, err := a.g.CreateToken(sys, tresor.TokenRequest{UserEmail: "sam@example.org", Name: "crm-sync", TTL: time.Hour})
		must(t, err)
		sam, err := a.g.User(sys, "sam@example.org")
		must(t, err)
		b.run(chromedp.Navigate(b.url+"/admin/users/"+sam.ID+"/tokens"), chromedp.WaitVisible(`#token-list`))
		if got := b.text("#token-list"); !strings.Contains(got, "crm-sync") {
			t.Fatalf("tokens = %q", got)
		}
		b.checkAccessibility("admin tokens (de)")
	})

	dpo0 := newChromeFor(t, a)
	dpo0.language("en")
	dpo0.signInWithSecondFactor("dana@example.org")

	t.Run("the DPO is a second person and approves on the cockpit", func(t *testing.T) {
		b := dpo0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#dpo-purpose`))
		if got := b.text("#dpo-purpose"); !strings.Contains(got, "purpose_missing") {
			t.Fatalf("without a purpose the cockpit says %q", got)
		}
		if got := b.text("#pending-grants"); !strings.Contains(got, "neu@example.org") || !strings.Contains(got, "boss@example.org") {
			t.Fatalf("the DPO does not see for whom and asked by whom: %q", got)
		}
		b.run(chromedp.SetValue(`#purpose-select`, "data_protection"), chromedp.Submit(`#purpose-select`),
			chromedp.WaitVisible(`#no-notices`), chromedp.Click(`#pending-grants tr[data-for="`+neu(t, a)+`"] button.approve`), chromedp.WaitVisible(`#result`))
		if got := b.text("#result"); !strings.Contains(got, "approved") {
			t.Fatalf("result = %q", got)
		}
		u, err := a.g.User(sys, "neu@example.org")
		must(t, err)
		if !slices.Contains(u.Roles, tresor.RoleSales) {
			t.Fatalf("after the DPO's approval the user holds %v", u.Roles)
		}
	})
	t.Run("the cockpit lists restricted and objected contacts and a contact's holds", func(t *testing.T) {
		b := dpo0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#look-through`), chromedp.Click(`#look-through`), chromedp.WaitVisible(`#flagged-contacts`))
		got := b.text("#flagged-contacts")
		if !strings.Contains(got, "Rita Ruhig") || !strings.Contains(got, "Otto Ohne") {
			t.Fatalf("restricted and objected = %q", got)
		}
		b.run(chromedp.SendKeys(`#holds-contact`, restricted), chromedp.Submit(`#holds-contact`), chromedp.WaitVisible(`#legal-holds`))
		if got := b.text("#legal-holds"); !strings.Contains(got, "Rechtsstreit 2026-17") || !strings.Contains(got, "Active") {
			t.Fatalf("holds = %q", got)
		}
	})
	t.Run("the audit search shows the refused self-approval", func(t *testing.T) {
		b := dpo0.in(t)
		b.run(chromedp.SendKeys(`#audit-actor`, "user:"+boss.ID), chromedp.Submit(`#audit-actor`), chromedp.WaitVisible(`#audit-entries`))
		got := b.text("#audit-entries")
		if !strings.Contains(got, "role_grant.approved") || !strings.Contains(got, "four_eyes") || !strings.Contains(got, "refused") {
			t.Fatalf("audit entries = %q", got)
		}
		if !strings.Contains(b.text("#dpo-coming"), "tresor policy diff") {
			t.Fatal("the cockpit does not say what is not built yet")
		}
		b.checkAccessibility("dpo")
		b.screenshot("dpo-en")
	})

	sales0 := newChromeFor(t, a)
	sales0.language("en")
	sales0.signIn("sam@example.org")

	t.Run("a sales user is refused the administration with the reason", func(t *testing.T) {
		b := sales0.in(t)
		b.run(chromedp.Navigate(b.url+"/admin"), chromedp.WaitVisible(`main p`))
		if got := b.text("main"); !strings.Contains(got, "admin") || !strings.Contains(got, "roles") {
			t.Fatalf("the refusal says %q", got)
		}
		hb := newBrowser(t, a.url)
		hb.signIn("sam@example.org", webPassword)
		if r := hb.get("/admin"); r.status != 403 || !strings.Contains(r.body, "admin") {
			t.Fatalf("GET /admin as sales: %d %.300s", r.status, r.body)
		}
		b.checkAccessibility("admin (refused)")
	})
}

// seedContact creates a contact through the API (sales) and returns its id.
func seedContact(t *testing.T, a *api, body string) string {
	t.Helper()
	r := a.do(call{method: "POST", path: "/api/v1/contacts", body: body, role: tresor.RoleSales, purpose: "sales"})
	if r.status != 201 {
		t.Fatalf("create contact: %d %s", r.status, r.body)
	}
	return r.json(t)["id"].(string)
}

// neu returns the id of the invited user neu@example.org.
func neu(t *testing.T, a *api) string {
	t.Helper()
	u, err := a.g.User(sys, "neu@example.org")
	must(t, err)
	return u.ID
}
