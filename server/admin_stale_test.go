package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tresor"
)

var adminHiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"`)

// adminFormFields reads the hidden fields of a part of a page.
func adminFormFields(part string) url.Values {
	v := url.Values{}
	for _, m := range adminHiddenField.FindAllStringSubmatch(part, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// adminRowForm reads the hidden fields of the form a user's row of the
// administration carries (the version and state the page showed).
func adminRowForm(t *testing.T, p page, email, action string) url.Values {
	t.Helper()
	_, row, ok := strings.Cut(p.body, `data-user="`+email+`"`)
	if !ok {
		t.Fatalf("no row of %s in the page", email)
	}
	_, form, ok := strings.Cut(row, `/`+action+`"`)
	if !ok {
		t.Fatalf("no %s form in the row of %s", action, email)
	}
	form, _, _ = strings.Cut(form, "</form>")
	return adminFormFields(form)
}

// TestAStaleAdministrationFormShowsWhatChanged proves the administration
// never overwrites another administrator's change with a form that showed
// an older state of the user: the change is refused, the page shows the
// user as the form showed them and as they are now, and the administrator
// can re-apply the change knowingly.
func TestAStaleAdministrationFormShowsWhatChanged(t *testing.T) {
	base, g := serveWithoutMail(t)
	ann, annCSRF := adminSession(t, base, g, "ann@example.org")
	ben, benCSRF := adminSession(t, base, g, "ben@example.org")
	kim, _, err := g.CreateUser(sys, "kim@example.org", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing})
	must(t, err)
	en := map[string]string{"Accept-Language": "en"}

	// Both administrators have the page open with Kim active and in sales and marketing.
	annRoles := adminRowForm(t, ann.get("/admin"), "kim@example.org", "roles")
	benState := adminRowForm(t, ben.get("/admin"), "kim@example.org", "state")
	if annRoles.Get("version") == "" || annRoles.Get("shown_roles") != "sales,marketing" || annRoles.Get("shown_state") != "enabled" {
		t.Fatalf("the roles form carries %v", annRoles)
	}

	t.Run("the first change is saved and moves the version on", func(t *testing.T) {
		benState.Set("csrf", benCSRF)
		benState.Set("state", "disabled")
		if r := ben.post("/admin/users/"+kim.ID+"/state", benState, en); r.status != http.StatusSeeOther {
			t.Fatalf("disable: %d %.500s", r.status, r.body)
		}
		u, err := g.User(sys, kim.ID)
		must(t, err)
		if u.DisabledAt == nil || strings.TrimSpace(benState.Get("version")) == "" || u.Version <= kim.Version {
			t.Fatalf("after the change: disabled %v, version %d (was %d)", u.DisabledAt, u.Version, kim.Version)
		}
	})
	var stale page
	t.Run("the second administrator's stale form is refused and shows what changed", func(t *testing.T) {
		form := url.Values{"csrf": {annCSRF}, "roles": {"sales"}}
		for _, k := range []string{"version", "shown_roles", "shown_state"} {
			form.Set(k, annRoles.Get(k))
		}
		stale = ann.post("/admin/users/"+kim.ID+"/roles", form, en)
		if stale.status != http.StatusConflict {
			t.Fatalf("stale roles form: %d %.1000s", stale.status, stale.body)
		}
		changes := stale.between(t, `id="stale-changes"`, "</table>")
		state := changes[strings.Index(changes, "State"):]
		if !strings.Contains(stale.body, "version_mismatch") || !strings.Contains(state, "active") || !strings.Contains(state, "disabled") ||
			!strings.Contains(state, "changed") {
			t.Fatalf("the refusal does not show the change of state: %.3000s", stale.body)
		}
		if got := stale.between(t, `id="stale-want">`, "</strong>"); !strings.Contains(got, "sales") || strings.Contains(got, "marketing") {
			t.Fatalf("the refused change shown: %q", got)
		}
		u, err := g.User(sys, kim.ID)
		must(t, err)
		if !slices.Contains(u.Roles, tresor.RoleMarketing) {
			t.Fatalf("the stale form overwrote the roles: %v", u.Roles)
		}
	})
	t.Run("the refusal is explained in German for a German reader", func(t *testing.T) {
		form := url.Values{"csrf": {annCSRF}, "roles": {"sales"}}
		for _, k := range []string{"version", "shown_roles", "shown_state"} {
			form.Set(k, annRoles.Get(k))
		}
		r := ann.post("/admin/users/"+kim.ID+"/roles", form, map[string]string{"Accept-Language": "de"})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "Inzwischen geändert") || !strings.Contains(r.body, "gesperrt") {
			t.Fatalf("German refusal: %d %.2000s", r.status, r.body)
		}
	})
	t.Run("the administrator re-applies the change knowingly", func(t *testing.T) {
		_, form, _ := strings.Cut(stale.body, `id="h-stale"`)
		form, _, _ = strings.Cut(form, "</form>")
		v := adminFormFields(form)
		if v.Get("version") == annRoles.Get("version") || v.Get("shown_state") != "disabled" {
			t.Fatalf("the form to re-apply carries %v", v)
		}
		if r := ann.post("/admin/users/"+kim.ID+"/roles", v, en); r.status != http.StatusSeeOther {
			t.Fatalf("re-apply: %d %.1000s", r.status, r.body)
		}
		u, err := g.User(sys, kim.ID)
		must(t, err)
		if !slices.Equal(u.Roles, []tresor.Role{tresor.RoleSales}) || u.DisabledAt == nil {
			t.Fatalf("after re-applying: roles %v, disabled %v", u.Roles, u.DisabledAt)
		}
	})
	t.Run("a form without the version is refused and changes nothing", func(t *testing.T) {
		r := ben.post("/admin/users/"+kim.ID+"/state", url.Values{"csrf": {benCSRF}, "state": {"enabled"}}, en)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "reload") {
			t.Fatalf("enable without a version: %d %.1000s", r.status, r.body)
		}
		u, err := g.User(sys, kim.ID)
		must(t, err)
		if u.DisabledAt == nil {
			t.Fatal("the user was enabled")
		}
	})
}
