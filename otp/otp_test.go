package otp_test

import (
	"testing"
	"time"

	"tresor/otp"
)

// The SHA-1 test vectors of RFC 6238, Appendix B (8 digits, key "12345678901234567890").
func TestRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for unix, want := range map[int64]string{
		59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
		1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130",
	} {
		if got := otp.HOTP(key, otp.StepAt(time.Unix(unix, 0)), 8); got != want {
			t.Errorf("TOTP at %d = %s, want %s", unix, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := otp.NewSecret()
	key, err := otp.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0)
	code := otp.Code(key, now)
	step, ok := otp.Verify(key, code, now, 0)
	if !ok || step != otp.StepAt(now) {
		t.Fatalf("the current code is refused")
	}
	if _, ok := otp.Verify(key, code, now.Add(30*time.Second), 0); !ok {
		t.Error("a code from the step before is refused (clock skew)")
	}
	if _, ok := otp.Verify(key, code, now.Add(90*time.Second), 0); ok {
		t.Error("a code three steps old is accepted")
	}
	if _, ok := otp.Verify(key, code, now, step); ok {
		t.Error("a used code is accepted again (replay)")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := otp.Verify(key, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := otp.DecodeSecret("not base32!"); err == nil {
		t.Error("a bad secret decoded")
	}
}

func TestURI(t *testing.T) {
	got := otp.URI("Tresor", "ada@example.org", "JBSWY3DPEHPK3PXP")
	want := "otpauth://totp/Tresor:ada@example.org?algorithm=SHA1&digits=6&issuer=Tresor&period=30&secret=JBSWY3DPEHPK3PXP"
	if got != want {
		t.Fatalf("URI = %s", got)
	}
}
