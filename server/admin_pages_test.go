package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/otp"
	"tresor/server"
)

// serveWithoutMail runs a server whose gate has no mail server.
func serveWithoutMail(t *testing.T) (string, *gate.Gate) {
	t.Helper()
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithPublicURL("https://crm.example.org"))
	must(t, err)
	t.Cleanup(func() { g.Close() })
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g}, server.Options{Purposes: g.PurposesOf, Catalogue: g.Catalogue()})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, g
}

// adminSession signs a new administrator in over HTTP, with the enrolment
// of the second factor their role requires, and returns the browser and
// the session's form token.
func adminSession(t *testing.T, base string, g *gate.Gate, email string) (*browser, string) {
	t.Helper()
	_, _, err := g.CreateUser(sys, email, []tresor.Role{tresor.RoleAdmin})
	must(t, err)
	link, _, err := g.CreatePasswordReset(sys, email)
	must(t, err)
	must(t, g.ResetPassword(context.Background(), link, webPassword))
	b := newBrowser(t, base)
	if r := b.signIn(email, webPassword); r.header.Get("Location") != "/account/mfa" {
		t.Fatalf("sign-in went to %q", r.header.Get("Location"))
	}
	enroll := b.get("/account/mfa")
	key, err := otp.DecodeSecret(enroll.between(t, `id="totp-secret">`, "<"))
	must(t, err)
	if r := b.post("/account/mfa", url.Values{"csrf": {enroll.field(t, "csrf")}, "code": {otp.Code(key, time.Now())}}, nil); r.status != http.StatusOK {
		t.Fatalf("enrolment: %d", r.status)
	}
	p := b.get("/admin")
	if p.status != http.StatusOK {
		t.Fatalf("GET /admin: %d %.300s", p.status, p.body)
	}
	return b, p.field(t, "csrf")
}

// TestWithoutAMailServerTheAdministrationNamesTheBreakGlassPath proves that
// the administration never falls back to showing a link: without a mail
// server a reset and an invitation are refused with mail_not_configured,
// and the page names the audited CLI path on the server.
func TestWithoutAMailServerTheAdministrationNamesTheBreakGlassPath(t *testing.T) {
	base, g := serveWithoutMail(t)
	b, csrf := adminSession(t, base, g, "boss@example.org")
	kim, _, err := g.CreateUser(sys, "kim@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)

	t.Run("a password reset is refused with the explanation, and no link", func(t *testing.T) {
		r := b.post("/admin/users/"+kim.ID+"/password-reset", url.Values{"csrf": {csrf}}, map[string]string{"Accept-Language": "en"})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "mail_not_configured") || !strings.Contains(r.body, "tresor user reset-password") {
			t.Fatalf("reset without mail: %d %.2000s", r.status, r.body)
		}
		if strings.Contains(r.body, "token=") {
			t.Fatal("the page shows a link")
		}
	})
	t.Run("the explanation is in German for a German reader", func(t *testing.T) {
		r := b.post("/admin/users/"+kim.ID+"/password-reset", url.Values{"csrf": {csrf}}, map[string]string{"Accept-Language": "de"})
		if !strings.Contains(r.body, "Es ist kein Mailserver eingerichtet") || !strings.Contains(r.body, "Notfallweg") {
			t.Fatalf("German page: %.2000s", r.body)
		}
	})
	t.Run("a refused invitation keeps what was typed", func(t *testing.T) {
		r := b.post("/admin/users", url.Values{"csrf": {csrf}, "email": {"neu@example.org"}, "roles": {"sales"}}, nil)
		if r.status != http.StatusConflict || !strings.Contains(r.body, `value="neu@example.org"`) ||
			!strings.Contains(r.body, `id="invite-role-sales" name="roles" value="sales" checked`) {
			t.Fatalf("refused invitation: %d %.3000s", r.status, r.body)
		}
		if _, err := g.User(sys, "neu@example.org"); tresor.ErrorCode(err) != tresor.ECNotFound {
			t.Fatalf("the refused invitation created a user (%v)", err)
		}
	})
}

