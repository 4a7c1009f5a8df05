package gate_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"tresor"
)

// decisionRequest records a request of the kind for the contacts and
// verifies the requester's identity.
func decisionRequest(t *testing.T, e *privacyEnv, kind tresor.RequestKind, contactIDs ...string) *tresor.Request {
	t.Helper()
	dpo := e.ctx["data_protection"]
	r, err := e.g.CreateRequest(dpo, tresor.NewRequest{Kind: kind, Channel: tresor.ArrivedByEmail, Address: "erika@example.org",
		ReceivedAt: tresor.Date(e.clock.now().Format("2006-01-02")), ContactIDs: contactIDs})
	must(t, err)
	r, err = e.g.RequestState(dpo, r.ID, tresor.RequestIdentityVerified, "")
	must(t, err)
	return r
}

// interestContact is a contact sales keeps on legitimate interest only.
func interestContact(t *testing.T, e *privacyEnv, email string) *tresor.Contact {
	t.Helper()
	c := erika()
	c.Emails = []string{email}
	c.LegalBasis, c.BalancingNote = tresor.BasisLegitimateInterest, "Messekontakt, erwartbare Ansprache"
	must(t, e.g.CreateContact(e.ctx["sales"], c))
	return c
}

func lastEvent(r *tresor.Request) tresor.RequestEvent { return r.History[len(r.History)-1] }

func wantExplained(t *testing.T, err error, code tresor.Code, de string) {
	t.Helper()
	wantCode(t, err, code)
	if e := tresor.AsError(err); e.MessageDE == "" || !strings.Contains(e.MessageDE, de) {
		t.Errorf("the refusal does not explain the rule in German (%q): %+v", de, e)
	}
}

func TestObjectionToLegitimateInterestRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, service, marketing, dpo := e.g, e.ctx["sales"], e.ctx["service"], e.ctx["marketing"], e.ctx["data_protection"]
		c := interestContact(t, e, "li@example.org")
		customer := erika() // a contract: not legitimate interest
		customer.Emails = []string{"customer@example.org"}
		must(t, g.CreateContact(sales, customer))
		in := &tresor.Interaction{Kind: tresor.KindCall, Direction: tresor.DirectionOutbound, ContactID: c.ID,
			InteractionContent: tresor.InteractionContent{Body: "Anruf"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateInteraction(sales, in))
		r := decisionRequest(t, e, tresor.RequestObjection, c.ID, customer.ID)

		t.Run("Art. 21(1): an objection stops processing that rests on legitimate interest", func(t *testing.T) {
			r2, err := g.ApplyObjection(dpo, r.ID)
			must(t, err)
			if ev := lastEvent(r2); ev.Action != tresor.ActionObjected || r2.State != tresor.RequestInProgress {
				t.Fatalf("history = %+v, state %s", r2.History, r2.State)
			}
			_, err = g.Contact(sales, c.ID)
			wantExplained(t, err, tresor.ECObjectedInterest, "Art. 21 Abs. 1")
			_, err = g.UpdateContact(sales, c.ID, tresor.Update{Patch: json.RawMessage(`{"position":"CEO"}`)})
			wantCode(t, err, tresor.ECObjectedInterest)
			_, err = g.Interaction(sales, in.ID)
			wantCode(t, err, tresor.ECObjectedInterest)
			il, err := g.Interactions(sales, tresor.InteractionFilter{})
			must(t, err)
			if slices.Contains(idsOf(il.Items), in.ID) {
				t.Errorf("sales lists the objected person's interaction")
			}
			l, err := g.Contacts(sales, tresor.ContactFilter{})
			must(t, err)
			if slices.Contains(idsOf(l.Items), c.ID) || !slices.Contains(idsOf(l.Items), customer.ID) {
				t.Errorf("sales lists %v", idsOf(l.Items))
			}
			d, err := g.Reach(service, c.ID, "service", tresor.ConsentChannel("email"), false)
			must(t, err)
			if d.Allowed || d.Reasons[0].Code != string(tresor.ECObjectedInterest) {
				t.Errorf("the outbound gate lets a message through: %+v", d)
			}
			// Data on a contract is not processed on legitimate interest.
			if _, err := g.Contact(sales, customer.ID); err != nil {
				t.Errorf("a contract customer is refused: %v", err)
			}
			// The DPO still sees the person.
			if _, err := g.Contact(dpo, c.ID); err != nil {
				t.Errorf("the DPO is refused: %v", err)
			}
		})

		t.Run("compelling grounds re-allow one purpose, recorded with the reason", func(t *testing.T) {
			_, err := g.RecordCompellingGrounds(dpo, r.ID, tresor.CompellingGrounds{ContactID: c.ID, Purpose: "sales"})
			wantCode(t, err, tresor.ECValidation)
			_, err = g.RecordCompellingGrounds(dpo, r.ID, tresor.CompellingGrounds{ContactID: customer.ID, Purpose: "sales", Reason: "x"})
			wantCode(t, err, tresor.ECConflict) // the customer's data rests on a contract
			_, err = g.RecordCompellingGrounds(sales, r.ID, tresor.CompellingGrounds{ContactID: c.ID, Purpose: "sales", Reason: "Forderung offen"})
			wantCode(t, err, tresor.ECForbidden)
			r2, err := g.RecordCompellingGrounds(dpo, r.ID, tresor.CompellingGrounds{ContactID: c.ID, Purpose: "sales", Reason: "Offene Forderung, Az. 12/26"})
			must(t, err)
			if ev := lastEvent(r2); ev.Action != tresor.ActionCompellingGrounds || ev.Purpose != "sales" || ev.Reason != "Offene Forderung, Az. 12/26" {
				t.Errorf("event = %+v", ev)
			}
			if _, err := g.Contact(sales, c.ID); err != nil {
				t.Errorf("sales is still refused after compelling grounds: %v", err)
			}
			_, err = g.Contact(service, c.ID)
			wantCode(t, err, tresor.ECObjectedInterest)
			if a := auditActions(t, g, c.ID); !slices.Contains(a, "contact.compelling_grounds") || !slices.Contains(a, "contact.objected") {
				t.Errorf("audit = %v", a)
			}
		})

		t.Run("Art. 21(2): no compelling grounds override an objection to direct marketing", func(t *testing.T) {
			_, err := g.RecordCompellingGrounds(dpo, r.ID, tresor.CompellingGrounds{ContactID: c.ID, Purpose: "marketing", Reason: "Großkunde"})
			wantExplained(t, err, tresor.ECForbidden, "Art. 21 Abs. 2")
			m := decisionRequest(t, e, tresor.RequestObjectionDirect, customer.ID)
			_, err = g.ApplyObjection(dpo, m.ID)
			must(t, err)
			_, err = g.Contact(marketing, customer.ID)
			wantCode(t, err, tresor.ECSuppressed)
		})

		t.Run("lifting an objection needs a reason, is audited and in the history", func(t *testing.T) {
			_, err := g.Lift(dpo, r.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjection})
			wantCode(t, err, tresor.ECValidation)
			r2, err := g.Lift(dpo, r.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjection, Reason: "Widerspruch zurückgenommen, Brief vom 3. März"})
			must(t, err)
			if ev := lastEvent(r2); ev.Action != tresor.ActionObjectionLifted || ev.Reason == "" {
				t.Errorf("event = %+v", ev)
			}
			if _, err := g.Contact(service, c.ID); err != nil {
				t.Errorf("service is refused after the objection was lifted: %v", err)
			}
			if a := auditActions(t, g, c.ID); !slices.Contains(a, "contact.objection_lifted") {
				t.Errorf("audit = %v", a)
			}
		})
	})
}

func TestRestrictionDecisionRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		c := erika()
		must(t, g.CreateContact(sales, c))

		t.Run("a restriction request is applied in one call and recorded", func(t *testing.T) {
			r := decisionRequest(t, e, tresor.RequestRestriction, c.ID)
			r2, err := g.ApplyRestriction(dpo, r.ID)
			must(t, err)
			if ev := lastEvent(r2); ev.Action != tresor.ActionRestricted || ev.ContactID != c.ID {
				t.Errorf("event = %+v", ev)
			}
			_, err = g.Contact(sales, c.ID)
			wantCode(t, err, tresor.ECRestricted)

			t.Run("lifting needs a reason, is audited and in the history", func(t *testing.T) {
				_, err := g.Restrict(dpo, c.ID, false)
				wantCode(t, err, tresor.ECValidation)
				_, err = g.LiftRestriction(dpo, c.ID, " ")
				wantCode(t, err, tresor.ECValidation)
				_, err = g.Lift(dpo, r.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftRestriction})
				wantCode(t, err, tresor.ECValidation)
				_, err = g.LiftRestriction(sales, c.ID, "geprüft")
				wantCode(t, err, tresor.ECForbidden)
				r3, err := g.Lift(dpo, r.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftRestriction, Reason: "Richtigkeit bestätigt, Person am 4. März informiert"})
				must(t, err)
				if ev := lastEvent(r3); ev.Action != tresor.ActionRestrictionLifted || !strings.Contains(ev.Reason, "informiert") {
					t.Errorf("event = %+v", ev)
				}
				if _, err := g.Contact(sales, c.ID); err != nil {
					t.Errorf("sales is refused after the lift: %v", err)
				}
				if a := auditActions(t, g, c.ID); !slices.Contains(a, "contact.restriction_lifted") {
					t.Errorf("audit = %v", a)
				}
			})
		})
		t.Run("a decision needs a verified identity and the right kind of request", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestRestriction, Channel: tresor.ArrivedByLetter,
				Address: "Musterweg 1", ReceivedAt: tresor.Date(e.clock.now().Format("2006-01-02")), ContactIDs: []string{c.ID}})
			must(t, err)
			_, err = g.ApplyRestriction(dpo, r.ID)
			wantCode(t, err, tresor.ECConflict)
			a := decisionRequest(t, e, tresor.RequestAccess, c.ID)
			_, err = g.ApplyRestriction(dpo, a.ID)
			wantCode(t, err, tresor.ECConflict)
		})
	})
}

func TestRectificationRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		c := erika()
		must(t, g.CreateContact(sales, c))
		other := erika()
		other.Emails = []string{"other@example.org"}
		must(t, g.CreateContact(sales, other))
		r := decisionRequest(t, e, tresor.RequestRectification, c.ID)
		rectify := func(ctx context.Context, contactID string, changes string) (*tresor.Rectified, error) {
			var m map[string]json.RawMessage
			must(t, json.Unmarshal([]byte(changes), &m))
			return g.Rectify(ctx, r.ID, tresor.Rectification{ContactID: contactID, Changes: m})
		}

		t.Run("a rectification changes the contact and records old and new", func(t *testing.T) {
			out, err := rectify(dpo, c.ID, `{"family_name":"Musterfrau","position":"Einkauf"}`)
			must(t, err)
			if out.Contact.FamilyName != "Musterfrau" || len(out.Changes) != 2 {
				t.Fatalf("rectified = %+v", out)
			}
			got, err := g.DataRequest(dpo, r.ID)
			must(t, err)
			ev := lastEvent(got)
			if ev.Action != tresor.ActionRectified || ev.ContactID != c.ID || len(ev.Changes) != 2 ||
				ev.Changes[0].Field != "family_name" || string(ev.Changes[0].Old) != `"Mustermann"` || string(ev.Changes[0].New) != `"Musterfrau"` {
				t.Errorf("event = %+v", ev)
			}
			if a := auditActions(t, g, c.ID); !slices.Contains(a, "contact.update") {
				t.Errorf("audit = %v", a)
			}
		})
		t.Run("a rectification goes through the screening for special categories", func(t *testing.T) {
			_, err := rectify(dpo, c.ID, `{"position":"Leitung, derzeit Burnout"}`)
			if code := tresor.ErrorCode(err); code != tresor.ECSpecialCategory && code != tresor.ECValidation {
				t.Fatalf("err = %v", err)
			}
			_, err = rectify(dpo, c.ID, `{"emails":"not a list"}`)
			if err == nil {
				t.Fatal("a bad value is accepted")
			}
		})
		t.Run("only fields of the contact named by the request, by the DPO", func(t *testing.T) {
			_, err := rectify(dpo, other.ID, `{"family_name":"X"}`)
			wantCode(t, err, tresor.ECConflict)
			_, err = rectify(dpo, c.ID, `{"owner_id":"x"}`)
			wantCode(t, err, tresor.ECValidation)
			_, err = rectify(sales, c.ID, `{"family_name":"X"}`)
			wantCode(t, err, tresor.ECForbidden)
		})
		t.Run("Art. 19: recipients are listed, and their notice recorded", func(t *testing.T) {
			in := &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionOutbound, ContactID: c.ID,
				InteractionContent: tresor.InteractionContent{Subject: "Angebot", Body: "..."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateInteraction(sales, in))
			rs, err := g.RequestRecipients(dpo, r.ID)
			must(t, err)
			if len(rs) != 1 || rs[0].Kind != "email" || rs[0].Count != 1 || rs[0].ContactID != c.ID {
				t.Errorf("recipients = %+v", rs)
			}
			_, err = g.NotifyRecipients(dpo, r.ID, tresor.RecipientsNotice{Notified: false, Note: "nur die Person selbst"})
			wantCode(t, err, tresor.ECValidation)
			got, err := g.NotifyRecipients(dpo, r.ID, tresor.RecipientsNotice{Because: tresor.NotifyImpossible, Note: "nur die Person selbst"})
			must(t, err)
			if ev := lastEvent(got); ev.Action != tresor.ActionRecipientsNot || !strings.Contains(ev.Reason, "impossible") {
				t.Errorf("event = %+v", ev)
			}
		})
	})
}

func TestErasureRequestRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		free, held := erika(), erika()
		free.Emails, held.Emails = []string{"free@example.org"}, []string{"held@example.org"}
		must(t, g.CreateContact(sales, free))
		must(t, g.CreateContact(sales, held))
		letter := &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionOutbound, ContactID: free.ID, RetentionClass: "business_letter",
			InteractionContent: tresor.InteractionContent{Subject: "Angebot 42", Body: "Unser Angebot"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateInteraction(sales, letter))
		h, err := g.PlaceHold(dpo, held.ID, "Klage 7 O 1/26")
		must(t, err)
		r := decisionRequest(t, e, tresor.RequestErasure, free.ID, held.ID)

		t.Run("an erasure request erases with the request as reason and reports holds and retention", func(t *testing.T) {
			out, err := g.EraseForRequest(dpo, r.ID)
			must(t, err)
			if len(out.Outcomes) != 2 {
				t.Fatalf("outcomes = %+v", out.Outcomes)
			}
			er, kept := out.Outcomes[0], out.Outcomes[1]
			if er.Result != "erased" || er.Erasure == nil || er.Erasure.Origin != tresor.ErasureRequest || !strings.Contains(er.Erasure.Reason, r.ID) {
				t.Errorf("erased = %+v", er)
			}
			if len(er.Retained) != 1 || er.Retained[0].Class != "business_letter" || er.Retained[0].Count != 1 || er.Retained[0].Until == "" {
				t.Errorf("retained = %+v", er.Retained)
			}
			if kept.Result != "kept_legal_hold" || !slices.Equal(kept.Holds, []string{h.ID}) || kept.Explanation == nil || kept.Explanation.MessageDE == "" {
				t.Errorf("kept = %+v", kept)
			}
			_, err = g.Contact(dpo, free.ID)
			wantCode(t, err, tresor.ECErased)
			if _, err := g.Contact(dpo, held.ID); err != nil {
				t.Errorf("the held contact is gone: %v", err)
			}
			got, err := g.DataRequest(dpo, r.ID)
			must(t, err)
			n := len(got.History)
			if got.History[n-2].Action != tresor.ActionErased || got.History[n-1].Action != tresor.ActionErasureKept {
				t.Errorf("history = %+v", got.History)
			}
		})
		t.Run("only the DPO", func(t *testing.T) {
			_, err := g.EraseForRequest(sales, r.ID)
			wantCode(t, err, tresor.ECForbidden)
		})
	})
}

func TestInterestObjectionSurvivesAMerge(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		survivor := interestContact(t, e, "survivor@example.org")
		absorbed := interestContact(t, e, "absorbed@example.org")
		r := decisionRequest(t, e, tresor.RequestObjection, absorbed.ID)
		_, err := g.ApplyObjection(dpo, r.ID)
		must(t, err)
		t.Run("an objection on the absorbed record stops the purpose on the survivor", func(t *testing.T) {
			_, err := g.MergeContact(dpo, survivor.ID, absorbed.ID)
			must(t, err)
			_, err = g.Contact(sales, survivor.ID)
			wantCode(t, err, tresor.ECObjectedInterest)
		})
	})
}
