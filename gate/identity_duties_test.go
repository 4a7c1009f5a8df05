package gate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/otp"
	"tresor/storetest"
)

// dutiesEnv is a gate with a mailbox, a clock, two administrators and a DPO.
type dutiesEnv struct {
	g               *gate.Gate
	mail            *mailbox
	clock           *clock
	admin1, admin2  context.Context
	admin1ID, dpoID string
	dpo             context.Context
	adminUser       *tresor.User
}

func userCtx(u *tresor.User) context.Context {
	return tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles})
}

func dutiesBackends(t *testing.T, mailer bool, fn func(t *testing.T, e *dutiesEnv)) {
	open := func(t *testing.T, cfg datadir.Config) *dutiesEnv {
		e := &dutiesEnv{clock: newClock(), mail: &mailbox{}}
		cfg.Migrate = true
		opts := []gate.Option{gate.WithClock(e.clock.now), gate.WithPublicURL("https://crm.example.org")}
		if mailer {
			opts = append(opts, gate.WithMailer(e.mail))
		}
		e.g = openGate(t, cfg, opts...)
		a1, _, err := e.g.CreateUser(system(), "admin1@example.org", []tresor.Role{tresor.RoleAdmin})
		must(t, err)
		a2, _, err := e.g.CreateUser(system(), "admin2@example.org", []tresor.Role{tresor.RoleAdmin})
		must(t, err)
		d, _, err := e.g.CreateUser(system(), "dpo@example.org", []tresor.Role{tresor.RoleDPO})
		must(t, err)
		e.admin1, e.admin2, e.dpo = userCtx(a1), userCtx(a2), userCtx(d)
		e.admin1ID, e.dpoID, e.adminUser = a1.ID, d.ID, a1
		return e
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, datadir.Config{DataDir: t.TempDir()})) })
	t.Run("postgres", func(t *testing.T) { fn(t, open(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()})) })
}

// auditDetails returns the details of the entries with the action.
func auditDetails(t *testing.T, g *gate.Gate, action string) []string {
	t.Helper()
	l, err := g.AuditLog(system(), tresor.AuditFilter{Action: action, Page: tresor.Page{Limit: 100}})
	must(t, err)
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Detail)
	}
	return out
}

func mailsTo(m *mailbox, to string) []*tresor.Mail {
	var out []*tresor.Mail
	for _, x := range m.all() {
		if x.To == to {
			out = append(out, x)
		}
	}
	return out
}

