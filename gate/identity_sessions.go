package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/otp"
	"tresor/vault"
)

// Throttle is how failed sign-ins slow down further attempts: after Free
// failures, each further attempt must wait Base, then twice as long, and so on
// up to Max. Counts are kept per account and per client address, in the
// database (so several servers share them), and start again after Reset
// without a failure.
type Throttle struct {
	AccountFree, AddressFree int
	Base, Max, Reset         time.Duration
}

// DefaultThrottle allows 5 failures per account and 20 per address before delays begin.
var DefaultThrottle = Throttle{AccountFree: 5, AddressFree: 20, Base: time.Second, Max: 15 * time.Minute, Reset: 24 * time.Hour}

// WithThrottle replaces the default throttle, for tests.
func WithThrottle(t Throttle) Option { return func(g *Gate) { g.throttle = t } }

// delay is how long to wait after n failures when free are allowed.
func (t Throttle) delay(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := t.Base
	for i := free; i < n && d < t.Max; i++ {
		d *= 2
	}
	return min(d, t.Max)
}

// throttleKeys are the keys failures count under: the account (a hash of the
// normalised address, so the table holds no e-mail addresses) and the client
// address (an IPv6 address by its /64 network, which one attacker usually has whole).
func throttleKeys(email, addr string) (account, address string) {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	account = "account:" + hex.EncodeToString(h[:16])
	address = "address:" + addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		addr = ap.Addr().String()
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.Is6() && !ip.Is4In6() {
			p, _ := ip.Prefix(64)
			address = "address:" + p.String()
		} else {
			address = "address:" + ip.Unmap().String()
		}
	}
	return account, address
}

// checkThrottle refuses an attempt while the account or the address must wait.
func (g *Gate) checkThrottle(ctx context.Context, email, addr string) error {
	account, address := throttleKeys(email, addr)
	now := g.now()
	var wait time.Duration
	for _, k := range []struct {
		key  string
		free int
	}{{account, g.throttle.AccountFree}, {address, g.throttle.AddressFree}} {
		n, last, err := g.store.Read().LoginFailures(ctx, k.key)
		if err != nil {
			return err
		}
		if now.Sub(last) > g.throttle.Reset {
			continue
		}
		if until := last.Add(g.throttle.delay(n, k.free)); until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	if wait > 0 {
		g.event(ctx, "login.throttled", "", fmt.Sprintf("wait %s", wait.Round(time.Second)))
		return &tresor.Error{Code: tresor.ECThrottled, RetryAfter: wait,
			Message: fmt.Sprintf("Too many failed sign-ins. Try again in %s.", humanDuration(wait))}
	}
	return nil
}

func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", max(1, int(d.Seconds()+0.999)))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()+0.999))
}

// failed counts a failed sign-in under the account and the address.
func (g *Gate) failed(ctx context.Context, email, addr string) error {
	account, address := throttleKeys(email, addr)
	now := g.now()
	g.event(ctx, "login.failed", "", "")
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.AddLoginFailure(ctx, account, now, now.Add(-g.throttle.Reset)); err != nil {
			return err
		}
		return tx.AddLoginFailure(ctx, address, now, now.Add(-g.throttle.Reset))
	})
}

var errLoginFailed = tresor.Errorf(tresor.ECLoginFailed, "The e-mail address or the password is wrong.")

