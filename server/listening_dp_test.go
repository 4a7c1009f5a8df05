package server_test

import (
	"net/http"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// TestListeningBudgetOverHTTP: a topic with differential privacy shows its
// budget in its JSON, every trend read (JSON or CSV) spends of it, and a
// read beyond it is a problem+json with a stable code and the rule in
// English and German.
func TestListeningBudgetOverHTTP(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	analyst := func(method, path, body string) reply {
		return a.do(call{method: method, path: path, body: body, role: tresor.RoleAnalyst, purpose: "analytics"})
	}
	r := analyst("POST", "/api/v1/listening/topics", `{"name":"Kaffee","keywords":["#kaffee"],"networks":["mastodon"],"epsilon_budget":1}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	top := r.json(t)
	id := top["id"].(string)

	t.Run("the topic's JSON shows its budget", func(t *testing.T) {
		if top["dp"] != true || top["epsilon_budget"] != 1.0 || top["epsilon_spent"] != 0.0 || top["epsilon_per_query"] != 0.5 {
			t.Errorf("topic = %v", top)
		}
	})

	t.Run("JSON and CSV reads spend, the third is refused with the rule", func(t *testing.T) {
		r := analyst("GET", "/api/v1/listening/topics/"+id+"/trend?from=2026-01-01&to=2026-01-08", "")
		if r.status != http.StatusOK || r.json(t)["epsilon"] != 0.5 || r.json(t)["epsilon_spent"] != 0.5 {
			t.Fatalf("JSON read: %d %s", r.status, r.body)
		}
		r = analyst("GET", "/api/v1/listening/topics/"+id+"/trend?from=2026-02-01&to=2026-02-08&format=csv", "")
		if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), "start,") {
			t.Fatalf("CSV read: %d %s", r.status, r.body)
		}
		r = analyst("GET", "/api/v1/listening/topics/"+id+"/trend?from=2026-03-01&to=2026-03-08", "")
		if r.status != http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("read beyond the budget: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		p := r.json(t)
		if p["code"] != "privacy_budget_exhausted" || !strings.Contains(p["detail"].(string), "ε 1 of 1") ||
			!strings.Contains(string(r.body), "Datenschutzbudget") {
			t.Errorf("problem = %s", r.body)
		}
		r = analyst("GET", "/api/v1/listening/topics/"+id, "")
		if r.json(t)["epsilon_spent"] != 1.0 {
			t.Errorf("topic after the reads: %s", r.body)
		}
	})
}
