package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestDPOHandlesAnAccessRequestFromTheCockpit proves the DPO's whole day
// with an access request (Art. 15) in Chromium: a person asks through the
// public form and confirms the mailed link; the DPO goes from the cockpit to
// the register and the request, links the contact the address found, sends
// the export with one button; the person's link downloads the export once —
// it holds their interaction and nothing of another person; the DPO writes
// the answer from the draft and the request is answered. Axe runs on the
// request's page in both languages.
func TestDPOHandlesAnAccessRequestFromTheCockpit(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("doris@example.org", tresor.RoleDPO)
	person := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
		body: `{"given_name":"Erika","family_name":"Mustermann","emails":["erika@example.org"],"legal_basis":"contract"}`}).json(t)["id"].(string)
	other := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
		body: `{"given_name":"Otto","family_name":"Nachbar","emails":["otto@example.org"],"legal_basis":"contract"}`}).json(t)["id"].(string)
	for id, subject := range map[string]string{person: "Angebot Lizenzen besprochen", other: "Ottos Reklamation"} {
		if r := a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales",
			body: `{"kind":"call","direction":"outbound","contact_id":"` + id + `","subject":"` + subject + `","legal_basis":"contract"}`}); r.status != http.StatusCreated {
			t.Fatalf("interaction: %d %s", r.status, r.body)
		}
	}
	// lastLink is the path of the newest mail's link to this server.
	lastLink := func(t *testing.T, to string) string {
		t.Helper()
		mails := a.mail.all()
		for i := len(mails) - 1; i >= 0; i-- {
			if !strings.EqualFold(mails[i].To, to) {
				continue
			}
			if _, rest, ok := strings.Cut(mails[i].Text, "https://crm.example.org"); ok {
				return strings.Fields(rest)[0]
			}
		}
		t.Fatalf("no mail with a link to %s", to)
		return ""
	}

	pub := newChromeFor(t, a)
	t.Run("the person asks for access and confirms the link", func(t *testing.T) {
		b := pub.in(t)
		b.run(chromedp.Navigate(b.url+"/lang/en?back=/requests/new"), chromedp.WaitVisible(`#request-form`),
			chromedp.Click(`#kind-access`), chromedp.SendKeys(`#request-email`, "erika@example.org"),
			chromedp.SetValue(`#request-language`, "en"), chromedp.Click(`#request-submit`), chromedp.WaitVisible(`#request-sent`))
		b.run(chromedp.Navigate(b.url+lastLink(t, "erika@example.org")), chromedp.WaitVisible(`#request-verify-button`),
			chromedp.Click(`#request-verify-button`), chromedp.WaitVisible(`#request-verified`))
	})

	dpo := newChromeFor(t, a)
	dpo.language("en")
	dpo.signInWithSecondFactor("doris@example.org")
	dpo.choosePurpose("data_protection")
	var requestID string
	t.Run("the DPO goes from the cockpit to the request, links the contact and sends the export", func(t *testing.T) {
		b := dpo.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo"), chromedp.Click(`#dpo-requests-link`), chromedp.WaitVisible(`#requests-open`),
			chromedp.Click(`#requests-open a[href^="/dpo/requests/"]`), chromedp.WaitVisible(`#request-section-export`))
		if got := b.text("#request-export-not-yet"); got == "" {
			t.Error("the export is offered before a contact is linked")
		}
		b.run(chromedp.Click(`#link-`+person), chromedp.WaitVisible(`#linked-`+person), chromedp.WaitVisible(`#request-send-export`))
		b.run(chromedp.Click(`#request-send-export`))
		b.waitText("#request-notice", "Export built")
		id, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname.split("/").pop()`))
		must(t, err)
		requestID = id
		b.checkAccessibility("dpo request with export")
		b.screenshotBoth("dpo-request-export")
	})

	t.Run("the person's link downloads the export once, with their data and nothing of another person", func(t *testing.T) {
		link := lastLink(t, "erika@example.org")
		u, err := url.Parse(link)
		must(t, err)
		token := u.Query().Get("token")
		if u.Path != "/subject-export" || token == "" {
			t.Fatalf("link %q", link)
		}
		b := newBrowser(t, a.url)
		page := b.get(link)
		form := page.field(t, "form_token")
		p := b.post("/subject-export", url.Values{"form_token": {form}, "token": {token}}, nil)
		if p.status != http.StatusOK {
			t.Fatalf("download: %d %.300s", p.status, p.body)
		}
		zr, err := zip.NewReader(bytes.NewReader([]byte(p.body)), int64(len(p.body)))
		must(t, err)
		var doc map[string]any
		var all strings.Builder
		for _, f := range zr.File {
			rc, err := f.Open()
			must(t, err)
			data, err := io.ReadAll(rc)
			rc.Close()
			must(t, err)
			all.Write(data)
			if strings.HasSuffix(f.Name, ".json") {
				must(t, json.Unmarshal(data, &doc))
			}
		}
		if doc["schema"] != "tresor.subject-export/v1" || !strings.Contains(all.String(), "Angebot Lizenzen besprochen") {
			t.Errorf("the export lacks the schema or the person's interaction: %.400s", all.String())
		}
		for _, w := range []string{"Otto", "Nachbar", "otto@example.org", "Ottos Reklamation", other, "doris@example.org"} {
			if strings.Contains(all.String(), w) {
				t.Errorf("the export holds %q", w)
			}
		}
		if again := b.post("/subject-export", url.Values{"form_token": {form}, "token": {token}}, nil); again.status == http.StatusOK &&
			strings.HasPrefix(again.body, "PK") {
			t.Error("the link downloaded twice")
		}
	})

	t.Run("the DPO answers from the draft and the request is answered", func(t *testing.T) {
		b := dpo.in(t)
		b.run(chromedp.Navigate(b.url+"/dpo/requests/"+requestID), chromedp.Click(`#request-answer-link`), chromedp.WaitVisible(`#answer-send`))
		if got := b.text("#answer-body"); got == "" {
			// the draft is in the textarea's value
			v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#answer-body').value`))
			must(t, err)
			if v == "" {
				t.Fatal("no draft")
			}
		}
		b.run(chromedp.Click(`#answer-go`))
		for i := 0; i < 100; i++ {
			path, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
			if err == nil && path == "/dpo/requests" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		r, err := a.g.DataRequest(tresor.WithPurpose(sys, "data_protection"), requestID)
		must(t, err)
		if r.State != tresor.RequestAnswered || len(r.Answers) != 1 {
			t.Errorf("state %s, %d answers", r.State, len(r.Answers))
		}
	})
}