// TestAdministrationRefusesAdminBesideADataRole proves the separation of
// duties on the invitation form, with its code, and that a hostile address
// is shown as text.
func TestAdministrationRefusesAdminBesideADataRole(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	b, csrf := adminSession(t, a.url, a.g, "boss@example.org")

	t.Run("admin with sales is refused with separation_of_duties", func(t *testing.T) {
		before := len(a.mail.all())
		r := b.post("/admin/users", url.Values{"csrf": {csrf}, "email": {"both@example.org"}, "roles": {"admin", "sales"}}, nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "separation_of_duties") || len(a.mail.all()) != before {
			t.Fatalf("admin+sales: %d mails %d %.2000s", r.status, len(a.mail.all())-before, r.body)
		}
		if strings.Contains(r.body, "back=%2fadmin%2fusers") || strings.Contains(r.body, `name="back" value="/admin/users"`) {
			t.Fatal("the header's forms would go back to the form's address, which answers only POST")
		}
		if _, err := a.g.User(sys, "both@example.org"); tresor.ErrorCode(err) != tresor.ECNotFound {
			t.Fatalf("the refused invitation created a user (%v)", err)
		}
	})
	t.Run("a hostile address is refused and shown as text", func(t *testing.T) {
		r := b.post("/admin/users", url.Values{"csrf": {csrf}, "email": {`"><script>alert(1)</script>`}, "roles": {"auditor"}}, nil)
		if r.status != http.StatusUnprocessableEntity || strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "validation_failed") {
			t.Fatalf("hostile address: %d %.2000s", r.status, r.body)
		}
	})
	t.Run("a form without the session's token changes nothing", func(t *testing.T) {
		r := b.post("/admin/users", url.Values{"email": {"x@example.org"}, "roles": {"auditor"}}, nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("without csrf: %d", r.status)
		}
		if _, err := a.g.User(sys, "x@example.org"); tresor.ErrorCode(err) != tresor.ECNotFound {
			t.Fatalf("a form without its token created a user (%v)", err)
		}
	})
}

