package gate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"tresor"
)

// TestAPurposeDeletesOnlyWhatItMaySee: deleting ends the declared purpose's
// processing and nobody else's. A contact other purposes hold stays for them;
// the last purpose's deletion, or the DPO's, erases the person; a record with
// data the purpose may not see is not the purpose's to delete.
func TestAPurposeDeletesOnlyWhatItMaySee(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, marketing, dpo := e.ctx["sales"], e.ctx["marketing"], e.ctx["data_protection"]
		// shared is a sales customer to whom marketing added a position and
		// whose consent to the newsletter it recorded.
		shared := func(t *testing.T) *tresor.Contact {
			t.Helper()
			c := erika()
			must(t, e.g.CreateContact(sales, c))
			_, err := e.g.UpdateContact(marketing, c.ID, tresor.Update{Patch: json.RawMessage(
				`{"position":"Head of Purchasing","legal_basis":"legitimate_interest","balancing_note":"Business contact at a trade fair."}`)})
			must(t, err)
			_, err = e.g.RecordConsent(marketing, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
			must(t, err)
			return c
		}

		t.Run("another purpose's delete leaves the person to sales", func(t *testing.T) {
			c := shared(t)
			must(t, e.g.DeleteContact(marketing, c.ID, 0))
			got, err := e.g.Contact(sales, c.ID)
			if err != nil {
				t.Fatalf("marketing's delete erased sales' customer: %v", err)
			}
			if got.GivenName != "Erika" || len(got.Emails) != 1 || got.Organization != "Muster GmbH" {
				t.Fatalf("sales' data changed: %+v", got.ContactDetails)
			}
		})
		t.Run("the ending purpose's fields, provenance and consents go", func(t *testing.T) {
			c := shared(t)
			must(t, e.g.DeleteContact(marketing, c.ID, 0))
			got, err := e.g.Contact(sales, c.ID)
			must(t, err)
			if got.Position != "" {
				t.Errorf("the position collected for marketing stayed: %q", got.Position)
			}
			for _, r := range records(t, got.Provenance) {
				if r.Purpose == "marketing" {
					t.Errorf("marketing's provenance stayed: %+v", r)
				}
			}
			h, err := e.g.Consents(dpo, c.ID)
			must(t, err)
			if len(h.States) != 0 || len(h.Events) != 0 {
				t.Errorf("marketing's consents stayed: %+v", h)
			}
		})
		t.Run("the ending is audited as contact.purpose_ended, not as an erasure", func(t *testing.T) {
			c := shared(t)
			must(t, e.g.DeleteContact(marketing, c.ID, 0))
			var ended bool
			for _, a := range entriesOf(t, e.g, c.ID) {
				if a.Action == "contact.erased" {
					t.Fatalf("the purpose's end was recorded as an erasure: %+v", a)
				}
				if a.Action == "contact.purpose_ended" && strings.Contains(a.Detail, "purpose=marketing") && strings.Contains(a.Detail, "held_by=sales") {
					ended = true
				}
			}
			if !ended {
				t.Fatalf("no contact.purpose_ended entry for marketing: %s", actions(entriesOf(t, e.g, c.ID)))
			}
			if _, err := e.g.ContactErasure(dpo, c.ID); tresor.ErrorCode(err) != tresor.ECNotFound {
				t.Fatalf("a tombstone was written for a person who stays: %v", err)
			}
		})
		t.Run("the last purpose's delete erases the person", func(t *testing.T) {
			c := shared(t)
			must(t, e.g.DeleteContact(marketing, c.ID, 0))
			must(t, e.g.DeleteContact(sales, c.ID, 0))
			_, err := e.g.Contact(sales, c.ID)
			wantCode(t, err, tresor.ECErased)
		})
		t.Run("an interaction of another purpose keeps the person", func(t *testing.T) {
			c := erika()
			c.LegalBasis, c.BalancingNote = tresor.BasisLegitimateInterest, "Business contact at a trade fair."
			must(t, e.g.CreateContact(marketing, c))
			in := note(c.ID, "Wants an offer.")
			must(t, e.g.CreateInteraction(sales, in))
			must(t, e.g.DeleteContact(marketing, c.ID, 0))
			if _, err := e.g.Interaction(sales, in.ID); err != nil {
				t.Fatalf("marketing's delete took sales' interaction: %v", err)
			}
			if _, err := e.g.Contact(sales, c.ID); err != nil {
				t.Fatalf("marketing's delete erased a person sales holds: %v", err)
			}
		})
		t.Run("the data-protection officer erases a person other purposes hold", func(t *testing.T) {
			c := shared(t)
			must(t, e.g.DeleteContact(dpo, c.ID, 0))
			_, err := e.g.Contact(sales, c.ID)
			wantCode(t, err, tresor.ECErased)
		})
		t.Run("a purpose does not delete an interaction it may not read", func(t *testing.T) {
			c := erika()
			must(t, e.g.CreateContact(sales, c))
			in := note(c.ID, "Discount of 20% agreed.")
			must(t, e.g.CreateInteraction(sales, in))
			err := e.g.DeleteInteraction(marketing, in.ID, 0)
			wantCode(t, err, tresor.ECForbidden)
			if e := tresor.AsError(err); !strings.Contains(e.Message, "interaction.content") || e.MessageDE == "" {
				t.Fatalf("the refusal does not name what the purpose may not see in both languages: %+v", e)
			}
			got, err := e.g.Interaction(sales, in.ID)
			must(t, err)
			if got.Body != in.Body {
				t.Fatalf("the interaction changed: %+v", got)
			}
			must(t, e.g.DeleteInteraction(sales, in.ID, 0)) // its own purpose may
		})
	})
}
