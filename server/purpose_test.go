package server_test

import (
	"strings"
	"testing"

	"tresor"
)

// TestAPurposeDeletesOnlyItsOwnProcessing reproduces the attack: a marketing
// token's DELETE of a contact that sales holds under a contract answered 204
// and erased the person for good.
func TestAPurposeDeletesOnlyItsOwnProcessing(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		id, note := salesContactWithNote(t, a, "Discount of 20% agreed.")

		t.Run("marketing may not delete a sales interaction it cannot read", func(t *testing.T) {
			r := a.do(call{method: "DELETE", path: "/api/v1/interactions/" + note, role: tresor.RoleMarketing, purpose: "marketing"})
			if r.status != 403 || r.json(t)["explanation"] == nil {
				t.Fatalf("marketing's delete of a sales note: %d %s (want 403 with an explanation)", r.status, r.body)
			}
			r = a.do(call{method: "GET", path: "/api/v1/interactions/" + note, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 || r.json(t)["body"] != "Discount of 20% agreed." {
				t.Fatalf("sales' note after marketing's delete: %d %s", r.status, r.body)
			}
		})
		t.Run("marketing's delete of a sales contact leaves the person to sales", func(t *testing.T) {
			r := a.do(call{method: "DELETE", path: "/api/v1/contacts/" + id, role: tresor.RoleMarketing, purpose: "marketing"})
			if r.status != 204 {
				t.Fatalf("marketing's delete: %d %s", r.status, r.body)
			}
			r = a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 || r.json(t)["family_name"] != "Mustermann" {
				t.Fatalf("sales reads its customer after marketing's delete: %d %s (want 200, the person intact)", r.status, r.body)
			}
		})
		t.Run("sales' own delete erases the person", func(t *testing.T) {
			r := a.do(call{method: "DELETE", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 204 {
				t.Fatalf("sales' delete: %d %s", r.status, r.body)
			}
			r = a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 410 {
				t.Fatalf("read after the last purpose's delete: %d %s (want 410)", r.status, r.body)
			}
		})
	})
}

// TestRestrictionCoversThePersonsRecords reproduces the attack: after the
// DPO restricted a person, sales still read and changed their interactions.
func TestRestrictionCoversThePersonsRecords(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		id, note := salesContactWithNote(t, a, "Wants 50 licences.")
		r := a.do(call{method: "POST", path: "/api/v1/contacts/" + id + "/restriction", body: `{"restricted":true}`, role: tresor.RoleDPO, purpose: "data_protection"})
		if r.status != 200 {
			t.Fatalf("restrict: %d %s", r.status, r.body)
		}
		refused := func(t *testing.T, r reply) {
			t.Helper()
			p := r.json(t)
			ex, _ := p["explanation"].(map[string]any)
			if r.status != 403 || p["code"] != string(tresor.ECRestricted) || ex == nil || !strings.Contains(ex["de"].(string), "Art. 18") {
				t.Fatalf("%d %s (want 403 contact_restricted, explained in German and English)", r.status, r.body)
			}
		}
		t.Run("sales may not read the person's interaction", func(t *testing.T) {
			refused(t, a.do(call{method: "GET", path: "/api/v1/interactions/" + note, role: tresor.RoleSales, purpose: "sales"}))
		})
		t.Run("sales may not change the person's interaction", func(t *testing.T) {
			refused(t, a.do(call{method: "PATCH", path: "/api/v1/interactions/" + note, body: `{"body":"changed"}`, role: tresor.RoleSales,
				purpose: "sales", header: map[string]string{"Content-Type": "application/merge-patch+json"}}))
		})
		t.Run("sales' list leaves the person's interaction out", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/interactions?contact_id=" + id, role: tresor.RoleSales, purpose: "sales"})
			if items, _ := r.json(t)["items"].([]any); r.status != 200 || len(items) != 0 {
				t.Fatalf("list: %d %s (want 200 and no items)", r.status, r.body)
			}
		})
		t.Run("the DPO still reads it", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/interactions/" + note, role: tresor.RoleDPO, purpose: "data_protection"})
			if r.status != 200 {
				t.Fatalf("DPO read: %d %s", r.status, r.body)
			}
		})
	})
}

// salesContactWithNote creates, for sales under a contract, a contact and a
// note about them, and returns both ids.
func salesContactWithNote(t *testing.T, a *api, body string) (contact, note string) {
	t.Helper()
	r := a.do(call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	contact = r.json(t)["id"].(string)
	r = a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales",
		body: `{"kind":"note","contact_id":"` + contact + `","body":"` + body + `","legal_basis":"contract"}`})
	if r.status != 201 {
		t.Fatalf("create interaction: %d %s", r.status, r.body)
	}
	return contact, r.json(t)["id"].(string)
}
