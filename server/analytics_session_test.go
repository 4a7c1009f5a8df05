package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// TestAnalyticsSessionSeesAggregatesOnly: an analyst may work in the
// workspace under the analytics purpose, which sees aggregates only (R10):
// the listening pages and a topic's trend open, and every page of a person
// is refused with the rule, on every page of the workspace.
func TestAnalyticsSessionSeesAggregatesOnly(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	ids := fillForPages(t, a)
	topic := &tresor.ListeningTopic{Name: "Kaffeemarkt", Keywords: []string{"#kaffee"}, Networks: []string{"mastodon"}, DP: true}
	must(t, a.g.CreateTopic(tresor.WithPurpose(sys, "analytics"), topic))
	a.userWithPassword("ana@example.org", tresor.RoleAnalyst)
	b := signedInAs(t, a, "ana@example.org") // analytics: the one purpose of the role
	// A press officer who is also an analyst passes the role checks of the
	// contact pages; under analytics the gate refuses them.
	a.userWithPassword("pia@example.org", tresor.RolePR, tresor.RoleAnalyst)
	both := signedInAs(t, a, "pia@example.org") // pr, the first purpose
	home := both.get("/")
	if p := both.post("/purpose", url.Values{"csrf": {home.field(t, "csrf")}, "purpose": {"analytics"}, "back": {"/"}}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("choosing analytics: %d: %.500s", p.status, p.body)
	}
	// What fillForPages stored of the person and her records.
	personal := []string{"Erika", "erika@example.de", "Called about the renewal", "Invoice", "Renewal", "12.345,67", "12,345.67"}

	t.Run("the analyst can choose analytics in the workspace", func(t *testing.T) {
		p := b.get("/")
		if !strings.Contains(p.body, `<option value="analytics" selected>`) {
			t.Fatalf("the session does not work for analytics: %.2000s", p.body)
		}
		if !strings.Contains(p.body, `href="/listening"`) {
			t.Error("the navigation has no link to listening for the analyst")
		}
	})

	t.Run("under analytics the listening pages and the trend open", func(t *testing.T) {
		p := b.get("/listening")
		if p.status != http.StatusOK || !strings.Contains(p.body, "Kaffeemarkt") {
			t.Fatalf("/listening: %d: %.500s", p.status, p.body)
		}
		p = b.get("/listening/" + topic.ID)
		if p.status != http.StatusOK || !strings.Contains(p.body, `id="volume"`) {
			t.Fatalf("topic page: %d: %.500s", p.status, p.body)
		}
		// The page's trend read spent 0.5 of the topic's budget of 10.
		if !strings.Contains(p.body, `id="topic-dp"`) || !strings.Contains(p.body, "ε 0.5 of 10") || !strings.Contains(p.body, "19 showings left") {
			t.Errorf("the topic page does not show the spent budget: %.3000s", p.body[strings.Index(p.body, "<main"):])
		}
	})

	t.Run("under analytics a person's pages are refused with the rule", func(t *testing.T) {
		for _, path := range []string{"/contacts", "/contacts/" + ids["contacts"], "/deals", "/cases/" + ids["cases"], "/organizations/" + ids["organizations"]} {
			// The analyst's role opens none of them; where the route lets any
			// role in, the gate refuses the purpose.
			p := b.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "needs one of the roles") && !strings.Contains(p.body, "aggregates_only") {
				t.Errorf("%s as analyst: %d, want 403 with the rule: %.1500s", path, p.status, p.body)
			}
			for _, s := range personal {
				if strings.Contains(p.body, s) {
					t.Errorf("%s shows %q to the analyst", path, s)
				}
			}
		}
		for _, path := range []string{"/contacts", "/contacts/" + ids["contacts"], "/organizations/" + ids["organizations"]} {
			p := both.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "sees only aggregates over groups, never a single person") || !strings.Contains(p.body, "aggregates_only") {
				t.Errorf("%s: %d, want 403 with the aggregates-only rule: %s", path, p.status, p.body[strings.Index(p.body, "<main"):])
			}
			for _, s := range personal {
				if strings.Contains(p.body, s) {
					t.Errorf("%s shows %q under analytics", path, s)
				}
			}
		}
	})

	t.Run("no page of the workspace shows a person under analytics", func(t *testing.T) {
		for _, rt := range a.srv.Routes() {
			if rt.Pattern == "/purpose" {
				continue
			}
			if rt.Method != "GET" || strings.HasPrefix(rt.Pattern, "/api/") || strings.HasPrefix(rt.Pattern, "/static/") ||
				rt.Pattern == "/lang/{lang}" || strings.HasPrefix(rt.Pattern, "/auth/") || strings.HasPrefix(rt.Pattern, "/consent/") {
				continue
			}
			path := strings.TrimSuffix(rt.Pattern, "{$}")
			if strings.Contains(path, "{") {
				id := ids[strings.Split(strings.Trim(path, "/"), "/")[0]]
				if id == "" {
					id = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a99"
				}
				path = path[:strings.Index(path, "{")] + id + path[strings.Index(path, "}")+1:]
			}
			p := both.get(path)
			if p.status >= 500 {
				t.Errorf("%s: %d", path, p.status)
			}
			for _, s := range personal {
				if strings.Contains(p.body, s) {
					t.Errorf("%s shows %q under analytics", path, s)
				}
			}
		}
	})
}
