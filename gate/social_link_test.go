package gate_test

import (
	"slices"
	"strings"
	"testing"

	"tresor"
)

// TestAnUnknownSenderIsLinkedToAContactByAnAgent proves how a message from
// someone who is not a contact becomes the contact's: the inbox keeps the
// handle as the network gave it and creates no contact; only a purpose
// that answers people links, to a contact it may see and change, at the
// case's version; the link records the handle with the contact (so the
// next message finds them) and is audited.
func TestAnUnknownSenderIsLinkedToAContactByAnAgent(t *testing.T) {
	net := &fakeNet{}
	e, _ := socialGate(t, net)
	g, svc := e.g, e.ctx["service"]
	ch, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Support", Credentials: []byte(`{"token":"` + fakeToken + `"}`)})
	must(t, err)
	newContact := func(given string) *tresor.Contact {
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: "Muster"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateContact(svc, c))
		return c
	}
	fritz, rita := newContact("Fritz"), newContact("Rita")
	net.mu.Lock()
	net.inbox = []tresor.SocialPost{{ID: "1", Author: "@Fremd@Other.example", Text: "Habt ihr das in Blau?", Visibility: tresor.PostPublic, ToCompany: true}}
	net.mu.Unlock()
	rep, err := g.PollInbox(svc, ch.ID)
	must(t, err)
	if rep.Cases != 1 {
		t.Fatalf("inbox: %+v", rep)
	}
	cs, err := g.Cases(svc, tresor.CaseFilter{})
	must(t, err)
	k := cs.Items[0]

	t.Run("the case keeps the sender's handle as given and belongs to no contact", func(t *testing.T) {
		if k.Sender != "@Fremd@Other.example" || k.ContactID != "" {
			t.Fatalf("case: sender %q, contact %q", k.Sender, k.ContactID)
		}
		l, err := g.Contacts(svc, tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 2 {
			t.Fatalf("the inbox made a contact: %d contacts", len(l.Items))
		}
	})
	t.Run("a purpose that does not answer people does not link", func(t *testing.T) {
		_, err := g.LinkCaseSender(e.ctx["sales"], k.ID, fritz.ID, k.Version)
		wantCode(t, err, tresor.ECForbidden)
	})
	t.Run("a restricted person is not linked", func(t *testing.T) {
		_, err := g.Restrict(e.ctx["data_protection"], rita.ID, true)
		must(t, err)
		_, err = g.LinkCaseSender(svc, k.ID, rita.ID, k.Version)
		if code := tresor.ErrorCode(err); code != tresor.ECRestricted && code != tresor.ECNotFound {
			t.Fatalf("linking a restricted person: %v", err)
		}
	})
	t.Run("a form that showed an older version is refused", func(t *testing.T) {
		_, err := g.LinkCaseSender(svc, k.ID, fritz.ID, k.Version-1)
		wantCode(t, err, tresor.ECVersionMismatch)
	})
	t.Run("the link makes the case the contact's and records the handle with them, audited", func(t *testing.T) {
		linked, err := g.LinkCaseSender(svc, k.ID, fritz.ID, k.Version)
		must(t, err)
		c, err := g.Contact(svc, fritz.ID)
		must(t, err)
		if linked.ContactID != fritz.ID || len(c.SocialHandles) != 1 || c.SocialHandles[0].Handle != "@Fremd@Other.example" {
			t.Fatalf("after the link: case contact %q, handles %+v", linked.ContactID, c.SocialHandles)
		}
		if got := actions(entriesOf(t, g, fritz.ID)); !strings.Contains(got, "case.sender_linked:allow") {
			t.Fatalf("audit of the contact: %s", got)
		}
		// The case now opens with the contact's key: read again, it still shows what was said.
		again, err := g.Case(svc, k.ID)
		must(t, err)
		if again.Description != "Habt ihr das in Blau?" || again.Damaged {
			t.Fatalf("the linked case reads %q (damaged %v)", again.Description, again.Damaged)
		}
	})
	t.Run("the next message from the handle finds the contact", func(t *testing.T) {
		net.mu.Lock()
		net.inbox = append(net.inbox, tresor.SocialPost{ID: "2", Author: "@fremd@other.example", Text: "Danke!", Visibility: tresor.PostPublic, ToCompany: true})
		net.mu.Unlock()
		rep, err := g.PollInbox(svc, ch.ID)
		must(t, err)
		if rep.Interactions != 1 || rep.Cases != 0 {
			t.Fatalf("second message: %+v", rep)
		}
	})
	t.Run("a linked case is not linked again", func(t *testing.T) {
		now, err := g.Case(svc, k.ID)
		must(t, err)
		_, err = g.LinkCaseSender(svc, k.ID, rita.ID, now.Version)
		wantCode(t, err, tresor.ECConflict)
	})
}

// TestCaseAssigneesAreTheUsersOfThePurposeByNameOnly proves that an agent
// may give a case only to someone who works for the same purpose, and
// learns of them their id and address, nothing more.
func TestCaseAssigneesAreTheUsersOfThePurposeByNameOnly(t *testing.T) {
	e, _ := socialGate(t, &fakeNet{})
	g := e.g
	lea, _, err := g.CreateUser(system(), "lea@example.org", []tresor.Role{tresor.RoleService})
	must(t, err)
	gone, _, err := g.CreateUser(system(), "gone@example.org", []tresor.Role{tresor.RoleService})
	must(t, err)
	_, err = g.SetDisabled(system(), gone.ID, true)
	must(t, err)

	t.Run("the service users who may sign in, and nobody else", func(t *testing.T) {
		as, err := g.CaseAssignees(e.ctx["service"])
		must(t, err)
		var names []string
		for _, a := range as {
			names = append(names, a.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"lea@example.org", "service@example.org"}) {
			t.Fatalf("assignees: %v", names)
		}
		if !slices.ContainsFunc(as, func(a tresor.Assignee) bool { return a.ID == lea.ID }) {
			t.Fatal("lea's id is missing")
		}
	})
	t.Run("another purpose lists its own people", func(t *testing.T) {
		as, err := g.CaseAssignees(e.ctx["sales"])
		must(t, err)
		if len(as) != 1 || as[0].Name != "sales@example.org" {
			t.Fatalf("sales assignees: %+v", as)
		}
	})
	t.Run("a purpose of aggregates only lists nobody", func(t *testing.T) {
		_, err := g.CaseAssignees(e.ctx["analytics"])
		wantCode(t, err, tresor.ECAggregatesOnly)
	})
}
