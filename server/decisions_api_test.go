package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
)

// TestDecisionsOverHTTP proves the decisions on requests over HTTP on both
// backends: each rule answers problem+json with a stable code and the rule
// in German and English, and the forms go back to the request's page.
func TestDecisionsOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		as := func(role tresor.Role, purpose, method, path, body string) (int, map[string]any) {
			t.Helper()
			r := a.do(call{method: method, path: path, body: body, role: role, purpose: purpose})
			return r.status, r.json(t)
		}
		dpo := func(method, path, body string) (int, map[string]any) {
			t.Helper()
			return as(tresor.RoleDPO, "data_protection", method, path, body)
		}
		status, c := as(tresor.RoleSales, "sales", "POST", "/api/v1/contacts",
			`{"family_name":"Muster","emails":["li@example.org"],"legal_basis":"legitimate_interest","balancing_note":"Messekontakt"}`)
		if status != 201 {
			t.Fatalf("create contact: %d %v", status, c)
		}
		cid := c["id"].(string)
		request := func(kind string) string {
			t.Helper()
			status, r := dpo("POST", "/api/v1/requests", fmt.Sprintf(`{"kind":%q,"channel":"email","address":"li@example.org","received_at":"2026-03-02","contact_ids":[%q]}`, kind, cid))
			if status != 201 {
				t.Fatalf("create request: %d %v", status, r)
			}
			id := r["id"].(string)
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/state", `{"state":"identity_verified"}`); status != 200 {
				t.Fatalf("verify: %d %v", status, r)
			}
			return id
		}
		explained := func(p map[string]any) bool {
			ex, _ := p["explanation"].(map[string]any)
			return ex != nil && ex["de"] != "" && ex["en"] != ""
		}

		t.Run("Art. 21(1): after the objection sales is refused with the rule explained", func(t *testing.T) {
			id := request("objection")
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/object", ""); status != 200 || r["state"] != "in_progress" {
				t.Fatalf("object: %d %v", status, r)
			}
			status, p := as(tresor.RoleSales, "sales", "GET", "/api/v1/contacts/"+cid, "")
			if status != 403 || p["code"] != string(tresor.ECObjectedInterest) || !explained(p) {
				t.Fatalf("sales reads: %d %v", status, p)
			}
			t.Run("compelling grounds re-allow the purpose; never for direct marketing", func(t *testing.T) {
				status, p := dpo("POST", "/api/v1/requests/"+id+"/compelling-grounds", fmt.Sprintf(`{"contact_id":%q,"purpose":"marketing","reason":"Großkunde"}`, cid))
				if status != 403 || p["code"] != string(tresor.ECForbidden) || !explained(p) {
					t.Fatalf("grounds for marketing: %d %v", status, p)
				}
				if status, p := dpo("POST", "/api/v1/requests/"+id+"/compelling-grounds", fmt.Sprintf(`{"contact_id":%q,"purpose":"sales","reason":"Forderung 12/26"}`, cid)); status != 200 {
					t.Fatalf("grounds for sales: %d %v", status, p)
				}
				if status, p := as(tresor.RoleSales, "sales", "GET", "/api/v1/contacts/"+cid, ""); status != 200 {
					t.Fatalf("sales after the grounds: %d %v", status, p)
				}
			})
		})

		t.Run("lifting a restriction needs a reason, also through the contacts API", func(t *testing.T) {
			if status, p := dpo("POST", "/api/v1/contacts/"+cid+"/restriction", `{"restricted":true}`); status != 200 {
				t.Fatalf("restrict: %d %v", status, p)
			}
			if status, p := dpo("POST", "/api/v1/contacts/"+cid+"/restriction", `{"restricted":false}`); status != 422 || p["code"] != string(tresor.ECValidation) {
				t.Fatalf("lift without a reason: %d %v", status, p)
			}
			if status, p := dpo("POST", "/api/v1/contacts/"+cid+"/restriction", `{"restricted":false,"reason":"accuracy verified, ticket 4711"}`); status != 200 || p["restricted_at"] != nil {
				t.Fatalf("lift with a reason: %d %v", status, p)
			}
		})

		t.Run("the forms apply a decision and go back to the request's page", func(t *testing.T) {
			a.userWithPassword("dana@example.org", tresor.RoleDPO)
			b := signedInAs(t, a, "dana@example.org")
			csrf := b.get("/dpo/requests").field(t, "csrf")
			id := request("restriction")
			r := b.post("/dpo/requests/"+id+"/restrict", url.Values{"csrf": {csrf}}, nil)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dpo/requests/"+id+"?decision=restrict#decisions" {
				t.Fatalf("restrict form: %d %s", r.status, r.header.Get("Location"))
			}
			r = b.post("/dpo/requests/"+id+"/lift", url.Values{"csrf": {csrf}, "contact_id": {cid}, "what": {"restriction"}}, nil)
			if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.Contains(loc, "decision_problem=") {
				t.Fatalf("lift form without a reason: %d %s", r.status, loc)
			}
			r = b.post("/dpo/requests/"+id+"/lift", url.Values{"csrf": {csrf}, "contact_id": {cid}, "what": {"restriction"}, "reason": {"Richtigkeit bestätigt"}}, nil)
			if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "decision=lift") {
				t.Fatalf("lift form: %d %s", r.status, r.header.Get("Location"))
			}
		})
	})
}
