package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
)

// TestHandEnteredScreening proves over HTTP that text typed by hand which
// reveals a special category (Art. 9 GDPR) is refused with a bilingual
// explanation, through the API and in the workspace forms, which keep what
// was typed (issue [2.4] §4). One t.Run per rule, on both backends.
func TestHandEnteredScreening(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.userWithPassword("sam@example.org", tresor.RoleSales)
		sales := tresor.WithPurpose(sys, "sales")
		person := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster", Emails: []string{"erika@example.org"}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(sales, person))

		t.Run("a health word in an interaction note is refused through the API in both languages", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales",
				body: `{"kind":"note","contact_id":"` + person.ID + `","subject":"Rückruf","body":"Sie ist wegen Krebs in Therapie","legal_basis":"contract"}`})
			m := r.json(t)
			ex, _ := m["explanation"].(map[string]any)
			if r.status != http.StatusUnprocessableEntity || m["code"] != "special_category" || ex == nil ||
				!strings.Contains(ex["en"].(string), "health") || !strings.Contains(ex["de"].(string), "Gesundheit") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("a clean note passes through the API", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales",
				body: `{"kind":"note","contact_id":"` + person.ID + `","subject":"Rückruf","body":"Angebot besprochen","legal_basis":"contract"}`})
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("a health word in a contact's position is refused through the API", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
				body: `{"family_name":"Beispiel","position":"Einkauf, derzeit krankgeschrieben","legal_basis":"contract"}`})
			if m := r.json(t); r.status != http.StatusUnprocessableEntity || m["code"] != "special_category" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("a contact entered through the API with a third-party source gets a notice duty", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
				body: `{"family_name":"Dritt","emails":["dritt@example.org"],"source":"third_party","legal_basis":"contract"}`})
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
			id := r.json(t)["id"].(string)
			n := a.do(call{method: "GET", path: "/api/v1/notices?open=true", role: tresor.RoleDPO, purpose: "data_protection"})
			if n.status != http.StatusOK || !strings.Contains(string(n.body), id) || !strings.Contains(string(n.body), `"third_party"`) {
				t.Fatalf("%d %s", n.status, n.body)
			}
		})

		b := newBrowser(t, a.url)
		if p := b.signIn("sam@example.org", webPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", p.status)
		}
		csrf := b.get("/contacts").field(t, "csrf")
		if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/contacts"}}, nil); p.status != http.StatusSeeOther {
			t.Fatalf("choosing sales: %d", p.status)
		}
		t.Run("the note form shows the refusal and keeps what was typed", func(t *testing.T) {
			typed := "Kundin erwähnte ihre Diabetes-Diagnose"
			p := b.post("/contacts/"+person.ID+"/interactions", url.Values{"csrf": {csrf}, "kind": {"call"}, "direction": {"outbound"},
				"subject": {"Anruf"}, "body": {typed}, "legal_basis": {"contract"}}, nil)
			body := html.UnescapeString(p.body)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(body, "Art. 9") || !strings.Contains(body, typed) {
				t.Fatalf("%d %.600s", p.status, p.body)
			}
		})
		t.Run("the case form shows the refusal and keeps what was typed", func(t *testing.T) {
			typed := "Rückgabe, da Kunde psychisch erkrankt ist"
			p := b.post("/contacts/"+person.ID+"/cases", url.Values{"csrf": {csrf}, "subject": {"Rückgabe"}, "description": {typed},
				"priority": {"normal"}, "channel": {"phone"}}, nil)
			body := html.UnescapeString(p.body)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(body, "Art. 9") || !strings.Contains(body, typed) {
				t.Fatalf("%d %.600s", p.status, p.body)
			}
		})
	})
}
