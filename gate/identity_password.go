package gate

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"tresor"
)

// Password rules (issue [2/6], following NIST SP 800-63B): at least 12
// characters, not one of the 10,000 most common passwords, not the e-mail
// address; no composition rules.
const (
	MinPasswordLength = 12
	maxPasswordBytes  = 1024
)

// commonPasswords is the list of the 10,000 most common passwords, one per
// line: the first 10,000 entries of the "passwords" frequency list shipped with
// zxcvbn 4.4.2 (Dropbox, MIT licence), which ranks passwords from a public
// corpus of leaked passwords by frequency.
//
//go:embed common-passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[strings.ToLower(w)] = struct{}{}
		}
	}
	return m
}()

// CheckPassword applies the password rules for the user with the e-mail address.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return tresor.Errorf(tresor.ECPasswordRejected, "The password is not valid UTF-8.")
	case n < MinPasswordLength:
		return tresor.Errorf(tresor.ECPasswordRejected, "The password has %d characters; it needs at least %d. A few unrelated words make a long password that is easy to remember.", n, MinPasswordLength)
	case len(password) > maxPasswordBytes:
		return tresor.Errorf(tresor.ECPasswordRejected, "The password is longer than %d bytes.", maxPasswordBytes)
	}
	lower := strings.ToLower(password)
	if _, common := commonPasswords[lower]; common {
		return tresor.Errorf(tresor.ECPasswordRejected, "This password is one of the 10,000 most common passwords; choose another.")
	}
	if email != "" {
		local, _, _ := strings.Cut(strings.ToLower(email), "@")
		if lower == strings.ToLower(email) || lower == local {
			return tresor.Errorf(tresor.ECPasswordRejected, "The password must not be your e-mail address.")
		}
	}
	return nil
}

// argon2id parameters: the OWASP recommendation of 19 MiB, 2 passes, 1 lane.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// hashing bounds how many argon2id computations run at once (each takes 19 MiB
// and a core for tens of milliseconds), so a flood of sign-ins cannot exhaust
// memory.
var hashing = make(chan struct{}, runtime.NumCPU())

// HashPassword returns the argon2id hash of a password in PHC string form.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	hashing <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	<-hashing
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
	// Refuse parameters far from ours: a forged hash must not make us spend a gigabyte.
	if mem > 4*argonMemoryKiB || iter > 10 || threads > 4 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	hashing <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	<-hashing
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when the user is unknown or has no password,
// so that such a sign-in takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no user has this password: " + randomString(16))
	if err != nil {
		panic(err)
	}
	return h
})

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

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