// Login checks e-mail address and password and starts a session.
func (g *Gate) Login(ctx context.Context, a tresor.LoginAttempt) (*tresor.Session, string, error) {
	if err := g.checkThrottle(ctx, a.Email, a.Addr); err != nil {
		return nil, "", err
	}
	var u *tresor.User
	if email, err := tresor.NormalizeEmail(a.Email); err == nil {
		u, err = g.store.Read().UserByEmail(ctx, email)
		if err != nil && tresor.ErrorCode(err) != tresor.ECNotFound {
			return nil, "", err
		}
	}
	// Unknown users, users without a password (single sign-on) and disabled
	// users cost one argon2id computation, like a wrong password, and get
	// the same answer.
	hash := dummyHash()
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok := VerifyPassword(hash, a.Password) && u != nil && u.PasswordHash != "" && u.DisabledAt == nil
	if !ok {
		if err := g.failed(ctx, a.Email, a.Addr); err != nil {
			return nil, "", err
		}
		return nil, "", errLoginFailed
	}
	account, _ := throttleKeys(a.Email, a.Addr)
	stage := tresor.StageFull
	switch {
	case u.MFAEnabledAt != nil:
		stage = tresor.StageMFA
	case g.policy.RequiresMFA(u.Roles):
		stage = tresor.StageEnroll
	}
	var s *tresor.Session
	var secret string
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.ClearLoginFailures(ctx, account); err != nil {
			return err
		}
		var err error
		s, secret, err = g.startSession(ctx, tx, u.ID, stage, false, time.Time{})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	detail := string(stage)
	if u.PasswordFrom != "" {
		detail += "; password from " + u.PasswordFrom
	}
	g.event(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID}), "login.succeeded", s.ID, detail)
	return s, secret, nil
}

// startSession stores a new session with a fresh secret. A sign-in that is
// completed (second factor) gets a new secret again, keeping the sign-in time.
func (g *Gate) startSession(ctx context.Context, tx tresor.Tx, userID string, stage tresor.SessionStage, mfa bool, signedIn time.Time) (*tresor.Session, string, error) {
	now := tresor.Truncate(g.now())
	if signedIn.IsZero() {
		signedIn = now
	}
	secret := randomString(32)
	s := &tresor.Session{ID: newID(), Hash: hashToken(secret), UserID: userID, Stage: stage, CSRF: randomString(24),
		MFA: mfa, CreatedAt: signedIn, LastSeenAt: now}
	if err := tx.InsertSession(ctx, s); err != nil {
		return nil, "", err
	}
	return s, secret, nil
}

// completeSession replaces a session whose second factor was just verified by
// a full one with a new secret, keeping the time of the sign-in.
func (g *Gate) completeSession(ctx context.Context, tx tresor.Tx, s *tresor.Session) (*tresor.Session, string, error) {
	if err := tx.DeleteSession(ctx, s.ID); err != nil {
		return nil, "", err
	}
	return g.startSession(ctx, tx, s.UserID, tresor.StageFull, true, s.CreatedAt)
}

var errNoSession = tresor.Errorf(tresor.ECUnauthenticated, "The session has ended; sign in again.")

// session returns the live session of a secret and its user.
func (g *Gate) session(ctx context.Context, secret string) (*tresor.Session, *tresor.User, error) {
	if secret == "" || len(secret) > 100 {
		return nil, nil, errNoSession
	}
	r := g.store.Read()
	s, err := r.SessionByHash(ctx, hashToken(secret))
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, nil, errNoSession
	} else if err != nil {
		return nil, nil, err
	}
	now := g.now()
	if s.Expired(now) {
		_ = g.store.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteSession(ctx, s.ID) })
		return nil, nil, errNoSession
	}
	u, err := r.User(ctx, s.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.DisabledAt != nil {
		return nil, nil, errNoSession
	}
	return s, u, nil
}

// AuthenticateSession returns the actor of a full session (nil while the
// second factor is outstanding) and the session itself.
func (g *Gate) AuthenticateSession(ctx context.Context, secret string) (*tresor.Actor, *tresor.Session, error) {
	s, u, err := g.session(ctx, secret)
	if err != nil {
		return nil, nil, err
	}
	// Record activity at most once a minute: the idle timeout needs no more precision.
	if now := tresor.Truncate(g.now()); now.Sub(s.LastSeenAt) >= time.Minute {
		if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.TouchSession(ctx, s.ID, now) }); err != nil {
			return nil, nil, err
		}
		s.LastSeenAt = now
	}
	if s.Stage != tresor.StageFull {
		return nil, s, nil
	}
	return &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles, SessionID: s.ID}, s, nil
}

