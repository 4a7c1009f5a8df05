package gate_test

import (
	"slices"
	"testing"

	"tresor"
)

// TestMarketingObjectionLiftRules: an objection to direct marketing
// (Art. 21(2)) is absolute; the way back is the person's own withdrawal of
// it, recorded by the DPO with the evidence, and then their fresh consent.
func TestMarketingObjectionLiftRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, marketing, dpo := e.g, e.ctx["sales"], e.ctx["marketing"], e.ctx["data_protection"]
		c := erika()
		c.Emails = []string{"changed-her-mind@example.org"}
		must(t, g.CreateContact(sales, c))
		grant := tresor.ConsentRequest{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant,
			Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter-Einwilligung v3"}}
		objection := decisionRequest(t, e, tresor.RequestObjectionDirect, c.ID)
		_, err := g.ApplyObjection(dpo, objection.ID)
		must(t, err)

		t.Run("a marketing consent for a person who objected to direct marketing is refused", func(t *testing.T) {
			_, err := g.RecordConsent(dpo, c.ID, grant)
			wantExplained(t, err, tresor.ECSuppressed, "Art. 21 Abs. 2")
			optIn := grant
			optIn.Method = tresor.MethodDoubleOptIn
			n := len(e.mail.all())
			_, err = g.RecordConsent(dpo, c.ID, optIn)
			wantCode(t, err, tresor.ECSuppressed)
			if len(e.mail.all()) != n {
				t.Error("a double opt-in mail went to a person who objected")
			}
			// Consent to another purpose is not advertising and stays possible.
			other := grant
			other.Purpose = "service"
			_, err = g.RecordConsent(dpo, c.ID, other)
			must(t, err)
			h, err := g.Consents(dpo, c.ID)
			must(t, err)
			for _, s := range h.States {
				if s.Purpose == "marketing" && s.State == tresor.ConsentGranted {
					t.Fatalf("marketing consent recorded: %+v", s)
				}
			}
		})

		t.Run("the objection is lifted only with a reason, on a verified request of the right kind naming the person", func(t *testing.T) {
			_, err := g.Lift(dpo, objection.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing})
			wantCode(t, err, tresor.ECValidation)
			access := decisionRequest(t, e, tresor.RequestAccess, c.ID)
			_, err = g.Lift(dpo, access.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing, Reason: "Mail vom 3. März"})
			wantCode(t, err, tresor.ECConflict)
			unverified, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestWithdrawal, Channel: tresor.ArrivedByEmail,
				Address: "changed-her-mind@example.org", ReceivedAt: tresor.Date(e.clock.now().Format("2006-01-02")), ContactIDs: []string{c.ID}})
			must(t, err)
			_, err = g.Lift(dpo, unverified.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing, Reason: "Mail vom 3. März"})
			wantCode(t, err, tresor.ECConflict)
			other := erika()
			other.Emails = []string{"someone-else@example.org"}
			must(t, g.CreateContact(sales, other))
			_, err = g.Lift(dpo, objection.ID, tresor.Lift{ContactID: other.ID, What: tresor.LiftObjectionMarketing, Reason: "Mail vom 3. März"})
			wantCode(t, err, tresor.ECConflict)
			_, err = g.Lift(marketing, objection.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing, Reason: "Mail vom 3. März"})
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.RecordConsent(dpo, c.ID, grant)
			wantCode(t, err, tresor.ECSuppressed) // nothing of the above lifted it
		})

		t.Run("the DPO's record of the person's withdrawal lifts the suppression, audited; the fresh consent is then recorded", func(t *testing.T) {
			r, err := g.Lift(dpo, objection.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing,
				Reason: "Widerspruch von der Person zurückgenommen, unterschriebenes Formular Az. W-2026-17"})
			must(t, err)
			if ev := lastEvent(r); ev.Action != tresor.ActionObjectionLifted || ev.Purpose != "marketing" || ev.ContactID != c.ID || ev.Reason == "" {
				t.Errorf("event = %+v", ev)
			}
			if a := auditActions(t, g, c.ID); !slices.Contains(a, "contact.objection_lifted") {
				t.Errorf("audit = %v", a)
			}
			// The lift grants nothing: without the person's consent marketing stays refused.
			d, err := g.Reach(marketing, c.ID, "marketing", tresor.ConsentChannel("email"), true)
			must(t, err)
			if d.Allowed {
				t.Fatalf("marketing may reach the person without a new consent: %+v", d)
			}
			st, err := g.RecordConsent(dpo, c.ID, grant)
			must(t, err)
			if st.State != tresor.ConsentGranted {
				t.Fatalf("state = %s", st.State)
			}
			d, err = g.Reach(marketing, c.ID, "marketing", tresor.ConsentChannel("email"), true)
			must(t, err)
			if !d.Allowed {
				t.Errorf("the fresh consent does not let marketing write: %+v", d)
			}
			_, err = g.Lift(dpo, objection.ID, tresor.Lift{ContactID: c.ID, What: tresor.LiftObjectionMarketing, Reason: "noch einmal"})
			wantCode(t, err, tresor.ECConflict) // nothing left to lift
		})

		t.Run("a double opt-in asked before the objection cannot be confirmed after it", func(t *testing.T) {
			d := erika()
			d.Emails = []string{"asked-before@example.org"}
			must(t, g.CreateContact(sales, d))
			optIn := grant
			optIn.Method = tresor.MethodDoubleOptIn
			_, err := g.RecordConsent(marketing, d.ID, optIn)
			must(t, err)
			tok := link(t, e.mail.last(t).Text, "/consent/confirm")
			_, err = g.Object(dpo, d.ID)
			must(t, err)
			_, err = g.ConfirmConsent(bg, tok, "192.0.2.1")
			wantCode(t, err, tresor.ECSuppressed)
		})
	})
}
