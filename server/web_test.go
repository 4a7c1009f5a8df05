package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/otp"
	"tresor/server"
)

// browser is an HTTP client with cookies that does not follow redirects, so
// tests see where each answer leads.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	return b.send("GET", path, nil, nil)
}

func (b *browser) post(path string, form url.Values, header map[string]string) page {
	b.t.Helper()
	return b.send("POST", path, form, header)
}

func (b *browser) send(method, path string, form url.Values, header map[string]string) page {
	b.t.Helper()
	if form == nil {
		return b.sendJSON(method, path, "", header)
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return b.sendJSON(method, path, form.Encode(), h)
}

var hidden = regexp.MustCompile(`name="(form_token|csrf)" value="([^"]+)"`)

// field returns the value of a hidden form field.
func (p page) field(t *testing.T, name string) string {
	t.Helper()
	for _, m := range hidden.FindAllStringSubmatch(p.body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("no %s field in the page: %.300s", name, p.body)
	return ""
}

func (p page) between(t *testing.T, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(p.body, start)
	if !ok {
		t.Fatalf("no %q in the page: %.500s", start, p.body)
	}
	v, _, _ := strings.Cut(rest, end)
	return html.UnescapeString(v)
}

// signIn fills in the sign-in form.
func (b *browser) signIn(email, password string) page {
	b.t.Helper()
	login := b.get("/login")
	return b.post("/login", url.Values{"form_token": {login.field(b.t, "form_token")}, "email": {email}, "password": {password}}, nil)
}

const webPassword = "a perfectly good passphrase"

// userWithPassword creates a user and gives it webPassword.
func (a *api) userWithPassword(email string, roles ...tresor.Role) {
	a.t.Helper()
	_, _, err := a.g.CreateUser(sys, email, roles)
	must(a.t, err)
	link, _, err := a.g.CreatePasswordReset(sys, email)
	must(a.t, err)
	must(a.t, a.g.ResetPassword(context.Background(), link, webPassword))
}

func TestWebSignInWithSecondFactor(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.userWithPassword("boss@example.org", tresor.RoleAdmin)
		b := newBrowser(t, a.url)
		if r := b.get("/account"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("the account page without a session: %d %s", r.status, r.header.Get("Location"))
		}
		r := b.signIn("boss@example.org", webPassword)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/mfa" {
			t.Fatalf("an administrator without a second factor was sent to %q (%d)", r.header.Get("Location"), r.status)
		}
		// Until the second factor is set up, nothing else works.
		if r := b.get("/account"); r.header.Get("Location") != "/login/mfa" && r.header.Get("Location") != "/login" {
			t.Fatalf("the account page before enrolment: %d %s", r.status, r.header.Get("Location"))
		}
		enroll := b.get("/account/mfa")
		secret := enroll.between(t, `id="totp-secret">`, "<")
		key, err := otp.DecodeSecret(secret)
		must(t, err)
		done := b.post("/account/mfa", url.Values{"csrf": {enroll.field(t, "csrf")}, "code": {otp.Code(key, time.Now())}}, nil)
		if done.status != 200 || strings.Count(done.between(t, `id="recovery-codes">`, "</ul>"), "<li>") != 10 {
			t.Fatalf("after enrolment: %d %.400s", done.status, done.body)
		}
		account := b.get("/account")
		if account.status != 200 || !strings.Contains(account.body, "boss@example.org") {
			t.Fatalf("account page: %d", account.status)
		}
		// Sign out; sign in again: password, then a code.
		out := b.post("/logout", url.Values{"csrf": {account.field(t, "csrf")}}, nil)
		if out.status != http.StatusSeeOther || b.get("/account").status != http.StatusSeeOther {
			t.Fatal("the session survived signing out")
		}
		r = b.signIn("boss@example.org", webPassword)
		if r.header.Get("Location") != "/login/mfa" {
			t.Fatalf("second sign-in went to %q", r.header.Get("Location"))
		}
		mfa := b.get("/login/mfa")
		bad := b.post("/login/mfa", url.Values{"csrf": {mfa.field(t, "csrf")}, "code": {"000000"}}, nil)
		if bad.status != http.StatusUnauthorized {
			t.Fatalf("a wrong code: %d", bad.status)
		}
		// The code of the enrolment was used; wait for the next step's code.
		code := otp.Code(key, time.Now().Add(otp.Step))
		ok := b.post("/login/mfa", url.Values{"csrf": {mfa.field(t, "csrf")}, "code": {code}}, nil)
		if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/account" {
			t.Fatalf("the right code: %d %s %.300s", ok.status, ok.header.Get("Location"), ok.body)
		}
		if b.get("/account").status != 200 {
			t.Fatal("not signed in after the code")
		}
	})
}

