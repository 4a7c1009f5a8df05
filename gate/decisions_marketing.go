package gate

import (
	"context"
	"slices"

	"tresor"
	"tresor/policy"
)

// An objection to direct marketing (Art. 21(2) GDPR) is absolute: once the
// person objected, their identifiers are on the suppression list and no
// purpose may advertise to them, whatever consent or interest there is. The
// person may change their mind, and the lawful way back is their own fresh,
// provable consent. So Tresor refuses to record a grant of marketing consent
// (or to send, or confirm, a double opt-in for it) for a person who
// objected, until the data-protection officer has recorded on a request
// that names the person that the person withdrew the objection, with the
// evidence of it as the reason (POST /api/v1/requests/{id}/lift with what
// objection_marketing). That decision takes the person's identifiers off
// the suppression list and clears the objection; it grants nothing: the
// consents the objection withdrew stay withdrawn until the person grants
// them again through the consent ledger, with its proof.

// liftableMarketing are the kinds of request on which the withdrawal of an
// objection to direct marketing is recorded: the objection's own request, or
// a request about the person's consent.
var liftableMarketing = []tresor.RequestKind{tresor.RequestObjectionDirect, tresor.RequestWithdrawal}

// errObjectionStands refuses a marketing consent for a person who objected
// to direct marketing.
func errObjectionStands() error {
	return &tresor.Error{Code: tresor.ECSuppressed,
		Message: "This person objected to direct marketing (Art. 21(2) GDPR); their identifiers are on the suppression list, so no consent to marketing is recorded for them. " +
			"If the person withdrew the objection, the data-protection officer records that first, with the evidence, on a request that names the person (lift, what: objection_marketing); then record the person's new consent with its proof.",
		MessageDE: "Diese Person hat der Direktwerbung widersprochen (Art. 21 Abs. 2 DSGVO); ihre Kennungen stehen auf der Sperrliste, daher wird keine Einwilligung in Werbung für sie erfasst. " +
			"Hat die Person den Widerspruch zurückgenommen, dokumentiert der Datenschutz das zuerst mit dem Nachweis an einem Antrag, der die Person nennt (Aufhebung, what: objection_marketing); danach die neue Einwilligung der Person mit Nachweis erfassen."}
}

// marketingObjected reports whether the person objected to direct
// marketing: the objection on the contact, or an identifier of theirs on
// the suppression list.
func marketingObjected(ctx context.Context, r tresor.Reader, c *tresor.Contact) (bool, error) {
	if c.ObjectedAt != nil {
		return true, nil
	}
	return r.ContactSuppressed(ctx, c.ID, suppressionScope)
}

// identityVerified reports whether the request's requester was identified.
func identityVerified(r *tresor.Request) bool {
	return slices.ContainsFunc(r.History, func(e tresor.RequestEvent) bool {
		return e.State == tresor.RequestIdentityVerified && e.Action == ""
	})
}

// liftMarketingObjection records that the person withdrew their objection
// to direct marketing, with the evidence as the reason: on a request of
// kind objection_marketing or consent_withdrawal whose requester was
// identified and that names the contact. The person's identifiers leave the
// suppression list and the objection is cleared; no consent is granted. The
// history records objection_lifted for marketing, the audit trail
// contact.objection_lifted (marketing) and request.lift.
func (g *Gate) liftMarketingObjection(ctx context.Context, id, contactID, reason string) (*tresor.Request, error) {
	return g.decide(ctx, "request.lift", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		if !slices.Contains(liftableMarketing, r.Kind) {
			return nil, tresor.Errorf(tresor.ECConflict, "The withdrawal of an objection to direct marketing is recorded on a request of kind objection_marketing or consent_withdrawal; this one is %s.", r.Kind)
		}
		if !identityVerified(r) {
			return nil, tresor.Errorf(tresor.ECConflict, "The requester's identity is not verified (Art. 12(6) GDPR): only the person can withdraw their objection, so verify the identity first.")
		}
		if err := requestNames(r, contactID); err != nil {
			return nil, err
		}
		row, c, err := g.openContact(ctx, tx, contactID)
		if err != nil {
			return nil, err
		}
		if c.Damaged {
			return nil, policy.Refuse(policy.RDamaged, "contact", contactID)
		}
		n, err := tx.Unsuppress(ctx, g.lookupKeys(&c.ContactDetails), suppressionScope)
		if err != nil {
			return nil, err
		}
		if n == 0 && c.ObjectedAt == nil {
			return nil, tresor.Errorf(tresor.ECConflict, "The person has no objection to direct marketing on record.")
		}
		if c.ObjectedAt != nil {
			c.ObjectedAt = nil
			if _, err := g.rewriteContact(ctx, tx, c, row, req); err != nil {
				return nil, err
			}
		}
		ev := tresor.RequestEvent{Action: tresor.ActionObjectionLifted, ContactID: contactID, Purpose: suppressionScope, Reason: reason}
		return []tresor.RequestEvent{ev}, g.eventIn(ctx, tx, "contact.objection_lifted", contactID, suppressionScope+", request "+r.ID)
	})
}