// TestAdministratorsCannotTakeOverAccounts proves finding A1 of issue [2.1]:
// an administrator cannot obtain a link to set another person's password.
func TestAdministratorsCannotTakeOverAccounts(t *testing.T) {
	dutiesBackends(t, true, func(t *testing.T, e *dutiesEnv) {
		victim, _, err := e.g.CreateUser(system(), "kim@example.org", []tresor.Role{tresor.RoleSales})
		must(t, err)

		t.Run("an administrator gets no reset secret", func(t *testing.T) {
			_, _, err := e.g.CreatePasswordReset(e.admin1, victim.ID)
			wantCode(t, err, tresor.ECForbidden)
		})
		t.Run("an administrator cannot create a user with a password", func(t *testing.T) {
			_, _, err := e.g.CreateUser(e.admin1, "eve@example.org", []tresor.Role{tresor.RoleSales})
			wantCode(t, err, tresor.ECForbidden)
		})
		var secret string
		t.Run("the reset link is mailed to the person alone", func(t *testing.T) {
			before := len(e.mail.all())
			expires, err := e.g.SendPasswordReset(e.admin1, victim.ID)
			must(t, err)
			if !expires.After(e.clock.now()) {
				t.Fatalf("expires %v", expires)
			}
			sent := e.mail.all()[before:]
			if len(sent) != 1 || sent[0].To != victim.Email {
				t.Fatalf("mails %+v, want one to %s", sent, victim.Email)
			}
			secret = link(t, sent[0].Text, "/reset-password")
		})
		t.Run("the sign-in with a reset password names the reset and who issued it", func(t *testing.T) {
			must(t, e.g.ResetPassword(bg, secret, goodPassword))
			_, _, err := login(e.g, victim.Email, goodPassword)
			must(t, err)
			issued := auditDetails(t, e.g, "password.reset_link")
			if len(issued) == 0 {
				t.Fatal("no audit entry of the reset link")
			}
			ref := strings.Fields(issued[0])[1] // "reset REF mailed to the person"
			want := "reset " + ref + " issued by user:" + e.admin1ID
			if logins := auditDetails(t, e.g, "login.succeeded"); len(logins) == 0 || !strings.Contains(logins[0], want) {
				t.Fatalf("sign-in details %q do not contain %q", logins, want)
			}
			if resets := auditDetails(t, e.g, "password.reset"); len(resets) == 0 || !strings.Contains(resets[0], want) {
				t.Fatalf("reset details %q do not contain %q", resets, want)
			}
		})
		t.Run("the person is told by mail that the password changed", func(t *testing.T) {
			notices := 0
			for _, m := range mailsTo(e.mail, victim.Email) {
				if strings.Contains(m.Subject, "password was changed") {
					notices++
				}
			}
			if notices != 1 {
				t.Fatalf("%d notices of the changed password, want 1", notices)
			}
		})
		t.Run("the person is told by mail that a second factor was set up", func(t *testing.T) {
			_, secret, err := login(e.g, victim.Email, goodPassword)
			must(t, err)
			en, err := e.g.StartTOTPEnrollment(bg, secret)
			must(t, err)
			key, err := otp.DecodeSecret(en.Secret)
			must(t, err)
			_, _, _, err = e.g.ConfirmTOTPEnrollment(bg, secret, otp.Code(key, e.clock.now()))
			must(t, err)
			last := e.mail.last(t)
			if last.To != victim.Email || !strings.Contains(last.Subject, "Second factor") {
				t.Fatalf("last mail %q to %s", last.Subject, last.To)
			}
		})
		t.Run("a person choosing their own password ends the link to the reset", func(t *testing.T) {
			ctx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: victim.ID, Email: victim.Email})
			must(t, e.g.ChangePassword(ctx, goodPassword, "another good long passphrase"))
			u, err := e.g.User(system(), victim.ID)
			must(t, err)
			if u.PasswordFrom != "" {
				t.Fatalf("PasswordFrom = %q after the person's own change", u.PasswordFrom)
			}
		})
	})
	dutiesBackends(t, false, func(t *testing.T, e *dutiesEnv) {
		t.Run("without a mail server the reset is refused", func(t *testing.T) {
			_, err := e.g.SendPasswordReset(e.admin1, "dpo@example.org")
			wantCode(t, err, tresor.ECMailUnavailable)
		})
		t.Run("without a mail server the invitation is refused and creates nothing", func(t *testing.T) {
			_, _, err := e.g.InviteUser(e.admin1, "new@example.org", []tresor.Role{tresor.RoleSales})
			wantCode(t, err, tresor.ECMailUnavailable)
			_, err = e.g.User(system(), "new@example.org")
			wantCode(t, err, tresor.ECNotFound)
		})
		t.Run("the CLI on the server still prints a link, audited with its operator", func(t *testing.T) {
			ctx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorSystem, Operator: "root@crm1"})
			secret, _, err := e.g.CreatePasswordReset(ctx, "dpo@example.org")
			must(t, err)
			if secret == "" {
				t.Fatal("no secret")
			}
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "password.reset_link", Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].Actor != "system" || l.Items[0].Client != "os:root@crm1" {
				t.Fatalf("entries %+v", l.Items)
			}
		})
	})
}

