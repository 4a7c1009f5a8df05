package gate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/otp"
)

// clock is a settable time for tests of timeouts and throttling.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)} }
func identityGate(t *testing.T, c *clock) *gate.Gate {
	return openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(c.now),
		gate.WithThrottle(gate.Throttle{AccountFree: 3, AddressFree: 10, Base: time.Second, Max: time.Minute, Reset: time.Hour}))
}

const goodPassword = "correct horse battery staple"

// userWithPassword creates a user and sets a known password through a reset link.
func userWithPassword(t *testing.T, g *gate.Gate, email string, roles ...tresor.Role) *tresor.User {
	t.Helper()
	u, _, err := g.CreateUser(system(), email, roles)
	must(t, err)
	secret, _, err := g.CreatePasswordReset(system(), email)
	must(t, err)
	must(t, g.ResetPassword(bg, secret, goodPassword))
	return u
}

func login(g *gate.Gate, email, password string) (*tresor.Session, string, error) {
	return g.Login(bg, tresor.LoginAttempt{Email: email, Password: password, Addr: "192.0.2.1:40000"})
}

func TestLoginAndSession(t *testing.T) {
	c := newClock()
	g := identityGate(t, c)
	u := userWithPassword(t, g, "ada@example.org", tresor.RoleSales)
	s, secret, err := login(g, "Ada@Example.org", goodPassword)
	must(t, err)
	if s.Stage != tresor.StageFull || s.UserID != u.ID || len(secret) < 40 || s.CSRF == "" {
		t.Fatalf("session = %+v", s)
	}
	a, sess, err := g.AuthenticateSession(bg, secret)
	must(t, err)
	if a == nil || a.UserID != u.ID || a.Kind != tresor.ActorUser || sess.ID != s.ID {
		t.Fatalf("actor %+v session %+v", a, sess)
	}
	// Every sign-in makes a new secret: a secret planted before cannot be reused.
	_, secret2, err := login(g, "ada@example.org", goodPassword)
	must(t, err)
	if secret2 == secret {
		t.Fatal("two sign-ins share a session secret")
	}
	// Idle timeout: 30 minutes without a request.
	c.advance(29 * time.Minute)
	if _, _, err := g.AuthenticateSession(bg, secret); err != nil {
		t.Fatalf("a session 29 minutes idle ended: %v", err)
	}
	c.advance(29 * time.Minute) // touched at 29, so 58 minutes old but 29 idle
	if _, _, err := g.AuthenticateSession(bg, secret); err != nil {
		t.Fatalf("activity did not extend the session: %v", err)
	}
	c.advance(31 * time.Minute)
	_, _, err = g.AuthenticateSession(bg, secret)
	wantCode(t, err, tresor.ECUnauthenticated)
	// Absolute timeout: 12 hours after sign-in, however active.
	_, secret3, err := login(g, "ada@example.org", goodPassword)
	must(t, err)
	for i := 0; i < 25; i++ {
		c.advance(29 * time.Minute)
		if _, _, err := g.AuthenticateSession(bg, secret3); err != nil {
			if i < 24 {
				t.Fatalf("an active session ended after %d minutes: %v", (i+1)*29, err)
			}
			return
		}
	}
	t.Fatal("an active session outlived the absolute timeout of 12 hours")
}

func TestLoginFailuresLookAlike(t *testing.T) {
	c := newClock()
	g := identityGate(t, c)
	userWithPassword(t, g, "ada@example.org", tresor.RoleSales)
	disabled := userWithPassword(t, g, "gone@example.org", tresor.RoleSales)
	_, err := g.SetDisabled(system(), disabled.ID, true)
	must(t, err)
	var msgs []string
	for _, tc := range []struct{ email, password string }{
		{"ada@example.org", "wrong password here"},
		{"nobody@example.org", goodPassword},
		{"gone@example.org", goodPassword},
		{"not an address", goodPassword},
	} {
		start := time.Now()
		_, _, err := g.Login(bg, tresor.LoginAttempt{Email: tc.email, Password: tc.password, Addr: "198.51.100.7:1"})
		d := time.Since(start)
		wantCode(t, err, tresor.ECLoginFailed)
		msgs = append(msgs, tresor.ErrorMessage(err))
		// Every failure costs an argon2id computation, so they take alike long.
		if d < 5*time.Millisecond {
			t.Errorf("%s: the failure took only %v; an unknown user must cost a hash like a wrong password", tc.email, d)
		}
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("failures answer differently: %q vs %q", msgs[0], m)
		}
	}
}

