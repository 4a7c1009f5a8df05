package gate

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"time"

	"tresor"
	"tresor/policy"
)

// Token lifetimes.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
	tokenPrefix     = "tresor_"
)

// actorIsAdmin reports whether the caller administers users: the system (the
// CLI on the server) or a signed-in administrator.
func isAdmin(a *tresor.Actor) bool {
	return a != nil && (a.Kind == tresor.ActorSystem || a.HasRole(tresor.RoleAdmin))
}

// The refusals of a non-administrator's look at another account. An unknown
// id or address gets them too, so they do not tell whether an account exists.
var (
	errOtherUser   = tresor.Errorf(tresor.ECForbidden, "Only an administrator sees other users.")
	errOtherTokens = tresor.Errorf(tresor.ECForbidden, "Only an administrator sees other users' tokens.")
)

// findUser resolves an id or e-mail address.
func (g *Gate) findUser(ctx context.Context, r tresor.Reader, idOrEmail string) (*tresor.User, error) {
	if tresor.ValidID(idOrEmail) {
		return r.User(ctx, idOrEmail)
	}
	email, err := tresor.NormalizeEmail(idOrEmail)
	if err != nil {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no user %q.", idOrEmail)
	}
	return r.UserByEmail(ctx, email)
}

// CreateUser creates a user with a generated password, which it returns
// once: the break-glass path of the CLI on the server, whose roles apply at
// once. Administrators invite users instead (InviteUser).
func (g *Gate) CreateUser(ctx context.Context, email string, roles []tresor.Role) (*tresor.User, string, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, "", err
	}
	if req.actor.Kind != tresor.ActorSystem {
		return nil, "", tresor.Errorf(tresor.ECForbidden, "Only the CLI on the server creates a user with a password; invite the person instead, who then gets a link by mail.")
	}
	if len(roles) == 0 {
		return nil, "", fieldError("user", "roles", "at least one role is required")
	}
	norm, err := tresor.NormalizeEmail(email)
	if err != nil {
		return nil, "", fieldError("user", "email", "%s", err)
	}
	password := GeneratePassword()
	hash, err := HashPassword(password)
	if err != nil {
		return nil, "", err
	}
	u := &tresor.User{ID: newID(), Email: norm, Roles: roles, PasswordHash: hash, CreatedAt: req.now, UpdatedAt: req.now}
	if err := u.Validate(); err != nil {
		if tresor.ErrorCode(err) == tresor.ECSeparationOfDuties {
			g.recordBestEffort(ctx, g.entry(ctx, "user.create", "user", nil, nil, err))
		}
		return nil, "", err
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertUser(ctx, u) })
	if tresor.ErrorCode(err) == tresor.ECConflict {
		return nil, "", tresor.Errorf(tresor.ECConflict, "A user with this e-mail address exists already.")
	}
	if err != nil {
		return nil, "", err
	}
	g.event(ctx, "user.created", u.ID, "roles "+joinRoles(roles))
	return u, password, nil
}

