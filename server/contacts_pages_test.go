package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tresor"
)

// TestContactPagesGuardThemselves proves what the contacts pages do with
// the people and the input they must refuse or explain, on both backends.
func TestContactPagesGuardThemselves(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.userWithPassword("sam@example.org", tresor.RoleSales)
		a.userWithPassword("ana@example.org", tresor.RoleAnalyst)
		a.userWithPassword("sid@example.org", tresor.RoleService)
		sales := tresor.WithPurpose(sys, "sales")
		hostile := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: `<script>alert(1)</script>`, FamilyName: `"><img src=x>`,
			Emails: []string{"h@example.org"}, Position: "CTO"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(sales, hostile))
		for i := range 30 {
			must(t, a.g.CreateContact(sales, &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: fmt.Sprintf("Person%02d", i)},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}))
		}
		b := newBrowser(t, a.url)
		if p := b.signIn("sam@example.org", webPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", p.status)
		}

		t.Run("without a purpose the contact page explains the choice instead of failing", func(t *testing.T) {
			p := b.get("/contacts/" + hostile.ID)
			if p.status != http.StatusOK || !strings.Contains(p.body, `id="contacts-no-purpose"`) {
				t.Fatalf("%d %.400s", p.status, p.body)
			}
		})
		csrf := b.get("/contacts").field(t, "csrf")
		if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/contacts"}}, nil); p.status != http.StatusSeeOther {
			t.Fatalf("choosing sales: %d", p.status)
		}

		t.Run("a hostile name is shown as text, never as markup", func(t *testing.T) {
			for _, path := range []string{"/contacts", "/contacts/" + hostile.ID} {
				p := b.get(path)
				if p.status != http.StatusOK || strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x>") ||
					!strings.Contains(p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
					t.Errorf("%s: %d %.300s", path, p.status, p.body)
				}
			}
		})
		t.Run("the next-page link continues the list after the last contact shown", func(t *testing.T) {
			seen := map[string]bool{}
			next := "/contacts"
			link := regexp.MustCompile(`href="(/contacts\?cursor=[^"]+)" rel="next"`)
			row := regexp.MustCompile(`<a href="/contacts/([0-9a-f-]{36})">`)
			for pages := 0; next != ""; pages++ {
				if pages > 3 {
					t.Fatal("the list does not end")
				}
				p := b.get(next)
				if p.status != http.StatusOK {
					t.Fatalf("%s: %d", next, p.status)
				}
				for _, m := range row.FindAllStringSubmatch(p.body, -1) {
					if seen[m[1]] {
						t.Errorf("contact %s shown twice", m[1])
					}
					seen[m[1]] = true
				}
				next = ""
				if m := link.FindStringSubmatch(p.body); m != nil {
					next = strings.ReplaceAll(m[1], "&amp;", "&")
				}
			}
			if len(seen) != 31 {
				t.Fatalf("the pages showed %d contacts, want 31", len(seen))
			}
		})
		t.Run("an id that names no contact is a not-found page", func(t *testing.T) {
			for _, id := range []string{"01a23716-7053-79fc-9e4f-a6f5ec0d29bb", "..%2Fadmin", "x'--"} {
				if p := b.get("/contacts/" + id); p.status < 400 || p.status >= 500 {
					t.Errorf("%s: %d", id, p.status)
				}
			}
		})
		t.Run("logging without the session's form token is refused and stores nothing", func(t *testing.T) {
			p := b.post("/contacts/"+hostile.ID+"/interactions", url.Values{"kind": {"call"}, "direction": {"outbound"},
				"subject": {"x"}, "legal_basis": {"contract"}}, nil)
			if p.status != http.StatusForbidden {
				t.Fatalf("%d", p.status)
			}
			l, err := a.g.Interactions(sales, tresor.InteractionFilter{ContactID: hostile.ID, Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(l.Items) != 0 {
				t.Fatalf("stored %+v", l.Items)
			}
		})
		t.Run("a kind the form does not offer is refused next to its field", func(t *testing.T) {
			p := b.post("/contacts/"+hostile.ID+"/interactions", url.Values{"csrf": {csrf}, "kind": {"social_message"},
				"direction": {"outbound"}, "subject": {"typed"}, "legal_basis": {"contract"}}, nil)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="log-kind-error"`) || !strings.Contains(p.body, `value="typed"`) {
				t.Fatalf("%d %.300s", p.status, p.body)
			}
			// The header's switches lead back to the contact page, not to the form's address.
			if back := p.between(t, `name="back" value="`, `"`); back != "/contacts/"+hostile.ID {
				t.Errorf("the purpose switch goes back to %q", back)
			}
		})
		t.Run("a consent without its proof is refused next to the field, keeping what was chosen", func(t *testing.T) {
			p := b.post("/contacts/"+hostile.ID+"/consents", url.Values{"csrf": {csrf}, "consent_purpose": {"marketing"},
				"channel": {"phone"}, "action": {"grant"}, "method": {"paper"}, "proof": {" "}}, nil)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="consent-proof-error"`) ||
				!strings.Contains(p.body, `<option value="phone" selected>`) {
				t.Fatalf("%d %.300s", p.status, p.body)
			}
		})
		t.Run("a consent recorded with its proof changes the reach answer", func(t *testing.T) {
			p := b.post("/contacts/"+hostile.ID+"/consents", url.Values{"csrf": {csrf}, "consent_purpose": {"marketing"},
				"channel": {"email"}, "action": {"grant"}, "method": {"paper"}, "proof": {"Newsletter form v3"}}, nil)
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/contacts/"+hostile.ID+"?done=consent") {
				t.Fatalf("%d %s %.300s", p.status, p.header.Get("Location"), p.body)
			}
			d, err := a.g.Reach(sales, hostile.ID, "marketing", tresor.ChannelEmailMsg, false)
			must(t, err)
			if !d.Allowed {
				t.Fatalf("reach after the consent: %+v", d)
			}
			page := b.get(p.header.Get("Location"))
			if !strings.Contains(page.body, "Recorded in the consent ledger.") || !strings.Contains(page.body, "Granted: Marketing · E-mail") {
				t.Fatalf("the page after recording: %.3000s", page.body)
			}
		})
		t.Run("a column the purpose may not see is marked withheld in the list", func(t *testing.T) {
			sb := newBrowser(t, a.url)
			sb.signIn("sid@example.org", webPassword)
			token := sb.get("/contacts").field(t, "csrf")
			sb.post("/purpose", url.Values{"csrf": {token}, "purpose": {"service"}, "back": {"/contacts"}}, nil)
			p := sb.get("/contacts?email=h@example.org")
			if p.status != http.StatusOK || !strings.Contains(p.body, `<span class="withheld">withheld</span>`) || strings.Contains(p.body, "CTO") {
				t.Fatalf("%d %.2000s", p.status, p.body)
			}
		})
		t.Run("an analyst without a contact role is refused with the reason", func(t *testing.T) {
			ab := newBrowser(t, a.url)
			ab.signIn("ana@example.org", webPassword)
			if p := ab.get("/contacts"); p.status != http.StatusForbidden || !strings.Contains(p.body, "roles") {
				t.Fatalf("%d %.300s", p.status, p.body)
			}
		})
	})
}