// TestCredentialStuffingIsThrottled: failures per account and per address
// bring growing delays, which are reported as events.
func TestCredentialStuffingIsThrottled(t *testing.T) {
	c := newClock()
	var events []string
	g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(c.now),
		gate.WithThrottle(gate.Throttle{AccountFree: 3, AddressFree: 10, Base: time.Second, Max: time.Minute, Reset: time.Hour}),
		gate.WithEventSink(func(ctx context.Context, a *tresor.Actor, e gate.Event) { events = append(events, e.Action) }))
	userWithPassword(t, g, "ada@example.org", tresor.RoleSales)
	try := func(email, password, addr string) error {
		_, _, err := g.Login(bg, tresor.LoginAttempt{Email: email, Password: password, Addr: addr})
		return err
	}
	// Per account: three free failures, then one second, then two.
	for i := 0; i < 3; i++ {
		wantCode(t, try("ada@example.org", "guess number "+string(rune('a'+i)), "203.0.113.1:1"), tresor.ECLoginFailed)
	}
	err := try("ada@example.org", goodPassword, "203.0.113.2:1") // even the right password waits
	wantCode(t, err, tresor.ECThrottled)
	if e := tresor.AsError(err); e.RetryAfter <= 0 || e.RetryAfter > time.Second {
		t.Fatalf("RetryAfter = %v, want up to 1s", e.RetryAfter)
	}
	c.advance(time.Second)
	wantCode(t, try("ada@example.org", "one more guess", "203.0.113.3:1"), tresor.ECLoginFailed)
	err = try("ada@example.org", goodPassword, "203.0.113.4:1")
	wantCode(t, err, tresor.ECThrottled)
	if e := tresor.AsError(err); e.RetryAfter != 2*time.Second {
		t.Fatalf("after the fourth failure the wait is %v, want 2s (it grows)", e.RetryAfter)
	}
	c.advance(2 * time.Second)
	_, _, err = login(g, "ada@example.org", goodPassword)
	must(t, err)
	// Per address: spraying many accounts from one address (an IPv6 /64) is throttled too.
	for i := 0; i < 10; i++ {
		wantCode(t, try("user"+string(rune('a'+i))+"@example.org", "password guess", fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)), tresor.ECLoginFailed)
	}
	wantCode(t, try("someone@example.org", "password guess", "[2001:db8:1:2::ffff]:443"), tresor.ECThrottled)
	if err := try("someone@example.org", "password guess", "[2001:db8:9::1]:443"); tresor.ErrorCode(err) != tresor.ECLoginFailed {
		t.Fatalf("another network is throttled too: %v", err)
	}
	if !strings.Contains(strings.Join(events, " "), "login.throttled") {
		t.Fatalf("throttling was not reported; events: %v", events)
	}
}

