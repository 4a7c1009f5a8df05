package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"tresor"
)

// TestMergeOverHTTP: the duplicates list, the merge and the old id's
// redirect, through the API.
func TestMergeOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		create := func(body string) string {
			t.Helper()
			r := a.do(call{method: "POST", path: "/api/v1/contacts", body: body, role: tresor.RoleSales, purpose: "sales"})
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			return r.json(t)["id"].(string)
		}
		into := create(`{"given_name":"Hans","family_name":"Müller","organization":"Acme AG","legal_basis":"contract"}`)
		from := create(`{"given_name":"Hans","family_name":"Mueller","organization":"Acme AG","emails":["hans@acme.example"],"legal_basis":"contract"}`)

		t.Run("duplicates are listed under the purpose", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts/duplicates", role: tresor.RoleSales, purpose: "sales"})
			if r.status != http.StatusOK {
				t.Fatalf("duplicates: %d %s", r.status, r.body)
			}
			var body struct {
				Items []tresor.Duplicate `json:"items"`
				Total int                `json:"total"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Total != 1 || len(body.Items) != 1 || body.Items[0].Reasons[0] != tresor.DuplicateName {
				t.Fatalf("duplicates: %s", r.body)
			}
			if r := a.do(call{method: "GET", path: "/api/v1/contacts/duplicates", role: tresor.RoleSales}); r.status != http.StatusBadRequest {
				t.Fatalf("without a purpose: %d", r.status)
			}
		})
		t.Run("merging into itself is refused", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/contacts/" + into + "/merge", body: `{"from":"` + into + `"}`, role: tresor.RoleSales, purpose: "sales"})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("merge into itself: %d %s", r.status, r.body)
			}
		})
		t.Run("merge", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/contacts/" + into + "/merge", body: `{"from":"` + from + `"}`, role: tresor.RoleSales, purpose: "sales"})
			if r.status != http.StatusOK {
				t.Fatalf("merge: %d %s", r.status, r.body)
			}
			m := r.json(t)
			if m["into"] != into || m["from"] != from || !strings.Contains(string(r.body), "hans@acme.example") {
				t.Fatalf("merge result: %s", r.body)
			}
		})
		t.Run("tombstone redirect 308", func(t *testing.T) {
			req, _ := http.NewRequest("GET", a.url+"/api/v1/contacts/"+from, nil)
			req.Header.Set("Authorization", "Bearer "+a.token(tresor.RoleSales))
			req.Header.Set("Tresor-Purpose", "sales")
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p map[string]any
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != "/api/v1/contacts/"+into ||
				p["code"] != "contact_merged" || p["merged_into"] != into {
				t.Fatalf("old id: %d Location %q %v", res.StatusCode, res.Header.Get("Location"), p)
			}
			// A client that follows redirects lands on the survivor.
			r := a.do(call{method: "GET", path: "/api/v1/contacts/" + from, role: tresor.RoleSales, purpose: "sales"})
			if r.status != http.StatusOK || r.json(t)["id"] != into {
				t.Fatalf("followed: %d %s", r.status, r.body)
			}
		})
	})
}
