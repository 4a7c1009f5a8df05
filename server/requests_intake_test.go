package server_test

import (
	"net/url"
	"strings"
	"testing"

	"tresor"
)

// TestRequestFormOverHTTP proves the public request form and the
// verification link over HTTP on both backends: a form without its token
// is refused; the answer to a known and to an unknown address is the same
// page; opening the link shows a button and verifies nothing; the button
// verifies once, with the same thanks for both; the flood is refused with
// 429 and a clear page; the DPO sees the candidates and links, unlinks, and
// is refused a contact that does not exist.
func TestRequestFormOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		contact := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
			body: `{"given_name":"Erika","family_name":"Mustermann","emails":["erika@example.org"],"legal_basis":"contract"}`}).json(t)
		contactID := contact["id"].(string)
		dpo := func(method, path, body string) (int, map[string]any) {
			t.Helper()
			r := a.do(call{method: method, path: path, body: body, role: tresor.RoleDPO, purpose: "data_protection"})
			return r.status, r.json(t)
		}
		b := newBrowser(t, a.url)
		submit := func(email string) page {
			t.Helper()
			form := b.get("/requests/new")
			if form.status != 200 || !strings.Contains(form.body, `id="request-form"`) {
				t.Fatalf("form: %d %.300s", form.status, form.body)
			}
			return b.post("/requests/new", url.Values{"form_token": {form.field(t, "form_token")}, "kind": {"access"},
				"email": {email}, "message": {"Was speichern Sie über mich?"}, "language": {"de"}}, nil)
		}
		lastLink := func() string {
			t.Helper()
			mails := a.mail.all()
			_, rest, ok := strings.Cut(mails[len(mails)-1].Text, "/requests/verify?token=")
			if !ok {
				t.Fatalf("no verification link in %q", mails[len(mails)-1].Text)
			}
			return strings.Fields(rest)[0]
		}
		requestOf := func(email string) map[string]any {
			t.Helper()
			_, l := dpo("GET", "/api/v1/requests", "")
			for _, it := range l["items"].([]any) {
				if r := it.(map[string]any); r["address"] == email {
					return r
				}
			}
			t.Fatalf("no request of %s: %v", email, l)
			return nil
		}

		var knownLink, unknownLink string
		t.Run("a form without its token is refused and records nothing", func(t *testing.T) {
			r := b.post("/requests/new", url.Values{"kind": {"access"}, "email": {"forged@example.org"}}, nil)
			if r.status != 403 {
				t.Fatalf("forged form: %d", r.status)
			}
			if n := len(a.mail.all()); n != 0 {
				t.Fatalf("%d mails sent for a forged form", n)
			}
		})
		t.Run("a known and an unknown address get the same page", func(t *testing.T) {
			known := submit("erika@example.org")
			knownLink = lastLink()
			unknown := submit("stranger@example.net")
			unknownLink = lastLink()
			if known.status != 200 || known.body != unknown.body || !strings.Contains(known.body, `id="request-sent"`) {
				t.Fatalf("pages differ or fail: %d %d\n%s\n---\n%s", known.status, unknown.status, known.body, unknown.body)
			}
			if r := requestOf("erika@example.org"); r["channel"] != "web_form" || r["state"] != "received" || r["message"] != "Was speichern Sie über mich?" {
				t.Fatalf("request = %v", r)
			}
		})
		t.Run("opening the link shows a button and verifies nothing", func(t *testing.T) {
			pg := b.get("/requests/verify?token=" + url.QueryEscape(knownLink))
			if pg.status != 200 || !strings.Contains(pg.body, `id="request-verify-button"`) {
				t.Fatalf("link page: %d %.300s", pg.status, pg.body)
			}
			if r := requestOf("erika@example.org"); r["state"] != "received" {
				t.Fatalf("the GET verified: %v", r)
			}
			if r := b.get("/requests/verify?token=r1.forged.link"); r.status != 404 || !strings.Contains(r.body, `id="request-link-invalid"`) {
				t.Fatalf("forged link: %d %.300s", r.status, r.body)
			}
		})
		t.Run("the button verifies once, with the same thanks for a known and an unknown address", func(t *testing.T) {
			verify := func(link string) page {
				pg := b.get("/requests/verify?token=" + url.QueryEscape(link))
				return b.post("/requests/verify", url.Values{"form_token": {pg.field(t, "form_token")}, "token": {link}}, nil)
			}
			if r := b.post("/requests/verify", url.Values{"token": {knownLink}}, nil); r.status != 403 {
				t.Fatalf("verification without the form token: %d", r.status)
			}
			k, u := verify(knownLink), verify(unknownLink)
			if k.status != 200 || k.body != u.body || !strings.Contains(k.body, `id="request-verified"`) {
				t.Fatalf("thanks differ or fail: %d %d\n%s\n---\n%s", k.status, u.status, k.body, u.body)
			}
			pg := b.get("/requests/verify?token=" + url.QueryEscape(knownLink))
			if pg.status != 404 {
				t.Fatalf("a used link: %d", pg.status)
			}
		})
		t.Run("the DPO sees the candidates and links and unlinks the contact", func(t *testing.T) {
			id := requestOf("erika@example.org")["id"].(string)
			status, r := dpo("GET", "/api/v1/requests/"+id, "")
			if c, _ := r["candidates"].([]any); status != 200 || r["state"] != "identity_verified" || len(c) != 1 || c[0] != contactID {
				t.Fatalf("request: %d %v", status, r)
			}
			if status, r := dpo("GET", "/api/v1/requests/"+requestOf("stranger@example.net")["id"].(string), ""); status != 200 || r["candidates"] != nil {
				t.Fatalf("unknown address: %d %v", status, r)
			}
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/contacts", `{"contact_id":"0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a70"}`); status != 422 || r["code"] != string(tresor.ECInvalidReference) {
				t.Fatalf("link a missing contact: %d %v", status, r)
			}
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/contacts", `{"contact_id":"`+contactID+`"}`); status != 200 || len(r["contact_ids"].([]any)) != 1 {
				t.Fatalf("link: %d %v", status, r)
			}
			if r := a.do(call{method: "POST", path: "/api/v1/requests/" + id + "/contacts", role: tresor.RoleSales, purpose: "sales", body: `{"contact_id":"` + contactID + `"}`}); r.status != 403 {
				t.Fatalf("sales links: %d %s", r.status, r.body)
			}
			if status, r := dpo("DELETE", "/api/v1/requests/"+id+"/contacts/"+contactID, ""); status != 200 || r["contact_ids"] != nil {
				t.Fatalf("unlink: %d %v", status, r)
			}
			if status, r := dpo("DELETE", "/api/v1/requests/"+id+"/contacts/"+contactID, ""); status != 404 || r["code"] != string(tresor.ECNotFound) {
				t.Fatalf("unlink again: %d %v", status, r)
			}
		})
		t.Run("staff send the link for a request they recorded", func(t *testing.T) {
			status, r := dpo("POST", "/api/v1/requests", `{"kind":"erasure","channel":"email","address":"erika@example.org","received_at":"2026-01-05"}`)
			if status != 201 {
				t.Fatalf("create: %d %v", status, r)
			}
			n := len(a.mail.all())
			if status, r := dpo("POST", "/api/v1/requests/"+r["id"].(string)+"/verification", ""); status != 200 || len(a.mail.all()) != n+1 {
				t.Fatalf("send: %d %v", status, r)
			}
		})
		t.Run("a flood is refused with 429 and a clear page", func(t *testing.T) {
			var r page
			for range 4 {
				r = submit("flood@example.org")
			}
			if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Anträge") && !strings.Contains(r.body, "requests") {
				t.Fatalf("flood: %d %v %.500s", r.status, r.header, r.body)
			}
		})
	})
}
