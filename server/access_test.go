package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/server"
)

// everyone is each role alone, and "" for no credentials at all.
var everyone = append([]tresor.Role{""}, tresor.Roles()...)

// purposeOf is the purpose a role's user declares in the matrix.
func purposeOf(r tresor.Role) string {
	switch r {
	case tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR:
		return string(r)
	case tresor.RoleAnalyst:
		return "analytics"
	case tresor.RoleDPO:
		return "data_protection"
	}
	return "sales" // roles without a purpose try the most common one
}

// matrixCase makes a valid request of one route for one role: objects it
// reads, changes or deletes exist, bodies are valid.
type matrixCase struct {
	allowed []tresor.Role
	make    func(a *api, r tresor.Role) call
}

// basisOf is a legal basis the role's purpose allows.
func basisOf(r tresor.Role) string {
	switch r {
	case tresor.RoleMarketing, tresor.RolePR:
		return "consent"
	case tresor.RoleDPO:
		return "legal_obligation"
	}
	return "contract"
}

var (
	purposeRoles = []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}
	// contentRoles' purposes may store what was said (interaction.content).
	contentRoles = []tresor.Role{tresor.RoleSales, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}
	// advertisers' purposes run campaigns.
	advertisers   = []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RolePR}
	marketingOnly = []tresor.Role{tresor.RoleMarketing}
	// replyRoles' purposes answer people: service, and the dpo's data protection.
	replyRoles = []tresor.Role{tresor.RoleService, tresor.RoleDPO}
	dpoOnly    = []tresor.Role{tresor.RoleDPO}
	signedIn   = tresor.Roles()
	adminOnly  = []tresor.Role{tresor.RoleAdmin}
	// grantDeciders are the second persons of the four-eyes rule.
	grantDeciders = []tresor.Role{tresor.RoleAdmin, tresor.RoleDPO}
	counters      = []tresor.Role{tresor.RoleAdmin, tresor.RoleDPO, tresor.RoleAnalyst}
	nobody        = []tresor.Role{}
	listeners     = []tresor.Role{tresor.RolePR, tresor.RoleAnalyst}
	all           = everyone
)

// fixture creates an object of a collection through the gate, as the system.
func (a *api) fixture(collection string) string {
	ctx := tresor.WithPurpose(sys, "sales")
	switch collection {
	case "contacts":
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Fixture", Emails: []string{fmt.Sprintf("f%d@example.org", nextSeq())}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(a.t, a.g.CreateContact(ctx, c))
		return c.ID
	case "organizations":
		o := &tresor.Organization{Name: "Fixture GmbH"}
		must(a.t, a.g.CreateOrganization(ctx, o))
		return o.ID
	case "interactions":
		in := &tresor.Interaction{Kind: tresor.KindNote, ContactID: a.fixture("contacts")}
		must(a.t, a.g.CreateInteraction(ctx, in))
		return in.ID
	case "deals":
		d := &tresor.Deal{Title: "Fixture", Stage: "lead"}
		must(a.t, a.g.CreateDeal(ctx, d))
		return d.ID
	case "cases":
		k := &tresor.Case{Channel: tresor.ChannelEmail, CaseContent: tresor.CaseContent{Subject: "Fixture"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(a.t, a.g.CreateCase(ctx, k))
		return k.ID
	case "campaigns":
		m := &tresor.Campaign{Name: "Fixture", Channel: tresor.ChannelEmailMsg,
			Content: tresor.CampaignContent{SubjectDE: "Neu", BodyDE: "Neuigkeiten"}}
		must(a.t, a.g.CreateCampaign(tresor.WithPurpose(sys, "marketing"), m))
		return m.ID
	case "segments":
		m := &tresor.SavedSegment{Name: "Fixture", Rules: tresor.SegmentRules{Tag: "Fixture"}}
		must(a.t, a.g.CreateSegment(ctx, m))
		return m.ID
	case "breaches":
		b := &tresor.Breach{Title: "Fixture", AwareAt: time.Now(), Risk: tresor.BreachRiskSome,
			BreachContent: tresor.BreachContent{Description: "Fixture"}}
		must(a.t, a.g.CreateBreach(tresor.WithPurpose(sys, "data_protection"), b))
		return b.ID
	case "topics-analytics", "topics-pr":
		top := &tresor.ListeningTopic{Name: "Fixture", Keywords: []string{"#fixture"}, Networks: []string{"mastodon"}}
		must(a.t, a.g.CreateTopic(tresor.WithPurpose(sys, strings.TrimPrefix(collection, "topics-")), top))
		return top.ID
	case "erasures":
		id := a.fixture("contacts")
		_, err := a.g.EraseContact(tresor.WithPurpose(sys, "data_protection"), id, tresor.EraseRequest{Reason: "ticket 1"})
		must(a.t, err)
		return id
	case "channels":
		ch, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Fixture", Credentials: []byte(`{"token":"t"}`)})
		must(a.t, err)
		return ch.ID
	case "mail-cases":
		k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: a.fixture("contacts"), CaseContent: tresor.CaseContent{Subject: "Fixture"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(a.t, a.g.CreateCase(ctx, k))
		return k.ID
	case "social-contacts":
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Social",
			SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: fmt.Sprintf("@s%d@social.example", nextSeq())}}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(a.t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))
		return c.ID
	case "notices":
		rep, err := a.g.Import(tresor.WithPurpose(sys, "sales"), strings.NewReader(fmt.Sprintf(
			"BEGIN:VCARD\nVERSION:3.0\nN:Notice;Nina;;;\nEMAIL:nina%d@example.org\nEND:VCARD\n", nextSeq())),
			tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisContract})
		must(a.t, err)
		l, err := a.g.Notices(tresor.WithPurpose(sys, "data_protection"), tresor.NoticeQuery{Open: true, Page: tresor.Page{Limit: 100}})
		must(a.t, err)
		for _, n := range l.Items {
			if n.ImportID == rep.ID {
				return n.ID
			}
		}
		a.t.Fatal("the fixture import made no notice")
		return ""
	case "holds":
		h, err := a.g.PlaceHold(tresor.WithPurpose(sys, "data_protection"), a.fixture("contacts"), "claim 1")
		must(a.t, err)
		return h.ID
	case "pipelines":
		id := fmt.Sprintf("p%d", len(a.tokens)*1000+nextSeq())
		pl := &tresor.Pipeline{Meta: tresor.Meta{ID: id}, Name: "Fixture", Stages: []tresor.Stage{{ID: "a", Name: "A", Outcome: tresor.OutcomeOpen}}}
		must(a.t, a.g.CreatePipeline(sys, pl))
		return id
	}
	panic(collection)
}