// TestDataRolesNeedASecondPerson proves finding A2 of issue [2.1].
func TestDataRolesNeedASecondPerson(t *testing.T) {
	dutiesBackends(t, true, func(t *testing.T, e *dutiesEnv) {
		kim, _, err := e.g.CreateUser(system(), "kim@example.org", []tresor.Role{tresor.RoleService})
		must(t, err)

		t.Run("admin is exclusive with roles that reach personal data", func(t *testing.T) {
			for _, r := range tresor.DataRoles() {
				_, err := e.g.SetRoles(e.admin2, e.admin1ID, []tresor.Role{tresor.RoleAdmin, r})
				wantCode(t, err, tresor.ECSeparationOfDuties)
				_, _, err = e.g.InviteUser(e.admin1, "x-"+string(r)+"@example.org", []tresor.Role{tresor.RoleAdmin, r})
				wantCode(t, err, tresor.ECSeparationOfDuties)
			}
		})
		t.Run("an account that holds admin beside a data role reaches no personal data", func(t *testing.T) {
			legacy := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: kim.ID,
				Roles: []tresor.Role{tresor.RoleAdmin, tresor.RoleSales}}), "sales")
			_, err := e.g.Contacts(legacy, tresor.ContactFilter{})
			wantCode(t, err, tresor.ECSeparationOfDuties)
		})
		t.Run("the CLI cannot join admin with a data role either", func(t *testing.T) {
			_, _, err := e.g.CreateUser(system(), "both@example.org", []tresor.Role{tresor.RoleAdmin, tresor.RoleSales})
			wantCode(t, err, tresor.ECSeparationOfDuties)
			_, err = e.g.SetRoles(system(), kim.ID, []tresor.Role{tresor.RoleAdmin, tresor.RoleService})
			wantCode(t, err, tresor.ECSeparationOfDuties)
		})
		var grant *tresor.RoleGrant
		t.Run("an added data role waits for approval", func(t *testing.T) {
			u, err := e.g.SetRoles(e.admin1, kim.ID, []tresor.Role{tresor.RoleService, tresor.RoleSales})
			must(t, err)
			if slices.Contains(u.Roles, tresor.RoleSales) || !slices.Contains(u.Roles, tresor.RoleService) {
				t.Fatalf("roles %v right after the request", u.Roles)
			}
			if u.PendingGrant == nil || !slices.Equal(u.PendingGrant.Roles, []tresor.Role{tresor.RoleSales}) {
				t.Fatalf("pending grant %+v", u.PendingGrant)
			}
			grant = u.PendingGrant
			stored, err := e.g.User(system(), kim.ID)
			must(t, err)
			if slices.Contains(stored.Roles, tresor.RoleSales) {
				t.Fatal("the role took effect before approval")
			}
		})
		t.Run("pending grants are listed", func(t *testing.T) {
			l, err := e.g.RoleGrants(e.dpo, tresor.GrantPending)
			must(t, err)
			if len(l) != 1 || l[0].ID != grant.ID || l[0].RequestedBy != "user:"+e.admin1ID {
				t.Fatalf("pending %+v", l)
			}
		})
		t.Run("the one who asked cannot approve", func(t *testing.T) {
			_, err := e.g.DecideRoleGrant(e.admin1, grant.ID, true)
			wantCode(t, err, tresor.ECFourEyes)
		})
		t.Run("the one who receives cannot approve", func(t *testing.T) {
			_, err := e.g.DecideRoleGrant(userCtx(kim), grant.ID, true)
			wantCode(t, err, tresor.ECForbidden)
		})
		t.Run("a second administrator approves and the role takes effect", func(t *testing.T) {
			gr, err := e.g.DecideRoleGrant(e.admin2, grant.ID, true)
			must(t, err)
			if gr.State != tresor.GrantApproved {
				t.Fatalf("state %s", gr.State)
			}
			u, err := e.g.User(system(), kim.ID)
			must(t, err)
			if !slices.Contains(u.Roles, tresor.RoleSales) {
				t.Fatalf("roles %v after approval", u.Roles)
			}
			_, err = e.g.DecideRoleGrant(e.dpo, grant.ID, true)
			wantCode(t, err, tresor.ECConflict)
		})
		t.Run("the DPO approves a grant for someone else but not for themselves", func(t *testing.T) {
			inv, _, err := e.g.InviteUser(e.admin1, "lea@example.org", []tresor.Role{tresor.RoleMarketing})
			must(t, err)
			if len(inv.Roles) != 0 || inv.PendingGrant == nil {
				t.Fatalf("invited user %+v", inv)
			}
			_, err = e.g.DecideRoleGrant(e.dpo, inv.PendingGrant.ID, true)
			must(t, err)
			own, err := e.g.SetRoles(e.admin1, e.dpoID, []tresor.Role{tresor.RoleDPO, tresor.RoleSales})
			must(t, err)
			_, err = e.g.DecideRoleGrant(e.dpo, own.PendingGrant.ID, true)
			wantCode(t, err, tresor.ECFourEyes)
			_, err = e.g.DecideRoleGrant(e.admin2, own.PendingGrant.ID, false)
			must(t, err)
		})
		t.Run("a grant expires after 7 days", func(t *testing.T) {
			u, err := e.g.SetRoles(e.admin1, kim.ID, []tresor.Role{tresor.RoleService, tresor.RoleSales, tresor.RolePR})
			must(t, err)
			e.clock.advance(tresor.RoleGrantTTL + time.Second)
			_, err = e.g.DecideRoleGrant(e.admin2, u.PendingGrant.ID, true)
			wantCode(t, err, tresor.ECConflict)
			l, err := e.g.RoleGrants(e.admin2, tresor.GrantExpired)
			must(t, err)
			if len(l) != 1 || l[0].ID != u.PendingGrant.ID {
				t.Fatalf("expired %+v", l)
			}
			stored, err := e.g.User(system(), kim.ID)
			must(t, err)
			if slices.Contains(stored.Roles, tresor.RolePR) {
				t.Fatal("an expired grant gave its role")
			}
		})
		t.Run("every step of a grant is audited", func(t *testing.T) {
			for _, action := range []string{"role_grant.requested", "role_grant.approved", "role_grant.rejected", "role_grant.expired", "role_grant.list"} {
				l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: action, Page: tresor.Page{Limit: 10}})
				must(t, err)
				if len(l.Items) == 0 {
					t.Errorf("no audit entry %s", action)
				}
			}
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "role_grant.approved", Page: tresor.Page{Limit: 10}})
			must(t, err)
			refused := 0
			for _, x := range l.Items {
				if x.Decision == tresor.Refused && x.Reason == string(tresor.ECFourEyes) {
					refused++
				}
			}
			if refused == 0 {
				t.Error("the refused self-approval left no audit entry")
			}
		})
		t.Run("the CLI on the server grants at once, audited with its operator", func(t *testing.T) {
			ctx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorSystem, Operator: "root@crm1"})
			u, err := e.g.SetRoles(ctx, kim.ID, []tresor.Role{tresor.RoleService, tresor.RoleAnalyst})
			must(t, err)
			if !slices.Contains(u.Roles, tresor.RoleAnalyst) || u.PendingGrant != nil {
				t.Fatalf("user %+v", u)
			}
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "user.roles_changed", Page: tresor.Page{Limit: 100}})
			must(t, err)
			found := false
			for _, x := range l.Items {
				found = found || x.Client == "os:root@crm1"
			}
			if !found {
				t.Fatal("the CLI's change of roles does not name its operator")
			}
		})
	})
}

