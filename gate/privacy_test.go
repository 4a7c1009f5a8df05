package gate_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/storetest"
)

// mailbox keeps the mail the gate sends.
type mailbox struct {
	mu   sync.Mutex
	sent []*tresor.Mail
}

func (m *mailbox) Send(ctx context.Context, mail *tresor.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, mail)
	return nil
}

func (m *mailbox) last(t *testing.T) *tresor.Mail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		t.Fatal("no mail was sent")
	}
	return m.sent[len(m.sent)-1]
}

func (m *mailbox) all() []*tresor.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*tresor.Mail(nil), m.sent...)
}

// link returns the token of the first link with the path in a mail.
func link(t *testing.T, text, path string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, path+"?token=")
	if !ok {
		t.Fatalf("no %s link in %q", path, text)
	}
	return strings.Fields(rest)[0]
}

type privacyEnv struct {
	g     *gate.Gate
	clock *clock
	mail  *mailbox
	ctx   map[string]context.Context // by purpose
}

func privacyBackends(t *testing.T, fn func(t *testing.T, e *privacyEnv)) {
	open := func(t *testing.T, cfg datadir.Config) *privacyEnv {
		e := &privacyEnv{clock: newClock(), mail: &mailbox{}, ctx: map[string]context.Context{}}
		cfg.Migrate = true
		e.g = openGate(t, cfg, gate.WithClock(e.clock.now), gate.WithMailer(e.mail), gate.WithPublicURL("https://crm.example.org"))
		for _, r := range []struct {
			role    tresor.Role
			purpose string
		}{{tresor.RoleSales, "sales"}, {tresor.RoleMarketing, "marketing"}, {tresor.RoleService, "service"}, {tresor.RoleDPO, "data_protection"}} {
			e.ctx[r.purpose] = as(t, e.g, string(r.role)+"@example.org", r.purpose, r.role)
		}
		return e
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, datadir.Config{DataDir: t.TempDir()})) })
	t.Run("postgres", func(t *testing.T) { fn(t, open(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()})) })
}

func TestWritesNeedALegalBasisThePurposeAllows(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		c := erika()
		c.LegalBasis = ""
		err := e.g.CreateContact(e.ctx["sales"], c)
		wantCode(t, err, tresor.ECBasisMissing)
		if msg := tresor.AsError(err); !strings.Contains(msg.Message, "contract, legitimate_interest, consent") || msg.MessageDE == "" {
			t.Fatalf("the refusal does not list the allowed bases in both languages: %+v", msg)
		}
		c = erika()
		c.LegalBasis = tresor.BasisContract
		wantCode(t, e.g.CreateContact(e.ctx["marketing"], c), tresor.ECBasisNotAllowed)
		c = erika()
		c.LegalBasis = "gut_feeling"
		err = e.g.CreateContact(e.ctx["sales"], c)
		wantCode(t, err, tresor.ECBasisUnknown)
		if !strings.Contains(tresor.ErrorMessage(err), "consent, contract, legal_obligation, legitimate_interest") {
			t.Fatalf("the refusal does not list the legal bases: %s", tresor.ErrorMessage(err))
		}
		c = erika()
		c.LegalBasis = tresor.BasisLegitimateInterest
		wantCode(t, e.g.CreateContact(e.ctx["sales"], c), tresor.ECBalancingNote)
		c.BalancingNote = "Trade-fair visitor asked for an offer; contact about that offer is expected."
		must(t, e.g.CreateContact(e.ctx["sales"], c))
		got, err := e.g.Contact(e.ctx["sales"], c.ID)
		must(t, err)
		if prov := records(t, got.Provenance); len(prov) != 1 || prov[0].BalancingNote == "" || prov[0].LegalBasis != tresor.BasisLegitimateInterest {
			t.Fatalf("provenance = %+v", prov)
		}
	})
}

