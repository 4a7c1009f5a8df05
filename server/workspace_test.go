package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"tresor"
	"tresor/datadir"
)

var formIDField = regexp.MustCompile(`name="form_id" value="([^"]+)"`)

// TestADoubleSubmitCreatesOneObject: the same form sent twice in a session
// (a double click, a reload of the answer) creates one campaign, and both
// answers lead to it.
func TestADoubleSubmitCreatesOneObject(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	b := newBrowser(t, a.url)
	b.signIn("mia@example.org", webPassword)
	start := b.get("/")
	b.post("/purpose", url.Values{"csrf": {start.field(t, "csrf")}, "purpose": {"marketing"}, "back": {"/"}}, nil)
	form := b.get("/campaigns")
	m := formIDField.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatal("the campaign form carries no form id")
	}
	values := url.Values{"csrf": {form.field(t, "csrf")}, "form_id": {m[1]}, "name": {"December news"},
		"subject_de": {"Neuigkeiten"}, "body_de": {"Was es Neues gibt."}}
	first := b.post("/campaigns", values, nil)
	second := b.post("/campaigns", values, nil)
	if first.status != http.StatusSeeOther || second.status != http.StatusSeeOther ||
		first.header.Get("Location") != second.header.Get("Location") {
		t.Fatalf("answers %d %s and %d %s", first.status, first.header.Get("Location"), second.status, second.header.Get("Location"))
	}
	l, err := a.g.Campaigns(tresor.WithPurpose(sys, "marketing"), tresor.CampaignFilter{Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("%d campaigns after a double submit", len(l.Items))
	}
	// A new form (a new id) creates another.
	values.Set("form_id", formIDField.FindStringSubmatch(b.get("/campaigns").body)[1])
	b.post("/campaigns", values, nil)
	l, err = a.g.Campaigns(tresor.WithPurpose(sys, "marketing"), tresor.CampaignFilter{Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(l.Items) != 2 {
		t.Fatalf("%d campaigns after a second form", len(l.Items))
	}
}
