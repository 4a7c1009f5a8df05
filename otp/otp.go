// Package otp implements time-based one-time passwords (TOTP, RFC 6238, on
// HOTP of RFC 4226) as authenticator apps use them: HMAC-SHA1, 30-second
// steps, 6 digits. It has no dependencies beyond the standard library.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Parameters of the codes Tresor issues.
const (
	Digits     = 6
	Step       = 30 * time.Second
	SecretSize = 20 // bytes: the HMAC-SHA1 block-size recommendation of RFC 4226
	// Skew is how many steps before and after now a code is accepted, for
	// clocks that drift and people who type slowly.
	Skew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret in base32, as authenticator apps expect it.
func NewSecret() string {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b32.EncodeToString(b)
}

// DecodeSecret decodes a base32 secret (case and spaces do not matter).
func DecodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	b, err := b32.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) < 10 {
		return nil, fmt.Errorf("otp: the secret is not base32 of at least 80 bits")
	}
	return b, nil
}

// HOTP returns the code for a counter value (RFC 4226 §5.3) with n digits.
func HOTP(key []byte, counter uint64, n int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for i := 0; i < n; i++ {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", n, v%mod)
}

// StepAt returns the time step of t.
func StepAt(t time.Time) uint64 { return uint64(t.Unix()) / uint64(Step/time.Second) }

// Code returns the code valid at t.
func Code(key []byte, t time.Time) string { return HOTP(key, StepAt(t), Digits) }

// Verify checks code against the steps around t and returns the step it
// matched. A step at or before lastUsed is refused, so a code works once.
func Verify(key []byte, code string, t time.Time, lastUsed uint64) (uint64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != Digits {
		return 0, false
	}
	now := StepAt(t)
	var matched uint64
	ok := 0
	for d := -Skew; d <= Skew; d++ {
		step := uint64(int64(now) + int64(d))
		if step <= lastUsed {
			continue
		}
		// Compare all candidates in constant time, not stopping at the first match.
		if subtle.ConstantTimeCompare([]byte(HOTP(key, step, Digits)), []byte(code)) == 1 {
			matched, ok = step, 1
		}
	}
	return matched, ok == 1
}

// URI returns the otpauth:// URI an authenticator app reads (as a QR code or pasted).
func URI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(Digits))
	q.Set("period", fmt.Sprint(int(Step/time.Second)))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
