package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"tresor"
	"tresor/datadir"
)

// TestDealListsSortedOverHTTP proves the order of GET /api/v1/deals on both
// backends: every page of a sorted list follows the order, a following page
// may leave sort out (the cursor carries it), an unknown order and a cursor
// of another order are refused with their codes.
func TestDealListsSortedOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		values := []string{"500.00", "12500.50", "99.00", "500.00", "1000000.00"}
		for i, v := range values {
			body := fmt.Sprintf(`{"title":"Deal %d","stage":"lead","value":%q,"currency":"EUR"}`, i, v)
			if r := a.do(call{method: "POST", path: "/api/v1/deals", body: body, role: tresor.RoleSales, purpose: "sales"}); r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
		}
		list := func(t *testing.T, q url.Values) (values []string, next string) {
			t.Helper()
			r := a.do(call{method: "GET", path: "/api/v1/deals?" + q.Encode(), role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 {
				t.Fatalf("list %s: %d %s", q.Encode(), r.status, r.body)
			}
			m := r.json(t)
			for _, it := range m["items"].([]any) {
				values = append(values, it.(map[string]any)["value"].(string))
			}
			next, _ = m["next_cursor"].(string)
			return values, next
		}
		t.Run("the pages of sort=-value follow the values downwards", func(t *testing.T) {
			var got []string
			q := url.Values{"sort": {"-value"}, "limit": {"2"}}
			for range 5 {
				page, next := list(t, q)
				got = append(got, page...)
				if next == "" {
					break
				}
				q = url.Values{"limit": {"2"}, "cursor": {next}} // the cursor carries the order
			}
			if want := []string{"1000000.00", "12500.50", "500.00", "500.00", "99.00"}; !slices.Equal(got, want) {
				t.Fatalf("values %v, want %v", got, want)
			}
		})
		t.Run("an unknown order is refused with invalid_parameter", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/deals?sort=owner", role: tresor.RoleSales, purpose: "sales"})
			if r.status != 400 || r.json(t)["code"] != "invalid_parameter" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("a cursor of another order is refused with invalid_cursor", func(t *testing.T) {
			_, next := list(t, url.Values{"sort": {"value"}, "limit": {"2"}})
			r := a.do(call{method: "GET", path: "/api/v1/deals?sort=title&cursor=" + url.QueryEscape(next), role: tresor.RoleSales, purpose: "sales"})
			if r.status != 400 || r.json(t)["code"] != "invalid_cursor" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	})
}

// TestDealOutcomeReasonOverHTTP proves that a lost deal keeps its reason,
// that an open deal cannot be given one, and that reopening forgets it.
func TestDealOutcomeReasonOverHTTP(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	r := a.do(call{method: "POST", path: "/api/v1/deals", body: `{"title":"Fleet","stage":"lead"}`, role: tresor.RoleSales, purpose: "sales"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	patch := func(body string, version int) reply {
		return a.do(call{method: "PATCH", path: "/api/v1/deals/" + id, body: body, role: tresor.RoleSales, purpose: "sales",
			header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, version), "Content-Type": "application/merge-patch+json"}})
	}
	t.Run("an open deal has no outcome reason", func(t *testing.T) {
		if r := patch(`{"outcome_reason":"price"}`, 1); r.status != 422 || r.json(t)["code"] != "validation_failed" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a lost deal keeps its reason", func(t *testing.T) {
		r := patch(`{"stage":"lost","outcome_reason":"competitor"}`, 1)
		if r.status != 200 || r.json(t)["outcome_reason"] != "competitor" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a reopened deal forgets its reason", func(t *testing.T) {
		r := patch(`{"stage":"negotiation"}`, 2)
		if m := r.json(t); r.status != 200 || m["outcome_reason"] != nil || m["closed_at"] != nil {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
