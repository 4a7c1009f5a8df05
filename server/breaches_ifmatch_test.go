package server_test

import (
	"testing"
	"time"

	"tresor"
)

// TestBreachChangesHonourIfMatch: PATCH and /state of a breach are
// conditional on If-Match like other resources: a stale version is 412,
// the current one goes through.
func TestBreachChangesHonourIfMatch(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }
		r := a.do(dpo(call{method: "POST", path: "/api/v1/breaches",
			body: `{"title":"Fehlversand","description":"Eine Liste ging an den falschen Empfänger","aware_at":"` + time.Now().UTC().Format(time.RFC3339) + `","risk":"risk"}`}))
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		t.Run("a PATCH with a stale If-Match is refused", func(t *testing.T) {
			r := a.do(dpo(call{method: "PATCH", path: "/api/v1/breaches/" + id, body: `{"title":"Fehlversand (Liste)"}`,
				header: map[string]string{"If-Match": `"7"`}}))
			if r.status != 412 {
				t.Fatalf("stale PATCH: %d %s", r.status, r.body)
			}
		})
		t.Run("a PATCH with the current If-Match goes through", func(t *testing.T) {
			r := a.do(dpo(call{method: "PATCH", path: "/api/v1/breaches/" + id, body: `{"title":"Fehlversand (Liste)"}`,
				header: map[string]string{"If-Match": `"1"`}}))
			if r.status != 200 || r.header.Get("ETag") != `"2"` {
				t.Fatalf("PATCH: %d %s %s", r.status, r.header.Get("ETag"), r.body)
			}
		})
		t.Run("a change of state with a stale If-Match is refused", func(t *testing.T) {
			r := a.do(dpo(call{method: "POST", path: "/api/v1/breaches/" + id + "/state", body: `{"state":"authority_notified"}`,
				header: map[string]string{"If-Match": `"1"`}}))
			if r.status != 412 {
				t.Fatalf("stale state: %d %s", r.status, r.body)
			}
			r = a.do(dpo(call{method: "POST", path: "/api/v1/breaches/" + id + "/state", body: `{"state":"authority_notified"}`,
				header: map[string]string{"If-Match": `"2"`}}))
			if r.status != 200 {
				t.Fatalf("state: %d %s", r.status, r.body)
			}
		})
	})
}
