package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestRequestAnswersOverHTTP: the answer routes are the DPO's; a request
// whose address is no e-mail is answered without a mail and recorded so.
func TestRequestAnswersOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }
		r := a.do(dpo(call{method: "POST", path: "/api/v1/requests",
			body: `{"kind":"access","channel":"letter","address":"Musterweg 1, 12345 Musterstadt","received_at":"` + time.Now().UTC().Format(time.DateOnly) + `"}`}))
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var req tresor.Request
		must(t, json.Unmarshal(r.body, &req))
		if r := a.do(dpo(call{method: "POST", path: "/api/v1/requests/" + req.ID + "/state", body: `{"state":"identity_verified"}`})); r.status != 200 {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		t.Run("another purpose is refused the draft and the answer", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/requests/" + req.ID + "/answer", role: tresor.RoleSales, purpose: "sales"})
			if r.status != 403 {
				t.Errorf("draft under sales: %d %s", r.status, r.body)
			}
			r = a.do(call{method: "POST", path: "/api/v1/requests/" + req.ID + "/answer", role: tresor.RoleSales, purpose: "sales",
				body: `{"lang":"de","subject":"x","body":"y"}`})
			if r.status != 403 {
				t.Errorf("answer under sales: %d %s", r.status, r.body)
			}
		})
		t.Run("the draft names the kind and says it goes by letter", func(t *testing.T) {
			r := a.do(dpo(call{method: "GET", path: "/api/v1/requests/" + req.ID + "/answer?lang=en"}))
			var d tresor.RequestAnswerDraft
			must(t, json.Unmarshal(r.body, &d))
			if r.status != 200 || d.Via != tresor.AnswerByLetterOrPhone || !strings.Contains(d.Subject, "access (Art. 15 GDPR)") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("the answer to a postal address is recorded as given by letter", func(t *testing.T) {
			r := a.do(dpo(call{method: "POST", path: "/api/v1/requests/" + req.ID + "/answer", body: `{"lang":"de","subject":"Auskunft","body":"Brief vom heutigen Tag"}`}))
			var got tresor.Request
			must(t, json.Unmarshal(r.body, &got))
			if r.status != 200 || got.State != tresor.RequestAnswered || len(got.Answers) != 1 || got.Answers[0].Via != tresor.AnswerByLetterOrPhone {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	})
}

// TestDPOCockpitShowsDeadlines: the cockpit lists the overdue and the
// due-soon requests with their deadlines and a link to answer them, not
// the later ones, and the breaches whose 72 hours run, with the time left
// or how long overdue, and the step to take.
func TestDPOCockpitShowsDeadlines(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }
	now := time.Now().UTC()
	mkRequest := func(received time.Time) string {
		r := a.do(dpo(call{method: "POST", path: "/api/v1/requests",
			body: fmt.Sprintf(`{"kind":"erasure","channel":"email","address":"person@example.org","received_at":"%s"}`, received.Format(time.DateOnly))}))
		if r.status != 201 {
			t.Fatalf("create request: %d %s", r.status, r.body)
		}
		var out tresor.Request
		must(t, json.Unmarshal(r.body, &out))
		return out.ID
	}
	overdue := mkRequest(now.AddDate(0, -1, -5))
	soon := mkRequest(now.AddDate(0, -1, 3))
	later := mkRequest(now)
	mkBreach := func(title string, aware time.Time) string {
		r := a.do(dpo(call{method: "POST", path: "/api/v1/breaches",
			body: fmt.Sprintf(`{"title":%q,"description":"Ein Laptop ging verloren","risk":"risk","aware_at":%q}`, title, aware.Format(time.RFC3339))}))
		if r.status != 201 {
			t.Fatalf("create breach: %d %s", r.status, r.body)
		}
		var out tresor.Breach
		must(t, json.Unmarshal(r.body, &out))
		return out.ID
	}
	running := mkBreach("Laptop verloren", now.Add(-10*time.Hour))
	late := mkBreach("Fehlversand", now.Add(-80*time.Hour))

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")
	b0.run(chromedp.Navigate(b0.url+"/dpo"), chromedp.WaitVisible(`#dpo-requests-due`))

	t.Run("the overdue and the due-soon requests are listed with their deadlines and a link, later ones not", func(t *testing.T) {
		b := b0.in(t)
		row := b.text("#dpo-request-" + overdue)
		if !strings.Contains(row, "overdue") || !strings.Contains(row, "Erasure") || !strings.Contains(row, "Answer") {
			t.Errorf("overdue row = %q", row)
		}
		if row := b.text("#dpo-request-" + soon); !strings.Contains(row, "due within a week") {
			t.Errorf("due-soon row = %q", row)
		}
		if got := b.text("#dpo-requests-due tbody"); strings.Contains(got, later) {
			t.Errorf("a request due in a month is listed: %q", got)
		}
		if got := importsAttr(b, "#dpo-request-"+overdue+" td:last-child a", "href"); got != "/dpo/requests/"+overdue+"/answer" {
			t.Errorf("the action links to %q", got)
		}
	})
	t.Run("the breaches show their 72-hour clock inline, with the step next to it", func(t *testing.T) {
		b := b0.in(t)
		if row := b.text("#dpo-breach-" + running); !strings.Contains(row, "left: 61 h") && !strings.Contains(row, "left: 62 h") {
			t.Errorf("running breach = %q", row)
		}
		if row := b.text("#dpo-breach-" + late); !strings.Contains(row, "overdue by 8 h") && !strings.Contains(row, "overdue by 7 h") {
			t.Errorf("late breach = %q", row)
		}
		if got := importsAttr(b, "#dpo-breach-"+late+" td:last-child a", "href"); got != "/dpo/breaches/"+late {
			t.Errorf("the action links to %q", got)
		}
		b.checkAccessibility("dpo deadlines")
		b.screenshotBoth("dpo-deadlines")
	})
	t.Run("the box of what is missing names no longer the answers", func(t *testing.T) {
		b := b0.in(t)
		if got := b.text("#dpo-coming"); strings.Contains(got, "tools at hand") {
			t.Errorf("coming box = %q", got)
		}
	})
}

// TestDPOAnswersARequestOnItsPage: the answer page shows the draft for the
// outcome and language chosen; a refusal without its reason is refused on
// the page keeping the text typed; with the reason the request is closed
// and the answer recorded (a postal address: by letter).
func TestDPOAnswersARequestOnItsPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }
	r := a.do(dpo(call{method: "POST", path: "/api/v1/requests",
		body: `{"kind":"access","channel":"letter","address":"Musterweg 1, 12345 Musterstadt","received_at":"` + time.Now().UTC().Format(time.DateOnly) + `"}`}))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := a.do(dpo(call{method: "POST", path: "/api/v1/requests/" + id + "/state", body: `{"state":"identity_verified"}`})); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("dana@example.org")
	b0.choosePurpose("data_protection")
	b0.run(chromedp.Navigate(b0.url+"/dpo/requests"), chromedp.WaitVisible(`#answer-`+id), chromedp.Click(`#answer-`+id),
		chromedp.WaitVisible(`#answer-send`))

	t.Run("the page shows the draft and that it goes by letter", func(t *testing.T) {
		b := b0.in(t)
		if got := importsAttr(b, "#answer-subject", "value"); !strings.Contains(got, "access (Art. 15 GDPR)") {
			t.Errorf("subject = %q", got)
		}
		if got := b.text("#answer-via"); !strings.Contains(got, "letter") {
			t.Errorf("via = %q", got)
		}
	})
	t.Run("a refusal draft names the rights to complain and to a judicial remedy", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#answer-outcome`, "refused"), chromedp.Click(`#answer-redraft`), chromedp.WaitVisible(`#answer-reason`))
		body, err := chromedp.Run(b.ctx, chromedp.Value(`#answer-body`))
		must(t, err)
		if !strings.Contains(body, "Art. 77 GDPR") || !strings.Contains(body, "Art. 79 GDPR") {
			t.Errorf("refusal body = %q", body)
		}
	})
	t.Run("a refusal without its reason is refused on the page, keeping the text", func(t *testing.T) {
		// The draft still holds the placeholder of the reason, and no reason is given.
		b := b0.in(t)
		b.run(chromedp.SetValue(`#answer-subject`, "Refusal typed by hand"), chromedp.Click(`#answer-go`), chromedp.WaitVisible(`#answer-problem`))
		if got := importsAttr(b, "#answer-subject", "value"); got != "Refusal typed by hand" {
			t.Errorf("the typed subject was lost: %q", got)
		}
		b.checkAccessibility("request answer")
		b.screenshot("request-answer-en")
	})
	t.Run("with the reason the request is refused and the answer recorded", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#answer-reason`, "no proof of identity"),
			chromedp.SetValue(`#answer-body`, "We will not act on your request: no proof of identity. You may complain to a supervisory authority (Art. 77 GDPR)."),
			chromedp.Click(`#answer-go`), chromedp.WaitVisible(`#requests-open-h`))
		got, err := a.g.DataRequest(tresor.WithPurpose(tresor.WithActor(sys, &tresor.Actor{Kind: tresor.ActorSystem}), "data_protection"), id)
		must(t, err)
		if got.State != tresor.RequestRefused || len(got.Answers) != 1 || got.Answers[0].Subject != "Refusal typed by hand" ||
			got.Answers[0].Via != tresor.AnswerByLetterOrPhone {
			t.Errorf("request = %+v", got)
		}
	})
}