// TestSessionCookieAndCSRF: the session cookie's flags, and the form token a
// cookie-authenticated change needs.
func TestSessionCookieAndCSRF(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	// Session fixation: a cookie set before the sign-in is replaced.
	u, _ := url.Parse(a.url)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tresor_session", Value: "planted-by-an-attacker", Path: "/"}})
	r := b.signIn("kim@example.org", webPassword)
	var sess *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "tresor_session" {
			sess = c
		}
	}
	if sess == nil || sess.Value == "planted-by-an-attacker" || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
		t.Fatalf("session cookie = %+v", sess)
	}
	if _, _, err := a.g.AuthenticateSession(context.Background(), "planted-by-an-attacker"); err == nil {
		t.Fatal("the planted value authenticates")
	}
	account := b.get("/account")
	csrf := account.field(t, "csrf")
	// Reading with the cookie works; changing without the form token does not.
	if r := b.send("GET", "/api/v1/me", nil, nil); r.status != 200 {
		t.Fatalf("GET with the session cookie: %d", r.status)
	}
	create := func(header map[string]string) page {
		req := map[string]string{"Content-Type": "application/json", "Tresor-Purpose": "sales"}
		for k, v := range header {
			req[k] = v
		}
		return b.sendJSON("POST", "/api/v1/contacts", `{"family_name":"Cookie","legal_basis":"contract"}`, req)
	}
	if r := create(nil); r.status != http.StatusForbidden || !strings.Contains(r.body, `"code":"csrf_failed"`) {
		t.Fatalf("a change without the form token: %d %s", r.status, r.body)
	}
	if r := create(map[string]string{server.CSRFHeader: "wrong"}); r.status != http.StatusForbidden {
		t.Fatalf("a change with a wrong form token: %d", r.status)
	}
	if r := create(map[string]string{server.CSRFHeader: csrf}); r.status != http.StatusCreated {
		t.Fatalf("a change with the form token: %d %s", r.status, r.body)
	}
	// A form without the token is refused too.
	if r := b.post("/account/tokens", url.Values{"name": {"x"}}, nil); r.status == http.StatusCreated {
		t.Fatal("a token was created without the form token")
	}
	// Sign-out everywhere ends the session.
	b.post("/logout/all", url.Values{"csrf": {csrf}}, nil)
	if r := b.send("GET", "/api/v1/me", nil, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("after signing out everywhere: %d", r.status)
	}
}

// sendJSON sends a request with a body as it is (JSON or an encoded form).
func (b *browser) sendJSON(method, path, body string, header map[string]string) page {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(raw)}
}

// TestCrossOriginPostIsRefused: a browser request from another site cannot
// change anything, whatever credentials it carries.
func TestCrossOriginPostIsRefused(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	for name, h := range map[string]map[string]string{
		"Sec-Fetch-Site": {"Sec-Fetch-Site": "cross-site"},
		"Origin":         {"Origin": "https://evil.example"},
	} {
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"Forged","legal_basis":"contract"}`, role: tresor.RoleSales, purpose: "sales", header: h})
		if r.status != http.StatusForbidden || r.json(t)["code"] != "csrf_failed" {
			t.Errorf("cross-origin POST (%s): %d %s", name, r.status, r.body)
		}
		b := newBrowser(t, a.url)
		if r := b.post("/login", url.Values{"email": {"x@example.org"}, "password": {"y"}}, h); r.status != http.StatusForbidden {
			t.Errorf("cross-origin sign-in (%s): %d", name, r.status)
		}
	}
	// The same origin, and programs that send no browser headers, pass.
	if r := a.do(call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"Fine","legal_basis":"contract"}`, role: tresor.RoleSales, purpose: "sales",
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}}); r.status != http.StatusCreated {
		t.Fatalf("same-origin POST: %d %s", r.status, r.body)
	}
	l := a.do(call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"})
	if n := len(l.json(t)["items"].([]any)); n != 1 {
		t.Fatalf("%d contacts, want only the same-origin one", n)
	}
}

// TestSecurityHeadersOnEveryResponse covers API answers, errors and pages.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	b := newBrowser(t, a.url)
	for _, r := range []page{
		b.get("/healthz"), b.get("/api/v1/contacts"), b.get("/nothing-here"), b.get("/login"), b.get("/account"),
		b.get("/reset-password?token=x"), b.get("/static/tresor.css"), b.send("PUT", "/api/v1/contacts", nil, nil),
	} {
		csp := r.header.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("headers %v", r.header)
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS over plain HTTP")
		}
	}
	login := b.get("/login")
	if strings.Contains(login.body, "<script") || strings.Contains(login.body, "style=") {
		t.Error("a page carries inline script or style, which the CSP forbids")
	}
}

