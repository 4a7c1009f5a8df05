package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"tresor/mailtest"
)

// lockedBuffer collects what the server logs while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var resetLinkRe = regexp.MustCompile(`https?://[^\s]+/reset-password\?token=([^\s]+)`)

// TestAdministratorTakeoverIsRefusedOverRealSMTP replays the attack of
// issue [2.1] against `tresor serve` with a real SMTP server (Mailpit): the
// administrator asks for a victim's password reset and tries to give their
// own account a data role.
func TestAdministratorTakeoverIsRefusedOverRealSMTP(t *testing.T) {
	smtpAddr, mailAPI := mailtest.Mailpit(t)
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_SMTP_ADDR": smtpAddr, "TRESOR_SMTP_FROM": "Tresor CRM <crm@example.org>",
		"TRESOR_LOG_LEVEL": "debug"}
	logs := &lockedBuffer{}
	base, stop := serveForTest(t, env, logs)
	victim := fmt.Sprintf("victim-%d@example.org", rand.Uint64())
	for _, u := range [][2]string{{"root@example.org", "admin"}, {victim, "sales"}} {
		if _, msg, code := run(t, env, "user", "create", "--email", u[0], "--role", u[1]); code != 0 {
			t.Fatal(msg)
		}
	}
	token, _, _ := run(t, env, "token", "create", "--email", "root@example.org")
	token = strings.TrimSpace(token)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	var secret string
	t.Run("the reset link reaches the person's mailbox and not the administrator", func(t *testing.T) {
		status, body := call("POST", "/api/v1/users/"+victim+"/password-reset", "")
		if status != http.StatusAccepted || strings.Contains(body, "token") || strings.Contains(body, "reset-password") {
			t.Fatalf("answer %d %s", status, body)
		}
		text, _ := mailtest.Message(t, mailAPI, victim, "Neues Passwort für Tresor / New Tresor password")
		match := resetLinkRe.FindStringSubmatch(text)
		if match == nil {
			t.Fatalf("no link in the mail: %s", text)
		}
		secret = match[1]
	})
	t.Run("an invitation answers without the link", func(t *testing.T) {
		invited := fmt.Sprintf("new-%d@example.org", rand.Uint64())
		status, body := call("POST", "/api/v1/users", `{"email":"`+invited+`","roles":["service"]}`)
		if status != http.StatusCreated || strings.Contains(body, "token=") || !strings.Contains(body, `"pending_grant"`) {
			t.Fatalf("answer %d %s", status, body)
		}
		mailtest.Message(t, mailAPI, invited, "Ihr Zugang zu Tresor / Your Tresor account")
	})
	t.Run("the administrator cannot give their account a data role", func(t *testing.T) {
		status, body := call("POST", "/api/v1/users", `{"email":"mine@example.org","roles":["admin","sales"]}`)
		if status != http.StatusForbidden || !strings.Contains(body, "separation_of_duties") {
			t.Fatalf("POST /users admin+sales: %d %s", status, body)
		}
		status, body = call("POST", "/api/v1/users", `{"email":"puppet@example.org","roles":["sales"]}`)
		if status != http.StatusCreated || !strings.Contains(body, `"roles":[]`) {
			t.Fatalf("a puppet account got its data role at once: %d %s", status, body)
		}
	})
	t.Run("the CLI on the server lists and approves a pending grant", func(t *testing.T) {
		out, msg, code := run(t, env, "user", "grants")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) < 2 || !strings.Contains(out, "sales") {
			t.Fatalf("user grants: %d %q %s", code, out, msg)
		}
		id := strings.Fields(lines[len(lines)-1])[0]
		if _, msg, code := run(t, env, "user", "approve", "--id", id); code != 0 || !strings.Contains(msg, "approved") {
			t.Fatalf("user approve: %d %s", code, msg)
		}
		if _, msg, code := run(t, env, "user", "approve", "--id", id); code == 0 {
			t.Fatalf("a grant was approved twice: %s", msg)
		}
	})
	t.Run("no log line carries the link", func(t *testing.T) {
		if secret == "" {
			t.Skip("no link was mailed")
		}
		if strings.Contains(logs.String(), secret) {
			t.Fatal("the server's log holds the reset link's secret")
		}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