// User returns a user; administrators see anyone, others only themselves.
func (g *Gate) User(ctx context.Context, idOrEmail string) (*tresor.User, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	u, err := g.findUser(ctx, g.store.Read(), idOrEmail)
	if !isAdmin(a) && (tresor.ErrorCode(err) == tresor.ECNotFound || err == nil && u.ID != a.UserID) {
		// An unknown account gets the answer of someone else's: a
		// non-administrator does not learn which addresses have an account.
		var ids []string
		if u != nil {
			ids = []string{u.ID}
		}
		g.recordBestEffort(ctx, g.entry(ctx, "user.read", "user", ids, nil, errOtherUser))
		return nil, errOtherUser
	}
	if err != nil {
		return nil, err
	}
	// An administrator looking at someone else's account is recorded; one's
	// own account is not an access to another person's data.
	if u.ID != a.UserID {
		if err := g.record(ctx, g.entry(ctx, "user.read", "user", []string{u.ID}, nil, nil)); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Users lists users (administrators).
func (g *Gate) Users(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.User], error) {
	if _, err := g.authorize(ctx, accessConfigWrite); err != nil {
		return nil, err
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	limit := p.Limit
	p.Limit++
	rows, err := g.store.Read().Users(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.User]{Items: rows}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.Next = tresor.EncodeCursor(rows[limit-1].ID)
	}
	ids := make([]string, len(out.Items))
	for i, u := range out.Items {
		ids[i] = u.ID
	}
	if err := g.record(ctx, g.entry(ctx, "user.list", "user", ids, nil, nil)); err != nil {
		return nil, err
	}
	return out, nil
}

// changeUser applies an administrator's change to another user.
// With ifVersion > 0 the change applies only to the user at that version:
// a form that showed an older state is refused (version_mismatch), never
// overwrites what another administrator changed meanwhile.
func (g *Gate) changeUser(ctx context.Context, idOrEmail string, ifVersion int64, change func(tx tresor.Tx, req *request, u *tresor.User) error) (*tresor.User, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, err
	}
	var u *tresor.User
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if u, err = g.findUser(ctx, tx, idOrEmail); err != nil {
			return err
		}
		if u.ID == req.actor.UserID {
			return tresor.Errorf(tresor.ECForbidden, "Nobody changes their own roles or account state; ask another administrator.")
		}
		if ifVersion > 0 && u.Version != ifVersion {
			return &tresor.Error{Code: tresor.ECVersionMismatch,
				Message:   "Someone else changed this user's roles or state since the page showed them; look at the change and repeat yours if it still fits.",
				MessageDE: "Jemand anderes hat die Rollen oder den Zustand dieses Kontos geändert, seit die Seite sie zeigte; sehen Sie sich die Änderung an und wiederholen Sie Ihre, wenn sie noch passt."}
		}
		if err := change(tx, req, u); err != nil {
			return err
		}
		if err := saveUser(ctx, tx, u, req.now); err != nil {
			return err
		}
		if u.DisabledAt != nil {
			if _, err := tx.DeleteSessions(ctx, u.ID, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.tokens.clear()
	return u, nil
}

// saveUser validates and writes a user whose roles or state an
// administrator changed, and moves the auth epoch on, so that every process
// on this database drops its cached credentials of the user at its next
// request (see AuthenticateToken).
func saveUser(ctx context.Context, tx tresor.Tx, u *tresor.User, now time.Time) error {
	u.UpdatedAt = now
	prev := u.Version
	u.Version++
	if err := u.Validate(); err != nil {
		return err
	}
	if err := tx.UpdateUser(ctx, u, prev); err != nil {
		return err
	}
	return tx.BumpAuthEpoch(ctx)
}

// SetRoles replaces a user's roles. admin is exclusive with the roles that
// reach personal data. Removed roles go at once; added roles that reach
// personal data wait for a second person's approval (DecideRoleGrant),
// except when the system (the CLI on the server, the audited break-glass
// path) sets them. A new change withdraws the user's pending grants.
func (g *Gate) SetRoles(ctx context.Context, idOrEmail string, roles []tresor.Role) (*tresor.User, error) {
	return g.SetRolesIf(ctx, idOrEmail, roles, 0)
}

// SetRolesIf is SetRoles for the user at the version the caller saw
// (0: whatever the version).
func (g *Gate) SetRolesIf(ctx context.Context, idOrEmail string, roles []tresor.Role, ifVersion int64) (*tresor.User, error) {
	if len(roles) == 0 {
		return nil, fieldError("user", "roles", "at least one role is required")
	}
	var grant *tresor.RoleGrant
	u, err := g.changeUser(ctx, idOrEmail, ifVersion, func(tx tresor.Tx, req *request, u *tresor.User) error {
		if u.ExternalSubject != "" {
			return tresor.Errorf(tresor.ECConflict, "This user signs in through the identity provider, which assigns the roles.")
		}
		if err := tresor.CheckSeparationOfDuties(roles); err != nil {
			return err
		}
		if err := g.withdrawGrants(ctx, tx, req, u.ID); err != nil {
			return err
		}
		if req.actor.Kind == tresor.ActorSystem {
			u.Roles = roles
			return nil
		}
		now, pending := splitGrant(u.Roles, roles)
		u.Roles = append([]tresor.Role{}, now...)
		if len(pending) > 0 {
			var err error
			grant, err = g.requestGrant(ctx, tx, req, u, pending)
			return err
		}
		return nil
	})
	if tresor.ErrorCode(err) == tresor.ECSeparationOfDuties {
		g.recordBestEffort(ctx, g.entry(ctx, "user.roles_changed", "user", nil, nil, err))
	}
	if err != nil {
		return nil, err
	}
	u.PendingGrant = grant
	g.event(ctx, "user.roles_changed", u.ID, "roles "+joinRoles(u.Roles))
	return u, nil
}

// SetDisabled disables (ending every session) or enables a user.
func (g *Gate) SetDisabled(ctx context.Context, idOrEmail string, disabled bool) (*tresor.User, error) {
	return g.SetDisabledIf(ctx, idOrEmail, disabled, 0)
}

// SetDisabledIf is SetDisabled for the user at the version the caller saw
// (0: whatever the version).
func (g *Gate) SetDisabledIf(ctx context.Context, idOrEmail string, disabled bool, ifVersion int64) (*tresor.User, error) {
	u, err := g.changeUser(ctx, idOrEmail, ifVersion, func(_ tresor.Tx, _ *request, u *tresor.User) error {
		if disabled && u.DisabledAt == nil {
			t := tresor.Truncate(g.now())
			u.DisabledAt = &t
		} else if !disabled {
			u.DisabledAt = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	action := "user.enabled"
	if disabled {
		action = "user.disabled"
	}
	g.event(ctx, action, u.ID, "")
	return u, nil
}

// CountUsers returns the number of users (for the first-start hint).
func (g *Gate) CountUsers(ctx context.Context) (int, error) {
	if _, err := g.authorize(ctx, accessConfigWrite); err != nil {
		return 0, err
	}
	return g.store.Read().CountUsers(ctx)
}

// Stats counts the stored objects: for administrators, the DPO and analysts,
// who see numbers instead of records.
func (g *Gate) Stats(ctx context.Context) (*tresor.Stats, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	if a.Kind != tresor.ActorSystem && !a.HasRole(tresor.RoleAdmin) && !a.HasRole(tresor.RoleDPO) && !a.HasRole(tresor.RoleAnalyst) {
		return nil, tresor.Errorf(tresor.ECForbidden, "Counts are for administrators, the data-protection officer and analysts.")
	}
	return g.store.Read().Stats(ctx)
}

// CreateToken creates an API token and returns its secret once. The system
// (the CLI on the server) creates tokens for anyone; a signed-in user only
// for themselves, and never an administrator for someone else: that would
// hand the administrator the other person's access to personal data.
func (g *Gate) CreateToken(ctx context.Context, r tresor.TokenRequest) (*tresor.Token, string, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, "", tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	if a.Kind == tresor.ActorToken {
		return nil, "", tresor.Errorf(tresor.ECForbidden, "An API token cannot create tokens; sign in.")
	}
	var u *tresor.User
	var err error
	switch {
	case r.UserEmail == "" && a.Kind == tresor.ActorUser:
		u, err = g.store.Read().User(ctx, a.UserID)
	case r.UserEmail != "":
		u, err = g.findUser(ctx, g.store.Read(), r.UserEmail)
	default:
		return nil, "", fieldError("token", "user_email", "is required")
	}
	if err != nil {
		return nil, "", err
	}
	if a.Kind != tresor.ActorSystem && u.ID != a.UserID {
		return nil, "", tresor.Errorf(tresor.ECForbidden, "You can create tokens only for yourself.")
	}
	if u.DisabledAt != nil {
		return nil, "", tresor.Errorf(tresor.ECConflict, "The user is disabled.")
	}
	ttl := r.TTL
	if ttl == 0 && r.TTLHours != 0 {
		ttl = time.Duration(r.TTLHours) * time.Hour
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Minute || ttl > MaxTokenTTL {
		return nil, "", fieldError("token", "ttl_hours", "a token lives between one minute and %d days", MaxTokenTTL/(24*time.Hour))
	}
	name := strings.TrimSpace(r.Name)
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "\x00\n\r") {
		return nil, "", fieldError("token", "name", "a token has a name of 1 to 100 characters on one line")
	}
	purposes := r.Purposes
	if len(purposes) == 0 {
		purposes = g.policy.PurposesOf(&tresor.Actor{Roles: u.Roles})
	}
	if err := g.policy.CheckTokenPurposes(u.Roles, purposes); err != nil {
		return nil, "", err
	}
	purposes = slices.Compact(slices.Sorted(slices.Values(purposes)))
	if purposes == nil {
		purposes = []string{} // a token without purposes lists none, not null
	}
	now := tresor.Truncate(g.now())
	secret := tokenPrefix + randomString(32)
	expires := now.Add(ttl)
	t := &tresor.Token{ID: newID(), UserID: u.ID, Name: name, Purposes: purposes, Hash: hashToken(secret), CreatedAt: now, ExpiresAt: &expires}
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertToken(ctx, t) }); err != nil {
		return nil, "", err
	}
	g.event(ctx, "token.created", t.ID, "user "+u.ID+"; purposes "+strings.Join(purposes, ","))
	return t, secret, nil
}

// Tokens lists the tokens of a user: one's own, or anyone's for administrators.
func (g *Gate) Tokens(ctx context.Context, idOrEmail string) ([]*tresor.Token, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	userID := a.UserID
	if idOrEmail != "" {
		u, err := g.findUser(ctx, g.store.Read(), idOrEmail)
		if !isAdmin(a) && (tresor.ErrorCode(err) == tresor.ECNotFound || err == nil && u.ID != a.UserID) {
			var ids []string
			if err == nil {
				ids = []string{u.ID}
			}
			g.recordBestEffort(ctx, g.entry(ctx, "token.list", "user", ids, nil, errOtherTokens))
			return nil, errOtherTokens // the same for an unknown account: no enumeration
		}
		if err != nil {
			return nil, err
		}
		userID = u.ID
	}
	if userID != a.UserID {
		// An administrator looking at someone else's tokens is recorded.
		if err := g.record(ctx, g.entry(ctx, "token.list", "user", []string{userID}, nil, nil)); err != nil {
			return nil, err
		}
	}
	return g.store.Read().TokensOf(ctx, userID)
}

// RevokeToken revokes a token: one's own, or anyone's for administrators.
func (g *Gate) RevokeToken(ctx context.Context, id string) error {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	t, err := g.store.Read().Token(ctx, id)
	if err != nil {
		return err
	}
	if t.UserID != a.UserID && !isAdmin(a) {
		return tresor.Errorf(tresor.ECNotFound, "There is no token with id %q.", id)
	}
	if t.RevokedAt != nil {
		return nil
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.RevokeToken(ctx, id, tresor.Truncate(g.now())); err != nil {
			return err
		}
		return tx.BumpAuthEpoch(ctx)
	})
	if err != nil {
		return err
	}
	g.tokens.clear()
	g.event(ctx, "token.revoked", id, "")
	return nil
}

var errBadToken = tresor.Errorf(tresor.ECUnauthenticated, "The API token is invalid, expired or revoked.")

// tokenCacheTTL bounds how long a token's check is reused. A revocation, a
// disabled user or changed roles move the database's auth epoch on; every
// process that shares the database (this server, the CLI, other servers of
// a cluster) reads the epoch with each cached entry and drops the cache when
// it moved, so a withdrawal of access takes effect at the next request.
const tokenCacheTTL = 10 * time.Second

// tokenCache remembers recent token checks, so that authentication costs a
// hash and a map lookup instead of two queries.
type tokenCache struct {
	mu      sync.Mutex
	epoch   int64 // the auth epoch the entries were checked under
	entries map[[32]byte]tokenEntry
	touched map[string]time.Time // token id → last recorded use
}

type tokenEntry struct {
	actor   *tresor.Actor
	expires time.Time // the token's own expiry
	checked time.Time
}

func (c *tokenCache) get(key [32]byte, now time.Time, epoch int64) (*tresor.Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		c.entries, c.epoch = nil, epoch
		return nil, false
	}
	e, ok := c.entries[key]
	if !ok || now.Sub(e.checked) > tokenCacheTTL || !now.Before(e.expires) {
		return nil, false
	}
	return e.actor, true
}

func (c *tokenCache) put(key [32]byte, e tokenEntry, epoch int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return // checked under an older epoch
	}
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[[32]byte]tokenEntry{}
	}
	c.entries[key] = e
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// dueForTouch reports whether a token's last use should be written now: at
// most once a minute per token.
func (c *tokenCache) dueForTouch(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.touched == nil {
		c.touched = map[string]time.Time{}
	}
	if now.Sub(c.touched[id]) < time.Minute {
		return false
	}
	c.touched[id] = now
	return true
}