// TestTLSAndHSTS serves HTTPS with a certificate made for the test.
func TestTLSAndHSTS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeCert(t, cert, key)
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: t.TempDir(), Migrate: true})
	must(t, err)
	defer g.Close()
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g}, server.Options{TLSCert: cert, TLSKey: key, PublicURL: "https://127.0.0.1",
		Log: slog.New(slog.DiscardHandler)})
	must(t, s.Open("127.0.0.1:0"))
	go s.Serve()
	defer s.Shutdown(context.Background())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "https://" + s.Addr()
	res, err := client.Get(base + "/login")
	must(t, err)
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Fatalf("HSTS = %q", hsts)
	}
	var form *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "tresor_form" {
			form = c
		}
	}
	if form == nil || !form.Secure {
		t.Fatalf("form cookie under TLS = %+v", form)
	}
	sys := tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem})
	_, _, err = g.CreateUser(sys, "kim@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)
	link, _, err := g.CreatePasswordReset(sys, "kim@example.org")
	must(t, err)
	must(t, g.ResetPassword(context.Background(), link, webPassword))
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"form_token": {form.Value}, "email": {"kim@example.org"}, "password": {webPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(form)
	res, err = client.Do(req)
	must(t, err)
	res.Body.Close()
	var sess *http.Cookie
	for _, c := range res.Cookies() {
		if strings.HasSuffix(c.Name, "tresor_session") {
			sess = c
		}
	}
	if sess == nil || sess.Name != "__Host-tresor_session" || !sess.Secure || !sess.HttpOnly || sess.Path != "/" {
		t.Fatalf("session cookie under TLS = %+v (status %d)", sess, res.StatusCode)
	}
	// Plain HTTP to the TLS port gets nowhere.
	if res, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP was served")
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns a pool trusting it.
func writeCert(t *testing.T, certFile, keyFile string) *x509.CertPool {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tresor test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	c, err := x509.ParseCertificate(der)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pool
}

// TestCredentialStuffingOverHTTP: the sign-in form answers 429 with
// Retry-After once failures pile up, and the log reports it.
func TestCredentialStuffingOverHTTP(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("kim@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	var last page
	for i := 0; i < 8; i++ {
		last = b.signIn("kim@example.org", "not the password "+string(rune('a'+i)))
		if last.status == http.StatusTooManyRequests {
			break
		}
		if last.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, last.status)
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("throttling did not engage: %d, Retry-After %q", last.status, last.header.Get("Retry-After"))
	}
	// Even the right password waits now.
	if r := b.signIn("kim@example.org", webPassword); r.status != http.StatusTooManyRequests {
		t.Fatalf("the right password during throttling: %d", r.status)
	}
	if !strings.Contains(a.logs.String(), `"action":"login.throttled"`) {
		t.Fatal("the throttling is not reported in the log")
	}
	if strings.Contains(a.logs.String(), "kim@example.org") || strings.Contains(a.logs.String(), "not the password") {
		t.Fatal("the log holds the e-mail address or a password")
	}
}

// TestUserAPIRefusesInjection sends SQL and script through every field of
// the user and token API.
func TestUserAPIRefusesInjection(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	for _, body := range []string{
		`{"email":"x@example.org'; DROP TABLE users;--","roles":["sales"]}`,
		`{"email":"<script>alert(1)</script>@example.org","roles":["sales"]}`,
		`{"email":"ok@example.org","roles":["sales'; DROP TABLE users;--"]}`,
		`{"email":"ok@example.org","roles":["<script>"]}`,
		`{"email":"ok@example.org","roles":["sales"],"is_admin":true}`,
	} {
		r := a.do(call{method: "POST", path: "/api/v1/users", body: body, role: tresor.RoleAdmin})
		if r.status < 400 || r.status >= 500 {
			t.Errorf("POST %s: %d %s", body, r.status, r.body)
		}
	}
	r := a.do(call{method: "PATCH", path: "/api/v1/users/" + a.victim(), body: `{"roles":["admin' OR '1'='1"]}`, role: tresor.RoleAdmin})
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH with injected role: %d %s", r.status, r.body)
	}
	r = a.do(call{method: "GET", path: "/api/v1/users/x'%20OR%201=1", role: tresor.RoleAdmin})
	if r.status != http.StatusNotFound {
		t.Errorf("GET injected id: %d", r.status)
	}
	// A token name with script is stored as text and shown escaped.
	a.userWithPassword("kim@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	b.signIn("kim@example.org", webPassword)
	account := b.get("/account")
	b.post("/account/tokens", url.Values{"csrf": {account.field(t, "csrf")}, "name": {`<script>alert("x")</script>'; DROP TABLE api_tokens;--`}, "purpose": {"sales"}, "days": {"7"}}, nil)
	account = b.get("/account")
	if strings.Contains(account.body, `<script>alert`) || !strings.Contains(account.body, "&lt;script&gt;") {
		t.Fatalf("the token name is not escaped: %.2000s", account.body)
	}
	users := a.do(call{method: "GET", path: "/api/v1/users", role: tresor.RoleAdmin})
	if users.status != 200 {
		t.Fatalf("the users table is gone: %d", users.status)
	}
}