// TestRevocationTakesEffectAtOnceInEveryProcess proves finding A8 of issue
// [2.1]: two gates on one database stand for the server and the CLI (or two
// servers of a cluster).
func TestRevocationTakesEffectAtOnceInEveryProcess(t *testing.T) {
	run := func(t *testing.T, cfg func() datadir.Config) {
		server := openGate(t, cfg())
		cli := openGate(t, cfg())
		setup := func(email string) (*tresor.User, string, string) {
			u, _, err := cli.CreateUser(system(), email, []tresor.Role{tresor.RoleSales})
			must(t, err)
			tok, secret, err := cli.CreateToken(system(), tresor.TokenRequest{UserEmail: email, Name: "sync"})
			must(t, err)
			if _, err := server.AuthenticateToken(bg, secret); err != nil { // now cached by the server
				t.Fatal(err)
			}
			return u, tok.ID, secret
		}
		t.Run("a token revoked by another process is refused at once", func(t *testing.T) {
			_, id, secret := setup("a@example.org")
			must(t, cli.RevokeToken(system(), id))
			_, err := server.AuthenticateToken(bg, secret)
			wantCode(t, err, tresor.ECUnauthenticated)
		})
		t.Run("a user disabled by another process is refused at once", func(t *testing.T) {
			u, _, secret := setup("b@example.org")
			_, err := cli.SetDisabled(system(), u.ID, true)
			must(t, err)
			_, err = server.AuthenticateToken(bg, secret)
			wantCode(t, err, tresor.ECUnauthenticated)
		})
		t.Run("roles changed by another process apply at once", func(t *testing.T) {
			u, _, secret := setup("c@example.org")
			_, err := cli.SetRoles(system(), u.ID, []tresor.Role{tresor.RoleMarketing})
			must(t, err)
			a, err := server.AuthenticateToken(bg, secret)
			must(t, err)
			if !slices.Equal(a.Roles, []tresor.Role{tresor.RoleMarketing}) {
				t.Fatalf("roles %v after the change", a.Roles)
			}
		})
	}
	sharedDatabase(t, run)
}

