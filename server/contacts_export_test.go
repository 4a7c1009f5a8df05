package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
)

// exportContact makes a contact with a postal address, as sales.
func exportContact(t *testing.T, a *api, given, family, email string) *tresor.Contact {
	t.Helper()
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: family, Emails: []string{email},
		PostalAddress: &tresor.PostalAddress{Street: "Exportweg " + family, PostalCode: "10115", City: "Berlin", Country: "DE"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))
	return c
}

// problemCode reads the code of a problem+json answer.
func problemCode(t *testing.T, header http.Header, body []byte) (tresor.Code, map[string]any) {
	t.Helper()
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, body)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	code, _ := p["code"].(string)
	return tresor.Code(code), p
}

func TestContactsExportAPI(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		c := exportContact(t, a, "=HYPERLINK(\"http://evil.example\")", "Export;API", "api.export@example.org")
		t.Run("a bad format is a problem+json before any byte of a file", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts/export?format=xlsx", role: tresor.RoleSales, purpose: "sales"})
			if code, _ := problemCode(t, r.header, r.body); r.status != 400 || code != tresor.ECInvalidParameter {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
		t.Run("the list is a CSV download with a byte order mark, ; on request, and the formula escaped", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts/export?sep=semicolon", role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.HasPrefix(r.header.Get("Content-Disposition"), `attachment; filename="contacts-`) {
				t.Fatalf("%d %v %s", r.status, r.header, r.body)
			}
			body := string(r.body)
			if !strings.HasPrefix(body, "\ufeffid;given_name;family_name;") || !strings.Contains(body, c.ID+`;"'=HYPERLINK(""http://evil.example"")"`) ||
				!strings.Contains(body, `"Export;API"`) || !strings.Contains(body, "Exportweg") {
				t.Fatalf("the file:\n%s", body)
			}
		})
		t.Run("marketing's export has no postal address and says so in a header", func(t *testing.T) {
			r := a.do(call{method: "GET", path: "/api/v1/contacts/export?q=api.export@example.org", role: tresor.RoleMarketing, purpose: "marketing"})
			if r.status == http.StatusServiceUnavailable { // the index is still loading
				must(t, a.g.WaitSearch(sys))
				r = a.do(call{method: "GET", path: "/api/v1/contacts/export?q=api.export@example.org", role: tresor.RoleMarketing, purpose: "marketing"})
			}
			if r.status != 200 || strings.Contains(string(r.body), "Exportweg") || strings.Contains(string(r.body), "street") ||
				!strings.Contains(r.header.Get("Tresor-Withheld"), "contact.postal") || !strings.Contains(string(r.body), c.ID) {
				t.Fatalf("%d %v\n%s", r.status, r.header, r.body)
			}
		})
		t.Run("the export takes the list's sort and consent filter", func(t *testing.T) {
			must(t, a.g.WaitSearch(sys))
			b := exportContact(t, a, "Bea", "Aaberg", "bea.aaberg@example.org")
			_, err := a.g.RecordConsent(tresor.WithPurpose(sys, "marketing"), b.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "newsletter v1"}})
			must(t, err)
			r := a.do(call{method: "GET", path: "/api/v1/contacts/export?consent=marketing:email:granted", role: tresor.RoleSales, purpose: "sales"})
			if body := string(r.body); r.status != 200 || !strings.Contains(body, b.ID) || strings.Contains(body, c.ID) {
				t.Fatalf("consent filter: %d\n%s", r.status, body)
			}
			r = a.do(call{method: "GET", path: "/api/v1/contacts/export?sort=name", role: tresor.RoleSales, purpose: "sales"})
			body := string(r.body)
			if r.status != 200 || !strings.Contains(body, b.ID) || strings.Index(body, b.ID) > strings.Index(body, c.ID) {
				t.Fatalf("sorted by name, Aaberg comes before Export;API: %d\n%s", r.status, body)
			}
			r = a.do(call{method: "GET", path: "/api/v1/contacts/export?sort=shoe", role: tresor.RoleSales, purpose: "sales"})
			if code, _ := problemCode(t, r.header, r.body); r.status != 400 || code != tresor.ECInvalidParameter {
				t.Fatalf("an unknown order: %d %s", r.status, r.body)
			}
		})
		t.Run("a selection is exported as vCard", func(t *testing.T) {
			r := a.do(call{method: "POST", path: "/api/v1/contacts/export", body: `{"ids":["` + c.ID + `"],"format":"vcard"}`,
				role: tresor.RoleSales, purpose: "sales"})
			if r.status != 200 || r.header.Get("Content-Type") != "text/vcard; charset=utf-8" ||
				!strings.HasSuffix(r.header.Get("Content-Disposition"), `.vcf"`) ||
				!strings.Contains(string(r.body), `N:Export\;API;=HYPERLINK("http://evil.example");;;`) {
				t.Fatalf("%d %v\n%s", r.status, r.header, r.body)
			}
		})
		t.Run("above the cap the answer is export_too_large in both languages, and no file", func(t *testing.T) {
			ids := make([]string, tresor.MaxExport+1)
			for i := range ids {
				ids[i] = fmt.Sprintf("0190f5a4-7c3e-7a51-9b0e-%012d", i)
			}
			body, _ := json.Marshal(map[string]any{"ids": ids})
			r := a.do(call{method: "POST", path: "/api/v1/contacts/export", body: string(body), role: tresor.RoleSales, purpose: "sales"})
			code, p := problemCode(t, r.header, r.body)
			if r.status != 422 || code != tresor.ECExportTooLarge || r.header.Get("Content-Disposition") != "" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if ex, _ := p["explanation"].(map[string]any); ex == nil || ex["de"] == "" || ex["en"] == "" {
				t.Errorf("the refusal lacks its explanation in both languages: %s", r.body)
			}
		})
	})
}

