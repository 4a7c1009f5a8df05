package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tresor"
)

// ---- users

func scanUser(s scanner) (*tresor.User, error) {
	var u tresor.User
	var roles string
	var created, updated int64
	var disabled, mfa sql.NullInt64
	if err := s.Scan(&u.ID, &u.Email, &roles, &u.PasswordHash, &created, &updated, &disabled, &mfa,
		&u.TOTPSecret, &u.TOTPLastStep, &u.ExternalIssuer, &u.ExternalSubject, &u.PasswordFrom, &u.Version); err != nil {
		return nil, err
	}
	u.Roles = []tresor.Role{} // a user whose roles all wait for approval has none
	for _, r := range splitList(roles) {
		u.Roles = append(u.Roles, tresor.Role(r))
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	u.DisabledAt, u.MFAEnabledAt = optTime(disabled), optTime(mfa)
	return &u, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func joinList[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// one runs a query built from a *-select head and scans its single row.
func one[T any](ctx context.Context, c *conn, head, where string, missing error, scan func(scanner) (T, error), args ...any) (T, error) {
	var zero T
	rows, err := list(ctx, c, queries[head]+" "+where, args, scan)
	if err != nil {
		return zero, err
	}
	if len(rows) == 0 {
		return zero, missing
	}
	return rows[0], nil
}

// User returns one user.
func (c *conn) User(ctx context.Context, id string) (*tresor.User, error) {
	return get(ctx, c, "user", id, scanUser)
}

// UserByEmail returns the user with the (normalised) e-mail address.
func (c *conn) UserByEmail(ctx context.Context, email string) (*tresor.User, error) {
	return one(ctx, c, "user-select", "WHERE u.email = $1",
		tresor.Errorf(tresor.ECNotFound, "There is no user with this e-mail address."), scanUser, email)
}

// UserByExternal returns the user with the single sign-on identity.
func (c *conn) UserByExternal(ctx context.Context, issuer, subject string) (*tresor.User, error) {
	return one(ctx, c, "user-select", "WHERE u.external_issuer = $1 AND u.external_subject = $2",
		tresor.Errorf(tresor.ECNotFound, "There is no user with this identity."), scanUser, issuer, subject)
}

// Users lists users.
func (c *conn) Users(ctx context.Context, p tresor.Page) ([]*tresor.User, error) {
	var f filter
	text, args := f.query(queries["user-select"], "u.id", p)
	return list(ctx, c, text, args, scanUser)
}

// CountUsers counts the users.
func (c *conn) CountUsers(ctx context.Context) (int, error) {
	s, err := c.stmt(ctx, "user-count")
	if err != nil {
		return 0, err
	}
	var n int
	err = s.QueryRowContext(ctx).Scan(&n)
	return n, err
}

func userArgs(u *tresor.User) []any {
	return []any{u.ID, u.Email, joinList(u.Roles), u.PasswordHash}
}

func userState(u *tresor.User) []any {
	return []any{nullMicros(u.DisabledAt), nullMicros(u.MFAEnabledAt), u.TOTPSecret, u.TOTPLastStep, u.ExternalIssuer, u.ExternalSubject,
		u.PasswordFrom}
}

// InsertUser inserts a user.
func (c *conn) InsertUser(ctx context.Context, u *tresor.User) error {
	if u.Version < 1 {
		u.Version = 1
	}
	args := append(userArgs(u), micros(u.CreatedAt), micros(u.UpdatedAt))
	_, err := c.exec(ctx, "user-insert", append(append(args, userState(u)...), u.Version)...)
	return err
}

// UpdateUser writes a user's fields.
func (c *conn) UpdateUser(ctx context.Context, u *tresor.User, prev int64) error {
	if u.Version < 1 {
		u.Version = 1
	}
	if prev < 1 {
		prev = 1
	}
	args := append(userArgs(u), micros(u.UpdatedAt))
	// Another stored version than prev means someone else changed the user
	// meanwhile.
	res, err := c.exec(ctx, "user-update", append(append(args, userState(u)...), u.Version, prev)...)
	if err := oneRow(res, err, "user", u.ID); tresor.ErrorCode(err) != tresor.ECNotFound {
		return err
	}
	if _, err := c.User(ctx, u.ID); err != nil {
		return err
	}
	return tresor.Errorf(tresor.ECVersionMismatch, "The user was changed by someone else in the meantime; read it again and repeat your change.")
}

// oneRow checks that a statement changed exactly one row.
func oneRow(res sql.Result, err error, object, id string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return notFound(object, id)
	}
	return nil
}

// affected reports whether a statement changed a row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Stats counts the stored objects.
func (c *conn) Stats(ctx context.Context) (*tresor.Stats, error) {
	s, err := c.stmt(ctx, "stats")
	if err != nil {
		return nil, err
	}
	var st tresor.Stats
	if err := s.QueryRowContext(ctx).Scan(&st.Contacts, &st.Organizations, &st.Interactions, &st.Deals, &st.Cases, &st.Users); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return &st, nil
}

// ---- tokens

func scanToken(s scanner) (*tresor.Token, error) {
	var t tresor.Token
	var purposes string
	var created int64
	var expires, used, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.UserID, &t.Name, &purposes, &t.Hash, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	t.Purposes = splitList(purposes)
	if t.Purposes == nil {
		t.Purposes = []string{}
	}
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = optTime(expires), optTime(used), optTime(revoked)
	return &t, nil
}

// Token returns one token.
func (c *conn) Token(ctx context.Context, id string) (*tresor.Token, error) {
	return get(ctx, c, "token", id, scanToken)
}

// TokenByHash returns the token with the given secret hash.
func (c *conn) TokenByHash(ctx context.Context, hash []byte) (*tresor.Token, error) {
	return one(ctx, c, "token-select", "WHERE t.hash = $1", tresor.Errorf(tresor.ECNotFound, "There is no such token."), scanToken, hash)
}

// TokensOf lists the tokens of a user, newest first.
func (c *conn) TokensOf(ctx context.Context, userID string) ([]*tresor.Token, error) {
	if !tresor.ValidID(userID) {
		return nil, nil
	}
	return list(ctx, c, queries["token-select"]+" WHERE t.user_id = $1 ORDER BY t.id DESC", []any{userID}, scanToken)
}

// InsertToken inserts a token.
func (c *conn) InsertToken(ctx context.Context, t *tresor.Token) error {
	_, err := c.exec(ctx, "token-insert", t.ID, t.UserID, t.Name, strings.Join(t.Purposes, ","), t.Hash, micros(t.CreatedAt),
		nullMicros(t.ExpiresAt), nullMicros(t.LastUsedAt), nullMicros(t.RevokedAt))
	return err
}

// RevokeToken revokes a token that is not revoked yet.
func (c *conn) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if !tresor.ValidID(id) {
		return notFound("token", id)
	}
	res, err := c.exec(ctx, "token-revoke", id, micros(at))
	return oneRow(res, err, "token", id)
}

// TouchToken records the last use of a token.
func (c *conn) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := c.exec(ctx, "token-touch", id, micros(at))
	return err
}