// CompleteMFA verifies a TOTP or recovery code and upgrades the session.
func (g *Gate) CompleteMFA(ctx context.Context, secret, code string) (*tresor.Session, string, error) {
	s, u, err := g.session(ctx, secret)
	if err != nil {
		return nil, "", err
	}
	if s.Stage != tresor.StageMFA || u.MFAEnabledAt == nil {
		return nil, "", tresor.Errorf(tresor.ECConflict, "This session does not wait for a second factor.")
	}
	ctx = tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID})
	if err := g.checkThrottle(ctx, u.Email, ""); err != nil {
		return nil, "", err
	}
	var next *tresor.Session
	var nextSecret string
	ok := false
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		u, err := tx.User(ctx, u.ID) // re-read inside the transaction: the last step guards against replay
		if err != nil {
			return err
		}
		if ok, err = g.checkSecondFactor(ctx, tx, u, code); err != nil || !ok {
			return err
		}
		next, nextSecret, err = g.completeSession(ctx, tx, s)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if !ok {
		if err := g.failed(ctx, u.Email, ""); err != nil {
			return nil, "", err
		}
		return nil, "", tresor.Errorf(tresor.ECLoginFailed, "The code is wrong or was used already.")
	}
	g.event(ctx, "login.mfa_completed", next.ID, "")
	return next, nextSecret, nil
}

// checkSecondFactor accepts a current TOTP code (once) or an unused recovery code.
func (g *Gate) checkSecondFactor(ctx context.Context, tx tresor.Tx, u *tresor.User, code string) (bool, error) {
	key, err := g.totpKey(ctx, tx, u)
	if err != nil {
		return false, err
	}
	if step, ok := otp.Verify(key, code, g.now(), uint64(u.TOTPLastStep)); ok {
		u.TOTPLastStep = int64(step)
		return true, tx.UpdateUser(ctx, u, u.Version)
	}
	norm := normalizeRecoveryCode(code)
	if len(norm) != recoveryCodeLen {
		return false, nil
	}
	return tx.UseRecoveryCode(ctx, u.ID, hashToken(norm), tresor.Truncate(g.now()))
}

const recoveryCodes, recoveryCodeLen = 10, 12

// normalizeRecoveryCode drops separators and case: codes are shown as xxxx-xxxx-xxxx.
func normalizeRecoveryCode(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// newRecoveryCodes returns codes to show once and their hashes to store.
func newRecoveryCodes() ([]string, [][]byte) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	shown := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range shown {
		b := make([]byte, recoveryCodeLen)
		for j := range b {
			b[j] = alphabet[randIntn(len(alphabet))]
		}
		c := string(b)
		shown[i] = c[:4] + "-" + c[4:8] + "-" + c[8:]
		hashes[i] = hashToken(c)
	}
	return shown, hashes
}

// StartTOTPEnrollment makes a new TOTP secret for a user without a second factor.
func (g *Gate) StartTOTPEnrollment(ctx context.Context, secret string) (*tresor.TOTPEnrollment, error) {
	s, u, err := g.session(ctx, secret)
	if err != nil {
		return nil, err
	}
	if s.Stage == tresor.StageMFA {
		return nil, tresor.Errorf(tresor.ECMFARequired, "Complete the sign-in with your second factor first.")
	}
	if u.MFAEnabledAt != nil {
		return nil, tresor.Errorf(tresor.ECConflict, "A second factor is set up already.")
	}
	totp := otp.NewSecret()
	u.UpdatedAt = tresor.Truncate(g.now())
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		dk, err := g.systemKey(ctx, tx)
		if err != nil {
			return err
		}
		defer dk.Destroy()
		u.TOTPSecret = sealValue(dk, "user", u.ID, "totp_secret", totp)
		return tx.UpdateUser(ctx, u, u.Version)
	})
	if err != nil {
		return nil, err
	}
	return &tresor.TOTPEnrollment{Secret: totp, URI: otp.URI("Tresor", u.Email, totp)}, nil
}

