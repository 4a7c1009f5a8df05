package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
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

// TestMyDayShowsTheRefusalsIMet: the start page tells each person which
// rule stopped them lately, their own refusals only.
func TestMyDayShowsTheRefusalsIMet(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.userWithPassword("sam@example.org", tresor.RoleSales)
		a.userWithPassword("sid@example.org", tresor.RoleSales)
		sales := tresor.WithPurpose(sys, "sales")
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Rita", FamilyName: "Restricted"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(sales, c))
		_, err := a.g.Restrict(tresor.WithPurpose(sys, "data_protection"), c.ID, true)
		must(t, err)
		sam := newBrowser(t, a.url)
		sam.signIn("sam@example.org", webPassword)
		csrf := sam.get("/").field(t, "csrf")
		sam.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/"}}, nil)
		if p := sam.get("/contacts/" + c.ID); p.status != http.StatusForbidden {
			t.Fatalf("the restricted contact: %d", p.status)
		}
		t.Run("the refusal is on my start page with its rule and code", func(t *testing.T) {
			p := sam.get("/")
			if !strings.Contains(p.body, "contact_restricted") || !strings.Contains(p.body, "Art. 18 GDPR") ||
				!strings.Contains(p.body, `href="/contacts/`+c.ID+`"`) {
				t.Fatalf("start page: %.4000s", p.body)
			}
		})
		t.Run("another person's start page does not show it", func(t *testing.T) {
			sid := newBrowser(t, a.url)
			sid.signIn("sid@example.org", webPassword)
			if p := sid.get("/"); strings.Contains(p.body, "contact_restricted") || !strings.Contains(p.body, "No refusals in the last 14 days.") {
				t.Fatalf("start page of another: %.4000s", p.body)
			}
		})
	})
}
