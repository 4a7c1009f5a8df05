package server_test

import (
	"strings"
	"testing"
	"time"

	"tresor"
)

// TestBreachesOverHTTP proves the breach register's API on both backends:
// bad input is a problem+json, the clock and the drafts come back, an
// administrator without the DPO role is refused, and the counts of a scope
// come from the audit trail of a real token.
func TestBreachesOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		dpo := func(c call) call { c.role, c.purpose = tresor.RoleDPO, "data_protection"; return c }

		t.Run("bad input is a problem+json naming the field", func(t *testing.T) {
			r := a.do(dpo(call{method: "POST", path: "/api/v1/breaches", body: `{"title":"x","description":"y","risk":"maybe"}`}))
			if r.status != 422 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") ||
				!strings.Contains(string(r.body), "aware_at") || !strings.Contains(string(r.body), "risk") {
				t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			r = a.do(dpo(call{method: "GET", path: "/api/v1/breaches/" + "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b" + "/drafts?lang=fr"}))
			if r.status != 400 && r.status != 404 {
				t.Fatalf("lang=fr: %d %s", r.status, r.body)
			}
		})

		t.Run("an administrator without the DPO role is refused", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/breaches", role: tresor.RoleAdmin, purpose: "data_protection"})
			if r.status != 403 {
				t.Fatalf("admin: %d %s", r.status, r.body)
			}
		})

		t.Run("the scope is counted from the audit trail of a token", func(t *testing.T) {
			since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
			for _, mail := range []string{"p1@example.org", "p2@example.org"} {
				r := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
					body: `{"family_name":"Muster","emails":["` + mail + `"],"legal_basis":"contract"}`})
				if r.status != 201 {
					t.Fatalf("contact: %d %s", r.status, r.body)
				}
			}
			until := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
			r := a.do(dpo(call{method: "POST", path: "/api/v1/breaches",
				body: `{"title":"Token leaked","description":"The sales token was in a public repository","aware_at":"` + since + `","risk":"high"}`}))
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			id := r.json(t)["id"].(string)
			l, err := a.g.AuditLog(tresor.WithPurpose(sys, "data_protection"), tresor.AuditFilter{Action: "contact.create", Page: tresor.Page{Limit: 1}})
			if err != nil || len(l.Items) == 0 {
				t.Fatalf("audit: %v", err)
			}
			actor := l.Items[0].Actor
			if !strings.HasPrefix(actor, "token:") {
				t.Fatalf("the contacts were made by %s, not a token", actor)
			}
			r = a.do(dpo(call{method: "POST", path: "/api/v1/breaches/" + id + "/scope",
				body: `{"actor":"` + actor + `","since":"` + since + `","until":"` + until + `"}`}))
			if r.status != 200 {
				t.Fatalf("scope: %d %s", r.status, r.body)
			}
			b := r.json(t)
			scope, _ := b["scope"].(map[string]any)
			if scope == nil || scope["contacts"] != float64(2) || b["people_affected"] != float64(2) || b["overdue"] != false {
				t.Fatalf("scope: %s", r.body)
			}
			r = a.do(dpo(call{method: "GET", path: "/api/v1/breaches/" + id + "/drafts?lang=de"}))
			d := r.json(t)
			if r.status != 200 || !strings.Contains(d["authority"].(string), "Art. 33") || !strings.Contains(d["people"].(string), "Art. 34") {
				t.Fatalf("drafts: %d %s", r.status, r.body)
			}
		})
	})
}
