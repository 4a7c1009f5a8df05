package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/policy"
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

// TestHandEnteredArt9Confirmation proves over HTTP that where the policy
// allows a special category under an Art. 9(2) exception, the refusal says
// which letter to confirm, the workspace forms ask for that confirmation
// and keep what was typed, and the confirmed entry is stored with the
// exception in its provenance (issue [2.4] §4).
func TestHandEnteredArt9Confirmation(t *testing.T) {
	y := strings.Replace(string(policy.DefaultYAML()), `                 professional.employer, interaction.content]
    legal_bases: [contract, legitimate_interest, legal_obligation]
    retention_days: 1095
`, `                 professional.employer, interaction.content, special.health]
    legal_bases: [contract, legitimate_interest, legal_obligation]
    retention_days: 1095
    art9_exception: h
`, 1)
	pol, err := policy.Parse([]byte(y))
	must(t, err)
	if pu, ok := pol.Purpose("service"); !ok || pu.Art9Exception != "h" {
		t.Fatal("the test policy does not give service an exception")
	}
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithPolicy(pol))
	a.userWithPassword("sina@example.org", tresor.RoleService)
	service := tresor.WithPurpose(sys, "service")
	person := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(service, person))
	typed := "Kundin erwähnte ihre Diabetes-Diagnose"

	t.Run("the API refusal names the letter whose confirmation lifts it", func(t *testing.T) {
		r := a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleService, purpose: "service",
			body: `{"kind":"note","contact_id":"` + person.ID + `","subject":"Anruf","body":"` + typed + `","legal_basis":"contract"}`})
		if m := r.json(t); r.status != http.StatusUnprocessableEntity || m["code"] != "special_category" || m["art9_exception"] != "h" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a purpose without an exception is offered no confirmation", func(t *testing.T) {
		r := a.do(call{method: "POST", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales",
			body: `{"kind":"note","contact_id":"` + person.ID + `","subject":"Anruf","body":"` + typed + `","legal_basis":"contract"}`})
		if m := r.json(t); r.status == http.StatusCreated || m["art9_exception"] != nil {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	b := newBrowser(t, a.url)
	if p := b.signIn("sina@example.org", webPassword); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.status)
	}
	csrf := b.get("/contacts").field(t, "csrf")
	if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"service"}, "back": {"/contacts"}}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("choosing service: %d", p.status)
	}
	note := url.Values{"csrf": {csrf}, "kind": {"call"}, "direction": {"outbound"}, "subject": {"Anruf"}, "body": {typed}, "legal_basis": {"contract"}}
	t.Run("the note form asks to confirm the exception and keeps what was typed", func(t *testing.T) {
		p := b.post("/contacts/"+person.ID+"/interactions", note, nil)
		body := html.UnescapeString(p.body)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(body, typed) ||
			!strings.Contains(body, `name="art9_exception" value="h"`) {
			t.Fatalf("%d %.800s", p.status, p.body)
		}
	})
	t.Run("the confirmed note is stored with the exception in its provenance", func(t *testing.T) {
		confirmed := url.Values{}
		for k, v := range note {
			confirmed[k] = v
		}
		confirmed.Set("art9_exception", "h")
		if p := b.post("/contacts/"+person.ID+"/interactions", confirmed, nil); p.status != http.StatusSeeOther {
			t.Fatalf("%d %.800s", p.status, p.body)
		}
		list, err := a.g.Interactions(service, tresor.InteractionFilter{ContactID: person.ID})
		must(t, err)
		if len(list.Items) != 1 || list.Items[0].Body != typed {
			t.Fatalf("stored: %+v", list.Items)
		}
		recs, err := list.Items[0].Provenance.Records()
		must(t, err)
		if len(recs) == 0 || recs[len(recs)-1].Art9Exception != "h" {
			t.Fatalf("provenance: %+v", recs)
		}
	})
	t.Run("a wrong letter is refused again", func(t *testing.T) {
		wrong := url.Values{}
		for k, v := range note {
			wrong[k] = v
		}
		wrong.Set("art9_exception", "a")
		if p := b.post("/contacts/"+person.ID+"/interactions", wrong, nil); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("%d %.400s", p.status, p.body)
		}
	})
	t.Run("the case form asks to confirm the exception too", func(t *testing.T) {
		p := b.post("/contacts/"+person.ID+"/cases", url.Values{"csrf": {csrf}, "subject": {"Rückfrage"}, "description": {typed},
			"priority": {"normal"}, "channel": {"phone"}}, nil)
		if body := html.UnescapeString(p.body); p.status != http.StatusUnprocessableEntity || !strings.Contains(body, `name="art9_exception" value="h"`) {
			t.Fatalf("%d %.800s", p.status, p.body)
		}
	})
}
