// Package socialtest runs real servers of the social networks for the
// connectors' integration tests: GoToSocial (the Mastodon client API), and
// a PDS with its PLC directory and AppView for Bluesky (atproto.go).
//
// GoToSocial starts one server per calling test, with its own SQLite database
// and storage in the test's temporary directory, so tests share no accounts or
// statuses and may run in parallel. That costs little: a start takes one or
// two seconds once the WebAssembly compilation cache is warm (set
// GTS_WAZERO_COMPILATION_CACHE to a folder, as .ci/run does); without it every
// start compiles GoToSocial's WebAssembly (ffmpeg) again, 8 to 35 s.
package socialtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// GoToSocialEnv names the variable with the path of a gotosocial v0.18.3
// binary (built by .ci/run from .ci/tools/gotosocial).
const GoToSocialEnv = "TRESOR_TEST_GOTOSOCIAL"

// GoToSocialWebEnv names the variable with the path of GoToSocial's web/
// folder (templates and assets; gotosocial@v0.18.3/web in the module cache).
const GoToSocialWebEnv = "TRESOR_TEST_GOTOSOCIAL_WEB"

// RequireGoToSocialEnv, when "1", turns a missing GoToSocialEnv into a test
// failure instead of a skip: CI sets it so the GoToSocial tests cannot be
// skipped silently.
const RequireGoToSocialEnv = "TRESOR_TEST_REQUIRE_GOTOSOCIAL"

// OOB is the out-of-band redirect URI: GoToSocial shows the authorization
// code instead of redirecting to a client.
const OOB = "urn:ietf:wg:oauth:2.0:oob"

// Scopes are the scopes of the tokens Account obtains.
const Scopes = "read write follow push"

const (
	startTimeout   = 3 * time.Minute  // first start compiles WebAssembly
	commandTimeout = 2 * time.Minute  // one admin CLI command
	requestTimeout = 30 * time.Second // one HTTP request
	stopTimeout    = 15 * time.Second // graceful shutdown before a kill
)

// GTS is a running GoToSocial server.
type GTS struct {
	URL  string // base URL, e.g. http://127.0.0.1:40123, without a trailing slash
	Host string // host:port, the server's domain in account addresses and URIs

	bin, config, log string
	client           *http.Client
	proc             *os.Process
}

// Account is a local account with a user access token (scopes Scopes).
type Account struct {
	Username, Email, Password string
	Token                     string // bearer token
	ClientID, ClientSecret    string // the OAuth application the token was issued to
	ID                        string // account ID in the Mastodon API
}

// GoToSocial starts a GoToSocial server for the calling test and stops it
// when the test ends. Without GoToSocialEnv it skips the test, or fails it
// where RequireGoToSocialEnv is set.
func GoToSocial(tb testing.TB) *GTS {
	tb.Helper()
	bin := os.Getenv(GoToSocialEnv)
	if bin == "" {
		if os.Getenv(RequireGoToSocialEnv) == "1" {
			tb.Fatalf("%s is not set, but %s=1 requires the GoToSocial tests", GoToSocialEnv, RequireGoToSocialEnv)
		}
		tb.Skipf("GoToSocial tests skipped: set %s to a gotosocial v0.18.3 binary and %s to its web/ folder to run them", GoToSocialEnv, GoToSocialWebEnv)
	}
	web := os.Getenv(GoToSocialWebEnv)
	if web == "" {
		tb.Fatalf("%s is set but %s is not: set it to the gotosocial@v0.18.3/web folder of the module cache", GoToSocialEnv, GoToSocialWebEnv)
	}
	if _, err := os.Stat(filepath.Join(web, "template", "index.tmpl")); err != nil {
		tb.Fatalf("%s=%s is not GoToSocial's web folder: %v", GoToSocialWebEnv, web, err)
	}
	dir := tb.TempDir()
	port, err := freePort()
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	g := &GTS{
		URL:    "http://" + host,
		Host:   host,
		bin:    bin,
		config: filepath.Join(dir, "config.yaml"),
		log:    filepath.Join(dir, "gotosocial.log"),
		client: &http.Client{Timeout: requestTimeout},
	}
	if err := os.WriteFile(g.config, []byte(configYAML(host, port, dir, web)), 0o600); err != nil {
		tb.Fatal(err)
	}
	logFile, err := os.Create(g.log)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-path", g.config, "server", "start")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		tb.Fatalf("start %s: %v", bin, err)
	}
	g.proc = cmd.Process
	exited := make(chan struct{}) // closed when the process has exited, after waitErr is set
	var waitErr error
	go func() { waitErr = cmd.Wait(); logFile.Close(); close(exited) }()
	tb.Cleanup(func() {
		stop(cmd, exited)
		if tb.Failed() {
			tb.Logf("GoToSocial log (%s), last lines:\n%s", g.log, g.logTail(40))
		}
	})
	if err := g.waitReady(exited, &waitErr); err != nil {
		tb.Fatalf("GoToSocial did not start: %v", err)
	}
	tb.Logf("GoToSocial v0.18.3 answers at %s after %s", g.URL, time.Since(began).Round(100*time.Millisecond))
	return g
}