var seq int

func nextSeq() int { seq++; return seq }

var createBodies = map[string]string{
	"contacts":      `{"family_name":"Matrix","legal_basis":"%s"}`,
	"organizations": `{"name":"Matrix AG"}`,
	"interactions":  `{"kind":"note","body":"x","organization_id":"%s","legal_basis":"%s"}`,
	"deals":         `{"title":"Matrix","stage":"lead"}`,
	"cases":         `{"channel":"web","subject":"Matrix","legal_basis":"%s"}`,
	"pipelines":     `{"id":"m%d","name":"M","stages":[{"id":"a","name":"A","outcome":"open"}]}`,
	"campaigns":     `{"name":"Matrix","channel":"email","content":{"subject_de":"Neu","body_de":"Text"}}`,
	"segments":      `{"name":"Matrix","rules":{"tag":"Messe"}}`,
}

var patchBodies = map[string]string{
	"contacts": `{"given_name":"Ina"}`, "organizations": `{"industry":"Software"}`, "interactions": `{"subject":"Re"}`,
	"deals": `{"title":"Renamed"}`, "cases": `{"priority":"high"}`, "pipelines": `{"name":"Renamed"}`,
	"campaigns": `{"name":"Renamed"}`, "segments": `{"name":"Renamed"}`,
}

