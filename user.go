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
	// Operator, for ActorSystem, is the operating-system user and host that
	// ran the CLI ("root@crm1"): the break-glass path is audited with it.
	Operator string
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
	// Version grows by one with every change of an administrator (or of the
	// second person deciding a grant) to the user's roles or state.
	Version int64 `json:"version"`
	// MFA: when the second factor (TOTP) was confirmed; nil if the user has none.
	MFAEnabledAt *time.Time `json:"mfa_enabled_at,omitempty"`
	// The single sign-on identity, for users who sign in through an identity provider.
	ExternalIssuer  string `json:"external_issuer,omitempty"`
	ExternalSubject string `json:"external_subject,omitempty"`

	PasswordHash string `json:"-"`
	TOTPSecret   string `json:"-"` // base32; set during enrolment, confirmed by MFAEnabledAt
	TOTPLastStep int64  `json:"-"` // the last time step a code was accepted for, against replay
	// PasswordFrom names the reset link the current password was set with and
	// who issued it ("reset REF issued by user:ID"); empty once the person
	// chose a password themselves. Sign-ins carry it into the audit trail, so
	// reads after an administrator's reset are attributable.
	PasswordFrom string `json:"-"`

	// PendingGrant is a grant of roles that awaits a second person's approval
	// (filled in by the gate, not stored with the user).
	PendingGrant *RoleGrant `json:"pending_grant,omitempty"`
}

// DataRoles are the roles that reach personal data: every role but admin.
// Administrators manage users and configuration and never see a contact, so
// admin is exclusive with each of these (separation of duties).
func DataRoles() []Role {
	return []Role{RoleDPO, RoleSales, RoleMarketing, RoleService, RolePR, RoleAnalyst, RoleAuditor}
}

// IsDataRole reports whether r reaches personal data.
func IsDataRole(r Role) bool { return slices.Contains(DataRoles(), r) }

// CheckSeparationOfDuties refuses a set of roles that joins admin with a role
// that reaches personal data.
func CheckSeparationOfDuties(roles []Role) error {
	if !slices.Contains(roles, RoleAdmin) {
		return nil
	}
	for _, r := range roles {
		if IsDataRole(r) {
			return &Error{Code: ECSeparationOfDuties,
				Message:   fmt.Sprintf("The role admin is exclusive with every role that reaches personal data (%s): an administrator manages accounts and never reads contacts. Use a separate account for %s.", joinRoles(DataRoles()), r),
				MessageDE: fmt.Sprintf("Die Rolle admin schließt jede Rolle mit Zugriff auf personenbezogene Daten aus (%s): Administratoren verwalten Konten und lesen keine Kontakte. Für %s ist ein eigenes Konto nötig.", joinRoles(DataRoles()), r)}
		}
	}
	return nil
}

// GrantState is the state of a role grant.
type GrantState string

// The states of a role grant.
const (
	GrantPending  GrantState = "pending"
	GrantApproved GrantState = "approved"
	GrantRejected GrantState = "rejected"
	GrantExpired  GrantState = "expired"
	// GrantWithdrawn: an administrator set the user's roles anew before a decision.
	GrantWithdrawn GrantState = "withdrawn"
)

// RoleGrantTTL is how long a grant waits for its approval.
const RoleGrantTTL = 7 * 24 * time.Hour

// RoleGrant is a request to give a user roles that reach personal data. It
// takes effect only when a second person approves it (four eyes): another
// administrator or the data-protection officer, never the one who asked and
// never the one who would receive the roles.
type RoleGrant struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Roles       []Role     `json:"roles"`
	State       GrantState `json:"state"`
	RequestedBy string     `json:"requested_by"` // the actor: "user:ID"
	RequestedAt time.Time  `json:"requested_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	// UserEmail and RequesterEmail name the receiver and the one who asked,
	// so that the second person knows whom they decide for (filled in by
	// the gate when it lists grants, not stored with the grant).
	UserEmail      string `json:"user_email,omitempty"`
	RequesterEmail string `json:"requester_email,omitempty"`
}

// Validate checks the user's own fields.
func (u *User) Validate() error {
	var p Problems
	if _, err := NormalizeEmail(u.Email); err != nil {
		p.Add("email", "%s", err)
	}
	for i, r := range u.Roles {
		if !slices.Contains(Roles(), r) {
			p.Add(fmt.Sprintf("roles[%d]", i), "unknown role %q", r)
		}
	}
	if err := p.Err("user"); err != nil {
		return err
	}
	return CheckSeparationOfDuties(u.Roles)
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
	// SetRoles replaces a user's roles. Nobody changes their own roles; added
	// roles that reach personal data wait for a second person (the system excepted).
	SetRoles(ctx context.Context, idOrEmail string, roles []Role) (*User, error)
	// SetDisabled disables or enables a user; disabling ends their sessions.
	SetDisabled(ctx context.Context, idOrEmail string, disabled bool) (*User, error)
	// SetRolesIf and SetDisabledIf change the user only at the version the
	// caller saw (ifVersion > 0); another version is refused (version_mismatch).
	SetRolesIf(ctx context.Context, idOrEmail string, roles []Role, ifVersion int64) (*User, error)
	SetDisabledIf(ctx context.Context, idOrEmail string, disabled bool, ifVersion int64) (*User, error)
	// InviteUser creates a user without a password and mails them a link to
	// choose one; roles that reach personal data wait for a second person.
	InviteUser(ctx context.Context, email string, roles []Role) (*User, time.Time, error)
	// SendPasswordReset mails the user a one-time link to set a new password.
	SendPasswordReset(ctx context.Context, idOrEmail string) (expires time.Time, err error)
	// CreatePasswordReset returns the secret of a one-time password reset
	// link: the CLI on the server only (break-glass).
	CreatePasswordReset(ctx context.Context, idOrEmail string) (secret string, expires time.Time, err error)
	// RoleGrants lists grants of roles in a state ("" for all).
	RoleGrants(ctx context.Context, state GrantState) ([]*RoleGrant, error)
	// DecideRoleGrant approves or rejects a pending grant (a second person).
	DecideRoleGrant(ctx context.Context, id string, approve bool) (*RoleGrant, error)
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
