package server_test

import (
	"slices"
	"strings"
	"testing"

	"tresor"
)

// newEntries returns the audit entries written after seq, oldest first.
func (a *api) newEntries(after int64) []*tresor.AuditEntry {
	a.t.Helper()
	l, err := a.g.AuditLog(sys, tresor.AuditFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}})
	must(a.t, err)
	var out []*tresor.AuditEntry
	for _, e := range l.Items {
		if e.Seq > after && e.Action != "audit.read" { // the test's own reading
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

func (a *api) head() int64 {
	l, err := a.g.AuditLog(sys, tresor.AuditFilter{Page: tresor.Page{Limit: 1}})
	must(a.t, err)
	if len(l.Items) == 0 {
		return 0
	}
	return l.Items[0].Seq
}

// TestEveryPersonalRouteIsAudited calls every API route that returns or
// changes personal data once and counts the entries it leaves: exactly the
// expected actions, naming exactly the expected objects.
func TestEveryPersonalRouteIsAudited(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		contact := a.fixture("contacts")
		interaction := a.fixture("interactions")
		kase := a.fixture("cases")
		campaign := a.fixture("campaigns")
		for _, r := range tresor.Roles() {
			a.token(r) // users and tokens first: their creation is recorded too
		}
		rq, err := a.g.CreateRequest(tresor.WithPurpose(sys, "data_protection"), tresor.NewRequest{Kind: tresor.RequestErasure,
			Channel: tresor.ArrivedByEmail, Address: "audit-fixture@example.org", ReceivedAt: "2026-03-02"})
		must(t, err)
		for _, tc := range []struct {
			call    call
			actions []string // the entries the call must leave, in order
			objects []string // the objects the first entry names ("*" for at least one)
		}{
			{call{method: "GET", path: "/api/v1/contacts/" + contact, role: tresor.RoleSales, purpose: "sales"}, []string{"contact.read"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales"}, []string{"contact.list"}, []string{"*"}},
			{call{method: "POST", path: "/api/v1/contacts", role: tresor.RoleSales, purpose: "sales",
				body: `{"family_name":"Neu","legal_basis":"contract"}`}, []string{"contact.create"}, []string{"*"}},
			{call{method: "PATCH", path: "/api/v1/contacts/" + contact, role: tresor.RoleSales, purpose: "sales",
				body: `{"position":"CTO"}`}, []string{"contact.update"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/interactions/" + interaction, role: tresor.RoleSales, purpose: "sales"}, []string{"interaction.read"}, []string{interaction}},
			{call{method: "GET", path: "/api/v1/interactions", role: tresor.RoleSales, purpose: "sales"}, []string{"interaction.list"}, []string{"*"}},
			{call{method: "GET", path: "/api/v1/cases/" + kase, role: tresor.RoleService, purpose: "service"}, []string{"case.read"}, []string{kase}},
			{call{method: "GET", path: "/api/v1/cases", role: tresor.RoleService, purpose: "service"}, []string{"case.list"}, []string{"*"}},
			{call{method: "GET", path: "/api/v1/contacts/" + contact + "/consents", role: tresor.RoleMarketing, purpose: "marketing"}, []string{"consent.read"}, []string{contact}},
			{call{method: "POST", path: "/api/v1/contacts/" + contact + "/consents", role: tresor.RoleMarketing, purpose: "marketing",
				body: `{"purpose":"marketing","channel":"email","action":"grant","method":"web_form","proof":{"text_version":"v1"}}`}, []string{"consent.grant"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/contacts/" + contact + "/reach?purpose=marketing&channel=email", role: tresor.RoleMarketing}, []string{"contact.reach"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/campaigns/" + campaign + "/audience", role: tresor.RoleMarketing, purpose: "marketing"}, []string{"campaign.audience"}, []string{"*"}},
			{call{method: "GET", path: "/api/v1/contacts/" + contact + "/holds", role: tresor.RoleDPO, purpose: "data_protection"}, []string{"contact.holds_read"}, []string{contact}},
			{call{method: "POST", path: "/api/v1/requests/" + rq.ID + "/verification", role: tresor.RoleDPO, purpose: "data_protection"}, []string{"request.verification"}, []string{rq.ID}},
			{call{method: "POST", path: "/api/v1/requests/" + rq.ID + "/contacts", role: tresor.RoleDPO, purpose: "data_protection",
				body: `{"contact_id":"` + contact + `"}`}, []string{"request.link"}, []string{rq.ID}},
			{call{method: "DELETE", path: "/api/v1/requests/" + rq.ID + "/contacts/" + contact, role: tresor.RoleDPO, purpose: "data_protection"}, []string{"request.unlink"}, []string{rq.ID}},
			{call{method: "POST", path: "/api/v1/contacts/" + contact + "/restriction", role: tresor.RoleDPO, purpose: "data_protection",
				body: `{"restricted":true}`}, []string{"contact.restricted"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/contacts/" + contact, role: tresor.RoleSales, purpose: "sales"}, []string{"contact.read"}, []string{contact}},
			{call{method: "GET", path: "/api/v1/audit/export?actor=system&since=2020-01-01T00:00:00Z&until=2099-01-01T00:00:00Z",
				role: tresor.RoleDPO, purpose: "data_protection"}, []string{"audit.export"}, []string{"*"}},
			{call{method: "GET", path: "/api/v1/users", role: tresor.RoleAdmin}, []string{"user.list"}, []string{"*"}},
			{call{method: "DELETE", path: "/api/v1/interactions/" + interaction, role: tresor.RoleSales, purpose: "sales"}, []string{"interaction.delete"}, []string{interaction}},
			{call{method: "POST", path: "/api/v1/contacts/" + contact + "/erasure", role: tresor.RoleDPO, purpose: "data_protection",
				body: `{"reason":"ticket 9"}`}, []string{"contact.erased"}, []string{contact}},
		} {
			name := tc.call.method + " " + tc.call.path
			before := a.head()
			r := a.do(tc.call)
			if r.status >= 400 && tc.actions[0] != "contact.read" {
				t.Fatalf("%s: %d %s", name, r.status, r.body)
			}
			got := a.newEntries(before)
			var acts []string
			for _, e := range got {
				acts = append(acts, e.Action)
			}
			if !slices.Equal(acts, tc.actions) {
				t.Fatalf("%s left %v, want %v", name, acts, tc.actions)
			}
			e := got[0]
			switch {
			case tc.objects[0] == "*" && len(e.ObjectIDs) == 0 && tc.call.method == "GET" && !strings.Contains(name, "audience") && !strings.Contains(name, "export"):
				t.Fatalf("%s: the entry names no object", name)
			case tc.objects[0] != "*" && !slices.Equal(e.ObjectIDs, tc.objects):
				t.Fatalf("%s: the entry names %v, want %v", name, e.ObjectIDs, tc.objects)
			}
			if e.RequestID == "" || e.Client == "" || e.Actor == "anonymous" {
				t.Fatalf("%s: the entry lacks request, client or actor: %+v", name, e)
			}
			if tc.call.purpose != "" && e.Purpose != tc.call.purpose {
				t.Fatalf("%s: purpose %q, want %q", name, e.Purpose, tc.call.purpose)
			}
		}
		// The restricted contact's read above was refused and recorded as such.
		l, err := a.g.AuditLog(sys, tresor.AuditFilter{ContactID: contact, Action: "contact.read", Page: tresor.Page{Limit: 1}})
		must(t, err)
		if l.Items[0].Decision != tresor.Refused || l.Items[0].Reason != "contact_restricted" {
			t.Fatalf("the refused read: %+v", l.Items[0])
		}
		if rep, err := a.g.VerifyAudit(sys, ""); err != nil || rep.Problem != "" {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}