// configYAML is the server configuration: loopback over plain HTTP, SQLite
// and local storage in dir, no rate limits or throttling (tests send many
// requests from one address), closed sign-up (accounts come from the admin
// CLI), no mail and no federation peers.
func configYAML(host string, port int, dir, web string) string {
	q := strconv.Quote // a Go quoted string is a valid YAML double-quoted scalar
	return strings.Join([]string{
		"log-level: info",
		"log-client-ip: false",
		"application-name: tresor-test",
		"host: " + q(host),
		"protocol: http",
		"bind-address: 127.0.0.1",
		"port: " + strconv.Itoa(port),
		"db-type: sqlite",
		"db-address: " + q(filepath.Join(dir, "gotosocial.sqlite")),
		"storage-backend: local",
		"storage-local-base-path: " + q(filepath.Join(dir, "storage")),
		"web-template-base-dir: " + q(filepath.Join(web, "template")+"/"),
		"web-asset-base-dir: " + q(filepath.Join(web, "assets")+"/"),
		"accounts-registration-open: false",
		"accounts-reason-required: false",
		"instance-federation-mode: blocklist",
		"letsencrypt-enabled: false",
		"advanced-rate-limit-requests: 0",
		"advanced-throttling-multiplier: 0",
		"cache:",
		"  memory-target: 50MiB",
		"",
	}, "\n")
}

// waitReady polls GET /api/v1/instance until it answers 200.
func (g *GTS) waitReady(exited <-chan struct{}, waitErr *error) error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("gotosocial exited (%v)", *waitErr)
		default:
		}
		resp, err := client.Get(g.URL + "/api/v1/instance")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /api/v1/instance: %s", resp.Status)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %s (last: %v)", startTimeout, last)
}

// stop shuts the server down gracefully, killing it if it takes too long.
func stop(cmd *exec.Cmd, exited <-chan struct{}) {
	if cmd.Process.Signal(os.Interrupt) == nil {
		select {
		case <-exited:
			return
		case <-time.After(stopTimeout):
		}
	}
	_ = cmd.Process.Kill()
	<-exited
}

// logTail returns the last n lines of the server log.
func (g *GTS) logTail(n int) string {
	b, err := os.ReadFile(g.log)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return tailLines(string(b), n)
}

// Account creates a confirmed, approved local account with the admin CLI
// (username@example.org, a random password) and obtains a user access token
// for it through the authorization-code flow with the out-of-band redirect
// (GoToSocial has no password grant). New accounts are locked: see Unlock.
func (g *GTS) Account(tb testing.TB, username string) *Account {
	tb.Helper()
	a := &Account{Username: username, Email: username + "@example.org", Password: "Tresor-" + randomHex(12)}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, "--config-path", g.config, "admin", "account", "create",
		"--username", a.Username, "--email", a.Email, "--password", a.Password)
	cmd.Dir = filepath.Dir(g.config)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gotosocial admin account create --username %s: %v\n%s", username, err, tailLines(string(out), 20))
	}
	if err := g.authorize(a); err != nil {
		tb.Fatalf("token for %s: %v", username, err)
	}
	var me struct{ ID, Username string }
	if err := g.Do("GET", "/api/v1/accounts/verify_credentials", a.Token, nil, http.StatusOK, &me); err != nil {
		tb.Fatalf("token for %s: %v", username, err)
	}
	if me.Username != username || me.ID == "" {
		tb.Fatalf("verify_credentials for %s = %+v", username, me)
	}
	a.ID = me.ID
	return a
}

