package server_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/otp"
)

// firstPurpose is the first purpose the header's chooser offers.
var firstPurpose = regexp.MustCompile(`<option value="([a-z_]+)"`)

// signedInAs signs the user in through the gate, with the second factor
// where the role needs one, and returns an HTTP client holding the session
// cookie, after choosing the first purpose the roles allow (if any).
func signedInAs(t *testing.T, a *api, email string) *browser {
	t.Helper()
	ctx := context.Background()
	s, secret, err := a.g.Login(ctx, tresor.LoginAttempt{Email: email, Password: webPassword, Addr: "192.0.2.9:1"})
	must(t, err)
	if s.Stage == tresor.StageEnroll {
		e, err := a.g.StartTOTPEnrollment(ctx, secret)
		must(t, err)
		key, err := otp.DecodeSecret(e.Secret)
		must(t, err)
		_, _, secret, err = a.g.ConfirmTOTPEnrollment(ctx, secret, otp.Code(key, time.Now()))
		must(t, err)
	}
	b := newBrowser(t, a.url)
	u, _ := url.Parse(a.url)
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, []*http.Cookie{{Name: "tresor_session", Value: secret, Path: "/"}})
	b.c.Jar = jar
	start := b.get("/")
	if start.status != http.StatusOK {
		t.Fatalf("%s: start page %d: %.300s", email, start.status, start.body)
	}
	if m := firstPurpose.FindStringSubmatch(start.body); m != nil {
		r := b.post("/purpose", url.Values{"csrf": {start.field(t, "csrf")}, "purpose": {m[1]}, "back": {"/"}}, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("%s: choosing %s: %d", email, m[1], r.status)
		}
	}
	return b
}

// TestEveryPageRendersForEveryRole requests every workspace page (GET, not
// under /api/) as each role, on an empty and on a filled database: a page
// answers with itself or with a refusal page, never with a server error.
func TestEveryPageRendersForEveryRole(t *testing.T) {
	for _, filled := range []bool{false, true} {
		name := "empty"
		if filled {
			name = "filled"
		}
		t.Run(name, func(t *testing.T) {
			a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
			ids := map[string]string{}
			if filled {
				ids = fillForPages(t, a)
			}
			for _, r := range tresor.Roles() {
				email := "page-" + string(r) + "@example.org"
				a.userWithPassword(email, r)
				b := signedInAs(t, a, email)
				for _, rt := range a.srv.Routes() {
					if rt.Method != "GET" || strings.HasPrefix(rt.Pattern, "/api/") || strings.HasPrefix(rt.Pattern, "/static/") ||
						rt.Pattern == "/lang/{lang}" || strings.HasPrefix(rt.Pattern, "/auth/") || strings.HasPrefix(rt.Pattern, "/consent/") ||
						rt.Pattern == "/healthz" || rt.Pattern == "/readyz" || rt.Pattern == "/metrics" {
						continue
					}
					path := strings.TrimSuffix(rt.Pattern, "{$}")
					if strings.Contains(path, "{") {
						area := strings.Split(strings.Trim(path, "/"), "/")[0]
						id := ids[area]
						if id == "" {
							id = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a99" // an object nobody has
						}
						path = path[:strings.Index(path, "{")] + id + path[strings.Index(path, "}")+1:]
					}
					p := b.get(path)
					if p.status >= 500 {
						t.Errorf("%s as %s: %d: %.300s", path, r, p.status, p.body)
					}
					if p.status == http.StatusOK && !strings.Contains(p.body, "</html>") {
						t.Errorf("%s as %s: the page is cut short: %.300s", path, r, p.body)
					}
				}
			}
		})
	}
}

// fillForPages stores one object of each kind the pages show, and returns
// their ids by the area of the pages that show them.
func fillForPages(t *testing.T, a *api) map[string]string {
	sales, svc, mk := tresor.WithPurpose(sys, "sales"), tresor.WithPurpose(sys, "service"), tresor.WithPurpose(sys, "marketing")
	o := &tresor.Organization{Name: "Muster GmbH"}
	must(t, a.g.CreateOrganization(sales, o))
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Muster", Emails: []string{"erika@example.de"},
		Organization: "Muster GmbH", Position: "CTO"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(sales, c))
	must(t, a.g.CreateInteraction(sales, &tresor.Interaction{Kind: tresor.KindNote, ContactID: c.ID,
		InteractionContent: tresor.InteractionContent{Body: "Called about the renewal."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}))
	d := &tresor.Deal{Title: "Renewal", Stage: "lead", Value: "12345.67", Currency: "EUR", ContactID: c.ID, OrganizationID: o.ID}
	must(t, a.g.CreateDeal(sales, d))
	k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: c.ID, CaseContent: tresor.CaseContent{Subject: "Invoice"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateCase(svc, k))
	m := &tresor.Campaign{Name: "News", Channel: tresor.ChannelEmailMsg, Content: tresor.CampaignContent{SubjectDE: "Neu", BodyDE: "Neuigkeiten"}}
	must(t, a.g.CreateCampaign(mk, m))
	ch, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: []byte(`{"token":"t"}`)})
	must(t, err)
	return map[string]string{"contacts": c.ID, "organizations": o.ID, "deals": d.ID, "cases": k.ID, "campaigns": m.ID, "channels": ch.ID}
}
