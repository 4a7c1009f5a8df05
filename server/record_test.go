package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/policy"
	"tresor/server"
)

// recordController is the controller file of the record tests.
const recordController = `
controller: {name: Beispiel GmbH, address: "Musterstraße 1, 10115 Berlin", email: datenschutz@example.org}
dpo: {name: Dr. Erika Beispiel, email: dsb@example.org}
recipients: [{de: Hosting-Dienstleister, en: Hosting provider}]
transfers: [{connector: bluesky, endpoint: bsky.social, country: US, safeguard: scc}]
`

// recordSource is the record as serve builds it, on the default policy.
func recordSource(t testing.TB) server.RecordSource {
	p := policy.Default()
	ctl, err := policy.ParseController([]byte(recordController), p)
	if err != nil {
		t.Fatal(err)
	}
	s := policy.Settings{KEK: policy.KEKFile, RetentionRun: 24 * time.Hour, AuditKeep: 87600 * time.Hour, AuditClient: "truncated",
		Checkpoints: time.Minute, InUse: []policy.Connector{{Kind: "bluesky", Endpoint: "company.bsky.social"}}}
	return func(ctx context.Context, lang string) (*tresor.ProcessingRecord, error) {
		return p.Record(ctl, s, lang), nil
	}
}

// withRecord serves a's gate again, with the record src (nil: none).
func withRecord(t *testing.T, a *api, src server.RecordSource) *api {
	g := a.g
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g, Mail: g}, server.Options{Purposes: g.PurposesOf, Catalogue: g.Catalogue(), Record: src})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	b := *a
	b.url, b.srv = hs.URL, s
	return &b
}

func TestRecordOfProcessingOverHTTP(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	plain := withRecord(t, a, nil)
	get := func(role tresor.Role, path string, header map[string]string) reply {
		return a.do(call{method: "GET", path: path, role: role, header: header})
	}

	t.Run("the DPO and administrators read the record as JSON", func(t *testing.T) {
		for _, role := range []tresor.Role{tresor.RoleDPO, tresor.RoleAdmin} {
			r := get(role, "/api/v1/record-of-processing?lang=en", nil)
			var rec tresor.ProcessingRecord
			if r.status != 200 || json.Unmarshal(r.body, &rec) != nil || rec.Controller.Name != "Beispiel GmbH" || rec.Lang != "en" {
				t.Fatalf("%s: %d %.300s", role, r.status, r.body)
			}
		}
	})
	t.Run("other roles are refused", func(t *testing.T) {
		for _, role := range []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleAuditor} {
			if r := get(role, "/api/v1/record-of-processing", nil); r.status != 403 {
				t.Fatalf("%s: %d %s", role, r.status, r.body)
			}
		}
		if r := get("", "/api/v1/record-of-processing", nil); r.status != 401 {
			t.Fatalf("anonymous: %d", r.status)
		}
	})
	t.Run("a third-country connector appears as a transfer of the purposes that contact people", func(t *testing.T) {
		r := get(tresor.RoleDPO, "/api/v1/record-of-processing?lang=de", nil)
		var rec tresor.ProcessingRecord
		if err := json.Unmarshal(r.body, &rec); err != nil {
			t.Fatal(err)
		}
		for _, act := range rec.Activities {
			want := act.Purpose != "analytics"
			if got := len(act.Transfers) == 1 && act.Transfers[0].Endpoint == "company.bsky.social" && act.Transfers[0].Country == "US"; got != want {
				t.Errorf("%s: transfers %+v", act.Purpose, act.Transfers)
			}
		}
	})
	t.Run("html with ?format=html or Accept: text/html, under a CSP without scripts", func(t *testing.T) {
		for _, r := range []reply{
			get(tresor.RoleDPO, "/api/v1/record-of-processing?format=html&lang=en", nil),
			get(tresor.RoleDPO, "/api/v1/record-of-processing?lang=en", map[string]string{"Accept": "text/html,application/xhtml+xml"}),
		} {
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(r.body), "Record of processing activities") || strings.Contains(r.header.Get("Content-Security-Policy"), "script-src") {
				t.Fatalf("%d %s %s %.200s", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Security-Policy"), r.body)
			}
		}
		if r := get(tresor.RoleDPO, "/api/v1/record-of-processing?format=pdf", nil); r.status != 422 && r.status != 400 {
			t.Fatalf("format=pdf: %d %s", r.status, r.body)
		}
	})
	t.Run("without a controller file the record is unavailable, with the reason", func(t *testing.T) {
		r := plain.do(call{method: "GET", path: "/api/v1/record-of-processing", role: tresor.RoleDPO})
		if r.status != 503 || !strings.Contains(string(r.body), "--controller FILE") || !strings.Contains(string(r.body), `"code":"unavailable"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

func TestRecordPageWithoutAControllerFileSaysHowToConfigureOne(t *testing.T) {
	a := withRecord(t, newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}), nil)
	a.userWithPassword("dpo-page@example.org", tresor.RoleDPO)
	a.userWithPassword("sales-page@example.org", tresor.RoleSales)
	t.Run("the DPO is told how to configure the controller file", func(t *testing.T) {
		p := signedInAs(t, a, "dpo-page@example.org").get("/dpo/record")
		if p.status != 200 || !strings.Contains(p.body, `id="record-missing"`) || !strings.Contains(p.body, "--controller") {
			t.Fatalf("%d %.400s", p.status, p.body)
		}
	})
	t.Run("a sales user is refused the page", func(t *testing.T) {
		p := signedInAs(t, a, "sales-page@example.org").get("/dpo/record")
		if p.status != 403 {
			t.Fatalf("%d", p.status)
		}
	})
}
