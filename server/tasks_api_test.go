package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"tresor"
)

// TestTasksOverHTTP proves the task API on both backends: assignee=me and
// overdue=true filter, the list follows the due dates across pages, done
// and undo set and clear done_at, state changes only through them, and an
// administrator without a staff role is refused.
func TestTasksOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.token(tresor.RoleService)
		today := time.Now().In(mustLocation(t, "Europe/Berlin")).Format(time.DateOnly)
		create := func(role tresor.Role, purpose, body string) map[string]any {
			t.Helper()
			r := a.do(call{method: "POST", path: "/api/v1/tasks", body: body, role: role, purpose: purpose})
			if r.status != 201 {
				t.Fatalf("create %s: %d %s", body, r.status, r.body)
			}
			return r.json(t)
		}
		list := func(t *testing.T, role tresor.Role, purpose, q string) []string {
			t.Helper()
			r := a.do(call{method: "GET", path: "/api/v1/tasks?" + q, role: role, purpose: purpose})
			if r.status != 200 {
				t.Fatalf("list %s: %d %s", q, r.status, r.body)
			}
			var titles []string
			for _, it := range r.json(t)["items"].([]any) {
				titles = append(titles, it.(map[string]any)["title"].(string))
			}
			return titles
		}
		late := create(tresor.RoleSales, "sales", `{"title":"Late offer","due":"2020-01-02"}`)
		create(tresor.RoleSales, "sales", fmt.Sprintf(`{"title":"Today's call","due":%q}`, today))
		create(tresor.RoleSales, "sales", `{"title":"Next year","due":"2099-01-01"}`)
		create(tresor.RoleService, "service", `{"title":"Someone else's","due":"2020-01-01"}`)

		t.Run("assignee=me lists only the caller's tasks, by due date", func(t *testing.T) {
			got := list(t, tresor.RoleSales, "sales", "assignee=me")
			if want := []string{"Late offer", "Today's call", "Next year"}; !slices.Equal(got, want) {
				t.Fatalf("tasks %v, want %v", got, want)
			}
		})
		t.Run("overdue=true lists the open tasks due before today", func(t *testing.T) {
			got := list(t, tresor.RoleSales, "sales", "assignee=me&overdue=true")
			if want := []string{"Late offer"}; !slices.Equal(got, want) {
				t.Fatalf("tasks %v, want %v", got, want)
			}
		})
		t.Run("pages follow the due dates", func(t *testing.T) {
			var got []string
			path := "/api/v1/tasks?limit=1"
			for range 10 {
				r := a.do(call{method: "GET", path: path, role: tresor.RoleSales, purpose: "sales"})
				m := r.json(t)
				for _, it := range m["items"].([]any) {
					got = append(got, it.(map[string]any)["due"].(string))
				}
				next, _ := m["next_cursor"].(string)
				if next == "" {
					break
				}
				path = "/api/v1/tasks?limit=1&cursor=" + next
			}
			if len(got) != 4 || !slices.IsSorted(got) {
				t.Fatalf("due dates across pages: %v", got)
			}
		})
		t.Run("done and undo set and clear done_at; a patch cannot", func(t *testing.T) {
			id := late["id"].(string)
			r := a.do(call{method: "PATCH", path: "/api/v1/tasks/" + id, body: `{"state":"done"}`, role: tresor.RoleSales, purpose: "sales"})
			if r.status != 422 {
				t.Fatalf("patch of state: %d %s", r.status, r.body)
			}
			r = a.do(call{method: "POST", path: "/api/v1/tasks/" + id + "/done", role: tresor.RoleSales, purpose: "sales"})
			if m := r.json(t); r.status != 200 || m["state"] != "done" || m["done_at"] == nil || r.header.Get("ETag") != `"2"` {
				t.Fatalf("done: %d %s", r.status, r.body)
			}
			if got := list(t, tresor.RoleSales, "sales", "assignee=me&state=done"); !slices.Equal(got, []string{"Late offer"}) {
				t.Fatalf("done tasks %v", got)
			}
			r = a.do(call{method: "POST", path: "/api/v1/tasks/" + id + "/undo", role: tresor.RoleSales, purpose: "sales", header: map[string]string{"If-Match": `"1"`}})
			if r.status != 412 {
				t.Fatalf("undo at a stale version: %d %s", r.status, r.body)
			}
			r = a.do(call{method: "POST", path: "/api/v1/tasks/" + id + "/undo", role: tresor.RoleSales, purpose: "sales"})
			if m := r.json(t); r.status != 200 || m["state"] != "open" || m["done_at"] != nil {
				t.Fatalf("undo: %d %s", r.status, r.body)
			}
		})
		t.Run("an administrator without a staff role is refused", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/tasks", role: tresor.RoleAdmin, purpose: "sales"})
			if r.status != 403 {
				t.Fatalf("admin list: %d %s", r.status, r.body)
			}
		})
		t.Run("an unknown filter value is refused", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/tasks?overdue=maybe", role: tresor.RoleSales, purpose: "sales"})
			if r.status != 400 {
				t.Fatalf("overdue=maybe: %d %s", r.status, r.body)
			}
		})
	})
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