// AuthenticateToken returns the actor behind a bearer token.
func (g *Gate) AuthenticateToken(ctx context.Context, secret string) (*tresor.Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, errBadToken
	}
	now := g.now()
	key := sha256.Sum256([]byte(secret))
	epoch, err := g.store.Read().AuthEpoch(ctx)
	if err != nil {
		return nil, err
	}
	actor, ok := g.tokens.get(key, now, epoch)
	if !ok {
		var expires time.Time
		var err error
		actor, expires, err = g.checkToken(ctx, key[:], now)
		if err != nil {
			return nil, err
		}
		g.tokens.put(key, tokenEntry{actor: actor, expires: expires, checked: now}, epoch)
	}
	if g.tokens.dueForTouch(actor.TokenID, now) {
		at := tresor.Truncate(now)
		if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.TouchToken(ctx, actor.TokenID, at) }); err != nil {
			return nil, err
		}
	}
	return actor, nil
}

func (g *Gate) checkToken(ctx context.Context, hash []byte, now time.Time) (*tresor.Actor, time.Time, error) {
	r := g.store.Read()
	t, err := r.TokenByHash(ctx, hash)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, time.Time{}, errBadToken
	} else if err != nil {
		return nil, time.Time{}, err
	}
	if t.RevokedAt != nil || t.ExpiresAt == nil || !now.Before(*t.ExpiresAt) {
		return nil, time.Time{}, errBadToken
	}
	u, err := r.User(ctx, t.UserID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if u.DisabledAt != nil {
		return nil, time.Time{}, errBadToken
	}
	return &tresor.Actor{Kind: tresor.ActorToken, UserID: u.ID, Email: u.Email, Roles: u.Roles, TokenID: t.ID,
		Purposes: t.Purposes}, *t.ExpiresAt, nil
}

// hashToken is the stored form of a token, session or link secret. They
// carry 256 random bits, so a fast hash suffices: there is nothing to guess.
func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CaseAssignees lists the users a case may be given to under the declared
// purpose: enabled users whose roles allow that purpose, by id and the
// address they sign in with — nothing else of an account (roles, second
// factor, state) reaches a colleague.
func (g *Gate) CaseAssignees(ctx context.Context) ([]tresor.Assignee, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if req.pu.AggregatesOnly {
		return nil, policy.Refuse(policy.RAggregatesOnly, req.pu.ID)
	}
	var out []tresor.Assignee
	p := tresor.Page{Limit: tresor.MaxPageSize}
	for {
		rows, err := g.store.Read().Users(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, u := range rows {
			if u.DisabledAt == nil && slices.Contains(g.policy.PurposesOf(&tresor.Actor{Roles: u.Roles}), req.pu.ID) {
				out = append(out, tresor.Assignee{ID: u.ID, Name: u.Email})
			}
		}
		if len(rows) < p.Limit {
			return out, nil
		}
		p.After = rows[len(rows)-1].ID
	}
}