func TestProvenanceFollowsEveryField(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		c := erika()
		must(t, e.g.CreateContact(e.ctx["sales"], c))
		if prov := records(t, c.Provenance); len(prov) != 1 || prov[0].Purpose != "sales" || prov[0].Source != tresor.SourceManual ||
			strings.Join(prov[0].Fields, ",") != "given_name,family_name,emails,phones,organization" {
			t.Fatalf("provenance after create = %+v", prov)
		}
		e.clock.advance(time.Hour)
		// Marketing adds the position, with its own legal basis: only that field moves.
		up, err := e.g.UpdateContact(e.ctx["marketing"], c.ID, tresor.Update{Patch: json.RawMessage(`{"position":"CTO","legal_basis":"consent"}`)})
		must(t, err)
		prov := records(t, up.Provenance)
		if len(prov) != 2 || strings.Join(prov[1].Fields, ",") != "position" || prov[1].Purpose != "marketing" ||
			prov[1].LegalBasis != tresor.BasisConsent || !prov[1].CollectedAt.After(prov[0].CollectedAt) {
			t.Fatalf("provenance after update = %+v", prov)
		}
		// A change of nothing personal records no provenance.
		same, err := e.g.UpdateContact(e.ctx["sales"], c.ID, tresor.Update{Patch: json.RawMessage(`{"owner_id":null}`)})
		must(t, err)
		if prov := records(t, same.Provenance); len(prov) != 2 {
			t.Fatalf("provenance after a non-personal change = %+v", prov)
		}
		// A change without a legal basis keeps the basis the field was collected on.
		kept, err := e.g.UpdateContact(e.ctx["sales"], c.ID, tresor.Update{Patch: json.RawMessage(`{"family_name":"Musterfrau"}`)})
		must(t, err)
		if prov := records(t, kept.Provenance); prov[len(prov)-1].LegalBasis != tresor.BasisConsent || prov[len(prov)-1].Fields[0] != "family_name" {
			t.Fatalf("provenance after a change without basis = %+v", prov)
		}
		// Only public data from social networks (R9).
		priv := erika()
		priv.Source, priv.Network, priv.Visibility = tresor.SourceConnector, "linkedin", tresor.VisibilityConnections
		wantCode(t, e.g.CreateContact(e.ctx["sales"], priv), tresor.ECNotPublic)
	})
}

func TestReadsShowOnlyWhatThePurposeMaySee(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		c := erika()
		c.PostalAddress = &tresor.PostalAddress{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
		must(t, e.g.CreateContact(e.ctx["sales"], c))
		got, err := e.g.Contact(e.ctx["marketing"], c.ID)
		must(t, err)
		if got.PostalAddress != nil || len(got.Withheld) != 1 || got.Withheld[0] != tresor.CatContactPostal || got.Emails[0] == "" {
			t.Fatalf("marketing sees %+v, withheld %v", got.ContactDetails, got.Withheld)
		}
		l, err := e.g.Contacts(e.ctx["marketing"], tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].PostalAddress != nil || len(l.Items[0].Withheld) != 1 {
			t.Fatalf("the list shows marketing %+v", l.Items)
		}
		// A change by marketing neither sees nor loses the address.
		_, err = e.g.UpdateContact(e.ctx["marketing"], c.ID, tresor.Update{Patch: json.RawMessage(`{"given_name":"Erika Maria","legal_basis":"consent"}`)})
		must(t, err)
		full, err := e.g.Contact(e.ctx["sales"], c.ID)
		must(t, err)
		if full.PostalAddress == nil || full.PostalAddress.City != "Berlin" || full.GivenName != "Erika Maria" {
			t.Fatalf("after marketing's change: %+v", full.ContactDetails)
		}
		// Writing a category the purpose may not store is refused, with the rule.
		_, err = e.g.UpdateContact(e.ctx["marketing"], c.ID, tresor.Update{Patch: json.RawMessage(`{"postal_address":null,"legal_basis":"consent"}`)})
		wantCode(t, err, tresor.ECCategoryNotAllowed)
		// Interaction content is hidden from marketing.
		in := &tresor.Interaction{Kind: tresor.KindCall, Direction: tresor.DirectionInbound, ContactID: c.ID,
			InteractionContent: tresor.InteractionContent{Body: "Asked about the invoice."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, e.g.CreateInteraction(e.ctx["service"], in))
		gi, err := e.g.Interaction(e.ctx["marketing"], in.ID)
		must(t, err)
		if gi.Body != "" || len(gi.Withheld) != 1 || gi.Withheld[0] != tresor.CatInteraction {
			t.Fatalf("marketing sees the interaction as %+v", gi)
		}
	})
}