// ConfirmTOTPEnrollment turns the second factor on with a code of the new secret.
func (g *Gate) ConfirmTOTPEnrollment(ctx context.Context, secret, code string) ([]string, *tresor.Session, string, error) {
	s, u, err := g.session(ctx, secret)
	if err != nil {
		return nil, nil, "", err
	}
	if s.Stage == tresor.StageMFA || u.MFAEnabledAt != nil || u.TOTPSecret == "" {
		return nil, nil, "", tresor.Errorf(tresor.ECConflict, "There is no second factor waiting for confirmation; start the set-up again.")
	}
	key, err := g.totpKey(ctx, g.store.Read(), u)
	if err != nil {
		return nil, nil, "", err
	}
	step, ok := otp.Verify(key, code, g.now(), 0)
	if !ok {
		return nil, nil, "", tresor.Errorf(tresor.ECLoginFailed, "The code does not match; check the time on your device and type the current code.")
	}
	shown, hashes := newRecoveryCodes()
	now := tresor.Truncate(g.now())
	u.MFAEnabledAt, u.TOTPLastStep, u.UpdatedAt = &now, int64(step), now
	var next *tresor.Session
	var nextSecret string
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.UpdateUser(ctx, u, u.Version); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		next, nextSecret, err = g.completeSession(ctx, tx, s)
		return err
	})
	if err != nil {
		return nil, nil, "", err
	}
	g.event(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID}), "mfa.enabled", u.ID, "totp")
	g.notifyAccount(ctx, u, "mfa_enabled")
	return shown, next, nextSecret, nil
}

// Logout ends the session of the secret.
func (g *Gate) Logout(ctx context.Context, secret string) error {
	s, err := g.store.Read().SessionByHash(ctx, hashToken(secret))
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil
	} else if err != nil {
		return err
	}
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteSession(ctx, s.ID) }); err != nil {
		return err
	}
	g.event(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: s.UserID}), "session.logout", s.ID, "")
	return nil
}

// LogoutEverywhere ends every session of the calling user.
func (g *Gate) LogoutEverywhere(ctx context.Context) error {
	a := tresor.ActorFrom(ctx)
	if a == nil || a.UserID == "" {
		return tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	var n int
	err := g.store.Update(ctx, func(tx tresor.Tx) (err error) { n, err = tx.DeleteSessions(ctx, a.UserID, ""); return })
	if err != nil {
		return err
	}
	g.event(ctx, "session.logout_all", a.UserID, fmt.Sprintf("%d sessions", n))
	return nil
}

// ChangePassword sets a new password for the calling user and ends their other sessions.
func (g *Gate) ChangePassword(ctx context.Context, current, next string) error {
	a := tresor.ActorFrom(ctx)
	if a == nil || a.Kind != tresor.ActorUser {
		return tresor.Errorf(tresor.ECForbidden, "Change your password while signed in, not with an API token.")
	}
	if err := g.checkThrottle(ctx, a.Email, ""); err != nil {
		return err
	}
	u, err := g.store.Read().User(ctx, a.UserID)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" || !VerifyPassword(u.PasswordHash, current) {
		if err := g.failed(ctx, u.Email, ""); err != nil {
			return err
		}
		return tresor.Errorf(tresor.ECLoginFailed, "The current password is wrong.")
	}
	u.PasswordFrom = "" // the person chose this one
	if err := g.setPassword(ctx, u, next, a.SessionID, "password.changed", "other sessions ended"); err != nil {
		return err
	}
	g.notifyAccount(ctx, u, "password_changed")
	return nil
}

func (g *Gate) setPassword(ctx context.Context, u *tresor.User, password, keepSession, action, detail string) error {
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.UpdatedAt = hash, tresor.Truncate(g.now())
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.UpdateUser(ctx, u, u.Version); err != nil {
			return err
		}
		_, err := tx.DeleteSessions(ctx, u.ID, keepSession)
		return err
	})
	if err != nil {
		return err
	}
	g.event(ctx, action, u.ID, detail)
	return nil
}

// PasswordResetTTL is how long a reset link works.
const PasswordResetTTL = time.Hour

