package server_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/sqlite"
	"tresor/storetest"
)

// rawBackends runs fn on each storage backend with the API and a connection
// to its database, to plant what the API would never store.
func rawBackends(t *testing.T, fn func(t *testing.T, a *api, raw *sql.DB, param func(int) string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		a := newAPI(t, datadir.Config{DataDir: dir, Migrate: true})
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, a, raw, func(int) string { return "?" })
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		a := newAPI(t, datadir.Config{DB: url, DataDir: t.TempDir(), Migrate: true})
		raw, err := sql.Open("pgx", url)
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, a, raw, func(i int) string { return "$" + string(rune('0'+i)) })
	})
}

// wantProblem fails unless r is a problem with the status and code that
// carries the request id of its X-Request-Id header, and the log names it.
func wantProblem(t *testing.T, a *api, r reply, status int, code tresor.Code) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	p := r.json(t)
	id := r.header.Get("X-Request-Id")
	if p["code"] != string(code) || id == "" || p["request_id"] != id {
		t.Fatalf("problem %s, X-Request-Id %q", r.body, id)
	}
	if !strings.Contains(a.logs.String(), `"level":"ERROR","msg":"request failed","request_id":"`+id+`"`) {
		t.Fatalf("the log does not name the failed request %s:\n%s", id, a.logs.String())
	}
}

// TestAnAnswerThatCannotBeEncodedIsAProblemNotAnEmpty200: a stored value
// JSON cannot write (provenance that is not JSON, a time beyond the year
// 9999) makes a 500 problem for the one record, and a list marks that record
// damaged like one whose sealed fields do not open.
func TestAnAnswerThatCannotBeEncodedIsAProblemNotAnEmpty200(t *testing.T) {
	rawBackends(t, func(t *testing.T, a *api, raw *sql.DB, param func(int) string) {
		var ids []string
		for range 2 {
			r := a.do(call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			ids = append(ids, r.json(t)["id"].(string))
		}
		broken, intact := ids[0], ids[1]
		if _, err := raw.Exec("UPDATE contacts SET provenance = "+param(1)+" WHERE id = "+param(2), `[{"fields":["given_name"`, broken); err != nil {
			t.Fatal(err)
		}

		t.Run("a single read of a record that cannot be encoded is a 500 problem with the request id", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts/" + broken, role: tresor.RoleSales, purpose: "sales"})
			wantProblem(t, a, r, 500, tresor.ECDamaged)
			if r.header.Get("ETag") != "" {
				t.Fatalf("a problem with an ETag: %q", r.header.Get("ETag"))
			}
		})
		t.Run("a list marks the record that cannot be encoded damaged and shows the others", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			seen := map[string]map[string]any{}
			for _, it := range r.json(t)["items"].([]any) {
				c := it.(map[string]any)
				seen[c["id"].(string)] = c
			}
			if c := seen[broken]; c == nil || c["damaged"] != true || c["provenance"] != nil {
				t.Fatalf("the damaged contact is listed as %v", c)
			}
			if c := seen[intact]; c == nil || c["damaged"] != nil || c["family_name"] != "Mustermann" {
				t.Fatalf("the intact contact is listed as %v", c)
			}
		})
		t.Run("any answer that cannot be encoded is a 500 problem, not an empty 200", func(t *testing.T) {
			// A user is no gated record: nothing marks it damaged, and the
			// answer itself must not be an empty 200.
			user := a.users[tresor.RoleSales]
			if _, err := raw.Exec("UPDATE users SET created_at = "+param(1)+" WHERE id = "+param(2), int64(253402300800000000), user); err != nil {
				t.Fatal(err)
			}
			r := a.do(call{method: "GET", path: "/api/v1/users/" + user, role: tresor.RoleAdmin})
			wantProblem(t, a, r, 500, tresor.ECInternal)
		})
	})
}