func matrix() map[string]matrixCase {
	m := map[string]matrixCase{
		"GET /healthz":             {all, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/healthz", role: r} }},
		"GET /readyz":              {all, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/readyz", role: r} }},
		"GET /metrics":             {all, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/metrics", role: r} }},
		"GET /api/v1/openapi.json": {all, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/openapi.json", role: r} }},
		"GET /api/v1/me":           {signedIn, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/me", role: r} }},
		"GET /api/v1/purposes":     {signedIn, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/purposes", role: r} }},
		"POST /api/v1/contacts/{id}/consents": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/consents", role: r, purpose: purposeOf(r),
				body: `{"purpose":"marketing","channel":"email","action":"grant","method":"paper","proof":{"text_version":"Newsletter v1"}}`}
		}},
		"GET /api/v1/contacts/{id}/consents": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/contacts/" + a.fixture("contacts") + "/consents", role: r, purpose: purposeOf(r)}
		}},
		// The export of contacts reads like the list: every purpose that sees people.
		"GET /api/v1/contacts/export": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/contacts/export", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/contacts/export": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/export", role: r, purpose: purposeOf(r), body: `{"ids":["` + a.fixture("contacts") + `"]}`}
		}},
		// Duplicates and their merge: every purpose that sees people, within what it may see.
		"GET /api/v1/contacts/duplicates": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/contacts/duplicates", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/contacts/{id}/merge": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/merge", role: r, purpose: purposeOf(r),
				body: `{"from":"` + a.fixture("contacts") + `"}`}
		}},
		// The outbound gate answers for the purpose in its query; the caller's roles must allow it.
		"GET /api/v1/contacts/{id}/reach": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/contacts/" + a.fixture("contacts") + "/reach?purpose=" + purposeOf(r) + "&channel=email", role: r}
		}},
		"POST /api/v1/contacts/{id}/objection": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/objection", role: r, purpose: purposeOf(r)}
		}},
		// Only the data-protection officer restricts processing (Art. 18).
		"POST /api/v1/contacts/{id}/restriction": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/restriction", role: r, purpose: purposeOf(r),
				body: `{"restricted":true}`}
		}},
		// Erasure requests, legal holds and retention runs are data-protection duties.
		"POST /api/v1/contacts/{id}/erasure": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/erasure", role: r, purpose: purposeOf(r),
				body: `{"reason":"request 2026-17"}`}
		}},
		"GET /api/v1/erasures/{id}": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/erasures/" + a.fixture("erasures"), role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/contacts/{id}/holds": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/holds", role: r, purpose: purposeOf(r),
				body: `{"reason":"claim 4711"}`}
		}},
		"GET /api/v1/contacts/{id}/holds": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/contacts/" + a.fixture("contacts") + "/holds", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/holds/{id}/release": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/holds/" + a.fixture("holds") + "/release", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/retention/runs": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/retention/runs", role: r, purpose: purposeOf(r), body: `{"dry_run":true}`}
		}},
		// Social listening (R10): the purposes that listen, analytics and pr.
		"POST /api/v1/listening/topics": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/listening/topics", role: r, purpose: purposeOf(r), body: `{"name":"Acme","keywords":["#acme"],"networks":["mastodon"]}`}
		}},
		"GET /api/v1/listening/topics": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/listening/topics", role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/listening/topics/{id}": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/listening/topics/" + a.topicFixture(r), role: r, purpose: purposeOf(r)}
		}},
		"PATCH /api/v1/listening/topics/{id}": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "PATCH", path: "/api/v1/listening/topics/" + a.topicFixture(r), role: r, purpose: purposeOf(r), body: `{"name":"Acme 2"}`}
		}},
		"DELETE /api/v1/listening/topics/{id}": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "DELETE", path: "/api/v1/listening/topics/" + a.topicFixture(r), role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/listening/topics/{id}/trend": {listeners, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/listening/topics/" + a.topicFixture(r) + "/trend?bucket=day", role: r, purpose: purposeOf(r)}
		}},
		// The breach register (Art. 33/34): the data-protection officer's alone.
		"POST /api/v1/breaches": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/breaches", role: r, purpose: purposeOf(r),
				body: `{"title":"Laptop","description":"lost on a train","aware_at":"2026-03-14T09:00:00Z","risk":"risk"}`}
		}},
		"GET /api/v1/record-of-processing": {[]tresor.Role{tresor.RoleDPO, tresor.RoleAdmin}, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/record-of-processing", role: r}
		}},
		"GET /api/v1/breaches": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/breaches", role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/breaches/{id}": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/breaches/" + a.fixture("breaches"), role: r, purpose: purposeOf(r)}
		}},
		"PATCH /api/v1/breaches/{id}": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "PATCH", path: "/api/v1/breaches/" + a.fixture("breaches"), role: r, purpose: purposeOf(r), body: `{"risk":"high"}`}
		}},
		"POST /api/v1/breaches/{id}/state": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/breaches/" + a.fixture("breaches") + "/state", role: r, purpose: purposeOf(r),
				body: `{"state":"authority_notified"}`}
		}},
		"POST /api/v1/breaches/{id}/scope": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/breaches/" + a.fixture("breaches") + "/scope", role: r, purpose: purposeOf(r),
				body: `{"actor":"user:x","since":"2026-03-14T09:00:00Z","until":"2026-03-14T10:00:00Z"}`}
		}},
		"GET /api/v1/breaches/{id}/drafts": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/breaches/" + a.fixture("breaches") + "/drafts?lang=en", role: r, purpose: purposeOf(r)}
		}},
		// The audit trail: the data-protection officer and the auditor read it;
		// the export of touched contacts decrypts names, so only the dpo's purpose.
		"GET /api/v1/audit": {[]tresor.Role{tresor.RoleDPO, tresor.RoleAuditor}, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/audit?limit=5", role: r}
		}},
		"GET /api/v1/audit/export": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/audit/export?actor=system&since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z",
				role: r, purpose: purposeOf(r)}
		}},
		// Every purpose that handles single contacts imports for itself;
		// the information duties are the data-protection officer's.
		"POST /api/v1/imports": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/imports?format=vcard&legal_basis=" + basisOf(r), role: r, purpose: purposeOf(r),
				body: fmt.Sprintf("BEGIN:VCARD\nVERSION:3.0\nN:Import;Ida;;;\nEMAIL:ida%d@example.org\nEND:VCARD\n", nextSeq())}
		}},
		// The history of imports: each purpose sees its own, the dpo's all.
		"GET /api/v1/imports": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/imports?limit=5", role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/imports/{id}": {purposeRoles, func(a *api, r tresor.Role) call {
			id := a.fixture("contacts") // no import: refused before it is looked for
			if slices.Contains(purposeRoles, r) {
				imp := a.do(call{method: "POST", path: "/api/v1/imports?format=vcard&legal_basis=" + basisOf(r), role: r, purpose: purposeOf(r),
					body: fmt.Sprintf("BEGIN:VCARD\nVERSION:3.0\nN:Import;Ida;;;\nEMAIL:ida%d@example.org\nEND:VCARD\n", nextSeq())})
				var rep struct{ ID string }
				if imp.status == http.StatusCreated && json.Unmarshal(imp.body, &rep) == nil {
					id = rep.ID
				}
			}
			return call{method: "GET", path: "/api/v1/imports/" + id, role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/notices": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/notices?open=true", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/notices/{id}/given": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/notices/" + a.fixture("notices") + "/given", role: r, purpose: purposeOf(r),
				body: `{"channel":"postal"}`}
		}},
		"POST /api/v1/notices/send": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/notices/send", role: r, purpose: purposeOf(r)}
		}},
		// The company's channels are configuration (admin); publishing is
		// for the advertising purposes, reading the inbox is service work,
		// profiles are for the purposes that may see social profiles.
		"POST /api/v1/channels": {adminOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/channels", role: r, body: `{"network":"mastodon","name":"Acme","credentials":{"token":"t"}}`}
		}},
		"GET /api/v1/channels": {signedIn, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/channels", role: r} }},
		"DELETE /api/v1/channels/{id}": {adminOnly, func(a *api, r tresor.Role) call {
			return call{method: "DELETE", path: "/api/v1/channels/" + a.fixture("channels"), role: r}
		}},
		"POST /api/v1/channels/{id}/posts": {advertisers, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/channels/" + a.fixture("channels") + "/posts", role: r, purpose: purposeOf(r),
				body: `{"text":"Neu im Shop"}`}
		}},
		"GET /api/v1/channels/{id}/posts": {signedIn, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/channels/" + a.fixture("channels") + "/posts", role: r}
		}},
		"POST /api/v1/channels/{id}/messages": {replyRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/channels/" + a.fixture("channels") + "/messages", role: r, purpose: purposeOf(r),
				body: fmt.Sprintf(`{"contact_id":%q,"text":"Ihre Anfrage","direct":true}`, a.fixture("social-contacts"))}
		}},
		"POST /api/v1/channels/{id}/inbox": {replyRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/channels/" + a.fixture("channels") + "/inbox", role: r, purpose: purposeOf(r)}
		}},
		// E-mail: a mail under contract, a reply to a case and reading the
		// mailbox are service work (advertising purposes send only
		// advertising, which needs consent; marketing keeps no content).
		"POST /api/v1/contacts/{id}/emails": {replyRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/emails", role: r, purpose: purposeOf(r),
				body: `{"kind":"contract","subject":"Ihre Bestellung","body":"Lieferung am Dienstag"}`}
		}},
		"POST /api/v1/cases/{id}/replies": {replyRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/cases/" + a.fixture("mail-cases") + "/replies", role: r, purpose: purposeOf(r), body: `{"body":"Danke"}`}
		}},
		"POST /api/v1/mailbox/poll": {replyRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/mailbox/poll", role: r, purpose: purposeOf(r)}
		}},
		"GET /api/v1/channels/{id}/profile": {[]tresor.Role{tresor.RolePR, tresor.RoleDPO}, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/channels/" + a.fixture("channels") + "/profile?handle=@erika@social.example", role: r, purpose: purposeOf(r)}
		}},
		// Closing a customer relation is everyday work of every purpose that
		// handles single contacts.
		"POST /api/v1/contacts/{id}/close": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/contacts/" + a.fixture("contacts") + "/close", role: r, purpose: purposeOf(r)}
		}},
		// The fixture campaign serves marketing: only its purpose works with it.
		"GET /api/v1/campaigns/{id}/audience": {marketingOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/campaigns/" + a.fixture("campaigns") + "/audience", role: r, purpose: purposeOf(r)}
		}},
		"POST /api/v1/campaigns/{id}/send": {marketingOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/campaigns/" + a.fixture("campaigns") + "/send", role: r, purpose: purposeOf(r)}
		}},
		"DELETE /api/v1/sessions": {signedIn, func(a *api, r tresor.Role) call { return call{method: "DELETE", path: "/api/v1/sessions", role: r} }},
		"GET /api/v1/stats":       {counters, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/stats", role: r} }},
		"GET /api/v1/users":       {adminOnly, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/users", role: r} }},
		"POST /api/v1/users": {adminOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/users", role: r, body: fmt.Sprintf(`{"email":"new%d@example.org","roles":["service"]}`, nextSeq())}
		}},
		// Everyone sees themselves; the matrix asks for the administrator's record.
		"GET /api/v1/users/{id}": {adminOnly, func(a *api, r tresor.Role) call {
			a.token(tresor.RoleAdmin)
			return call{method: "GET", path: "/api/v1/users/" + a.users[tresor.RoleAdmin], role: r}
		}},
		"PATCH /api/v1/users/{id}": {adminOnly, func(a *api, r tresor.Role) call {
			return call{method: "PATCH", path: "/api/v1/users/" + a.victim(), role: r, body: `{"roles":["service","pr"]}`}
		}},
		"POST /api/v1/users/{id}/password-reset": {adminOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/users/" + a.victim() + "/password-reset", role: r}
		}},
		"GET /api/v1/role-grants": {grantDeciders, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/role-grants?state=pending", role: r}
		}},
		"POST /api/v1/role-grants/{id}/approve": {grantDeciders, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/role-grants/" + a.pendingGrant() + "/approve", role: r}
		}},
		"POST /api/v1/role-grants/{id}/reject": {grantDeciders, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/role-grants/" + a.pendingGrant() + "/reject", role: r}
		}},
		"GET /api/v1/tokens": {signedIn, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/tokens", role: r} }},
		// Tokens are made by people signed in with a browser, or by the CLI: never with a token.
		"POST /api/v1/tokens": {nobody, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/tokens", role: r, body: `{"name":"more"}`}
		}},
		// Anyone may revoke their own; the matrix revokes someone else's.
		"DELETE /api/v1/tokens/{id}": {adminOnly, func(a *api, r tresor.Role) call {
			t, _, err := a.g.CreateToken(sys, tresor.TokenRequest{UserEmail: "victim@example.org", Name: fmt.Sprint(nextSeq())})
			must(a.t, err)
			return call{method: "DELETE", path: "/api/v1/tokens/" + t.ID, role: r}
		}},
	}
	// Tags and segments: everyday work of every purpose that handles contacts.
	for _, coll := range []string{"contacts", "organizations"} {
		base := "/api/v1/" + coll + "/"
		m["PUT "+base+"{id}/tags/{tag}"] = matrixCase{purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "PUT", path: base + a.fixture(coll) + "/tags/Matrix", role: r, purpose: purposeOf(r)}
		}}
		m["DELETE "+base+"{id}/tags/{tag}"] = matrixCase{purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "DELETE", path: base + a.fixture(coll) + "/tags/Matrix", role: r, purpose: purposeOf(r)}
		}}
	}
	m["GET /api/v1/tags"] = matrixCase{purposeRoles, func(a *api, r tresor.Role) call {
		return call{method: "GET", path: "/api/v1/tags", role: r, purpose: purposeOf(r)}
	}}
	m["GET /api/v1/segments/{id}/members"] = matrixCase{purposeRoles, func(a *api, r tresor.Role) call {
		return call{method: "GET", path: "/api/v1/segments/" + a.fixture("segments") + "/members", role: r, purpose: purposeOf(r)}
	}}
	for _, coll := range []string{"contacts", "organizations", "interactions", "deals", "cases", "pipelines", "campaigns", "segments"} {
		read, write, item := purposeRoles, purposeRoles, purposeRoles
		switch coll {
		case "pipelines":
			read, write, item = signedIn, adminOnly, signedIn
		case "campaigns":
			write, item = advertisers, marketingOnly
		}
		base := "/api/v1/" + coll
		withPurpose := func(c call, r tresor.Role) call {
			if coll != "pipelines" {
				c.purpose = purposeOf(r)
			}
			return c
		}
		m["GET "+base] = matrixCase{read, func(a *api, r tresor.Role) call {
			return withPurpose(call{method: "GET", path: base, role: r}, r)
		}}
		create := write
		if coll == "interactions" || coll == "cases" {
			// A note's body and a case's subject are what was said: purposes
			// without interaction.content may not store them.
			create = contentRoles
		}
		m["POST "+base] = matrixCase{create, func(a *api, r tresor.Role) call {
			body := createBodies[coll]
			switch coll {
			case "contacts", "cases":
				body = fmt.Sprintf(body, basisOf(r))
			case "interactions":
				body = fmt.Sprintf(body, a.fixture("organizations"), basisOf(r))
			case "pipelines":
				body = fmt.Sprintf(body, nextSeq())
			}
			return withPurpose(call{method: "POST", path: base, role: r, body: body}, r)
		}}
		m["GET "+base+"/{id}"] = matrixCase{item, func(a *api, r tresor.Role) call {
			return withPurpose(call{method: "GET", path: base + "/" + a.fixture(coll), role: r}, r)
		}}
		change := write
		if coll == "campaigns" {
			change = marketingOnly
		}
		if coll == "interactions" {
			change = contentRoles // the change writes a subject
		}
		m["PATCH "+base+"/{id}"] = matrixCase{change, func(a *api, r tresor.Role) call {
			body := patchBodies[coll]
			if coll == "contacts" || coll == "interactions" {
				body = body[:len(body)-1] + `,"legal_basis":"` + basisOf(r) + `"}`
			}
			return withPurpose(call{method: "PATCH", path: base + "/" + a.fixture(coll), role: r, body: body}, r)
		}}
		remove := write
		if coll == "campaigns" {
			remove = marketingOnly
		}
		if coll == "cases" {
			// The fixture's subject is what was said: a purpose deletes only
			// what it may read, and one without interaction.content may not.
			remove = contentRoles
		}
		m["DELETE "+base+"/{id}"] = matrixCase{remove, func(a *api, r tresor.Role) call {
			return withPurpose(call{method: "DELETE", path: base + "/" + a.fixture(coll), role: r}, r)
		}}
	}
	// Tasks: the title is what was said (interaction.content), so only the
	// purposes with it create and delete them; every purpose lists, reads
	// (the title withheld), moves the due day and marks them done.
	task := func(a *api) string {
		tk := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Fixture"}, Due: "2026-05-01"}
		must(a.t, a.g.CreateTask(tresor.WithPurpose(sys, "sales"), tk))
		return tk.ID
	}
	dataRequest := func(a *api) string {
		rq, err := a.g.CreateRequest(tresor.WithPurpose(sys, "data_protection"), tresor.NewRequest{Kind: tresor.RequestErasure,
			Channel: tresor.ArrivedByEmail, Address: "fixture@example.org", ReceivedAt: "2026-03-02"})
		must(a.t, err)
		return rq.ID
	}
	// decided is a request of the kind about a new contact kept on
	// legitimate interest, its requester's identity verified; prepare runs
	// a first decision on it.
	decided := func(a *api, kind tresor.RequestKind, prepare func(dp context.Context, id string) error) (string, string) {
		dp := tresor.WithPurpose(sys, "data_protection")
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Decision", Emails: []string{fmt.Sprintf("d%d@example.org", nextSeq())}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "Messekontakt"}}
		must(a.t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))
		rq, err := a.g.CreateRequest(dp, tresor.NewRequest{Kind: kind, Channel: tresor.ArrivedByEmail, Address: "fixture@example.org",
			ReceivedAt: "2026-03-02", ContactIDs: []string{c.ID}})
		must(a.t, err)
		_, err = a.g.RequestState(dp, rq.ID, tresor.RequestIdentityVerified, "")
		must(a.t, err)
		if prepare != nil {
			must(a.t, prepare(dp, rq.ID))
		}
		return rq.ID, c.ID
	}
	for key, c := range map[string]matrixCase{
		"POST /api/v1/requests/{id}/rectify": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, c := decided(a, tresor.RequestRectification, nil)
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/rectify", body: `{"contact_id":"` + c + `","changes":{"position":"Einkauf"}}`}
		}},
		"GET /api/v1/requests/{id}/recipients": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, _ := decided(a, tresor.RequestRectification, nil)
			return call{method: "GET", path: "/api/v1/requests/" + rq + "/recipients"}
		}},
		"POST /api/v1/requests/{id}/recipients-notified": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, _ := decided(a, tresor.RequestRectification, nil)
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/recipients-notified", body: `{"notified":false,"because":"impossible","note":"no recipients"}`}
		}},
		"POST /api/v1/requests/{id}/object": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, _ := decided(a, tresor.RequestObjection, nil)
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/object"}
		}},
		"POST /api/v1/requests/{id}/compelling-grounds": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, c := decided(a, tresor.RequestObjection, func(dp context.Context, id string) error {
				_, err := a.g.ApplyObjection(dp, id)
				return err
			})
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/compelling-grounds", body: `{"contact_id":"` + c + `","purpose":"sales","reason":"claim 12/26"}`}
		}},
		"POST /api/v1/requests/{id}/restrict": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, _ := decided(a, tresor.RequestRestriction, nil)
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/restrict"}
		}},
		"POST /api/v1/requests/{id}/lift": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, c := decided(a, tresor.RequestRestriction, func(dp context.Context, id string) error {
				_, err := a.g.ApplyRestriction(dp, id)
				return err
			})
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/lift", body: `{"contact_id":"` + c + `","what":"restriction","reason":"accuracy verified"}`}
		}},
		"POST /api/v1/requests/{id}/erase": {dpoOnly, func(a *api, r tresor.Role) call {
			rq, _ := decided(a, tresor.RequestErasure, nil)
			return call{method: "POST", path: "/api/v1/requests/" + rq + "/erase"}
		}},
		"GET /api/v1/tasks": {purposeRoles, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/tasks?assignee=me"} }},
		"POST /api/v1/tasks": {contentRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/tasks", body: `{"title":"Call back","due":"2026-05-01"}`}
		}},
		"GET /api/v1/tasks/{id}": {purposeRoles, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/tasks/" + task(a)} }},
		"PATCH /api/v1/tasks/{id}": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "PATCH", path: "/api/v1/tasks/" + task(a), body: `{"due":"2026-05-02"}`}
		}},
		"DELETE /api/v1/tasks/{id}": {contentRoles, func(a *api, r tresor.Role) call { return call{method: "DELETE", path: "/api/v1/tasks/" + task(a)} }},
		"POST /api/v1/tasks/{id}/done": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/tasks/" + task(a) + "/done"}
		}},
		"POST /api/v1/tasks/{id}/undo": {purposeRoles, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/tasks/" + task(a) + "/undo"}
		}},
		// The register of requests of data subjects: the DPO's alone; an
		// administrator is refused like every other role.
		"POST /api/v1/requests": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests", body: `{"kind":"access","channel":"letter","address":"Musterweg 1, 12345 Musterstadt","received_at":"2026-03-02"}`}
		}},
		"GET /api/v1/requests": {dpoOnly, func(a *api, r tresor.Role) call { return call{method: "GET", path: "/api/v1/requests?state=open"} }},
		"GET /api/v1/requests/{id}": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/requests/" + dataRequest(a)}
		}},
		"POST /api/v1/requests/{id}/state": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests/" + dataRequest(a) + "/state", body: `{"state":"identity_verified"}`}
		}},
		"POST /api/v1/requests/{id}/extend": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests/" + dataRequest(a) + "/extend", body: `{"reason":"complex"}`}
		}},
		"POST /api/v1/requests/{id}/verification": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests/" + dataRequest(a) + "/verification"}
		}},
		"POST /api/v1/requests/{id}/contacts": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests/" + dataRequest(a) + "/contacts", body: `{"contact_id":"` + a.fixture("contacts") + `"}`}
		}},
		"DELETE /api/v1/requests/{id}/contacts/{contact_id}": {dpoOnly, func(a *api, r tresor.Role) call {
			c := a.fixture("contacts")
			rq, err := a.g.CreateRequest(tresor.WithPurpose(sys, "data_protection"), tresor.NewRequest{Kind: tresor.RequestErasure,
				Channel: tresor.ArrivedByEmail, Address: "fixture@example.org", ReceivedAt: "2026-03-02", ContactIDs: []string{c}})
			must(a.t, err)
			return call{method: "DELETE", path: "/api/v1/requests/" + rq.ID + "/contacts/" + c}
		}},
		"POST /api/v1/requests/{id}/export": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/requests/" + verifiedAccessRequest(a) + "/export"}
		}},
		"GET /api/v1/requests/{id}/answer": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "GET", path: "/api/v1/requests/" + dataRequest(a) + "/answer?lang=en"}
		}},
		"POST /api/v1/requests/{id}/answer": {dpoOnly, func(a *api, r tresor.Role) call {
			id := dataRequest(a)
			_, err := a.g.RequestState(tresor.WithPurpose(sys, "data_protection"), id, tresor.RequestIdentityVerified, "")
			must(a.t, err)
			return call{method: "POST", path: "/api/v1/requests/" + id + "/answer", body: `{"lang":"de","subject":"Ihre Löschung","body":"Erledigt."}`}
		}},
		"POST /api/v1/breaches/{id}/notify-people": {dpoOnly, func(a *api, r tresor.Role) call {
			return call{method: "POST", path: "/api/v1/breaches/" + a.fixture("breaches") + "/notify-people",
				body: `{"lang":"de","subject":"Datenpanne","body":"Wir informieren Sie.","contact_ids":["` + a.fixture("contacts") + `"]}`}
		}},
	} {
		mk := c.make
		c.make = func(a *api, r tresor.Role) call {
			cl := mk(a, r)
			cl.role, cl.purpose = r, purposeOf(r)
			return cl
		}
		m[key] = c
	}
	return m
}

