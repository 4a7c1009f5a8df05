package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"tresor"
)

func TestSearchOverTheAPI(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		if err := a.g.WaitSearch(context.Background()); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"Müller", "Mueller", "Muller"} {
			body := fmt.Sprintf(`{"given_name":"Ann%d","family_name":%q,"legal_basis":"contract"}`, i, name)
			if r := a.do(call{method: "POST", path: "/api/v1/contacts", body: body, role: tresor.RoleSales, purpose: "sales"}); r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
		}
		get := func(path string) (int, map[string]any) {
			r := a.do(call{method: "GET", path: path, role: tresor.RoleSales, purpose: "sales"})
			return r.status, r.json(t)
		}
		t.Run("q finds by folded words and gives the total", func(t *testing.T) {
			status, body := get("/api/v1/contacts?q=" + url.QueryEscape("MÜLLER"))
			if status != http.StatusOK || body["total"] != float64(3) || len(body["items"].([]any)) != 3 {
				t.Fatalf("%d %v", status, body)
			}
		})
		t.Run("a search pages with its cursor", func(t *testing.T) {
			seen := map[string]bool{}
			path := "/api/v1/contacts?q=mueller&limit=2"
			for range 3 {
				status, body := get(path)
				if status != http.StatusOK {
					t.Fatalf("%d %v", status, body)
				}
				for _, it := range body["items"].([]any) {
					seen[it.(map[string]any)["id"].(string)] = true
				}
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				path = "/api/v1/contacts?q=mueller&limit=2&cursor=" + next
			}
			if len(seen) != 3 {
				t.Errorf("pages gave %d contacts, want 3", len(seen))
			}
		})
		t.Run("q with email, a list cursor or a query too long is a bad request", func(t *testing.T) {
			for _, path := range []string{"/api/v1/contacts?q=ann&email=a@example.org",
				"/api/v1/contacts?q=ann&cursor=" + tresor.EncodeCursor("01900000-0000-7000-8000-000000000000"),
				"/api/v1/contacts?q=" + url.QueryEscape(fmt.Sprintf("%0201d", 0))} {
				status, body := get(path)
				if status != http.StatusBadRequest {
					t.Errorf("%s: %d %v", path, status, body)
				}
			}
		})
		t.Run("organizations are found by folded words", func(t *testing.T) {
			if r := a.do(call{method: "POST", path: "/api/v1/organizations", body: `{"name":"Bäckerei Groß KG"}`, role: tresor.RoleSales, purpose: "sales"}); r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			status, body := get("/api/v1/organizations?q=baeckerei+gross")
			if status != http.StatusOK || body["total"] != float64(1) {
				t.Fatalf("%d %v", status, body)
			}
		})
	})
}