// ResetPassword sets a new password with the secret of a one-time reset link.
func (g *Gate) ResetPassword(ctx context.Context, resetSecret, password string) error {
	invalid := tresor.Errorf(tresor.ECNotFound, "This password reset link is invalid, used or expired; ask an administrator for a new one.")
	if resetSecret == "" || len(resetSecret) > 100 {
		return invalid
	}
	r, err := g.store.Read().PasswordReset(ctx, hashToken(resetSecret))
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return invalid
	} else if err != nil {
		return err
	}
	now := tresor.Truncate(g.now())
	if r.UsedAt != nil || !now.Before(r.ExpiresAt) {
		return invalid
	}
	u, err := g.store.Read().User(ctx, r.UserID)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	used := false
	if err := g.store.Update(ctx, func(tx tresor.Tx) (err error) { used, err = tx.UsePasswordReset(ctx, r.Hash, now); return }); err != nil {
		return err
	}
	if !used {
		return invalid
	}
	account, _ := throttleKeys(u.Email, "")
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.ClearLoginFailures(ctx, account) }); err != nil {
		return err
	}
	// The password now comes from this link: the sign-ins that use it name
	// the link and who issued it, so reads after an administrator's reset
	// are attributable.
	u.PasswordFrom = passwordFrom(r)
	detail := "other sessions ended"
	if u.PasswordFrom != "" {
		detail = u.PasswordFrom + "; " + detail
	}
	if err := g.setPassword(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID}), u, password, "", "password.reset", detail); err != nil {
		return err
	}
	g.notifyAccount(ctx, u, "password_changed")
	return nil
}

// SignInExternal signs in a person vouched for by the OpenID provider.
func (g *Gate) SignInExternal(ctx context.Context, id tresor.ExternalIdentity) (*tresor.Session, string, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, "", tresor.Errorf(tresor.ECLoginFailed, "The identity provider sent no subject.")
	}
	var roles []tresor.Role
	for _, r := range id.Roles {
		if slices.Contains(tresor.Roles(), r) && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil, "", tresor.Errorf(tresor.ECForbidden, "Your identity provider assigns you no Tresor role; ask its administrator.")
	}
	email, err := tresor.NormalizeEmail(id.Email)
	if err != nil || !id.EmailVerified {
		return nil, "", tresor.Errorf(tresor.ECLoginFailed, "The identity provider sent no verified e-mail address.")
	}
	now := tresor.Truncate(g.now())
	var s *tresor.Session
	var secret string
	var u *tresor.User
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		var err error
		u, err = tx.UserByExternal(ctx, id.Issuer, id.Subject)
		switch {
		case tresor.ErrorCode(err) == tresor.ECNotFound:
			// A known e-mail address links the identity to that user, once.
			u, err = tx.UserByEmail(ctx, email)
			if tresor.ErrorCode(err) == tresor.ECNotFound {
				u = &tresor.User{ID: newID(), Email: email, Roles: roles, CreatedAt: now, UpdatedAt: now,
					ExternalIssuer: id.Issuer, ExternalSubject: id.Subject}
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				if err := g.eventIn(ctx, tx, "user.created", u.ID, "single sign-on; roles "+joinRoles(roles)); err != nil {
					return err
				}
				break
			} else if err != nil {
				return err
			}
			if u.ExternalSubject != "" {
				return tresor.Errorf(tresor.ECConflict, "This e-mail address belongs to a user linked to another identity.")
			}
			u.ExternalIssuer, u.ExternalSubject = id.Issuer, id.Subject
		case err != nil:
			return err
		}
		if u.DisabledAt != nil {
			return tresor.Errorf(tresor.ECLoginFailed, "This user is disabled.")
		}
		// The provider is the source of the roles of its users.
		if !slices.Equal(u.Roles, roles) || u.Email != email {
			if err := g.eventIn(ctx, tx, "user.roles_changed", u.ID, "single sign-on; roles "+joinRoles(roles)); err != nil {
				return err
			}
			g.tokens.clear()
		}
		u.Roles, u.Email, u.UpdatedAt = roles, email, now
		if err := tx.UpdateUser(ctx, u, u.Version); err != nil {
			return err
		}
		stage := tresor.StageFull
		switch {
		case id.MFA:
		case u.MFAEnabledAt != nil:
			stage = tresor.StageMFA
		case g.policy.RequiresMFA(roles):
			stage = tresor.StageEnroll
		}
		s, secret, err = g.startSession(ctx, tx, u.ID, stage, id.MFA, time.Time{})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	g.event(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID}), "login.succeeded", s.ID, "single sign-on; "+string(s.Stage))
	return s, secret, nil
}

