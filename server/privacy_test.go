package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

func TestPrivacyOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		// The purpose catalogue explains itself in both languages.
		p := a.do(call{method: "GET", path: "/api/v1/purposes", role: tresor.RoleSales})
		items := p.json(t)["items"].([]any)
		if p.status != 200 || len(items) < 5 || items[0].(map[string]any)["name_de"] == "" {
			t.Fatalf("purposes: %d %s", p.status, p.body)
		}
		// A refusal explains the rule in English and German; German on request.
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"Ohne Grund"}`, role: tresor.RoleSales, purpose: "sales",
			header: map[string]string{"Accept-Language": "de-DE,de;q=0.9"}})
		pr := r.json(t)
		ex, _ := pr["explanation"].(map[string]any)
		if r.status != 422 || pr["code"] != "legal_basis_missing" || ex["de"] == nil || ex["en"] == nil ||
			!strings.Contains(pr["detail"].(string), "Rechtsgrundlage") {
			t.Fatalf("refusal: %d %s", r.status, r.body)
		}
		c := a.do(call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales"}).json(t)
		id := c["id"].(string)
		for q, code := range map[string]string{"purpose=marketing&channel=pigeon": "invalid_parameter", "purpose=gossip&channel=email": "purpose_unknown",
			"channel=email": "invalid_parameter"} {
			if r := a.do(call{method: "GET", path: "/api/v1/contacts/" + id + "/reach?" + q, role: tresor.RoleMarketing}); r.status != 400 || r.json(t)["code"] != code {
				t.Errorf("reach?%s: %d %s", q, r.status, r.body)
			}
		}
		if r := a.do(call{method: "GET", path: "/api/v1/contacts/01a223f0-8d8f-7682-899e-39452c1ae6d0/consents", role: tresor.RoleMarketing, purpose: "marketing"}); r.status != 404 {
			t.Errorf("consents of an unknown contact: %d", r.status)
		}
		// Double opt-in over HTTP: 202, a mail, a page, a confirmation.
		r = a.do(call{method: "POST", path: "/api/v1/contacts/" + id + "/consents", role: tresor.RoleMarketing, purpose: "marketing",
			body: `{"purpose":"marketing","channel":"email","action":"grant","method":"double_opt_in","proof":{"text_version":"v1"}}`})
		if r.status != http.StatusAccepted {
			t.Fatalf("double opt-in: %d %s", r.status, r.body)
		}
		mails := a.mail.all()
		text := mails[len(mails)-1].Text
		_, rest, _ := strings.Cut(text, "/consent/confirm?token=")
		token := strings.Fields(rest)[0]
		b := newBrowser(t, a.url)
		// A forged link: a clear page, nothing changes.
		if r := b.get("/consent/confirm?token=forged"); r.status != 404 || !strings.Contains(r.body, "nicht gültig") && !strings.Contains(r.body, "not valid") {
			t.Fatalf("forged link page: %d %.300s", r.status, r.body)
		}
		pg := b.get("/consent/confirm?token=" + url.QueryEscape(token))
		if pg.status != 200 {
			t.Fatalf("confirmation page: %d", pg.status)
		}
		// Without the form's token (a forged form), nothing happens.
		if r := b.post("/consent/confirm", url.Values{"token": {token}}, nil); r.status != http.StatusForbidden {
			t.Fatalf("confirmation without the form token: %d", r.status)
		}
		reach := func() map[string]any {
			return a.do(call{method: "GET", path: "/api/v1/contacts/" + id + "/reach?purpose=marketing&channel=email", role: tresor.RoleMarketing}).json(t)
		}
		if reach()["allowed"] != false {
			t.Fatal("consent granted before confirming")
		}
		if r := b.post("/consent/confirm", url.Values{"form_token": {pg.field(t, "form_token")}, "token": {token}}, nil); r.status != 200 {
			t.Fatalf("confirm: %d %.300s", r.status, r.body)
		}
		if d := reach(); d["allowed"] != true {
			t.Fatalf("after confirming: %v", d)
		}
		// The DPO restricts: sales no longer reads, reach says why.
		if r := a.do(call{method: "POST", path: "/api/v1/contacts/" + id + "/restriction", role: tresor.RoleDPO, purpose: "data_protection", body: `{"restricted":true}`}); r.status != 200 {
			t.Fatalf("restrict: %d %s", r.status, r.body)
		}
		if r := a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"}); r.status != 403 || r.json(t)["code"] != "contact_restricted" {
			t.Fatalf("sales reading a restricted contact: %d %s", r.status, r.body)
		}
		d := reach()
		if d["allowed"] != false || !strings.Contains(a.do(call{method: "GET", path: "/api/v1/contacts/" + id + "/reach?purpose=marketing&channel=email", role: tresor.RoleMarketing}).json(t)["reasons"].([]any)[0].(map[string]any)["code"].(string), "restricted") {
			t.Fatalf("reach of a restricted contact: %v", d)
		}
	})
}

// TestConsentPagesWithoutMail: the withdrawal page works from a signed link alone.
func TestConsentPagesWithoutMail(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	if r := newBrowser(t, a.url).post("/consent/withdraw?token=w1.Zm9v.YmFy", url.Values{"List-Unsubscribe": {"One-Click"}}, nil); r.status != 404 {
		t.Fatalf("a forged withdrawal link: %d", r.status)
	}
}
