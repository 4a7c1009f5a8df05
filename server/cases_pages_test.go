package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// TestCaseFormsRefuseWhatThePurposeMayNotDo proves the rules of the inbox's
// new forms on the wire: a case is given only to a user of the purpose; a
// sender is linked only under a purpose that answers people and only to a
// contact it may see; the search for a sender is posted, so no name goes
// into an address; a form without its session token changes nothing.
func TestCaseFormsRefuseWhatThePurposeMayNotDo(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleService)
	a.userWithPassword("pia@example.org", tresor.RoleSales, tresor.RoleService)
	mia, _, err := a.g.CreateUser(sys, "mia@example.org", []tresor.Role{tresor.RoleMarketing})
	must(t, err)
	svc := tresor.WithPurpose(sys, "service")
	ct := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(svc, ct))
	k := &tresor.Case{Channel: tresor.ChannelSocial, Network: "mastodon", CaseContent: tresor.CaseContent{Subject: "Frage", Sender: "@erika@social.example"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateCase(svc, k))
	version := strconv.FormatInt(k.Version, 10)

	session := func(email, purpose string) (*browser, string) {
		b := newBrowser(t, a.url)
		if p := b.signIn(email, webPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %d", email, p.status)
		}
		csrf := b.get("/cases").field(t, "csrf")
		if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {purpose}, "back": {"/cases"}}, nil); p.status != http.StatusSeeOther {
			t.Fatalf("choosing %s: %d", purpose, p.status)
		}
		return b, csrf
	}
	sam, csrf := session("sam@example.org", "service")

	t.Run("a case is not given to someone outside the purpose", func(t *testing.T) {
		p := sam.post("/cases/"+k.ID+"/assign", url.Values{"csrf": {csrf}, "version": {version}, "assignee": {mia.ID}}, nil)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "cannot be given to this user") {
			t.Fatalf("assign to marketing: %d %.1000s", p.status, p.body)
		}
		if got, _ := a.g.Case(svc, k.ID); got.AssigneeID != "" {
			t.Fatalf("assigned to %s", got.AssigneeID)
		}
	})
	t.Run("the list of assignees names the purpose's users and nothing else of them", func(t *testing.T) {
		p := sam.get("/cases/" + k.ID)
		sel := p.between(t, `id="case-assign-to"`, "</select>")
		if !strings.Contains(sel, "pia@example.org") || strings.Contains(sel, "mia@example.org") || strings.Contains(sel, "sales") {
			t.Fatalf("assignees: %s", sel)
		}
	})
	t.Run("the search for the sender is posted and finds the contact", func(t *testing.T) {
		p := sam.post("/cases/"+k.ID+"/find", url.Values{"csrf": {csrf}, "who": {"muster"}}, nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+ct.ID+`"`) {
			t.Fatalf("search: %d %.1500s", p.status, p.body)
		}
		if strings.Contains(sam.get("/cases/"+k.ID).body, `method="get" action="/cases/`+k.ID+`"`) {
			t.Fatal("the search form puts the name into the address")
		}
	})
	t.Run("a form without the session's token links nothing", func(t *testing.T) {
		p := sam.post("/cases/"+k.ID+"/link", url.Values{"version": {version}, "contact": {ct.ID}}, nil)
		if p.status != http.StatusForbidden {
			t.Fatalf("without csrf: %d", p.status)
		}
	})
	t.Run("sales does not link a sender", func(t *testing.T) {
		pia, token := session("pia@example.org", "sales")
		p := pia.post("/cases/"+k.ID+"/link", url.Values{"csrf": {token}, "version": {version}, "contact": {ct.ID}}, nil)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "service") {
			t.Fatalf("link under sales: %d %.1500s", p.status, p.body)
		}
	})
	t.Run("an unknown contact is refused with the reason", func(t *testing.T) {
		p := sam.post("/cases/"+k.ID+"/link", url.Values{"csrf": {csrf}, "version": {version}, "contact": {"01a2379b-0000-7000-8000-000000000000"}}, nil)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="case-link-error"`) {
			t.Fatalf("unknown contact: %d %.1500s", p.status, p.body)
		}
	})
	t.Run("the agent links the sender", func(t *testing.T) {
		p := sam.post("/cases/"+k.ID+"/link", url.Values{"csrf": {csrf}, "version": {version}, "contact": {ct.ID}}, nil)
		if p.status != http.StatusSeeOther {
			t.Fatalf("link: %d %.1500s", p.status, p.body)
		}
		if got, _ := a.g.Case(svc, k.ID); got.ContactID != ct.ID {
			t.Fatalf("case contact %q", got.ContactID)
		}
	})
}
