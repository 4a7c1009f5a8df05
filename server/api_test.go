package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/server"
	"tresor/storetest"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// api is a running server on a real backend with one token per role.
type api struct {
	t      testing.TB
	url    string
	tokens map[tresor.Role]string
	users  map[tresor.Role]string // user ids
	logs   *syncBuffer
	g      *gate.Gate
	srv    *server.Server
	mail   *mailbox
}

// mailbox is a mailer that keeps what it is given (the real SMTP path is
// tested against Mailpit).
type mailbox struct {
	mu   sync.Mutex
	sent []*tresor.Mail
}

func (m *mailbox) Send(ctx context.Context, mail *tresor.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail)
	return nil
}

func (m *mailbox) all() []*tresor.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*tresor.Mail(nil), m.sent...)
}

func backends(t *testing.T, fn func(t *testing.T, a *api)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, newAPI(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true}))
	})
}

func newAPI(t testing.TB, cfg datadir.Config, more ...gate.Option) *api {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	box := &mailbox{}
	opts := append([]gate.Option{gate.WithLogger(log), gate.WithMailer(box), gate.WithMailbox(emptyMailbox{}, true), gate.WithPublicURL("https://crm.example.org"),
		gate.WithConnectors(func(_ context.Context, network string, creds []byte) (tresor.Connector, error) { return stubNet{}, nil })}, more...)
	g, err := datadir.Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	// As tresor serve does, the search index loads at start.
	if err := g.WaitSearch(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g, Mail: g}, server.Options{Log: log, Purposes: g.PurposesOf, Catalogue: g.Catalogue(), Record: recordSource(t)})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	a := &api{t: t, url: hs.URL, tokens: map[tresor.Role]string{}, users: map[tresor.Role]string{}, logs: logs, g: g, srv: s, mail: box}
	for _, r := range []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleAdmin} {
		a.token(r)
	}
	return a
}

var sys = tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem})

// token returns the API token of the user ROLE@example.org, who holds the
// one role, creating both on first use.
func (a *api) token(r tresor.Role) string {
	if tok, ok := a.tokens[r]; ok {
		return tok
	}
	email := string(r) + "@example.org"
	u, _, err := a.g.CreateUser(sys, email, []tresor.Role{r})
	if err != nil {
		a.t.Fatal(err)
	}
	_, secret, err := a.g.CreateToken(sys, tresor.TokenRequest{UserEmail: email, Name: "test", TTL: time.Hour})
	if err != nil {
		a.t.Fatal(err)
	}
	a.tokens[r], a.users[r] = secret, u.ID
	return secret
}