func TestRestrictionAndObjection(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		c := erika()
		must(t, e.g.CreateContact(e.ctx["sales"], c))
		// Only the DPO restricts; then only the DPO sees the contact.
		_, err := e.g.Restrict(e.ctx["sales"], c.ID, true)
		wantCode(t, err, tresor.ECRestricted)
		_, err = e.g.Restrict(e.ctx["data_protection"], c.ID, true)
		must(t, err)
		_, err = e.g.Contact(e.ctx["sales"], c.ID)
		wantCode(t, err, tresor.ECRestricted)
		_, err = e.g.UpdateContact(e.ctx["sales"], c.ID, tresor.Update{Patch: json.RawMessage(`{"position":"CEO"}`)})
		wantCode(t, err, tresor.ECRestricted)
		if l, _ := e.g.Contacts(e.ctx["sales"], tresor.ContactFilter{}); len(l.Items) != 0 {
			t.Fatal("a restricted contact is listed for sales")
		}
		if _, err := e.g.Contact(e.ctx["data_protection"], c.ID); err != nil {
			t.Fatalf("the DPO cannot see the restricted contact: %v", err)
		}
		_, err = e.g.LiftRestriction(e.ctx["data_protection"], c.ID, "accuracy verified, ticket 4711")
		must(t, err)

		// The person objects to marketing: gone from marketing, identifiers suppressed.
		_, err = e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
			Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
		must(t, err)
		obj, err := e.g.Object(e.ctx["sales"], c.ID)
		must(t, err)
		if obj.ObjectedAt == nil {
			t.Fatal("no objection recorded")
		}
		_, err = e.g.Contact(e.ctx["marketing"], c.ID)
		wantCode(t, err, tresor.ECSuppressed)
		if l, _ := e.g.Contacts(e.ctx["marketing"], tresor.ContactFilter{}); len(l.Items) != 0 {
			t.Fatal("an objecting person is listed for marketing")
		}
		if _, err := e.g.Contact(e.ctx["sales"], c.ID); err != nil {
			t.Fatalf("sales (the contract) no longer sees the customer: %v", err)
		}
		h, err := e.g.Consents(e.ctx["sales"], c.ID)
		must(t, err)
		if h.States[0].State != tresor.ConsentWithdrawn || h.Events[len(h.Events)-1].Method != tresor.MethodObjection {
			t.Fatalf("the objection did not withdraw the consent: %+v", h)
		}
		// Re-importing the person for marketing is refused; after erasure too.
		again := erika()
		again.LegalBasis = tresor.BasisConsent
		wantCode(t, e.g.CreateContact(e.ctx["marketing"], again), tresor.ECSuppressed)
		must(t, e.g.DeleteContact(e.ctx["sales"], c.ID, 0))
		again = erika()
		again.LegalBasis = tresor.BasisConsent
		again.Emails = []string{"ERIKA.Mustermann@example.de"}
		wantCode(t, e.g.CreateContact(e.ctx["marketing"], again), tresor.ECSuppressed)
		// Sales may still record the person (a contract needs no marketing), who stays hidden from marketing.
		s := erika()
		must(t, e.g.CreateContact(e.ctx["sales"], s))
		_, err = e.g.Contact(e.ctx["marketing"], s.ID)
		wantCode(t, err, tresor.ECSuppressed)
	})
}

