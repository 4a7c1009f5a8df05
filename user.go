package tresor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is a set of duties. Roles map to the purposes they may declare in the
// policy; a user may hold several.
type Role string

// The roles of DESIGN §4 and issue [2/6].
const (
	RoleAdmin     Role = "admin"     // users and configuration; never personal data
	RoleDPO       Role = "dpo"       // audit, requests, retention; personal data only inside a request
	RoleSales     Role = "sales"     // sales
	RoleMarketing Role = "marketing" // marketing
	RoleService   Role = "service"   // customer service
	RolePR        Role = "pr"        // public relations
	RoleAnalyst   Role = "analyst"   // aggregates only
	RoleAuditor   Role = "auditor"   // read-only audit
)

// Roles lists every role in a stable order.
func Roles() []Role {
	return []Role{RoleAdmin, RoleDPO, RoleSales, RoleMarketing, RoleService, RolePR, RoleAnalyst, RoleAuditor}
}

// ParseRoles parses a comma-separated list of roles, refusing unknown ones and
// dropping duplicates.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, part := range strings.Split(s, ",") {
		r := Role(strings.TrimSpace(part))
		if r == "" {
			continue
		}
		if !slices.Contains(Roles(), r) {
			return nil, Errorf(ECValidation, "Unknown role %q; the roles are %s.", r, joinRoles(Roles()))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(ECValidation, "At least one role is required; the roles are %s.", joinRoles(Roles()))
	}
	return out, nil
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// ActorKind says what kind of principal acts.
type ActorKind string

// The actor kinds.
const (
	ActorUser   ActorKind = "user"   // a person with a session
	ActorToken  ActorKind = "token"  // a program with an API token
	ActorSystem ActorKind = "system" // Tresor itself: the CLI on the server, jobs
)

// Actor is who performs a request. It travels in the context.
type Actor struct {
	Kind    ActorKind
	UserID  string
	Email   string
	Roles   []Role
	TokenID string // for ActorToken
	// Purposes, for a token, are the purposes it was given; a request may
	// declare only these (and only those its user's roles allow).
	Purposes  []string
	SessionID string // for ActorUser: the id of the session record (not its secret)
}

// HasRole reports whether the actor holds r.
func (a *Actor) HasRole(r Role) bool { return a != nil && slices.Contains(a.Roles, r) }

// String names the actor for logs without personal data.
func (a *Actor) String() string {
	if a == nil {
		return "anonymous"
	}
	switch a.Kind {
	case ActorToken:
		return fmt.Sprintf("token:%s", a.TokenID)
	case ActorSystem:
		return "system"
	}
	return fmt.Sprintf("user:%s", a.UserID)
}

// User is a person who works with Tresor.
type User struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Roles      []Role     `json:"roles"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	// MFA: when the second factor (TOTP) was confirmed; nil if the user has none.
	MFAEnabledAt *time.Time `json:"mfa_enabled_at,omitempty"`
	// The single sign-on identity, for users who sign in through an identity provider.
	ExternalIssuer  string `json:"external_issuer,omitempty"`
	ExternalSubject string `json:"external_subject,omitempty"`

	PasswordHash string `json:"-"`
	TOTPSecret   string `json:"-"` // base32; set during enrolment, confirmed by MFAEnabledAt
	TOTPLastStep int64  `json:"-"` // the last time step a code was accepted for, against replay
}

// Validate checks the user's own fields.
func (u *User) Validate() error {
	var p Problems
	if _, err := NormalizeEmail(u.Email); err != nil {
		p.Add("email", "%s", err)
	}
	if len(u.Roles) == 0 {
		p.Add("roles", "at least one role is required")
	}
	for i, r := range u.Roles {
		if !slices.Contains(Roles(), r) {
			p.Add(fmt.Sprintf("roles[%d]", i), "unknown role %q", r)
		}
	}
	return p.Err("user")
}

// Token is an API token of a user. Only the SHA-256 hash of its secret is kept.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Purposes   []string   `json:"purposes"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// TokenRequest asks for a new API token.
type TokenRequest struct {
	// UserEmail names the user the token acts for; "" means the caller.
	UserEmail string        `json:"user_email,omitempty"`
	Name      string        `json:"name"`
	Purposes  []string      `json:"purposes"`
	TTL       time.Duration `json:"-"`
	TTLHours  int           `json:"ttl_hours,omitempty"`
}

// Stats are counts of the stored objects: what an administrator or analyst
// sees instead of the objects themselves.
type Stats struct {
	Contacts      int `json:"contacts"`
	Organizations int `json:"organizations"`
	Interactions  int `json:"interactions"`
	Deals         int `json:"deals"`
	Cases         int `json:"cases"`
	Users         int `json:"users"`
}

// UserService administers users: the CLI (as the system) and administrators.
type UserService interface {
	// CreateUser creates a user with a generated password and returns that password once.
	CreateUser(ctx context.Context, email string, roles []Role) (*User, string, error)
	// User returns a user by id or e-mail address.
	User(ctx context.Context, idOrEmail string) (*User, error)
	Users(ctx context.Context, p Page) (*List[*User], error)
	// SetRoles replaces a user's roles. Nobody changes their own roles.
	SetRoles(ctx context.Context, idOrEmail string, roles []Role) (*User, error)
	// SetDisabled disables or enables a user; disabling ends their sessions.
	SetDisabled(ctx context.Context, idOrEmail string, disabled bool) (*User, error)
	// CreatePasswordReset returns the secret of a one-time password reset link.
	CreatePasswordReset(ctx context.Context, idOrEmail string) (secret string, expires time.Time, err error)
	CountUsers(ctx context.Context) (int, error)
	// Stats counts the stored objects; for administrators, the DPO and analysts.
	Stats(ctx context.Context) (*Stats, error)
}

// TokenService manages API tokens.
type TokenService interface {
	// CreateToken creates an API token and returns its secret once.
	CreateToken(ctx context.Context, r TokenRequest) (*Token, string, error)
	// Tokens lists the tokens of a user ("" for the caller's own).
	Tokens(ctx context.Context, userIDOrEmail string) ([]*Token, error)
	// RevokeToken revokes a token of the caller (administrators: of anyone).
	RevokeToken(ctx context.Context, id string) error
}

// Authenticator turns a credential into an actor.
type Authenticator interface {
	// AuthenticateToken returns the actor for a bearer token, or ECUnauthenticated.
	AuthenticateToken(ctx context.Context, secret string) (*Actor, error)
	// AuthenticateSession returns the actor and session for a session secret
	// (the cookie), or ECUnauthenticated; it enforces the idle and absolute timeouts.
	AuthenticateSession(ctx context.Context, secret string) (*Actor, *Session, error)
}
