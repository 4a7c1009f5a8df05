package server_test

import (
	"net/url"
	"reflect"
	"slices"
	"testing"

	"tresor"
)

// TestNonAdministratorCannotTellWhetherAnAccountExists: a sales user asking
// for another account gets the same answer whether the address has an
// account or not, and the refused read of a real account is still audited.
func TestNonAdministratorCannotTellWhetherAnAccountExists(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.victim()
		existing, unknown := "victim@example.org", "nobody@example.org"
		alike := func(t *testing.T, path func(who string) string) {
			t.Helper()
			r1 := a.do(call{method: "GET", path: path(existing), role: tresor.RoleSales})
			r2 := a.do(call{method: "GET", path: path(unknown), role: tresor.RoleSales})
			p1, p2 := r1.json(t), r2.json(t)
			// The answers differ at most in their request id and path.
			for _, p := range []map[string]any{p1, p2} {
				delete(p, "request_id")
				delete(p, "instance")
			}
			if r1.status != 403 || r1.status != r2.status || !reflect.DeepEqual(p1, p2) {
				t.Fatalf("existing: %d %s\nunknown: %d %s", r1.status, r1.body, r2.status, r2.body)
			}
		}
		t.Run("a user read answers alike for an existing and an unknown account", func(t *testing.T) {
			alike(t, func(who string) string { return "/api/v1/users/" + url.PathEscape(who) })
		})
		t.Run("a user read answers alike for an existing and an unknown id", func(t *testing.T) {
			ids := map[string]string{existing: a.victim(), unknown: "00000000-0000-4000-8000-000000000000"}
			alike(t, func(who string) string { return "/api/v1/users/" + ids[who] })
		})
		t.Run("a token list answers alike for an existing and an unknown account", func(t *testing.T) {
			alike(t, func(who string) string { return "/api/v1/tokens?user=" + url.QueryEscape(who) })
		})
		t.Run("the refused read of an existing account is audited", func(t *testing.T) {
			head := a.head()
			a.do(call{method: "GET", path: "/api/v1/users/" + url.PathEscape(existing), role: tresor.RoleSales})
			var found bool
			for _, e := range a.newEntries(head) {
				found = found || e.Action == "user.read" && e.Decision == tresor.Refused && slices.Equal(e.ObjectIDs, []string{a.victim()})
			}
			if !found {
				t.Fatalf("no refused user.read naming %s among %+v", a.victim(), a.newEntries(head))
			}
		})
		t.Run("an administrator still learns that an account does not exist", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/users/" + url.PathEscape(unknown), role: tresor.RoleAdmin})
			if r.status != 404 {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	})
}
