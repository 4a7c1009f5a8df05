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
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Roles        []Role     `json:"roles"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
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
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// UserService manages users and tokens. Its callers are the CLI and, later,
// the administration API.
type UserService interface {
	// CreateUser creates a user with a generated password and returns that password once.
	CreateUser(ctx context.Context, email string, roles []Role) (*User, string, error)
	// CreateToken creates an API token for the user and returns its secret once.
	CreateToken(ctx context.Context, email, name string, ttl time.Duration) (*Token, string, error)
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
}

// Authenticator turns a credential into an actor.
type Authenticator interface {
	// AuthenticateToken returns the actor for a bearer token, or ECUnauthenticated.
	AuthenticateToken(ctx context.Context, secret string) (*Actor, error)
}