func TestSecondFactor(t *testing.T) {
	c := newClock()
	g := identityGate(t, c)
	admin := userWithPassword(t, g, "admin@example.org", tresor.RoleAdmin)

	// An administrator must set up a second factor before anything else.
	s, secret, err := login(g, "admin@example.org", goodPassword)
	must(t, err)
	if s.Stage != tresor.StageEnroll {
		t.Fatalf("an administrator without a second factor got stage %s", s.Stage)
	}
	if a, _, err := g.AuthenticateSession(bg, secret); err != nil || a != nil {
		t.Fatalf("a session waiting for enrolment acts: %v %v", a, err)
	}
	e, err := g.StartTOTPEnrollment(bg, secret)
	must(t, err)
	if !strings.HasPrefix(e.URI, "otpauth://totp/Tresor:admin@example.org?") {
		t.Fatalf("URI = %s", e.URI)
	}
	key, err := otp.DecodeSecret(e.Secret)
	must(t, err)
	_, _, _, err = g.ConfirmTOTPEnrollment(bg, secret, "000000")
	wantCode(t, err, tresor.ECLoginFailed)
	codes, full, fullSecret, err := g.ConfirmTOTPEnrollment(bg, secret, otp.Code(key, c.now()))
	must(t, err)
	if len(codes) != 10 || full.Stage != tresor.StageFull || !full.MFA || fullSecret == secret {
		t.Fatalf("codes %v, session %+v", codes, full)
	}
	if _, _, err := g.AuthenticateSession(bg, secret); err == nil {
		t.Fatal("the secret of the enrolment session still works")
	}
	a, _, err := g.AuthenticateSession(bg, fullSecret)
	must(t, err)
	if a.UserID != admin.ID {
		t.Fatal("wrong actor")
	}

	// Next sign-in: password, then a code.
	c.advance(time.Minute)
	s, secret, err = login(g, "admin@example.org", goodPassword)
	must(t, err)
	if s.Stage != tresor.StageMFA {
		t.Fatalf("stage = %s, want mfa", s.Stage)
	}
	code := otp.Code(key, c.now())
	full2, _, err := g.CompleteMFA(bg, secret, code)
	must(t, err)
	if full2.Stage != tresor.StageFull || !full2.CreatedAt.Equal(s.CreatedAt) {
		t.Fatalf("after the code: %+v", full2)
	}
	// The same code again (replay) is refused, even in a new sign-in.
	_, secret, err = login(g, "admin@example.org", goodPassword)
	must(t, err)
	_, _, err = g.CompleteMFA(bg, secret, code)
	wantCode(t, err, tresor.ECLoginFailed)
	// A recovery code works once.
	_, _, err = g.CompleteMFA(bg, secret, strings.ToUpper(codes[3]))
	must(t, err)
	_, secret, err = login(g, "admin@example.org", goodPassword)
	must(t, err)
	_, _, err = g.CompleteMFA(bg, secret, codes[3])
	wantCode(t, err, tresor.ECLoginFailed)
}