// TestLooksAtOthersTokensAreAudited: an administrator's look at another
// user's tokens, and a refused look by anyone else, leave audit entries.
func TestLooksAtOthersTokensAreAudited(t *testing.T) {
	dutiesBackends(t, true, func(t *testing.T, e *dutiesEnv) {
		kim, _, err := e.g.CreateUser(system(), "kim@example.org", []tresor.Role{tresor.RoleSales})
		must(t, err)
		lea, _, err := e.g.CreateUser(system(), "lea@example.org", []tresor.Role{tresor.RoleSales})
		must(t, err)
		entries := func(t *testing.T, decision tresor.Decision) []*tresor.AuditEntry {
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "token.list", Page: tresor.Page{Limit: 10}})
			must(t, err)
			var out []*tresor.AuditEntry
			for _, x := range l.Items {
				if x.Decision == decision {
					out = append(out, x)
				}
			}
			return out
		}
		t.Run("an administrator's look at another user's tokens is recorded", func(t *testing.T) {
			_, err := e.g.Tokens(e.admin1, kim.ID)
			must(t, err)
			got := entries(t, tresor.Allowed)
			if len(got) != 1 || !slices.Equal(got[0].ObjectIDs, []string{kim.ID}) {
				t.Fatalf("entries %+v", got)
			}
		})
		t.Run("a refused look at another user's tokens is recorded", func(t *testing.T) {
			_, err := e.g.Tokens(userCtx(lea), kim.ID)
			wantCode(t, err, tresor.ECForbidden)
			if got := entries(t, tresor.Refused); len(got) != 1 {
				t.Fatalf("refused entries %+v", got)
			}
		})
		t.Run("a look at one's own tokens is no entry", func(t *testing.T) {
			_, err := e.g.Tokens(userCtx(lea), "")
			must(t, err)
			if got := len(entries(t, tresor.Allowed)); got != 1 {
				t.Fatalf("%d allowed entries", got)
			}
		})
	})
}
