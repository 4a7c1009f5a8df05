// Package mailtest reaches the Mailpit server the mail tests send to: a real
// SMTP server whose HTTP API shows what arrived.
package mailtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"
)

// .ci/run starts Mailpit and sets these variables; RequireEnv=1 turns a
// missing one into a failure instead of a skip.
const (
	SMTPEnv    = "TRESOR_TEST_SMTP"    // host:port of its SMTP side
	APIEnv     = "TRESOR_TEST_MAILPIT" // base URL of its HTTP API
	RequireEnv = "TRESOR_TEST_REQUIRE_SMTP"
)

// Mailpit returns the SMTP address and the API base URL, or skips the test.
func Mailpit(tb testing.TB) (smtpAddr, api string) {
	tb.Helper()
	smtpAddr, api = os.Getenv(SMTPEnv), os.Getenv(APIEnv)
	if smtpAddr == "" || api == "" {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("%s and %s are not set, but %s=1 requires the mail tests", SMTPEnv, APIEnv, RequireEnv)
		}
		tb.Skipf("mail tests skipped: set %s and %s (Mailpit) to run them", SMTPEnv, APIEnv)
	}
	return smtpAddr, api
}

// Message waits up to 10 s for the message with the subject to the address
// and returns its text and headers.
func Message(tb testing.TB, api, to, subject string) (text string, headers map[string][]string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found struct {
			Messages []struct{ ID, Subject string }
		}
		GetJSON(tb, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
		for _, m := range found.Messages {
			if m.Subject == subject {
				var msg struct{ Text string }
				GetJSON(tb, api+"/api/v1/message/"+m.ID, &msg)
				GetJSON(tb, api+"/api/v1/message/"+m.ID+"/headers", &headers)
				return msg.Text, headers
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no mail %q to %s arrived (found %+v)", subject, to, found.Messages)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// GetJSON decodes the answer to a GET of u into v.
func GetJSON(tb testing.TB, u string, v any) {
	tb.Helper()
	res, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		tb.Fatalf("%s: %v", u, err)
	}
}