// call is one request.
type call struct {
	method, path string
	body         string
	role         tresor.Role // "" for no token
	purpose      string
	header       map[string]string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (a *api) do(c call) reply {
	a.t.Helper()
	req, err := http.NewRequest(c.method, a.url+c.path, strings.NewReader(c.body))
	if err != nil {
		a.t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.role != "" {
		req.Header.Set("Authorization", "Bearer "+a.token(c.role))
	}
	if c.purpose != "" {
		req.Header.Set("Tresor-Purpose", c.purpose)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

const erika = `{"given_name":"Erika","family_name":"Mustermann","emails":["erika.mustermann@example.de"],"phones":["+49 30 5550123"],"organization":"Muster GmbH","position":"CTO","legal_basis":"contract"}`

func TestContactOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		id := c["id"].(string)
		if r.header.Get("Location") != "/api/v1/contacts/"+id || r.header.Get("ETag") != `"1"` {
			t.Fatalf("Location %q, ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
		}
		r = a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
		if r.status != 200 || r.json(t)["family_name"] != "Mustermann" {
			t.Fatalf("read: %d %s", r.status, r.body)
		}
		r = a.do(call{method: "GET", path: "/api/v1/contacts?email=Erika.Mustermann@example.de", role: tresor.RoleSales, purpose: "sales"})
		items := r.json(t)["items"].([]any)
		if r.status != 200 || len(items) != 1 {
			t.Fatalf("lookup: %d %s", r.status, r.body)
		}
		r = a.do(call{method: "PATCH", path: "/api/v1/contacts/" + id, body: `{"position":"CEO"}`, role: tresor.RoleSales, purpose: "sales",
			header: map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"}})
		if r.status != 200 || r.json(t)["position"] != "CEO" || r.header.Get("ETag") != `"2"` {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		r = a.do(call{method: "DELETE", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales", header: map[string]string{"If-Match": `"2"`}})
		if r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		r = a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
		if r.status != 410 || !strings.Contains(string(r.body), `"contact_erased"`) {
			t.Fatalf("read after delete: %d %s (want 410 and the tombstone's code)", r.status, r.body)
		}
	})
}

// TestBadInputIsRefusedWithProblemJSON: every kind of bad input gets a 4xx
// problem+json with a stable code, and nothing is written.
func TestBadInputIsRefusedWithProblemJSON(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales"})
		id := r.json(t)["id"].(string)
		big := `{"given_name":"` + strings.Repeat("a", 2<<20) + `"}`
		for _, tc := range []struct {
			name   string
			c      call
			status int
			code   tresor.Code
		}{
			{"malformed JSON", call{method: "POST", path: "/api/v1/contacts", body: `{"given_name": "Erika",`, role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECMalformedJSON},
			{"not an object", call{method: "POST", path: "/api/v1/contacts", body: `["Erika"]`, role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECMalformedJSON},
			{"two values", call{method: "POST", path: "/api/v1/contacts", body: erika + erika, role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECMalformedJSON},
			{"unknown field", call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"X","religion":"none"}`, role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECUnknownField},
			{"wrong type", call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":42}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
			{"oversized body", call{method: "POST", path: "/api/v1/contacts", body: big, role: tresor.RoleSales, purpose: "sales"}, 413, tresor.ECBodyTooLarge},
			{"not JSON", call{method: "POST", path: "/api/v1/contacts", body: erika, role: tresor.RoleSales, purpose: "sales", header: map[string]string{"Content-Type": "text/plain"}}, 415, tresor.ECUnsupportedMedia},
			{"invalid e-mail", call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"X","emails":["x@"],"legal_basis":"contract"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
			{"invalid phone", call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"X","phones":["030 12345"],"legal_basis":"contract"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
			{"server-set id", call{method: "POST", path: "/api/v1/contacts", body: `{"id":"` + id + `","family_name":"X"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
			{"missing owner", call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"X","owner_id":"01a223f0-8d8f-7682-899e-39452c1ae6d0","legal_basis":"contract"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECInvalidReference},
			{"bad cursor", call{method: "GET", path: "/api/v1/contacts?cursor=Zm9v", role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECInvalidCursor},
			{"bad limit", call{method: "GET", path: "/api/v1/contacts?limit=5000", role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECInvalidParameter},
			{"bad time", call{method: "GET", path: "/api/v1/contacts?updated_since=yesterday", role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECInvalidParameter},
			{"unknown parameter", call{method: "GET", path: "/api/v1/contacts?emial=x@example.org", role: tresor.RoleSales, purpose: "sales"}, 400, tresor.ECInvalidParameter},
			{"unknown id", call{method: "GET", path: "/api/v1/contacts/01a223f0-8d8f-7682-899e-39452c1ae6d0", role: tresor.RoleSales, purpose: "sales"}, 404, tresor.ECNotFound},
			{"malformed id", call{method: "GET", path: "/api/v1/contacts/1%27%20OR%201=1", role: tresor.RoleSales, purpose: "sales"}, 404, tresor.ECNotFound},
			{"missing purpose", call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales}, 400, tresor.ECPurposeMissing},
			{"unknown purpose", call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "fun"}, 400, tresor.ECPurposeUnknown},
			{"purpose not permitted", call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "marketing"}, 403, tresor.ECPurposeNotAllowed},
			{"admin reads no contacts", call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleAdmin, purpose: "sales"}, 403, tresor.ECPurposeNotAllowed},
			{"no token", call{method: "GET", path: "/api/v1/contacts", purpose: "sales"}, 401, tresor.ECUnauthenticated},
			{"bad token", call{method: "GET", path: "/api/v1/contacts", purpose: "sales", header: map[string]string{"Authorization": "Bearer tresor_forged"}}, 401, tresor.ECUnauthenticated},
			{"stale If-Match", call{method: "PATCH", path: "/api/v1/contacts/" + id, body: `{"position":"X"}`, role: tresor.RoleSales, purpose: "sales", header: map[string]string{"If-Match": `"9"`}}, 412, tresor.ECVersionMismatch},
			{"bad If-Match", call{method: "DELETE", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales", header: map[string]string{"If-Match": "yesterday"}}, 400, tresor.ECInvalidParameter},
			{"read-only field", call{method: "PATCH", path: "/api/v1/contacts/" + id, body: `{"created_at":"2020-01-01T00:00:00Z"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
			{"wrong method", call{method: "PUT", path: "/api/v1/contacts/" + id, body: erika, role: tresor.RoleSales, purpose: "sales"}, 405, tresor.ECMethodNotAllowed},
			{"unknown path", call{method: "GET", path: "/api/v1/contacts/" + id + "/friends", role: tresor.RoleSales, purpose: "sales"}, 404, tresor.ECNotFound},
			{"sales cannot configure", call{method: "POST", path: "/api/v1/pipelines", body: `{"id":"x","name":"X","stages":[{"id":"a","name":"A","outcome":"open"}]}`, role: tresor.RoleSales}, 403, tresor.ECForbidden},
			{"unknown stage", call{method: "POST", path: "/api/v1/deals", body: `{"title":"T","stage":"dreaming"}`, role: tresor.RoleSales, purpose: "sales"}, 422, tresor.ECValidation},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := a.do(tc.c)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("Content-Type %q", ct)
				}
				p := r.json(t)
				if p["code"] != string(tc.code) || p["status"] != float64(tc.status) || p["type"] != "urn:tresor:problem:"+string(tc.code) || p["detail"] == "" {
					t.Fatalf("problem = %s", r.body)
				}
			})
		}
		if got := a.do(call{method: "PUT", path: "/api/v1/contacts/" + id, role: tresor.RoleSales}).header.Get("Allow"); got != "GET, PATCH, DELETE" {
			t.Errorf("Allow = %q", got)
		}
		if got := a.do(call{method: "GET", path: "/api/v1/contacts", purpose: "sales"}).header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("WWW-Authenticate = %q", got)
		}
		// Nothing of the refused requests was written: one contact, unchanged.
		r = a.do(call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"})
		items := r.json(t)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["version"] != float64(1) {
			t.Fatalf("after the refused requests: %s", r.body)
		}
	})
}

// TestInjectionIsStoredLiterally: SQL and script in every text field are data.
func TestInjectionIsStoredLiterally(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		evil := `Robert'); DROP TABLE contacts;-- <script>alert(1)</script>`
		body, _ := json.Marshal(map[string]any{"given_name": evil, "family_name": evil, "organization": evil, "position": evil, "legal_basis": "contract",
			"social_handles": []map[string]string{{"network": "mastodon", "handle": "@x');DROP"}}})
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: string(body), role: tresor.RoleSales, purpose: "sales"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		r = a.do(call{method: "GET", path: "/api/v1/contacts/" + id, role: tresor.RoleSales, purpose: "sales"})
		if r.json(t)["family_name"] != evil {
			t.Fatalf("read back: %s", r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("headers %v", r.header)
		}
		r = a.do(call{method: "GET", path: "/api/v1/contacts?email=" + "x%40example.org'%20OR%20'1'%3D'1", role: tresor.RoleSales, purpose: "sales"})
		if r.status != 400 {
			t.Fatalf("injection in the lookup: %d %s", r.status, r.body)
		}
		r = a.do(call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"})
		if n := len(r.json(t)["items"].([]any)); n != 1 {
			t.Fatalf("%d contacts", n)
		}
	})
}

func TestAllObjectsOverHTTP(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		sales := func(method, path, body string) map[string]any {
			t.Helper()
			r := a.do(call{method: method, path: path, body: body, role: tresor.RoleSales, purpose: "sales"})
			if r.status >= 300 {
				t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
			}
			if r.status == 204 {
				return nil
			}
			return r.json(t)
		}
		org := sales("POST", "/api/v1/organizations", `{"name":"Muster GmbH","website":"https://muster.example","address":{"city":"Berlin","country":"DE"}}`)
		c := sales("POST", "/api/v1/contacts", `{"family_name":"Beispiel","legal_basis":"contract","organization_id":"`+org["id"].(string)+`"}`)
		deal := sales("POST", "/api/v1/deals", `{"title":"Rollout","stage":"lead","value":"9999.99","currency":"EUR","contact_id":"`+c["id"].(string)+`","expected_close":"2027-03-31"}`)
		kase := sales("POST", "/api/v1/cases", `{"channel":"phone","subject":"Login fails","legal_basis":"contract","contact_id":"`+c["id"].(string)+`"}`)
		note := sales("POST", "/api/v1/interactions", `{"kind":"call","direction":"outbound","deal_id":"`+deal["id"].(string)+`","duration_seconds":600,"body":"Discussed pricing","legal_basis":"contract"}`)
		if deal["value"] != "9999.99" || kase["status"] != "new" || note["occurred_at"] == "" {
			t.Fatalf("deal %v case %v note %v", deal, kase, note)
		}
		for path, filter := range map[string]string{
			"/api/v1/organizations": "?owner=me",
			"/api/v1/deals":         "?stage=lead&pipeline=default",
			"/api/v1/cases":         "?status=new&priority=normal",
			"/api/v1/interactions":  "?deal_id=" + deal["id"].(string),
			"/api/v1/contacts":      "?organization_id=" + org["id"].(string),
		} {
			if items := sales("GET", path+filter, "")["items"].([]any); len(items) != 1 {
				t.Errorf("GET %s%s: %d items", path, filter, len(items))
			}
		}
		if p := a.do(call{method: "GET", path: "/api/v1/pipelines/default", role: tresor.RoleSales}); p.status != 200 {
			t.Fatalf("pipeline: %d %s", p.status, p.body)
		}
		won := sales("PATCH", "/api/v1/deals/"+deal["id"].(string), `{"stage":"won"}`)
		if won["closed_at"] == nil {
			t.Fatal("a won deal has no closed_at")
		}
		sales("DELETE", "/api/v1/organizations/"+org["id"].(string), "")
		if got := sales("GET", "/api/v1/contacts/"+c["id"].(string), ""); got["organization_id"] != nil {
			t.Fatalf("contact keeps the deleted organization: %v", got)
		}
		me := a.do(call{method: "GET", path: "/api/v1/me", role: tresor.RoleSales}).json(t)
		if me["email"] != "sales@example.org" || me["kind"] != "token" {
			t.Fatalf("me = %v", me)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/openapi.json": 200} {
		if r := a.do(call{method: "GET", path: path}); r.status != want {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	if got := a.do(call{method: "GET", path: "/readyz"}).json(t); got["status"] != "ready" || got["leader"] != false {
		t.Errorf("/readyz: %v, want ready and leader false", got)
	}
	a.do(call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"})
	m := string(a.do(call{method: "GET", path: "/metrics"}).body)
	for _, want := range []string{
		`tresor_http_requests_total{code="200",method="GET",route="GET /api/v1/contacts"} 1`,
		`tresor_http_request_duration_seconds_count{method="GET",route="GET /api/v1/contacts"} 1`,
		`tresor_db_pool_max_connections{pool="writer"} 1`,
		`tresor_db_pool_open_connections{pool="reader"}`,
		"tresor_leader 0", // no periodic jobs run beside this test's server
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestLogsHoldNoPersonalData runs traffic with distinctive personal data, good
// and bad, and scans the whole log for it.
func TestLogsHoldNoPersonalData(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		secrets := []string{"Zyxwvutsrq", "Qwertzuiopü", "zyx.qwertz@geheim.example", "+49 170 9876543", "+491709876543", "Geheimstraße 9"}
		body := `{"given_name":"Zyxwvutsrq","family_name":"Qwertzuiopü","emails":["zyx.qwertz@geheim.example"],"phones":["+49 170 9876543"],"postal_address":{"street":"Geheimstraße 9","city":"Berlin","country":"DE"},"legal_basis":"contract"}`
		r := a.do(call{method: "POST", path: "/api/v1/contacts", body: body, role: tresor.RoleSales, purpose: "sales"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		a.do(call{method: "GET", path: "/api/v1/contacts?email=zyx.qwertz@geheim.example", role: tresor.RoleSales, purpose: "sales"})
		a.do(call{method: "PATCH", path: "/api/v1/contacts/" + id, body: `{"family_name":"Qwertzuiopü","phones":["broken +491709876543"]}`, role: tresor.RoleSales, purpose: "sales"})
		a.do(call{method: "POST", path: "/api/v1/contacts", body: `{"family_name":"Qwertzuiopü","emails":["zyx.qwertz@geheim.example"],`, role: tresor.RoleSales, purpose: "sales"})
		a.do(call{method: "GET", path: "/api/v1/contacts?email=zyx.qwertz@geheim.example", role: tresor.RoleSales, purpose: "marketing"})
		logs := a.logs.String()
		if !strings.Contains(logs, `"route":"POST /api/v1/contacts"`) {
			t.Fatalf("the log does not record requests: %.500s", logs)
		}
		for _, s := range append(secrets, a.tokens[tresor.RoleSales]) {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains %q", s)
			}
		}
	})
}

// stubNet is a social network that accepts everything, for the HTTP tests.
type stubNet struct{}

func (stubNet) Network() string                         { return "mastodon" }
func (stubNet) Kind() tresor.NetworkKind                { return tresor.KindMixed }
func (stubNet) Account(context.Context) (string, error) { return "@acme@social.example", nil }
func (stubNet) Profile(_ context.Context, h string) (*tresor.SocialProfile, error) {
	return &tresor.SocialProfile{Network: "mastodon", Handle: h, DisplayName: "Stub"}, nil
}
func (stubNet) Inbox(_ context.Context, cursor string) ([]tresor.SocialPost, string, error) {
	return nil, cursor, nil
}
func (stubNet) Publish(_ context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	return &tresor.SocialPost{ID: "1", Text: r.Text}, nil
}
func (stubNet) Published(context.Context, tresor.PublishRequest) (*tresor.SocialPost, error) {
	return nil, nil
}
func (stubNet) Send(_ context.Context, to, text string, direct bool, reply string) (*tresor.SocialPost, error) {
	return &tresor.SocialPost{ID: "2", Author: to, Text: text}, nil
}
func (stubNet) Stream(ctx context.Context, _ []string, _ func(tresor.SocialPost)) error {
	<-ctx.Done()
	return ctx.Err()
}