// ---- sessions

func scanSession(s scanner) (*tresor.Session, error) {
	var x tresor.Session
	var created, seen int64
	if err := s.Scan(&x.ID, &x.Hash, &x.UserID, &x.Stage, &x.CSRF, &x.MFA, &created, &seen, &x.Purpose); err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastSeenAt = fromMicros(created), fromMicros(seen)
	return &x, nil
}

// SessionByHash returns the session whose secret has the hash.
func (c *conn) SessionByHash(ctx context.Context, hash []byte) (*tresor.Session, error) {
	s, err := c.stmt(ctx, "session-by-hash")
	if err != nil {
		return nil, err
	}
	x, err := scanSession(s.QueryRowContext(ctx, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no such session.")
	}
	return x, err
}

// InsertSession stores a session.
func (c *conn) InsertSession(ctx context.Context, x *tresor.Session) error {
	_, err := c.exec(ctx, "session-insert", x.ID, x.Hash, x.UserID, string(x.Stage), x.CSRF, x.MFA, micros(x.CreatedAt), micros(x.LastSeenAt),
		x.Purpose)
	return err
}

// SetSessionPurpose records the purpose a session works for.
func (c *conn) SetSessionPurpose(ctx context.Context, id, purpose string) error {
	res, err := c.exec(ctx, "session-purpose", id, purpose)
	return oneRow(res, err, "session", id)
}

// TouchSession records activity in a session.
func (c *conn) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := c.exec(ctx, "session-touch", id, micros(at))
	return err
}

// DeleteSession ends a session.
func (c *conn) DeleteSession(ctx context.Context, id string) error {
	_, err := c.exec(ctx, "session-delete", id)
	return err
}