// authorize registers an application and walks the authorization-code flow:
// POST /api/v1/apps, GET /oauth/authorize, POST /auth/sign_in, POST
// /oauth/authorize (which redirects to /oauth/oob?code=...), POST /oauth/token.
func (g *GTS) authorize(a *Account) error {
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	err := g.Do("POST", "/api/v1/apps", "", url.Values{
		"client_name": {"tresor-test"}, "redirect_uris": {OOB}, "scopes": {Scopes},
	}, http.StatusOK, &app)
	if err != nil {
		return err
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return errors.New("POST /api/v1/apps: no client_id or client_secret")
	}
	a.ClientID, a.ClientSecret = app.ClientID, app.ClientSecret

	code, err := g.code(a, a.ClientID, Scopes)
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	err = g.Do("POST", "/oauth/token", "", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {a.ClientID},
		"client_secret": {a.ClientSecret}, "redirect_uri": {OOB}, "scope": {Scopes},
	}, http.StatusOK, &tok)
	if err != nil {
		return err
	}
	if tok.AccessToken == "" {
		return errors.New("POST /oauth/token: no access_token")
	}
	if tok.Scope != Scopes {
		return fmt.Errorf("POST /oauth/token: scope %q, want %q", tok.Scope, Scopes)
	}
	a.Token = tok.AccessToken
	return nil
}

// AuthorizationCode signs in as a and allows the application clientID the
// scopes, as the operator does in a browser, and returns the code the
// server shows on its out-of-band page (GET /oauth/authorize, POST
// /auth/sign_in, POST /oauth/authorize).
func (g *GTS) AuthorizationCode(tb testing.TB, a *Account, clientID, scopes string) string {
	tb.Helper()
	code, err := g.code(a, clientID, scopes)
	if err != nil {
		tb.Fatalf("authorization code for %s: %v", a.Username, err)
	}
	return code
}

func (g *GTS) code(a *Account, clientID, scopes string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	browser := &http.Client{
		Timeout:       requestTimeout,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// step sends one request and returns the redirect target, checking the status.
	step := func(method, path string, form url.Values, want int) (*url.URL, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, g.URL+path, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != want {
			return nil, fmt.Errorf("%s %s: %s, want %d: %s", method, path, resp.Status, want, strings.TrimSpace(string(b)))
		}
		if want/100 != 3 {
			return nil, nil
		}
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		return loc, nil
	}
	q := url.Values{"client_id": {clientID}, "redirect_uri": {OOB}, "response_type": {"code"}, "scope": {scopes}}
	loc, err := step("GET", "/oauth/authorize?"+q.Encode(), nil, http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	if loc.Path != "/auth/sign_in" {
		return "", fmt.Errorf("GET /oauth/authorize redirects to %s, want /auth/sign_in", loc)
	}
	loc, err = step("POST", "/auth/sign_in", url.Values{"username": {a.Email}, "password": {a.Password}}, http.StatusFound)
	if err != nil {
		return "", err
	}
	if loc.Path != "/oauth/authorize" {
		return "", fmt.Errorf("POST /auth/sign_in redirects to %s, want /oauth/authorize (wrong password?)", loc)
	}
	if _, err := step("GET", "/oauth/authorize", nil, http.StatusOK); err != nil {
		return "", err
	}
	loc, err = step("POST", "/oauth/authorize", url.Values{}, http.StatusFound)
	if err != nil {
		return "", err
	}
	code := loc.Query().Get("code")
	if loc.Path != "/oauth/oob" || code == "" {
		return "", fmt.Errorf("POST /oauth/authorize redirects to %s, want /oauth/oob with a code", loc)
	}
	return code, nil
}

// Unlock makes the account unlocked (PATCH
// /api/v1/accounts/update_credentials locked=false), so follows take effect
// at once instead of becoming follow requests.
func (g *GTS) Unlock(tb testing.TB, a *Account) {
	tb.Helper()
	var me struct{ Locked bool }
	if err := g.Do("PATCH", "/api/v1/accounts/update_credentials", a.Token, url.Values{"locked": {"false"}}, http.StatusOK, &me); err != nil {
		tb.Fatalf("unlock %s: %v", a.Username, err)
	}
	if me.Locked {
		tb.Fatalf("unlock %s: account still locked", a.Username)
	}
}

// Do sends a request to the server's API: form, if not nil, as an
// application/x-www-form-urlencoded body; token, if not empty, as a bearer
// token. It returns an error unless the status is want, and then decodes a
// JSON body into out if out is not nil.
func (g *GTS) Do(method, path, token string, form url.Values, want int, out any) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d: %s", method, path, resp.Status, want, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode %s: %w", method, path, bytes.TrimSpace(b), err)
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
