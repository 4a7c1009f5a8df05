package gate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"tresor"
)

// Token lifetimes.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
	tokenPrefix     = "tresor_"
)

// argon2id parameters: the OWASP recommendation of 19 MiB, 2 passes, 1 lane.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// CreateUser creates a user with a generated password, which it returns once.
// The system actor and administrators may create users.
func (g *Gate) CreateUser(ctx context.Context, email string, roles []tresor.Role) (*tresor.User, string, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, "", err
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
		return nil, "", err
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertUser(ctx, u) })
	if tresor.ErrorCode(err) == tresor.ECConflict {
		return nil, "", tresor.Errorf(tresor.ECConflict, "A user with this e-mail address exists already.")
	}
	if err != nil {
		return nil, "", err
	}
	return u, password, nil
}

// CountUsers returns the number of users (for the first-start hint).
func (g *Gate) CountUsers(ctx context.Context) (int, error) {
	if _, err := g.authorize(ctx, accessConfigWrite); err != nil {
		return 0, err
	}
	return g.store.Read().CountUsers(ctx)
}

// CreateToken creates an API token for the user with the e-mail address and
// returns its secret once; only a hash of it is stored.
func (g *Gate) CreateToken(ctx context.Context, email, name string, ttl time.Duration) (*tresor.Token, string, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, "", err
	}
	norm, err := tresor.NormalizeEmail(email)
	if err != nil {
		return nil, "", fieldError("token", "email", "%s", err)
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Minute || ttl > MaxTokenTTL {
		return nil, "", fieldError("token", "ttl", "a token lives between one minute and %d days", MaxTokenTTL/(24*time.Hour))
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", fieldError("token", "name", "a token has a name of 1 to 100 characters")
	}
	u, err := g.store.Read().UserByEmail(ctx, norm)
	if err != nil {
		return nil, "", err
	}
	if u.DisabledAt != nil {
		return nil, "", tresor.Errorf(tresor.ECConflict, "The user is disabled.")
	}
	secret := tokenPrefix + randomString(32)
	expires := req.now.Add(ttl)
	t := &tresor.Token{ID: newID(), UserID: u.ID, Name: name, Hash: hashToken(secret), CreatedAt: req.now, ExpiresAt: &expires}
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertToken(ctx, t) }); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

var errBadToken = tresor.Errorf(tresor.ECUnauthenticated, "The API token is invalid, expired or revoked.")

// AuthenticateToken returns the actor behind a bearer token.
func (g *Gate) AuthenticateToken(ctx context.Context, secret string) (*tresor.Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, errBadToken
	}
	r := g.store.Read()
	t, err := r.TokenByHash(ctx, hashToken(secret))
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, errBadToken
	} else if err != nil {
		return nil, err
	}
	now := g.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, errBadToken
	}
	u, err := r.User(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.DisabledAt != nil {
		return nil, errBadToken
	}
	return &tresor.Actor{Kind: tresor.ActorToken, UserID: u.ID, Email: u.Email, Roles: u.Roles, TokenID: t.ID}, nil
}

// hashToken is the stored form of a token secret. Tokens carry 256 random
// bits, so a fast hash suffices: there is nothing to guess.
func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// GeneratePassword returns a random password of 20 characters (about 119 bits)
// from an alphabet without look-alike characters.
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alphabet[randIntn(len(alphabet))]
	}
	return string(b)
}

func randIntn(n int) int {
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		// Reject the top of the byte range so every character is equally likely.
		if int(b[0]) < 256-256%n {
			return int(b[0]) % n
		}
	}
}

// HashPassword returns the argon2id hash of a password in PHC string form.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by HashPassword.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