// DeleteSessions ends every session of a user.
func (c *conn) DeleteSessions(ctx context.Context, userID, except string) (int, error) {
	res, err := c.exec(ctx, "sessions-delete-user", userID, except)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ---- recovery codes, throttling, password resets

// ReplaceRecoveryCodes replaces a user's recovery codes.
func (c *conn) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if _, err := c.exec(ctx, "recovery-delete", userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := c.exec(ctx, "recovery-insert", userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode marks an unused code as used.
func (c *conn) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (bool, error) {
	return affected(c.exec(ctx, "recovery-use", userID, hash, micros(at)))
}

// LoginFailures returns the failures counted under key.
func (c *conn) LoginFailures(ctx context.Context, key string) (int, time.Time, error) {
	s, err := c.stmt(ctx, "login-failures")
	if err != nil {
		return 0, time.Time{}, err
	}
	var n int
	var last int64
	err = s.QueryRowContext(ctx, key).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, fromMicros(last), nil
}

// AddLoginFailure counts a failure under key.
func (c *conn) AddLoginFailure(ctx context.Context, key string, at, since time.Time) error {
	_, err := c.exec(ctx, "login-failure-add", key, micros(at), micros(since))
	return err
}

// ClearLoginFailures forgets the failures under key.
func (c *conn) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := c.exec(ctx, "login-failures-clear", key)
	return err
}

// PasswordReset returns a reset link by the hash of its secret.
func (c *conn) PasswordReset(ctx context.Context, hash []byte) (*tresor.PasswordReset, error) {
	s, err := c.stmt(ctx, "reset-select")
	if err != nil {
		return nil, err
	}
	var r tresor.PasswordReset
	var created, expires int64
	var used sql.NullInt64
	err = s.QueryRowContext(ctx, hash).Scan(&r.Hash, &r.UserID, &created, &expires, &used, &r.Ref, &r.IssuedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no such password reset link.")
	}
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = fromMicros(created), fromMicros(expires), optTime(used)
	return &r, nil
}

// InsertPasswordReset stores a reset link.
func (c *conn) InsertPasswordReset(ctx context.Context, r *tresor.PasswordReset) error {
	_, err := c.exec(ctx, "reset-insert", r.Hash, r.UserID, micros(r.CreatedAt), micros(r.ExpiresAt), r.Ref, r.IssuedBy)
	return err
}

// UsePasswordReset marks a reset link used.
func (c *conn) UsePasswordReset(ctx context.Context, hash []byte, at time.Time) (bool, error) {
	return affected(c.exec(ctx, "reset-use", hash, micros(at)))
}

// ---- role grants

func scanGrant(s scanner) (*tresor.RoleGrant, error) {
	var g tresor.RoleGrant
	var roles, state string
	var requested, expires int64
	var decided sql.NullInt64
	if err := s.Scan(&g.ID, &g.UserID, &roles, &state, &g.RequestedBy, &requested, &expires, &g.DecidedBy, &decided); err != nil {
		return nil, err
	}
	for _, r := range splitList(roles) {
		g.Roles = append(g.Roles, tresor.Role(r))
	}
	g.State = tresor.GrantState(state)
	g.RequestedAt, g.ExpiresAt, g.DecidedAt = fromMicros(requested), fromMicros(expires), optTime(decided)
	return &g, nil
}

// RoleGrant returns one role grant.
func (c *conn) RoleGrant(ctx context.Context, id string) (*tresor.RoleGrant, error) {
	return get(ctx, c, "grant", id, scanGrant)
}

// RoleGrants lists role grants in the state ("" for all), newest first,
// of one user ("" for everyone).
func (c *conn) RoleGrants(ctx context.Context, state tresor.GrantState, userID string) ([]*tresor.RoleGrant, error) {
	if userID != "" && !tresor.ValidID(userID) {
		return nil, nil
	}
	var f filter
	f.eq("g.state", string(state))
	f.eq("g.user_id", userID)
	text := queries["grant-select"]
	for i, cond := range f.conds {
		text += map[bool]string{true: " WHERE ", false: " AND "}[i == 0] + cond
	}
	return list(ctx, c, text+" ORDER BY g.id DESC LIMIT 1000", f.args, scanGrant)
}

// InsertRoleGrant stores a pending grant.
func (c *conn) InsertRoleGrant(ctx context.Context, g *tresor.RoleGrant) error {
	_, err := c.exec(ctx, "grant-insert", g.ID, g.UserID, joinList(g.Roles), string(g.State), g.RequestedBy,
		micros(g.RequestedAt), micros(g.ExpiresAt))
	return err
}

// DecideRoleGrant moves a pending grant to its final state and reports
// whether it was still pending.
func (c *conn) DecideRoleGrant(ctx context.Context, id string, state tresor.GrantState, by string, at time.Time) (bool, error) {
	return affected(c.exec(ctx, "grant-decide", id, string(state), by, micros(at)))
}

// AuthEpoch returns the number that every withdrawal of access moves on.
func (c *conn) AuthEpoch(ctx context.Context) (int64, error) {
	s, err := c.stmt(ctx, "auth-epoch")
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.QueryRowContext(ctx).Scan(&n)
	return n, err
}

// BumpAuthEpoch moves the epoch on.
func (c *conn) BumpAuthEpoch(ctx context.Context) error {
	_, err := c.exec(ctx, "auth-epoch-bump")
	return err
}