// victim is a user the matrix changes.
func (a *api) victim() string {
	u, err := a.g.User(sys, "victim@example.org")
	if err == nil {
		return u.ID
	}
	u, _, err = a.g.CreateUser(sys, "victim@example.org", []tresor.Role{tresor.RoleService})
	must(a.t, err)
	return u.ID
}

// pendingGrant asks, as an administrator other than the matrix's, for a
// role of a new user, and returns the id of the grant that waits.
func (a *api) pendingGrant() string {
	grantor, err := a.g.User(sys, "grantor@example.org")
	if err != nil {
		grantor, _, err = a.g.CreateUser(sys, "grantor@example.org", []tresor.Role{tresor.RoleAdmin})
		must(a.t, err)
	}
	u, _, err := a.g.CreateUser(sys, fmt.Sprintf("grantee%d@example.org", nextSeq()), []tresor.Role{tresor.RoleService})
	must(a.t, err)
	ctx := tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorUser, UserID: grantor.ID, Email: grantor.Email, Roles: grantor.Roles})
	u, err = a.g.SetRoles(ctx, u.ID, []tresor.Role{tresor.RoleService, tresor.RolePR})
	must(a.t, err)
	return u.PendingGrant.ID
}

// TestRoleRouteMatrix asserts, for every API route and every role (and no
// credentials), whether the request is allowed or refused.
func TestRoleRouteMatrix(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	cases := matrix()
	for _, rt := range a.srv.Routes() {
		key := rt.Method + " " + rt.Pattern
		if !isAPI(rt.Pattern) {
			continue
		}
		mc, ok := cases[key]
		if !ok {
			t.Errorf("route %s has no row in the role × route matrix; add one", key)
			continue
		}
		delete(cases, key)
		for _, role := range everyone {
			c := mc.make(a, role)
			r := a.do(c)
			allowed := r.status < 400
			want := slices.Contains(mc.allowed, role)
			if allowed != want {
				t.Errorf("%s as %q: status %d (%s), want allowed=%v", key, roleName(role), r.status, strings.TrimSpace(string(r.body)), want)
				continue
			}
			// A refusal is 401 (who?), 403 (not you, not for this purpose), 404
			// (nothing of yours by that id) or 422 (not what this purpose may store).
			refusals := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity}
			if !allowed && !slices.Contains(refusals, r.status) {
				t.Errorf("%s as %q: refused with %d, want 401, 403, 404 or 422: %s", key, roleName(role), r.status, r.body)
			}
			if role == "" && !want && r.status != http.StatusUnauthorized {
				t.Errorf("%s without credentials: %d, want 401", key, r.status)
			}
		}
	}
	for key := range cases {
		t.Errorf("the matrix has a row for %s, which is not registered", key)
	}
}

func roleName(r tresor.Role) string {
	if r == "" {
		return "anonymous"
	}
	return string(r)
}

func isAPI(pattern string) bool {
	return strings.HasPrefix(pattern, "/api/") || pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics"
}

// TestEveryRouteDeclaresAPermission walks all routes.
func TestEveryRouteDeclaresAPermission(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	known := []server.Permission{server.Public, server.SignedIn, server.Purpose}
	for _, rt := range a.srv.Routes() {
		if !slices.Contains(known, rt.Permission) && len(rt.Permission.Roles()) == 0 {
			t.Errorf("%s %s declares no permission (%q)", rt.Method, rt.Pattern, rt.Permission)
		}
		// Only health, metrics, the API description and the sign-in pages are public.
		if rt.Permission == server.Public && strings.HasPrefix(rt.Pattern, "/api/") && rt.Pattern != "/api/v1/openapi.json" {
			t.Errorf("%s %s is public", rt.Method, rt.Pattern)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// topicFixture is a listening topic of the role's purpose (of analytics
// for a role that does not listen).
func (a *api) topicFixture(r tresor.Role) string {
	if r == tresor.RolePR {
		return a.fixture("topics-pr")
	}
	return a.fixture("topics-analytics")
}