func joinRoles(rs []tresor.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// systemSubject owns the data key of secrets that belong to no contact: the
// users' second-factor secrets.
const systemSubject = "00000000-0000-0000-0000-000000000000"

// systemKey returns the system data key, making it on first use.
func (g *Gate) systemKey(ctx context.Context, tx tresor.Tx) (*vault.DataKey, error) {
	s, err := g.sealerFor(ctx, tx, systemSubject, nil)
	if err != nil {
		return nil, err
	}
	if s.new {
		if err := tx.InsertDataKey(ctx, *s.key, tresor.Truncate(g.now())); err != nil {
			return nil, err
		}
	}
	return s.dk, nil
}

// totpKey opens a user's sealed second-factor secret.
func (g *Gate) totpKey(ctx context.Context, r tresor.Reader, u *tresor.User) ([]byte, error) {
	var dk *vault.DataKey
	if strings.HasPrefix(u.TOTPSecret, sealedPrefix) {
		w, err := r.DataKey(ctx, systemSubject)
		if err != nil {
			return nil, fmt.Errorf("user %s: the key of second-factor secrets: %w", u.ID, err)
		}
		if dk, err = g.unwrap(ctx, w); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.ID, err)
		}
		defer dk.Destroy()
	}
	secret, err := openValue(dk, "user", u.ID, "totp_secret", u.TOTPSecret)
	if err != nil {
		return nil, err
	}
	key, err := otp.DecodeSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", u.ID, err)
	}
	return key, nil
}

// ChoosePurpose records the purpose the calling session works for in the
// workspace. Every switch is an audited event: the purpose decides what the
// person sees from then on. A purpose restricted to aggregates (analytics)
// may be chosen: its pages are those of aggregates (social listening), and
// every read of a person's record is refused under it at the gate as it is
// for an API token (authorize, PermitIndividual).
func (g *Gate) ChoosePurpose(ctx context.Context, purpose string) error {
	a := tresor.ActorFrom(ctx)
	if a == nil || a.Kind != tresor.ActorUser || a.SessionID == "" {
		return tresor.Errorf(tresor.ECForbidden, "A purpose is chosen in a signed-in browser session; API calls declare it in the Tresor-Purpose header.")
	}
	if purpose != "" {
		if _, err := g.policy.Permit(a, purpose); err != nil {
			g.recordBestEffort(ctx, g.entry(tresor.WithPurpose(ctx, purpose), "session.purpose", "session", []string{a.SessionID}, nil, err))
			return err
		}
		if err := tresor.CheckSeparationOfDuties(a.Roles); err != nil {
			return err
		}
	}
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.SetSessionPurpose(ctx, a.SessionID, purpose); err != nil {
			return err
		}
		return g.eventIn(tresor.WithPurpose(ctx, purpose), tx, "session.purpose", a.SessionID, "purpose "+purpose)
	})
	return err
}

// WorkingPurposes lists the purposes the caller may work for, those
// restricted to aggregates included.
func (g *Gate) WorkingPurposes(ctx context.Context) []string {
	a := tresor.ActorFrom(ctx)
	if a == nil || tresor.CheckSeparationOfDuties(a.Roles) != nil {
		return nil
	}
	var out []string
	for _, p := range g.policy.PurposesOf(a) {
		if _, err := g.policy.Permit(a, p); err == nil {
			out = append(out, p)
		}
	}
	return out
}
