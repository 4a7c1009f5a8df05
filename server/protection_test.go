package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"tresor"
)

// TestProtectionOverHTTP: erasure, legal holds, closing a relation and
// retention through the API, with their refusals as problem+json.
func TestProtectionOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		id := a.fixture("contacts")
		dpo := func(method, path, body string) reply {
			return a.do(call{method: method, path: path, role: tresor.RoleDPO, purpose: "data_protection", body: body})
		}
		want := func(r reply, status int, code string) {
			t.Helper()
			if r.status != status || (code != "" && !strings.Contains(string(r.body), `"code":"`+code+`"`)) {
				t.Fatalf("status %d, body %s; want %d %s", r.status, r.body, status, code)
			}
		}
		// Only the data-protection purpose erases.
		want(a.do(call{method: "POST", path: "/api/v1/contacts/" + id + "/erasure", role: tresor.RoleSales, purpose: "sales",
			body: `{"reason":"ticket 1"}`}), 403, "forbidden")
		r := dpo("POST", "/api/v1/contacts/"+id+"/holds", `{"reason":"Klage 3 O 12/26"}`)
		want(r, 201, "")
		var h tresor.LegalHold
		must(t, json.Unmarshal(r.body, &h))
		r = dpo("POST", "/api/v1/contacts/"+id+"/erasure", `{"reason":"ticket 1"}`)
		want(r, 409, "legal_hold")
		if !strings.Contains(string(r.body), "Klage 3 O 12/26") || !strings.Contains(string(r.body), `"de":`) {
			t.Fatalf("the refusal does not explain the hold in both languages: %s", r.body)
		}
		want(dpo("GET", "/api/v1/contacts/"+id+"/holds", ""), 200, "")
		want(dpo("POST", "/api/v1/holds/"+h.ID+"/release", ""), 200, "")
		want(dpo("POST", "/api/v1/holds/"+h.ID+"/release", ""), 409, "conflict")
		want(dpo("POST", "/api/v1/contacts/"+id+"/erasure", `{"reason":""}`), 422, "validation_failed")
		want(dpo("POST", "/api/v1/contacts/"+id+"/erasure", `{"reason":"Fixture asked"}`), 422, "reason_personal")
		r = dpo("POST", "/api/v1/contacts/"+id+"/erasure", `{"reason":"ticket 1"}`)
		want(r, 200, "")
		var e tresor.Erasure
		must(t, json.Unmarshal(r.body, &e))
		if e.ContactID != id || e.Origin != tresor.ErasureRequest {
			t.Fatalf("erasure: %+v", e)
		}
		want(a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"}), 410, "contact_erased")
		want(dpo("GET", "/api/v1/erasures/"+id, ""), 200, "")
		want(dpo("POST", "/api/v1/contacts/"+id+"/erasure", `{"reason":"ticket 1"}`), 410, "contact_erased")

		// Closing a relation archives it: sales no longer sees it, the dpo does, read-only.
		other := a.fixture("contacts")
		want(a.do(call{method: "POST", path: "/api/v1/contacts/" + other + "/close", role: tresor.RoleSales, purpose: "sales"}), 204, "")
		want(a.do(call{method: "GET", path: "/api/v1/contacts/" + other, role: tresor.RoleSales, purpose: "sales"}), 403, "archived")
		want(dpo("GET", "/api/v1/contacts/"+other, ""), 200, "")
		want(dpo("PATCH", "/api/v1/contacts/"+other, `{"position":"x"}`), 403, "archived")

		r = dpo("POST", "/api/v1/retention/runs", `{"dry_run":true}`)
		want(r, 200, "")
		var rep tresor.RetentionReport
		must(t, json.Unmarshal(r.body, &rep))
		if !rep.DryRun || rep.Checked == 0 {
			t.Fatalf("retention report: %+v", rep)
		}
	})
}
