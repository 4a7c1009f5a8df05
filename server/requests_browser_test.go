package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestDPOHandlesRequests proves the request register's page: the DPO
// records a request from the form, sees an overdue one marked at the top
// (the list goes by deadline), verifies the requester's identity, extends
// a deadline with a reason, and refuses one with the reason; the page
// speaks German too.
func TestDPOHandlesRequests(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	a.userWithPassword("dirk@example.org", tresor.RoleDPO)
	dp := tresor.WithPurpose(sys, "data_protection")
	old := tresor.Date(time.Now().AddDate(0, 0, -40).Format(time.DateOnly))
	late, err := a.g.CreateRequest(dp, tresor.NewRequest{Kind: tresor.RequestErasure, Channel: tresor.ArrivedByLetter,
		Address: "Musterweg 1, 12345 Musterstadt", ReceivedAt: old})
	must(t, err)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")
	t.Run("the DPO records a request; the overdue one comes first, marked", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.WaitVisible(`#dpo-requests-link`), chromedp.Click(`#dpo-requests-link`),
			chromedp.WaitVisible(`#request-new`))
		b.run(chromedp.SetValue(`#request-kind`, "access"), chromedp.SendKeys(`#request-address`, "erika@example.org"),
			chromedp.Click(`#request-add`), chromedp.WaitVisible(`#request-added`))
		got := b.text("#requests-open")
		if !strings.Contains(got, "erika@example.org") || !strings.Contains(got, "Access (Art. 15)") {
			t.Fatalf("open requests = %q", got)
		}
		if first := b.text("#requests-open tr:nth-child(2)"); !strings.Contains(first, "overdue") || !strings.Contains(first, "Musterweg") {
			t.Errorf("first row = %q, want the overdue request", first)
		}
		b.checkAccessibility("dpo requests")
		b.screenshot("dpo-requests-en")
	})
	t.Run("the DPO verifies, extends with a reason, and refuses with a reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`#move-`+late.ID+`-identity_verified`), chromedp.WaitVisible(`#move-`+late.ID+`-in_progress`))
		if got := b.text("#request-" + late.ID); !strings.Contains(got, "identity verified") {
			t.Fatalf("after verifying: %q", got)
		}
		b.run(chromedp.SendKeys(`#extend-`+late.ID, "archive on paper"), chromedp.Click(`#extend-`+late.ID+`-go`),
			chromedp.WaitNotPresent(`#extend-`+late.ID+`-go`), chromedp.WaitVisible(`#requests-open`))
		if got := b.text("#request-" + late.ID); !strings.Contains(got, "extended: archive on paper") {
			t.Fatalf("after extending: %q", got)
		}
		b.run(chromedp.Click(`#move-`+late.ID+`-refused`), chromedp.WaitVisible(`#request-problem`))
		if got := b.text("#request-problem"); got == "" {
			t.Errorf("a refusal without reason was not explained")
		}
		b.run(chromedp.SendKeys(`#refuse-`+late.ID, "manifestly unfounded, Art. 12(5)"), chromedp.Click(`#move-`+late.ID+`-refused`),
			chromedp.WaitVisible(`#requests-closed`))
		if got := b.text("#requests-closed"); !strings.Contains(got, "refused") || !strings.Contains(got, "manifestly unfounded") {
			t.Errorf("closed = %q", got)
		}
		b.checkAccessibility("dpo requests after changes")
		b.screenshot("dpo-requests-closed-en")
	})
	b1 := newChromeFor(t, a)
	b1.language("de")
	b1.signInWithSecondFactor("dirk@example.org")
	b1.choosePurpose("data_protection")
	t.Run("the page speaks German", func(t *testing.T) {
		b := b1.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo/requests"), chromedp.WaitVisible(`#request-new`))
		if got := b.text("#requests-open-h"); got != "Offene Anträge nach Frist" {
			t.Errorf("German heading = %q", got)
		}
		b.checkAccessibility("dpo requests (de)")
		b.screenshot("dpo-requests-de")
	})
}