func TestPasswords(t *testing.T) {
	c := newClock()
	g := identityGate(t, c)
	u, _, err := g.CreateUser(system(), "ada@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)
	link, _, err := g.CreatePasswordReset(system(), u.Email)
	must(t, err)
	// Too short; on the list of common passwords (in any case); the e-mail address.
	for _, bad := range []string{"short", "qwerty123456", "LeaveMeAlone", "1qaz2wsx3edc", "ada@example.org"} {
		wantCode(t, g.ResetPassword(bg, link, bad), tresor.ECPasswordRejected)
	}
	must(t, g.ResetPassword(bg, link, "a long and uncommon phrase"))
	wantCode(t, g.ResetPassword(bg, link, "another long phrase here"), tresor.ECNotFound) // single use
	expired, _, err := g.CreatePasswordReset(system(), u.Email)
	must(t, err)
	c.advance(gate.PasswordResetTTL)
	wantCode(t, g.ResetPassword(bg, expired, "another long phrase here"), tresor.ECNotFound)

	// Changing the password ends the other sessions, keeps this one.
	_, other, err := login(g, "ada@example.org", "a long and uncommon phrase")
	must(t, err)
	_, mine, err := login(g, "ada@example.org", "a long and uncommon phrase")
	must(t, err)
	a, _, err := g.AuthenticateSession(bg, mine)
	must(t, err)
	ctx := tresor.WithActor(bg, a)
	wantCode(t, g.ChangePassword(ctx, "wrong current password", "brand new passphrase"), tresor.ECLoginFailed)
	must(t, g.ChangePassword(ctx, "a long and uncommon phrase", "brand new passphrase"))
	if _, _, err := g.AuthenticateSession(bg, other); err == nil {
		t.Fatal("another session survived the password change")
	}
	if _, _, err := g.AuthenticateSession(bg, mine); err != nil {
		t.Fatalf("the session that changed the password ended: %v", err)
	}
	_, _, err = login(g, "ada@example.org", "a long and uncommon phrase")
	wantCode(t, err, tresor.ECLoginFailed)
}

func TestLogoutEverywhere(t *testing.T) {
	g := identityGate(t, newClock())
	userWithPassword(t, g, "ada@example.org", tresor.RoleSales)
	var secrets []string
	for i := 0; i < 3; i++ {
		_, s, err := login(g, "ada@example.org", goodPassword)
		must(t, err)
		secrets = append(secrets, s)
	}
	must(t, g.Logout(bg, secrets[0]))
	if _, _, err := g.AuthenticateSession(bg, secrets[0]); err == nil {
		t.Fatal("a logged-out session works")
	}
	a, _, err := g.AuthenticateSession(bg, secrets[1])
	must(t, err)
	must(t, g.LogoutEverywhere(tresor.WithActor(bg, a)))
	for _, s := range secrets[1:] {
		if _, _, err := g.AuthenticateSession(bg, s); err == nil {
			t.Fatal("a session survived logging out everywhere")
		}
	}
}

func TestTokenPurposesAndRevocation(t *testing.T) {
	c := newClock()
	g := identityGate(t, c)
	u := userWithPassword(t, g, "ada@example.org", tresor.RoleSales, tresor.RoleService)
	tok, secret, err := g.CreateToken(system(), tresor.TokenRequest{UserEmail: u.Email, Name: "support bot", Purposes: []string{"service"}})
	must(t, err)
	a, err := g.AuthenticateToken(bg, secret)
	must(t, err)
	ctx := tresor.WithActor(bg, a)
	// The token may declare service, for which it was made ...
	if _, err := g.Contacts(tresor.WithPurpose(ctx, "service"), tresor.ContactFilter{}); err != nil {
		t.Fatal(err)
	}
	// ... but not sales, although its user's roles allow sales.
	_, err = g.Contacts(tresor.WithPurpose(ctx, "sales"), tresor.ContactFilter{})
	wantCode(t, err, tresor.ECPurposeNotAllowed)
	// A token cannot have a purpose the user's roles do not allow.
	_, _, err = g.CreateToken(system(), tresor.TokenRequest{UserEmail: u.Email, Name: "x", Purposes: []string{"marketing"}})
	wantCode(t, err, tresor.ECValidation)
	// The last use is recorded.
	ts, err := g.Tokens(system(), u.Email)
	must(t, err)
	if len(ts) != 1 || ts[0].LastUsedAt == nil {
		t.Fatalf("tokens = %+v", ts)
	}
	// Revoked: refused at once, despite the cache.
	must(t, g.RevokeToken(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Roles: u.Roles}), tok.ID))
	_, err = g.AuthenticateToken(bg, secret)
	wantCode(t, err, tresor.ECUnauthenticated)
	// A token cannot make tokens; a user only for themselves; an admin not for others.
	_, s2, err := g.CreateToken(system(), tresor.TokenRequest{UserEmail: u.Email, Name: "y"})
	must(t, err)
	a2, err := g.AuthenticateToken(bg, s2)
	must(t, err)
	_, _, err = g.CreateToken(tresor.WithActor(bg, a2), tresor.TokenRequest{Name: "z"})
	wantCode(t, err, tresor.ECForbidden)
	admin, _, err := g.CreateUser(system(), "admin@example.org", []tresor.Role{tresor.RoleAdmin})
	must(t, err)
	adminCtx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: admin.ID, Roles: admin.Roles})
	_, _, err = g.CreateToken(adminCtx, tresor.TokenRequest{UserEmail: u.Email, Name: "mine now"})
	wantCode(t, err, tresor.ECForbidden)
}

func TestUserAdministration(t *testing.T) {
	g := identityGate(t, newClock())
	admin, _, err := g.CreateUser(system(), "admin@example.org", []tresor.Role{tresor.RoleAdmin})
	must(t, err)
	sales, _, err := g.CreateUser(system(), "sales@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)
	adminCtx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: admin.ID, Roles: admin.Roles})
	salesCtx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: sales.ID, Roles: sales.Roles})

	// Nobody grants themselves a role: not a sales user, not an administrator.
	_, err = g.SetRoles(salesCtx, sales.ID, []tresor.Role{tresor.RoleSales, tresor.RoleAdmin})
	wantCode(t, err, tresor.ECForbidden)
	_, err = g.SetRoles(adminCtx, admin.ID, []tresor.Role{tresor.RoleAdmin, tresor.RoleSales})
	wantCode(t, err, tresor.ECForbidden)
	u, err := g.SetRoles(adminCtx, sales.ID, []tresor.Role{tresor.RoleSales, tresor.RoleMarketing})
	must(t, err)
	// The added role reaches personal data: it waits for a second person.
	if len(u.Roles) != 1 || u.PendingGrant == nil {
		t.Fatalf("roles = %v, pending %+v", u.Roles, u.PendingGrant)
	}
	_, err = g.SetRoles(adminCtx, sales.ID, []tresor.Role{"root"})
	wantCode(t, err, tresor.ECValidation)
	// Only administrators list users; anyone sees themselves.
	_, err = g.Users(salesCtx, tresor.Page{})
	wantCode(t, err, tresor.ECForbidden)
	if _, err := g.User(salesCtx, sales.ID); err != nil {
		t.Fatal(err)
	}
	_, err = g.User(salesCtx, admin.ID)
	wantCode(t, err, tresor.ECForbidden)
	// Disabling ends sessions and stops tokens.
	_, secret, err := g.CreateToken(system(), tresor.TokenRequest{UserEmail: sales.Email, Name: "t"})
	must(t, err)
	_, err = g.AuthenticateToken(bg, secret)
	must(t, err)
	_, err = g.SetDisabled(adminCtx, sales.ID, true)
	must(t, err)
	_, err = g.AuthenticateToken(bg, secret)
	wantCode(t, err, tresor.ECUnauthenticated)
	// Counts, not records, for the administrator.
	st, err := g.Stats(adminCtx)
	must(t, err)
	if st.Users != 2 {
		t.Fatalf("stats = %+v", st)
	}
	_, err = g.Stats(salesCtx)
	wantCode(t, err, tresor.ECForbidden)
}

