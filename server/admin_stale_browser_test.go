package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestAStaleRolesFormInTheBrowserShowsTheChange proves on the page what the
// handler test proves on the wire: an administrator's roles form, shown
// before someone else disabled the user, is refused with the change (before
// → now) in the person's language, and the change is re-applied with the
// keyboard.
func TestAStaleRolesFormInTheBrowserShowsTheChange(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("boss@example.org", tresor.RoleAdmin)
	kim, _, err := a.g.CreateUser(sys, "kim@example.org", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing})
	must(t, err)
	row := `#user-list tr[data-user="kim@example.org"]`
	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signInWithSecondFactor("boss@example.org")

	for _, lang := range []string{"en", "de"} {
		t.Run("the stale form is refused and shows the change ("+lang+")", func(t *testing.T) {
			_, err := a.g.SetDisabled(sys, kim.ID, false)
			must(t, err)
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/admin"), chromedp.WaitVisible(row))
			if lang == "de" {
				b.run(chromedp.Click(`header .tools a[lang=de]`), chromedp.WaitVisible(`html[lang=de] `+row))
			}
			b.run(
				chromedp.Click(row+` details.roles-edit summary`), chromedp.WaitVisible(row+` input[value="marketing"]`),
				chromedp.Click(row+` input[value="marketing"]`))
			// Another administrator disables Kim while the form is open.
			_, err = a.g.SetDisabled(sys, kim.ID, true)
			must(t, err)
			b.run(chromedp.Submit(row+` input[value="marketing"]`), chromedp.WaitVisible(`#stale`))
			changes := b.text("#stale-changes")
			want := map[string][]string{"en": {"active", "disabled", "changed"}, "de": {"aktiv", "gesperrt", "geändert"}}[lang]
			for _, w := range want {
				if !strings.Contains(changes, w) {
					t.Fatalf("the change shown: %q lacks %q", changes, w)
				}
			}
			if got := b.text("#result"); !strings.Contains(got, "version_mismatch") {
				t.Fatalf("refusal = %q", got)
			}
			u, err := a.g.User(sys, kim.ID)
			must(t, err)
			if !slices.Contains(u.Roles, tresor.RoleMarketing) {
				t.Fatalf("the stale form changed the roles: %v", u.Roles)
			}
			b.checkAccessibility("admin: stale form (" + lang + ")")
			b.screenshot("admin-stale-" + lang)
			b.run(chromedp.Focus(`#stale-reapply`), chromedp.KeyEvent("\r"), chromedp.WaitNotPresent(`#stale`), chromedp.WaitVisible(`#result`))
			u, err = a.g.User(sys, kim.ID)
			must(t, err)
			if !slices.Equal(u.Roles, []tresor.Role{tresor.RoleSales}) || u.DisabledAt == nil {
				t.Fatalf("after re-applying: %v, disabled %v", u.Roles, u.DisabledAt)
			}
			_, err = a.g.SetRoles(sys, kim.ID, []tresor.Role{tresor.RoleSales, tresor.RoleMarketing})
			must(t, err)
		})
	}
}