// TestExtendedRequestShowsTheNoticeStillDue: after an extension recorded on
// the register page, the row links to the notice the person is owed.
func TestExtendedRequestShowsTheNoticeStillDue(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }
	r := a.do(dpo(call{method: "POST", path: "/api/v1/requests",
		body: `{"kind":"access","channel":"letter","address":"Musterweg 1, 12345 Musterstadt","received_at":"` + time.Now().UTC().Format(time.DateOnly) + `"}`}))
	id := r.json(t)["id"].(string)
	if r := a.do(dpo(call{method: "POST", path: "/api/v1/requests/" + id + "/extend", body: `{"reason":"archive on paper"}`})); r.status != 200 {
		t.Fatalf("extend: %d %s", r.status, r.body)
	}
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	b := signedInAs(t, a, "dana@example.org")
	page := b.get("/dpo/requests")
	if !strings.Contains(page.body, `href="/dpo/requests/`+id+`/answer?outcome=extended"`) {
		t.Fatalf("the register does not link to the notice still due")
	}
	if r := a.do(dpo(call{method: "POST", path: "/api/v1/requests/" + id + "/answer",
		body: `{"lang":"de","outcome":"extended","subject":"Verlängerung","body":"per Brief"}`})); r.status != 200 {
		t.Fatalf("notice: %d %s", r.status, r.body)
	}
	if page := b.get("/dpo/requests"); strings.Contains(page.body, `id="notice-`+id+`"`) {
		t.Error("the notice is still shown as due after it was given")
	}
}