func TestConsentLedgerAndReach(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		c := erika()
		must(t, e.g.CreateContact(e.ctx["sales"], c))
		reach := func(purpose, channel string, adv bool) *tresor.ReachDecision {
			t.Helper()
			d, err := e.g.Reach(e.ctx[purpose], c.ID, purpose, tresor.ConsentChannel(channel), adv)
			must(t, err)
			return d
		}
		if d := reach("marketing", "email", false); d.Allowed || d.Reasons[0].Code != "consent_missing" {
			t.Fatalf("marketing e-mail without consent: %+v", d)
		}
		// Bad input is refused with the allowed values.
		_, err := e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "gossip", Channel: "email",
			Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "v1"}})
		wantCode(t, err, tresor.ECPurposeUnknown)
		_, err = e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "pigeon",
			Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "v1"}})
		wantCode(t, err, tresor.ECInvalidParameter)
		for _, bad := range []tresor.ConsentRequest{
			{Purpose: "marketing", Channel: "email", Action: "maybe", Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "v1"}},
			{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant, Method: "telepathy", Proof: tresor.ConsentProof{TextVersion: "v1"}},
			{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant, Method: tresor.MethodPaper},
		} {
			_, err := e.g.RecordConsent(e.ctx["marketing"], c.ID, bad)
			wantCode(t, err, tresor.ECValidation)
		}
		_, err = e.g.RecordConsent(e.ctx["marketing"], "01a223f0-8d8f-7682-899e-39452c1ae6d0", tresor.ConsentRequest{Purpose: "marketing",
			Channel: "email", Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "v1"}})
		wantCode(t, err, tresor.ECNotFound)

		// Double opt-in: pending, a mail with a link, confirmed once.
		st, err := e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
			Action: tresor.ConsentGrant, Method: tresor.MethodDoubleOptIn, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
		must(t, err)
		if st.State != tresor.ConsentPending {
			t.Fatalf("state after requesting = %s", st.State)
		}
		m := e.mail.last(t)
		if m.To != "erika.mustermann@example.de" || !strings.Contains(m.Text, "Bitte bestätigen Sie") {
			t.Fatalf("confirmation mail = %+v", m)
		}
		token := link(t, m.Text, "https://crm.example.org/consent/confirm")
		if d := reach("marketing", "email", false); d.Allowed || d.Reasons[0].Code != "consent_pending" {
			t.Fatalf("while pending: %+v", d)
		}
		_, err = e.g.ConfirmConsent(bg, token+"x", "203.0.113.9:4000")
		wantCode(t, err, tresor.ECLinkInvalid)
		l, err := e.g.ConfirmConsent(bg, token, "203.0.113.9:4000")
		must(t, err)
		if l.State != tresor.ConsentGranted {
			t.Fatalf("after confirming: %+v", l)
		}
		_, err = e.g.ConfirmConsent(bg, token, "203.0.113.9:4000")
		wantCode(t, err, tresor.ECLinkInvalid)
		if d := reach("marketing", "email", false); !d.Allowed {
			t.Fatalf("after consent: %+v", d)
		}
		// The ledger has the proof: method, text hash, the confirming address.
		h, err := e.g.Consents(e.ctx["marketing"], c.ID)
		must(t, err)
		last := h.Events[len(h.Events)-1]
		if len(h.Events) != 2 || last.Method != tresor.MethodDoubleOptIn || last.IP != "203.0.113.9" || len(last.TextHash) != 64 || last.Actor != "link" {
			t.Fatalf("ledger = %+v", h.Events)
		}
		// Consent to e-mail is not consent to Mastodon.
		if d := reach("marketing", "social_dm:mastodon", false); d.Allowed {
			t.Fatal("e-mail consent opened Mastodon")
		}
		// Consent lapses after the configured time without interaction.
		e.clock.advance(731 * 24 * time.Hour)
		if d := reach("marketing", "email", false); d.Allowed || d.Reasons[0].Code != "consent_expired" {
			t.Fatalf("after two years of silence: %+v", d)
		}
		h, err = e.g.Consents(e.ctx["marketing"], c.ID)
		must(t, err)
		if h.States[0].State != tresor.ConsentExpired {
			t.Fatalf("state after two years = %s", h.States[0].State)
		}
		// A service reply needs a conversation the person started, or a contract.
		if d := reach("service", "email", false); !d.Allowed {
			t.Fatalf("service reply under a contract: %+v", d) // erika was stored under contract
		}
		if d := reach("service", "email", true); d.Allowed {
			t.Fatal("a service message with advertising passed without consent")
		}
		// An expired confirmation link does nothing.
		_, err = e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
			Action: tresor.ConsentGrant, Method: tresor.MethodDoubleOptIn, Proof: tresor.ConsentProof{TextVersion: "Newsletter v2"}})
		must(t, err)
		token = link(t, e.mail.last(t).Text, "https://crm.example.org/consent/confirm")
		e.clock.advance(8 * 24 * time.Hour)
		_, err = e.g.ConfirmConsent(bg, token, "")
		wantCode(t, err, tresor.ECLinkInvalid)
		if d := reach("marketing", "email", false); d.Allowed {
			t.Fatal("an expired link granted consent")
		}
	})
}

