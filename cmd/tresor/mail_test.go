package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tresor/mailtest"
)

var linkRe = regexp.MustCompile(`https?://[^\s]+/consent/(confirm|withdraw)\?token=[^\s]+`)

// TestDoubleOptInAndCampaignOverRealSMTP runs the consent flow end to end:
// the real server asks for consent by mail through a real SMTP server
// (Mailpit), the person follows the link and confirms, a campaign reaches
// them with a one-click withdrawal link, the mail program clicks it.
func TestDoubleOptInAndCampaignOverRealSMTP(t *testing.T) {
	smtpAddr, api := mailtest.Mailpit(t)
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_SMTP_ADDR": smtpAddr, "TRESOR_SMTP_FROM": "Tresor CRM <crm@example.org>"}
	base, stop := serveForTest(t, env, io.Discard)
	call := staffAPI(t, env, base, "mk@example.org", "marketing", "marketing")
	to := fmt.Sprintf("optin-%d@example.org", rand.Uint64())
	status, c := call("POST", "/api/v1/contacts", `{"given_name":"Erika","family_name":"Mustermann","emails":["`+to+`"],"legal_basis":"consent"}`)
	if status != 201 {
		t.Fatalf("create contact: %d %v", status, c)
	}
	id := c["id"].(string)
	status, st := call("POST", "/api/v1/contacts/"+id+"/consents", `{"purpose":"marketing","channel":"email","action":"grant","method":"double_opt_in","proof":{"text_version":"Newsletter, Fassung 3"}}`)
	if status != http.StatusAccepted || st["state"] != "pending" {
		t.Fatalf("request consent: %d %v", status, st)
	}

	// The person reads the mail and follows the link in a browser.
	text, _ := mailtest.Message(t, api, to, "Bitte bestätigen Sie Ihre Einwilligung")
	confirm := linkRe.FindString(text)
	if !strings.Contains(confirm, "/consent/confirm?token=") {
		t.Fatalf("no confirmation link in %q", text)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page := func(method, u string, form url.Values) (int, string) {
		t.Helper()
		var res *http.Response
		var err error
		if method == "GET" {
			res, err = browser.Get(u)
		} else {
			res, err = browser.PostForm(u, form)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// Opening the link changes nothing: mail scanners open links too.
	status, body := page("GET", confirm, nil)
	if status != 200 || !strings.Contains(body, "Ja, ich bestätige") && !strings.Contains(body, "Yes, I confirm") {
		t.Fatalf("confirmation page: %d %.300s", status, body)
	}
	if _, r := call("GET", "/api/v1/contacts/"+id+"/reach?purpose=marketing&channel=email", ""); r["allowed"] != false {
		t.Fatalf("opening the link granted consent: %v", r)
	}
	formToken := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	secret := strings.SplitN(confirm, "token=", 2)[1]
	status, body = page("POST", base+"/consent/confirm", url.Values{"form_token": {formToken}, "token": {secret}})
	if status != 200 {
		t.Fatalf("confirm: %d %.300s", status, body)
	}
	if _, r := call("GET", "/api/v1/contacts/"+id+"/reach?purpose=marketing&channel=email", ""); r["allowed"] != true {
		t.Fatalf("after confirming: %v", r)
	}
	// The link works once.
	if status, _ := page("POST", base+"/consent/confirm", url.Values{"form_token": {formToken}, "token": {secret}}); status != http.StatusNotFound {
		t.Fatalf("a used link: %d", status)
	}

	// A campaign reaches the person, with a one-click withdrawal link.
	status, camp := call("POST", "/api/v1/campaigns", `{"name":"Frühling","channel":"email","content":{"subject_de":"Frühlingsangebote","body_de":"Hallo Erika,\nunsere Angebote."}}`)
	if status != 201 {
		t.Fatalf("create campaign: %d %v", status, camp)
	}
	status, rep := call("POST", "/api/v1/campaigns/"+camp["id"].(string)+"/send", "")
	if status != 200 || rep["sent"] != float64(1) {
		t.Fatalf("send: %d %v", status, rep)
	}
	text, headers := mailtest.Message(t, api, to, "Frühlingsangebote")
	unsubscribe := strings.Trim(headers["List-Unsubscribe"][0], "<>")
	if !strings.Contains(text, unsubscribe) || headers["List-Unsubscribe-Post"][0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("campaign mail: %q %v", text, headers)
	}
	// The mail program's one click (RFC 8058), no sign-in.
	res, err := http.Post(unsubscribe, "application/x-www-form-urlencoded", bytes.NewBufferString("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("one-click withdrawal: %d", res.StatusCode)
	}
	_, r := call("GET", "/api/v1/contacts/"+id+"/reach?purpose=marketing&channel=email", "")
	if r["allowed"] != false {
		t.Fatalf("after withdrawing: %v", r)
	}
	_, hist := call("GET", "/api/v1/contacts/"+id+"/consents", "")
	events := hist["events"].([]any)
	if len(events) != 3 {
		t.Fatalf("ledger: %v", events)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// serveForTest starts `tresor serve` on a free loopback port with env (to
// which it adds TRESOR_ADDR and TRESOR_PUBLIC_URL), logging to stderr, and
// returns its base URL and a function that stops it and reports its error.
func serveForTest(t *testing.T, env map[string]string, stderr io.Writer) (string, func() error) {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	env["TRESOR_ADDR"], env["TRESOR_PUBLIC_URL"] = addr, base
	listening := make(chan string, 1)
	m := &Main{Stdout: io.Discard, Stderr: stderr, Getenv: func(k string) string { return env[k] }, OnListen: func(a string) { listening <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	select {
	case <-listening:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop
}

// staffAPI creates a user with the role and a token for them, and returns a
// function that calls the running server's API with that token under the
// purpose: the status and the decoded JSON answer.
func staffAPI(t *testing.T, env map[string]string, base, email, role, purpose string) func(method, path, body string) (int, map[string]any) {
	t.Helper()
	if _, msg, code := run(t, env, "user", "create", "--email", email, "--role", role); code != 0 {
		t.Fatal(msg)
	}
	token, _, _ := run(t, env, "token", "create", "--email", email)
	token = strings.TrimSpace(token)
	return func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Tresor-Purpose", purpose)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
}

// freeAddr returns a loopback address whose port was free a moment ago, for
// a server the test starts (the port is released before it is used, so
// another process could take it meanwhile; on loopback that is rare).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