func TestContactsExportPage(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		a.userWithPassword("exporter@example.org", tresor.RoleSales)
		one := exportContact(t, a, "Erste", "Auswahl", "erste.auswahl@example.org")
		two := exportContact(t, a, "Zweite", "Auswahl", "zweite.auswahl@example.org")
		b := newBrowser(t, a.url)
		if p := b.signIn("exporter@example.org", webPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", p.status)
		}
		csrf := b.get("/contacts").field(t, "csrf")
		if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/contacts"}}, nil); p.status != http.StatusSeeOther {
			t.Fatalf("choosing sales: %d", p.status)
		}
		t.Run("without the session's form token nothing is exported", func(t *testing.T) {
			p := b.post("/contacts/export", url.Values{"id": {one.ID}, "format": {"csv"}}, nil)
			if p.status != http.StatusForbidden || strings.Contains(p.body, one.ID) || strings.Contains(p.header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%d %s %.300s", p.status, p.header.Get("Content-Type"), p.body)
			}
		})
		t.Run("the checked contacts are the download", func(t *testing.T) {
			p := b.post("/contacts/export", url.Values{"csrf": {csrf}, "id": {one.ID}, "format": {"csv"}, "sep": {"semicolon"}}, nil)
			if p.status != 200 || p.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.HasPrefix(p.header.Get("Content-Disposition"), "attachment;") {
				t.Fatalf("%d %v %.300s", p.status, p.header, p.body)
			}
			if !strings.HasPrefix(p.body, "\ufeffid;") || !strings.Contains(p.body, one.ID) || strings.Contains(p.body, two.ID) {
				t.Fatalf("the file is not the selection:\n%s", p.body)
			}
		})
		t.Run("without a selection the list of the form's filters is the download", func(t *testing.T) {
			must(t, a.g.WaitSearch(sys))
			p := b.post("/contacts/export", url.Values{"csrf": {csrf}, "q": {"zweite auswahl"}, "format": {"vcard"}}, nil)
			if p.status != 200 || p.header.Get("Content-Type") != "text/vcard; charset=utf-8" ||
				!strings.Contains(p.body, "FN:Zweite Auswahl") || strings.Contains(p.body, one.ID) {
				t.Fatalf("%d %v\n%s", p.status, p.header, p.body)
			}
		})
		t.Run("a refusal shows on the contacts page in the person's language with its code", func(t *testing.T) {
			b.get("/lang/de")
			p := b.post("/contacts/export", url.Values{"csrf": {csrf}, "id": {one.ID}, "format": {"xlsx"}}, nil)
			if p.status != http.StatusBadRequest || !strings.Contains(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.body, `id="contacts-refused"`) || !strings.Contains(p.body, "invalid_parameter") ||
				!strings.Contains(p.body, "Das Format &#34;xlsx&#34; ist unbekannt") {
				t.Fatalf("%d %s %s", p.status, p.header.Get("Content-Type"), p.body)
			}
		})
	})
}