func TestAnalystSeesOnlyAggregates(t *testing.T) {
	g := identityGate(t, newClock())
	analyst, _, err := g.CreateUser(system(), "analyst@example.org", []tresor.Role{tresor.RoleAnalyst})
	must(t, err)
	ctx := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: analyst.ID, Roles: analyst.Roles}), "analytics")
	_, err = g.Contacts(ctx, tresor.ContactFilter{})
	wantCode(t, err, tresor.ECAggregatesOnly)
	if _, err := g.Stats(ctx); err != nil {
		t.Fatalf("an analyst cannot see counts: %v", err)
	}
}

func TestSingleSignOn(t *testing.T) {
	g := identityGate(t, newClock())
	id := tresor.ExternalIdentity{Issuer: "https://idp.example.org", Subject: "s-1", Email: "Kim@Example.org", EmailVerified: true,
		Roles: []tresor.Role{tresor.RoleSales, "unknown-role"}}
	s, secret, err := g.SignInExternal(bg, id)
	must(t, err)
	a, _, err := g.AuthenticateSession(bg, secret)
	must(t, err)
	if s.Stage != tresor.StageFull || a.Email != "kim@example.org" || len(a.Roles) != 1 || a.Roles[0] != tresor.RoleSales {
		t.Fatalf("session %+v actor %+v", s, a)
	}
	// The provider's roles replace the stored ones at each sign-in.
	id.Roles = []tresor.Role{tresor.RoleService}
	_, secret, err = g.SignInExternal(bg, id)
	must(t, err)
	a, _, err = g.AuthenticateSession(bg, secret)
	must(t, err)
	if !a.HasRole(tresor.RoleService) || a.HasRole(tresor.RoleSales) {
		t.Fatalf("roles after the second sign-in = %v", a.Roles)
	}
	// No Tresor role, or no verified address: refused.
	none := id
	none.Roles = []tresor.Role{"guest"}
	_, _, err = g.SignInExternal(bg, none)
	wantCode(t, err, tresor.ECForbidden)
	unverified := id
	unverified.Subject, unverified.EmailVerified = "s-2", false
	_, _, err = g.SignInExternal(bg, unverified)
	wantCode(t, err, tresor.ECLoginFailed)
	// An administrator through the provider still needs a second factor, unless the provider vouches for one.
	boss := tresor.ExternalIdentity{Issuer: id.Issuer, Subject: "s-3", Email: "boss@example.org", EmailVerified: true, Roles: []tresor.Role{tresor.RoleAdmin}}
	s, _, err = g.SignInExternal(bg, boss)
	must(t, err)
	if s.Stage != tresor.StageEnroll {
		t.Fatalf("an administrator via SSO without MFA got stage %s", s.Stage)
	}
	boss.MFA = true
	s, _, err = g.SignInExternal(bg, boss)
	must(t, err)
	if s.Stage != tresor.StageFull || !s.MFA {
		t.Fatalf("an administrator via SSO with MFA got %+v", s)
	}
	// Roles of single sign-on users come from the provider, not from an administrator.
	_, err = g.SetRoles(system(), "kim@example.org", []tresor.Role{tresor.RoleAdmin})
	wantCode(t, err, tresor.ECConflict)
}
