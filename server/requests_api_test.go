package server_test

import (
	"fmt"
	"testing"
	"time"

	"tresor"
)

// TestRequestsOverHTTP proves the request register over HTTP on both
// backends: the DPO records a request and moves it on, extends it once,
// lists open and overdue requests; bad input answers problem+json with a
// stable code; an administrator and a sales person are refused.
func TestRequestsOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		dpo := func(method, path, body string) (int, map[string]any) {
			t.Helper()
			r := a.do(call{method: method, path: path, body: body, role: tresor.RoleDPO, purpose: "data_protection"})
			return r.status, r.json(t)
		}
		old := time.Now().AddDate(0, 0, -45).Format(time.DateOnly)
		status, late := dpo("POST", "/api/v1/requests", fmt.Sprintf(`{"kind":"access","channel":"email","address":"erika@example.org","received_at":%q}`, old))
		if status != 201 || late["state"] != "received" || late["address"] != "erika@example.org" {
			t.Fatalf("create: %d %v", status, late)
		}
		status, leap := dpo("POST", "/api/v1/requests", `{"kind":"erasure","channel":"letter","address":"Musterweg 1, 12345 Musterstadt","received_at":"2024-01-31"}`)
		if status != 201 || leap["due"] != "2024-02-29" {
			t.Fatalf("create on 31 January of a leap year: %d %v", status, leap)
		}
		id := leap["id"].(string)

		t.Run("bad input is problem+json with a stable code", func(t *testing.T) {
			for _, c := range []struct {
				method, path, body string
				status             int
				code               tresor.Code
			}{
				{"POST", "/api/v1/requests", `{"kind":"complaint","channel":"email","address":"x@example.org","received_at":"2026-01-02"}`, 422, tresor.ECValidation},
				{"POST", "/api/v1/requests", `{"kind":"access","channel":"email","address":"x@example.org","received_at":"2026-01-02","extra":1}`, 400, tresor.ECUnknownField},
				{"GET", "/api/v1/requests?state=pending", "", 400, tresor.ECInvalidParameter},
				{"POST", "/api/v1/requests/" + id + "/state", `{"state":"answered"}`, 409, tresor.ECConflict},
				{"POST", "/api/v1/requests/" + id + "/state", `{"state":"refused"}`, 422, tresor.ECValidation},
				{"POST", "/api/v1/requests/" + id + "/extend", `{"reason":""}`, 422, tresor.ECValidation},
			} {
				status, p := dpo(c.method, c.path, c.body)
				if status != c.status || p["code"] != string(c.code) {
					t.Errorf("%s %s %s: %d %v, want %d %s", c.method, c.path, c.body, status, p, c.status, c.code)
				}
			}
		})
		t.Run("states, the one extension, and the lists", func(t *testing.T) {
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/state", `{"state":"identity_verified"}`); status != 200 || r["state"] != "identity_verified" {
				t.Fatalf("verify: %d %v", status, r)
			}
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/extend", `{"reason":"a large archive to search"}`); status != 200 || r["due"] != "2024-04-29" || r["extended"] != true {
				t.Fatalf("extend: %d %v", status, r)
			}
			if status, r := dpo("POST", "/api/v1/requests/"+id+"/extend", `{"reason":"again"}`); status != 409 {
				t.Fatalf("second extension: %d %v", status, r)
			}
			if status, r := dpo("GET", "/api/v1/requests/"+id, ""); status != 200 || len(r["history"].([]any)) != 3 {
				t.Fatalf("read: %d %v", status, r)
			}
			_, l := dpo("GET", "/api/v1/requests?state=overdue", "")
			if items := l["items"].([]any); len(items) != 2 || items[0].(map[string]any)["id"] != id {
				t.Fatalf("overdue, by deadline: %v", l)
			}
			dpo("POST", "/api/v1/requests/"+id+"/state", `{"state":"answered"}`)
			_, l = dpo("GET", "/api/v1/requests?state=open", "")
			if items := l["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != late["id"] {
				t.Fatalf("open: %v", l)
			}
		})
		t.Run("an administrator and a sales person are refused", func(t *testing.T) {
			for _, c := range []call{
				{method: "GET", path: "/api/v1/requests", role: tresor.RoleAdmin, purpose: "data_protection"},
				{method: "GET", path: "/api/v1/requests/" + id, role: tresor.RoleSales, purpose: "sales"},
			} {
				if r := a.do(c); r.status != 403 {
					t.Errorf("%s %s as %s: %d %s", c.method, c.path, c.role, r.status, r.body)
				}
			}
		})
	})
}
