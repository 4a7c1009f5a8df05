package tresor

import (
	"context"
	"time"
)

// Session timeouts (issue [2/6]): a session ends after 30 minutes without a
// request and 12 hours after sign-in, whichever comes first.
const (
	SessionIdleTimeout     = 30 * time.Minute
	SessionAbsoluteTimeout = 12 * time.Hour
)

// SessionStage is how far a sign-in has come.
type SessionStage string

// The session stages.
const (
	StageMFA    SessionStage = "mfa"    // the password was right; a second factor is due
	StageEnroll SessionStage = "enroll" // the password was right; the role requires a second factor the user has yet to set up
	StageFull   SessionStage = "full"   // signed in
)

// Session is a signed-in browser. The cookie holds a random secret; the store
// keeps only its SHA-256 hash, so a copy of the database opens no session.
type Session struct {
	ID         string       // the record id (not the secret)
	Hash       []byte       // SHA-256 of the secret
	UserID     string       //
	Stage      SessionStage //
	CSRF       string       // the form token of this session
	MFA        bool         // a second factor was verified (or asserted by the identity provider)
	CreatedAt  time.Time    // the sign-in; the absolute timeout counts from here
	LastSeenAt time.Time    // the idle timeout counts from here
	// Purpose is what the person works for in the workspace ("" until they
	// choose); every page reads through the gate under it.
	Purpose string
}

// Expired reports whether the session has timed out at now.
func (s *Session) Expired(now time.Time) bool {
	return !now.Before(s.LastSeenAt.Add(SessionIdleTimeout)) || !now.Before(s.CreatedAt.Add(SessionAbsoluteTimeout))
}

// LoginAttempt is a sign-in with e-mail address and password.
type LoginAttempt struct {
	Email    string
	Password string
	Addr     string // the client address, for throttling
}

// ExternalIdentity is a person as an OpenID provider vouches for them.
type ExternalIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Roles         []Role
	MFA           bool // the provider says it verified a second factor (amr)
}

// TOTPEnrollment is what an authenticator app needs to set up the second factor.
type TOTPEnrollment struct {
	Secret string // base32
	URI    string // otpauth://
}

// SessionService signs people in and out.
type SessionService interface {
	// Login checks e-mail address and password and starts a session; its stage
	// says whether a second factor is due. Unknown users and wrong passwords
	// get the same answer in about the same time; repeated failures are throttled.
	Login(ctx context.Context, a LoginAttempt) (*Session, string, error)
	// CompleteMFA verifies a TOTP or recovery code for a session in StageMFA and
	// replaces the session by a full one with a new secret.
	CompleteMFA(ctx context.Context, sessionSecret, code string) (*Session, string, error)
	// StartTOTPEnrollment makes a new TOTP secret for the session's user.
	StartTOTPEnrollment(ctx context.Context, sessionSecret string) (*TOTPEnrollment, error)
	// ConfirmTOTPEnrollment checks a code of the new secret, turns the second
	// factor on, and returns recovery codes (shown once) and a full session.
	ConfirmTOTPEnrollment(ctx context.Context, sessionSecret, code string) ([]string, *Session, string, error)
	// Logout ends one session.
	Logout(ctx context.Context, sessionSecret string) error
	// LogoutEverywhere ends every session of the calling user.
	LogoutEverywhere(ctx context.Context) error
	// ChangePassword sets a new password for the calling user.
	ChangePassword(ctx context.Context, current, next string) error
	// ResetPassword sets a new password with the secret of a reset link.
	ResetPassword(ctx context.Context, resetSecret, password string) error
	// SignInExternal signs in a person vouched for by the configured OpenID
	// provider, creating or updating the user and its roles from the claims.
	SignInExternal(ctx context.Context, id ExternalIdentity) (*Session, string, error)
	// ChoosePurpose sets the purpose the calling session works for in the
	// workspace ("" for none); only a purpose the person's roles allow.
	ChoosePurpose(ctx context.Context, purpose string) error
	// WorkingPurposes lists the purposes the caller may choose to work for.
	WorkingPurposes(ctx context.Context) []string
}