// TestAdministratorManagesAccountsWithoutTheirAccess proves the forms of
// the administration, each a plain form with a 303 back: an added data
// role waits for a second person, nobody changes their own roles, a user is
// disabled and enabled, a password link goes to the person by mail only,
// and a pending grant can be rejected.
func TestAdministratorManagesAccountsWithoutTheirAccess(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	b, csrf := adminSession(t, a.url, a.g, "boss@example.org")
	kim, _, err := a.g.CreateUser(sys, "kim@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)
	boss, err := a.g.User(sys, "boss@example.org")
	must(t, err)
	follow := func(t *testing.T, r page) page {
		t.Helper()
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin?") {
			t.Fatalf("answer %d %q %.1500s", r.status, r.header.Get("Location"), r.body)
		}
		return b.get(r.header.Get("Location"))
	}
	// version is the user's version, which every form of the page carries.
	version := func(id string) string {
		u, err := a.g.User(sys, id)
		must(t, err)
		return strconv.FormatInt(u.Version, 10)
	}

	t.Run("an added data role waits for a second person", func(t *testing.T) {
		p := follow(t, b.post("/admin/users/"+kim.ID+"/roles", url.Values{"csrf": {csrf}, "version": {version(kim.ID)}, "roles": {"sales", "marketing"}}, nil))
		if !strings.Contains(p.body, "Waiting for approval: marketing") || !strings.Contains(p.body, `id="waiting"`) {
			t.Fatalf("page after the change: %.3000s", p.body)
		}
		if u, _ := a.g.User(sys, kim.ID); len(u.Roles) != 1 {
			t.Fatalf("kim holds %v before an approval", u.Roles)
		}
	})
	t.Run("nobody changes their own roles", func(t *testing.T) {
		r := b.post("/admin/users/"+boss.ID+"/roles", url.Values{"csrf": {csrf}, "version": {version(boss.ID)}, "roles": {"auditor"}}, nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, `class="refused-result"`) {
			t.Fatalf("own roles: %d %.1500s", r.status, r.body)
		}
	})
	t.Run("a pending grant is rejected by the form", func(t *testing.T) {
		gs, err := a.g.RoleGrants(sys, tresor.GrantPending)
		must(t, err)
		if len(gs) != 1 {
			t.Fatalf("pending grants %v", gs)
		}
		// The administrator who asked cannot reject either; a second one can.
		r := b.post("/admin/grants/"+gs[0].ID+"/decision", url.Values{"csrf": {csrf}, "decision": {"reject"}}, nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "four_eyes") {
			t.Fatalf("the asker rejecting: %d %.1500s", r.status, r.body)
		}
		other, _ := adminSession(t, a.url, a.g, "other-admin@example.org")
		p := other.get("/admin")
		follow2 := other.post("/admin/grants/"+gs[0].ID+"/decision", url.Values{"csrf": {p.field(t, "csrf")}, "decision": {"reject"}}, nil)
		if follow2.status != http.StatusSeeOther {
			t.Fatalf("a second administrator rejecting: %d %.1500s", follow2.status, follow2.body)
		}
		if gs, _ := a.g.RoleGrants(sys, tresor.GrantRejected); len(gs) != 1 {
			t.Fatalf("rejected grants %v", gs)
		}
	})
	t.Run("a user is disabled and enabled again", func(t *testing.T) {
		p := follow(t, b.post("/admin/users/"+kim.ID+"/state", url.Values{"csrf": {csrf}, "version": {version(kim.ID)}, "state": {"disabled"}}, nil))
		if u, _ := a.g.User(sys, kim.ID); u.DisabledAt == nil || !strings.Contains(p.body, "kim@example.org is disabled") {
			t.Fatalf("not disabled: %.2000s", p.body)
		}
		follow(t, b.post("/admin/users/"+kim.ID+"/state", url.Values{"csrf": {csrf}, "version": {version(kim.ID)}, "state": {"enabled"}}, nil))
		if u, _ := a.g.User(sys, kim.ID); u.DisabledAt != nil {
			t.Fatal("not enabled again")
		}
	})
	t.Run("a password link goes to the person by mail, never onto the page", func(t *testing.T) {
		before := len(a.mail.all())
		p := follow(t, b.post("/admin/users/"+kim.ID+"/password-reset", url.Values{"csrf": {csrf}}, nil))
		mails := a.mail.all()[before:]
		if len(mails) != 1 || mails[0].To != "kim@example.org" || !strings.Contains(mails[0].Text, "/reset-password?token=") {
			t.Fatalf("mails %+v", mails)
		}
		if strings.Contains(p.body, "token=") || !strings.Contains(p.body, "went to kim@example.org by mail") {
			t.Fatalf("page after the reset: %.2000s", p.body)
		}
	})
	t.Run("a user's token is listed without its secret and revoked", func(t *testing.T) {
		tok, secret, err := a.g.CreateToken(sys, tresor.TokenRequest{UserEmail: "kim@example.org", Name: "crm-sync", TTL: time.Hour})
		must(t, err)
		p := b.get("/admin/users/" + kim.ID + "/tokens")
		if p.status != http.StatusOK || !strings.Contains(p.body, "crm-sync") || strings.Contains(p.body, secret) {
			t.Fatalf("tokens page: %d %.2000s", p.status, p.body)
		}
		// A token of someone else through kim's page is not found.
		theirs, _, err := a.g.CreateToken(sys, tresor.TokenRequest{UserEmail: "sales@example.org", Name: "other", TTL: time.Hour})
		must(t, err)
		other := b.post("/admin/users/"+kim.ID+"/tokens/"+theirs.ID+"/revoke", url.Values{"csrf": {csrf}}, nil)
		if other.status != http.StatusNotFound {
			t.Fatalf("someone else's token through kim's page: %d", other.status)
		}
		r := b.post("/admin/users/"+kim.ID+"/tokens/"+tok.ID+"/revoke", url.Values{"csrf": {csrf}}, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %.1500s", r.status, r.body)
		}
		req, _ := http.NewRequest("GET", a.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the revoked token still works: %d", res.StatusCode)
		}
		if p := b.get(r.header.Get("Location")); !strings.Contains(p.body, "Revoked on") {
			t.Fatalf("page after revoking: %.2000s", p.body)
		}
	})
}
