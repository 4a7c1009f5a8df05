package gate_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"tresor"
)

// note is a sales note about a contact, with content only purposes that see
// interaction.content may read.
func note(contactID, body string) *tresor.Interaction {
	return &tresor.Interaction{Kind: tresor.KindNote, ContactID: contactID, InteractionContent: tresor.InteractionContent{Body: body},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

func serviceCase(contactID string) *tresor.Case {
	return &tresor.Case{Channel: tresor.ChannelEmail, ContactID: contactID, CaseContent: tresor.CaseContent{Subject: "Invoice unclear"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

// wantRestricted checks that err is the restriction's refusal, explained in
// English and German.
func wantRestricted(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, tresor.ECRestricted)
	if e := tresor.AsError(err); !strings.Contains(e.Message, "Art. 18") || !strings.Contains(e.MessageDE, "Art. 18") {
		t.Fatalf("the refusal does not explain the restriction in both languages: %+v", e)
	}
}

// TestRestrictionCoversEveryRecordOfThePerson: once the DPO restricts a
// person (Art. 18), no purpose but data_protection reads, lists, writes or
// deletes any record of theirs — interactions, cases, deals, consents.
func TestRestrictionCoversEveryRecordOfThePerson(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, service, marketing, dpo := e.ctx["sales"], e.ctx["service"], e.ctx["marketing"], e.ctx["data_protection"]
		c, other := erika(), erika()
		other.Emails, other.GivenName = []string{"max@example.de"}, "Max"
		must(t, e.g.CreateContact(sales, c))
		must(t, e.g.CreateContact(sales, other))
		in, otherIn := note(c.ID, "Wants 50 licences."), note(other.ID, "Asked for a demo.")
		must(t, e.g.CreateInteraction(sales, in))
		must(t, e.g.CreateInteraction(sales, otherIn))
		k, otherK := serviceCase(c.ID), serviceCase(other.ID)
		must(t, e.g.CreateCase(service, k))
		must(t, e.g.CreateCase(service, otherK))
		d, otherD := &tresor.Deal{Title: "Newsletter sponsorship", Stage: "lead", ContactID: c.ID}, &tresor.Deal{Title: "Fair", Stage: "lead", ContactID: other.ID}
		must(t, e.g.CreateDeal(marketing, d))
		must(t, e.g.CreateDeal(marketing, otherD))
		_, err := e.g.Restrict(dpo, c.ID, true)
		must(t, err)
		patch := tresor.Update{Patch: json.RawMessage(`{"subject":"changed"}`)}

		t.Run("interactions are neither read, changed nor deleted", func(t *testing.T) {
			_, err := e.g.Interaction(sales, in.ID)
			wantRestricted(t, err)
			_, err = e.g.UpdateInteraction(sales, in.ID, patch)
			wantRestricted(t, err)
			wantRestricted(t, e.g.DeleteInteraction(sales, in.ID, 0))
		})
		t.Run("cases are neither read, changed nor deleted", func(t *testing.T) {
			_, err := e.g.Case(service, k.ID)
			wantRestricted(t, err)
			_, err = e.g.UpdateCase(service, k.ID, tresor.Update{Patch: json.RawMessage(`{"status":"resolved"}`)})
			wantRestricted(t, err)
			wantRestricted(t, e.g.DeleteCase(service, k.ID, 0))
		})
		t.Run("deals are neither read, changed nor deleted", func(t *testing.T) {
			_, err := e.g.Deal(marketing, d.ID)
			wantRestricted(t, err)
			_, err = e.g.UpdateDeal(marketing, d.ID, tresor.Update{Patch: json.RawMessage(`{"stage":"won"}`)})
			wantRestricted(t, err)
			wantRestricted(t, e.g.DeleteDeal(marketing, d.ID, 0))
		})
		t.Run("lists leave out the person's records and keep the others", func(t *testing.T) {
			ins, err := e.g.Interactions(sales, tresor.InteractionFilter{})
			must(t, err)
			cs, err := e.g.Cases(service, tresor.CaseFilter{})
			must(t, err)
			ds, err := e.g.Deals(marketing, tresor.DealFilter{})
			must(t, err)
			if got := idsOf(ins.Items); !slices.Equal(got, []string{otherIn.ID}) {
				t.Errorf("interactions listed for sales = %v, want only %s", got, otherIn.ID)
			}
			if got := idsOf(cs.Items); !slices.Equal(got, []string{otherK.ID}) {
				t.Errorf("cases listed for service = %v, want only %s", got, otherK.ID)
			}
			if got := idsOf(ds.Items); !slices.Equal(got, []string{otherD.ID}) {
				t.Errorf("deals listed for marketing = %v, want only %s", got, otherD.ID)
			}
			// A filter on the person finds nothing either.
			ins, err = e.g.Interactions(sales, tresor.InteractionFilter{ContactID: c.ID})
			must(t, err)
			if len(ins.Items) != 0 {
				t.Errorf("sales lists the restricted person's interactions by contact_id: %v", idsOf(ins.Items))
			}
		})
		t.Run("no new record is written for the person", func(t *testing.T) {
			wantRestricted(t, e.g.CreateInteraction(sales, note(c.ID, "Another call.")))
			wantRestricted(t, e.g.CreateCase(service, serviceCase(c.ID)))
			wantRestricted(t, e.g.CreateDeal(marketing, &tresor.Deal{Title: "Upsell", Stage: "lead", ContactID: c.ID}))
		})
		t.Run("no record is moved to the person", func(t *testing.T) {
			_, err := e.g.UpdateInteraction(sales, otherIn.ID, tresor.Update{Patch: json.RawMessage(`{"contact_id":"` + c.ID + `"}`)})
			wantRestricted(t, err)
		})
		t.Run("consents are neither read nor recorded", func(t *testing.T) {
			_, err := e.g.Consents(sales, c.ID)
			wantRestricted(t, err)
			_, err = e.g.RecordConsent(marketing, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
			wantRestricted(t, err)
		})
		t.Run("data protection still reads and lists every record", func(t *testing.T) {
			if _, err := e.g.Interaction(dpo, in.ID); err != nil {
				t.Errorf("the DPO cannot read the interaction: %v", err)
			}
			if _, err := e.g.Case(dpo, k.ID); err != nil {
				t.Errorf("the DPO cannot read the case: %v", err)
			}
			if _, err := e.g.Deal(dpo, d.ID); err != nil {
				t.Errorf("the DPO cannot read the deal: %v", err)
			}
			ins, err := e.g.Interactions(dpo, tresor.InteractionFilter{ContactID: c.ID})
			must(t, err)
			if got := idsOf(ins.Items); !slices.Equal(got, []string{in.ID}) {
				t.Errorf("interactions listed for the DPO = %v, want %s", got, in.ID)
			}
		})
		t.Run("lifting the restriction gives the records back", func(t *testing.T) {
			_, err := e.g.LiftRestriction(dpo, c.ID, "accuracy verified, ticket 4711")
			must(t, err)
			if _, err := e.g.Interaction(sales, in.ID); err != nil {
				t.Errorf("sales cannot read the interaction after the restriction was lifted: %v", err)
			}
		})
	})
}

func idsOf[T interface{ Base() *tresor.Meta }](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Base().ID
	}
	return out
}

// TestInboxTakesNoMessageOfARestrictedPerson: a message from a restricted
// person is not stored for service, and does not stop the inbox either.
func TestInboxTakesNoMessageOfARestrictedPerson(t *testing.T) {
	net := &fakeNet{}
	e, _ := socialGate(t, net)
	ch, err := e.g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"` + fakeToken + `"}`)})
	must(t, err)
	c := erika()
	c.SocialHandles = []tresor.SocialHandle{{Network: "mastodon", Handle: "@erika@social.example"}}
	must(t, e.g.CreateContact(e.ctx["sales"], c))
	_, err = e.g.Restrict(e.ctx["data_protection"], c.ID, true)
	must(t, err)
	net.inbox = []tresor.SocialPost{
		{ID: "1", Author: "@erika@social.example", Text: "Bitte löschen Sie meine Daten", Visibility: tresor.PostDirect, ToCompany: true},
		{ID: "2", Author: "@erika@social.example", Text: "Danke @acme", Visibility: tresor.PostPublic, ToCompany: true},
		{ID: "3", Author: "@fremd@other.example", Text: "Hallo @acme", Visibility: tresor.PostPublic, ToCompany: true},
	}
	rep, err := e.g.PollInbox(e.ctx["service"], ch.ID)
	must(t, err)
	if rep.Read != 3 || rep.Dropped["restricted"] != 2 || rep.Interactions != 0 || rep.Cases != 1 {
		t.Fatalf("inbox: %+v (want the restricted person's two messages dropped, the stranger's case kept)", rep)
	}
}