func TestCampaignAudienceAndSend(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		mk := func(email, lang string) *tresor.Contact {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Kunde", Emails: []string{email}, PreferredLanguage: lang},
				Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
			must(t, e.g.CreateContact(e.ctx["marketing"], c))
			return c
		}
		grant := func(c *tresor.Contact) {
			_, err := e.g.RecordConsent(e.ctx["marketing"], c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
			must(t, err)
		}
		de, en, none, withdrawn := mk("anna@example.org", "de"), mk("bob@example.org", "en"), mk("carl@example.org", ""), mk("dora@example.org", "")
		grant(de)
		grant(en)
		grant(withdrawn)
		_, err := e.g.RecordConsent(e.ctx["marketing"], withdrawn.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
			Action: tresor.ConsentWithdraw, Method: tresor.MethodRequest})
		must(t, err)
		objector := mk("eve@example.org", "")
		grant(objector)
		_, err = e.g.Object(e.ctx["marketing"], objector.ID)
		must(t, err)
		_ = none

		m := &tresor.Campaign{Name: "Spring news", Channel: tresor.ChannelEmailMsg,
			Content: tresor.CampaignContent{SubjectDE: "Neuigkeiten", BodyDE: "Hallo!", SubjectEN: "News", BodyEN: "Hello!"}}
		wantCode(t, e.g.CreateCampaign(e.ctx["service"], m), tresor.ECValidation) // service does not advertise
		must(t, e.g.CreateCampaign(e.ctx["marketing"], m))
		a, err := e.g.Audience(e.ctx["marketing"], m.ID)
		must(t, err)
		if a.Eligible != 2 || a.Excluded["consent_missing"] != 1 || a.Excluded["consent_withdrawn"] != 1 || a.Excluded["objected"] != 1 {
			t.Fatalf("audience = %+v", a)
		}
		for _, r := range a.Reasons {
			if r.MessageDE == "" || r.Message == "" {
				t.Errorf("exclusion %s is not explained", r.Code)
			}
		}
		rep, err := e.g.SendCampaign(e.ctx["marketing"], m.ID)
		must(t, err)
		if rep.Sent != 2 || rep.Failed != 0 {
			t.Fatalf("report = %+v", rep)
		}
		var toEN *tresor.Mail
		for _, mail := range e.mail.sent {
			if mail.To == "bob@example.org" {
				toEN = mail
			}
		}
		if toEN == nil || toEN.Subject != "News" || !strings.Contains(toEN.Text, "Unsubscribe with one click") ||
			!strings.HasPrefix(toEN.Headers["List-Unsubscribe"], "<https://crm.example.org/consent/withdraw?token=") ||
			toEN.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Fatalf("mail to bob = %+v", toEN)
		}
		// One click withdraws, without signing in; a forged link does nothing.
		token := link(t, toEN.Text, "https://crm.example.org/consent/withdraw")
		_, err = e.g.WithdrawConsent(bg, token[:len(token)-2]+"xx", "")
		wantCode(t, err, tresor.ECLinkInvalid)
		l, err := e.g.WithdrawConsent(bg, token, "198.51.100.4:1")
		must(t, err)
		if l.State != tresor.ConsentWithdrawn {
			t.Fatalf("after the click: %+v", l)
		}
		a, err = e.g.Audience(e.ctx["marketing"], m.ID)
		must(t, err)
		if a.Eligible != 1 || a.Excluded["consent_withdrawn"] != 2 {
			t.Fatalf("audience after the withdrawal = %+v", a)
		}
		// Another purpose may not work with marketing's campaign.
		_, err = e.g.Audience(e.ctx["sales"], m.ID)
		wantCode(t, err, tresor.ECForbidden)
	})
}
