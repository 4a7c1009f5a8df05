package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestRequesterAndDPOInTheBrowser proves the public request form and the
// request's page in Chromium: a person sends a request without an account,
// confirms it with the button behind the mailed link and is told the
// deadline; the DPO opens the request from the register, sees the contact
// found by the address as a suggestion, links it, and the page passes the
// accessibility check in both languages.
func TestRequesterAndDPOInTheBrowser(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	contact := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
		body: `{"given_name":"Erika","family_name":"Mustermann","emails":["erika@example.org"],"legal_basis":"contract"}`}).json(t)
	contactID := contact["id"].(string)

	pub := newChromeFor(t, a)
	t.Run("a person sends a request and confirms it with the button behind the link", func(t *testing.T) {
		b := pub.in(t)
		b.run(chromedp.Navigate(b.url+"/lang/de?back=/requests/new"), chromedp.WaitVisible(`#request-form`))
		b.checkAccessibility("request form (de)")
		b.screenshot("requests-new-de")
		b.run(chromedp.Click(`#request-language-switch`), chromedp.WaitVisible(`#request-form`))
		if got := b.waitText("h1", "Make a request"); got == "" {
			t.Fatal("no English heading")
		}
		b.checkAccessibility("request form")
		b.screenshot("requests-new-en")
		b.run(chromedp.Click(`#kind-access`), chromedp.SendKeys(`#request-email`, "erika@example.org"),
			chromedp.SendKeys(`#request-message`, "Which data do you keep about me?"), chromedp.SetValue(`#request-language`, "en"),
			chromedp.Click(`#request-submit`), chromedp.WaitVisible(`#request-sent`))
		mails := a.mail.all()
		_, rest, ok := strings.Cut(mails[len(mails)-1].Text, "https://crm.example.org")
		if !ok {
			t.Fatalf("no link in %q", mails[len(mails)-1].Text)
		}
		b.run(chromedp.Navigate(b.url+strings.Fields(rest)[0]), chromedp.WaitVisible(`#request-verify-button`))
		b.checkAccessibility("request confirmation")
		b.run(chromedp.Click(`#request-verify-button`), chromedp.WaitVisible(`#request-verified`))
		if got := b.text("#request-verified"); !strings.Contains(got, "We will answer your request by") {
			t.Errorf("thanks = %q", got)
		}
		b.checkAccessibility("request verified")
		b.screenshot("requests-verified-en")
	})

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")
	t.Run("the DPO opens the request, sees the suggestion and links it", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo/requests"), chromedp.WaitVisible(`#requests-open`),
			chromedp.Click(`#requests-open a[href^="/dpo/requests/"]`), chromedp.WaitVisible(`#request-section-contacts`))
		if got := b.text("#request-state"); got != "identity verified" && !strings.Contains(strings.ToLower(got), "verified") {
			t.Errorf("state = %q", got)
		}
		if got := b.text("#candidate-" + contactID); !strings.Contains(got, "Erika Mustermann") {
			t.Fatalf("suggestion = %q", got)
		}
		b.run(chromedp.Click(`#link-`+contactID), chromedp.WaitVisible(`#linked-`+contactID))
		if got := b.text("#request-notice"); got == "" {
			t.Error("no notice after linking")
		}
		if got := b.text("#request-history"); !strings.Contains(got, "the requester") {
			t.Errorf("history = %q, want the requester's verification", got)
		}
		b.checkAccessibility("dpo request")
		b.screenshotBoth("dpo-request")
		b.run(chromedp.Click(`#unlink-`+contactID), chromedp.WaitVisible(`#candidate-`+contactID))
	})
}
