package mailtest

import (
	"os"
	"testing"
)

// .ci/run starts Mailpit with its POP3 side (an auth file of user:password)
// and sets these; RequirePOP3Env=1 turns a missing one into a failure.
const (
	POP3Env         = "TRESOR_TEST_POP3" // host:port of its POP3 side (plain, loopback)
	POP3UserEnv     = "TRESOR_TEST_POP3_USER"
	POP3PasswordEnv = "TRESOR_TEST_POP3_PASSWORD"
	RequirePOP3Env  = "TRESOR_TEST_REQUIRE_POP3"
)

// POP3 returns Mailpit's POP3 address and its user and password, or skips
// the test. Mail sent into Mailpit's SMTP side appears in this mailbox.
func POP3(tb testing.TB) (addr, user, password string) {
	tb.Helper()
	addr, user, password = os.Getenv(POP3Env), os.Getenv(POP3UserEnv), os.Getenv(POP3PasswordEnv)
	if addr == "" || user == "" {
		if os.Getenv(RequirePOP3Env) == "1" {
			tb.Fatalf("%s and %s are not set, but %s=1 requires the POP3 tests", POP3Env, POP3UserEnv, RequirePOP3Env)
		}
		tb.Skipf("POP3 tests skipped: set %s, %s and %s (Mailpit with --pop3) to run them", POP3Env, POP3UserEnv, POP3PasswordEnv)
	}
	return addr, user, password
}
