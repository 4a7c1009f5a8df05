package gate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyLinkAcceptsOnlyWhatItSigned feeds the parser of verification
// links (outside input: the token of /requests/verify) arbitrary text: it
// never panics, and whatever it accepts is exactly a link it would have
// made itself for that request and expiry.
func FuzzVerifyLinkAcceptsOnlyWhatItSigned(f *testing.F) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	g := &Gate{keys: Keys{Links: []byte("fuzz link key")}, now: func() time.Time { return now }}
	valid := g.verifySecret("0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b", now.Add(time.Hour))
	for _, s := range []string{valid, valid + "x", strings.Replace(valid, "r1.", "r2.", 1), "r1..", "r1.a.b", "", "r1." + strings.Repeat("A", 300),
		g.verifySecret("x|y", now.Add(time.Hour)), g.verifySecret("expired", now.Add(-time.Second))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := g.parseVerify(s)
		if err != nil {
			return
		}
		parts := strings.Split(s, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_, exp, _ := strings.Cut(string(raw), "|")
		unix, _ := strconv.ParseInt(exp, 10, 64)
		if want := g.verifySecret(id, time.Unix(unix, 0)); s != want {
			t.Fatalf("accepted %q, which is not the link made for %q (%q)", s, id, want)
		}
		if !now.Before(time.Unix(unix, 0)) {
			t.Fatalf("accepted an expired link %q", s)
		}
	})
}
