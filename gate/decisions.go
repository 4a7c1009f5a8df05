package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"tresor"
	"tresor/policy"
)

var _ tresor.DecisionService = (*Gate)(nil)

// The decisions on requests of data subjects that change data (issue [2.4]
// §1). Every one is the data-protection officer's (the data_protection
// purpose), concerns a contact the request names, and is recorded in the
// request's sealed history and in the audit trail. Acting on a request's
// data needs a request that is open and whose requester's identity was
// verified (Art. 12(6)); lifting a restriction or an objection is a
// decision of its own and may come after the answer.

// ---- enforcement of objections to processing on legitimate interest

// interestAllowed refuses processing of the contact for the declared purpose
// when the person objected under Art. 21(1), the purpose rests on legitimate
// interest for them, and no compelling grounds were recorded for it.
func (g *Gate) interestAllowed(ctx context.Context, r tresor.Reader, req *request, contactID string, prov tresor.Provenance) error {
	if req == nil || req.pu == nil || req.pu.SeesRestricted || contactID == "" {
		return nil
	}
	records, err := prov.Records()
	if err != nil {
		return err
	}
	if !policy.RestsOnInterest(req.pu, records) {
		return nil
	}
	o, found, err := req.interestObjection(ctx, r, contactID)
	if err != nil || !found {
		return err
	}
	return policy.CheckInterestObjection(req.pu, records, true, o.Overridden(req.pu.ID))
}

// personInterest is interestAllowed for a record that names a person. The
// objection is looked up first: most people have none, and then the
// contact is not read.
func (g *Gate) personInterest(ctx context.Context, r tresor.Reader, req *request, contactID string) error {
	if req == nil || req.pu == nil || req.pu.SeesRestricted || contactID == "" ||
		!slices.Contains(req.pu.LegalBases, tresor.BasisLegitimateInterest) {
		return nil
	}
	o, found, err := req.interestObjection(ctx, r, contactID)
	if err != nil || !found {
		return err
	}
	if o.Overridden(req.pu.ID) {
		return nil
	}
	row, err := r.Contact(ctx, contactID)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil
	} else if err != nil {
		return err
	}
	records, err := row.Provenance.Records()
	if err != nil {
		return err
	}
	return policy.CheckInterestObjection(req.pu, records, true, false)
}

// reachObjected is the outbound gate's part: a message to a person who
// objected, for a purpose resting on legitimate interest, does not go out.
func (g *Gate) reachObjected(ctx context.Context, req *request, c *tresor.Contact) (tresor.ReachDecision, bool, error) {
	err := g.interestAllowed(ctx, g.store.Read(), req, c.ID, c.Provenance)
	if tresor.ErrorCode(err) == tresor.ECObjectedInterest {
		return tresor.ReachDecision{Reasons: []tresor.Reason{policy.Explain(policy.RObjectedInterest, req.pu.ID)}}, true, nil
	}
	return tresor.ReachDecision{}, err != nil, err
}

// mergeInterestObjections carries an objection under Art. 21(1) of the
// absorbed contact over to the survivor: an objection on either side wins,
// from the earlier day, and compelling grounds hold only for the purposes
// recorded on both.
func mergeInterestObjections(ctx context.Context, tx tresor.Tx, into, from string) error {
	a, err := tx.InterestObjection(ctx, from)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil
	} else if err != nil {
		return err
	}
	s, err := tx.InterestObjection(ctx, into)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		a.ContactID = into
		return tx.PutInterestObjection(ctx, a)
	} else if err != nil {
		return err
	}
	if a.ObjectedAt.Before(s.ObjectedAt) {
		s.ObjectedAt, s.RequestID = a.ObjectedAt, a.RequestID
	}
	var both []tresor.GroundsOverride
	for _, gr := range s.Grounds {
		if a.Overridden(gr.Purpose) {
			both = append(both, gr)
		}
	}
	s.Grounds = both
	return tx.PutInterestObjection(ctx, s)
}

// ---- the request a decision belongs to

// acting checks that the request may be acted on: one of the kinds, open,
// the requester's identity verified.
func acting(r *tresor.Request, kinds ...tresor.RequestKind) error {
	if len(kinds) > 0 && !slices.Contains(kinds, r.Kind) {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		return tresor.Errorf(tresor.ECConflict, "This is a request of kind %s; this decision belongs to a request of kind %s.", r.Kind, strings.Join(names, " or "))
	}
	if !r.State.Open() {
		return tresor.Errorf(tresor.ECConflict, "The request is %s; decisions on its data are taken while it is open.", r.State)
	}
	for _, e := range r.History {
		if e.State == tresor.RequestIdentityVerified && e.Action == "" {
			return nil
		}
	}
	return tresor.Errorf(tresor.ECConflict, "The requester's identity is not verified yet (Art. 12(6) GDPR): move the request to identity_verified first.")
}

// requestNames checks that the request names the contact.
func requestNames(r *tresor.Request, contactID string) error {
	if contactID == "" {
		return fieldError("request", "contact_id", "is required: the contact the request concerns")
	}
	if !slices.Contains(r.ContactIDs, contactID) {
		return tresor.Errorf(tresor.ECConflict, "The request does not name the contact %s; link the contact to the request first.", contactID)
	}
	return nil
}

// decide runs fn on the stored request inside one transaction with the
// changes fn makes to contacts, appends the events fn returns to the
// request's history (an identity_verified request goes in_progress) and
// records action.
func (g *Gate) decide(ctx context.Context, action, id string, fn func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error)) (*tresor.Request, error) {
	return g.changeRequestTx(ctx, action, id, nil, func(tx tresor.Tx, req *request, r *tresor.Request) error {
		events, err := fn(tx, req, r)
		if err != nil {
			return err
		}
		if r.State == tresor.RequestIdentityVerified {
			r.State = tresor.RequestInProgress
			r.History = append(r.History, tresor.RequestEvent{At: req.now, State: tresor.RequestInProgress, By: req.ownerID()})
		}
		for _, e := range events {
			e.At, e.State, e.By = req.now, r.State, req.ownerID()
			r.History = append(r.History, e)
		}
		return nil
	})
}

// readRequest reads the request for a decision, recorded as a read.
func (g *Gate) readRequest(ctx context.Context, id string) (*tresor.Request, error) {
	r, err := g.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Damaged {
		return nil, policy.Refuse(policy.RDamaged, "request", id)
	}
	return r, nil
}

// ---- rectification (Art. 16) and the recipients (Art. 19)

// rectifiable are the fields of a contact a rectification may change.
var rectifiable = []string{"given_name", "family_name", "emails", "phones", "postal_address", "social_handles",
	"organization", "position", "preferred_language"}

// Rectify changes the contact's fields as the request asks, through the
// normal update path (validation, the purpose's categories, the screening
// for special categories), on the legal basis of the duty to rectify
// (Art. 6(1)(c) with Art. 16), and records each field's old and new value in
// the request's sealed history. The audit trail records contact.update and
// request.rectify.
func (g *Gate) Rectify(ctx context.Context, id string, in tresor.Rectification) (*tresor.Rectified, error) {
	r, err := g.readRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := acting(r, tresor.RequestRectification); err != nil {
		return nil, err
	}
	if err := requestNames(r, in.ContactID); err != nil {
		return nil, err
	}
	if len(in.Changes) == 0 {
		return nil, fieldError("rectification", "changes", "name at least one field and its new value")
	}
	var fields []string
	for f := range in.Changes {
		if !slices.Contains(rectifiable, f) {
			return nil, fieldError("rectification", "changes", "%q is not a field a rectification changes; the fields are %s", f, strings.Join(rectifiable, ", "))
		}
		fields = append(fields, f)
	}
	sort.Strings(fields)
	before, err := g.Contact(ctx, in.ContactID)
	if err != nil {
		return nil, err
	}
	patch := map[string]json.RawMessage{"legal_basis": json.RawMessage(`"legal_obligation"`), "source": json.RawMessage(`"manual"`)}
	for f, v := range in.Changes {
		patch[f] = v
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	after, err := g.UpdateContact(ctx, in.ContactID, tresor.Update{Patch: body, IfVersion: before.Version})
	if err != nil {
		return nil, err
	}
	was, is := detailsJSON(&before.ContactDetails), detailsJSON(&after.ContactDetails)
	var changes []tresor.FieldChange
	for _, f := range fields {
		if !bytes.Equal(was[f], is[f]) {
			changes = append(changes, tresor.FieldChange{Field: f, Old: orNull(was[f]), New: orNull(is[f])})
		}
	}
	out, err := g.decide(ctx, "request.rectify", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		return []tresor.RequestEvent{{Action: tresor.ActionRectified, ContactID: in.ContactID, Changes: changes}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &tresor.Rectified{Request: out, Contact: after, Changes: nonNil(changes)}, nil
}

func detailsJSON(d *tresor.ContactDetails) map[string]json.RawMessage {
	b, _ := json.Marshal(d)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// RequestRecipients lists to whom the data of the request's contacts went,
// as far as the store keeps it: mails, calls, meetings and social messages
// Tresor recorded as sent to the person (outbound interactions), and
// campaign mails (the audit trail's campaign.send). The audit trail records
// request.recipients.
func (g *Gate) RequestRecipients(ctx context.Context, id string) ([]tresor.Recipient, error) {
	r, err := g.readRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []tresor.Recipient{}
	rd := g.store.Read()
	for _, cid := range r.ContactIDs {
		byKey := map[string]*tresor.Recipient{}
		var keys []string
		add := func(kind, channel string, at time.Time) {
			k := kind + "\x00" + channel
			rc := byKey[k]
			if rc == nil {
				rc = &tresor.Recipient{ContactID: cid, Kind: kind, Channel: channel, First: at, Last: at}
				byKey[k] = rc
				keys = append(keys, k)
			}
			rc.Count++
			if at.Before(rc.First) {
				rc.First = at
			}
			if at.After(rc.Last) {
				rc.Last = at
			}
		}
		page := tresor.Page{Limit: 500}
		for {
			rows, err := rd.Interactions(ctx, tresor.InteractionFilter{ContactID: cid, Page: page})
			if err != nil {
				return nil, err
			}
			for _, row := range rows {
				if row.Direction == tresor.DirectionOutbound && row.Kind != tresor.KindNote {
					add(string(row.Kind), row.Network, row.OccurredAt)
				}
			}
			if len(rows) < page.Limit {
				break
			}
			page.After = rows[len(rows)-1].ID
		}
		f := tresor.AuditFilter{ContactID: cid, Action: "campaign.send", Page: tresor.Page{Limit: 500}}
		entries, err := rd.AuditEntries(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			campaign, _, _ := strings.Cut(strings.TrimPrefix(e.Detail, "campaign="), " ")
			add("campaign", campaign, e.At)
		}
		for _, k := range keys {
			out = append(out, *byKey[k])
		}
	}
	if err := g.record(ctx, g.entry(ctx, "request.recipients", "contact", r.ContactIDs, nil, nil)); err != nil {
		return nil, err
	}
	return out, nil
}

// NotifyRecipients records that the recipients were told of the
// rectification, erasure or restriction (Art. 19), or why not: it proved
// impossible or would involve disproportionate effort. The note is
// required. The audit trail records request.recipients_notified.
func (g *Gate) NotifyRecipients(ctx context.Context, id string, n tresor.RecipientsNotice) (*tresor.Request, error) {
	note, err := requestReason("note", n.Note)
	if err != nil {
		return nil, err
	}
	ev := tresor.RequestEvent{Action: tresor.ActionRecipientsNotified, Reason: note}
	switch {
	case n.Notified && n.Because != "":
		return nil, fieldError("recipients_notice", "because", "is given only when the recipients were not notified")
	case !n.Notified && n.Because != tresor.NotifyImpossible && n.Because != tresor.NotifyDisproportionate:
		return nil, fieldError("recipients_notice", "because", "say why the recipients were not notified: impossible or disproportionate_effort (Art. 19 GDPR)")
	case !n.Notified:
		ev.Action, ev.Reason = tresor.ActionRecipientsNot, string(n.Because)+": "+note
	}
	return g.decide(ctx, "request.recipients_notified", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		if err := acting(r, tresor.RequestRectification, tresor.RequestErasure, tresor.RequestRestriction); err != nil {
			return nil, err
		}
		return []tresor.RequestEvent{ev}, nil
	})
}

// ---- objection (Art. 21)

// ApplyObjection applies the request's objection to each contact it names.
// An objection to processing on legitimate interest (kind objection,
// Art. 21(1)) stops every purpose that rests on legitimate interest for the
// person until the DPO records compelling grounds for it; an objection to
// direct marketing (kind objection_marketing, Art. 21(2)) is the absolute
// one of POST /contacts/{id}/objection. The audit trail records
// contact.objected for each contact and request.object.
func (g *Gate) ApplyObjection(ctx context.Context, id string) (*tresor.Request, error) {
	r, err := g.readRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := acting(r, tresor.RequestObjection, tresor.RequestObjectionDirect); err != nil {
		return nil, err
	}
	if len(r.ContactIDs) == 0 {
		return nil, tresor.Errorf(tresor.ECConflict, "The request names no contact yet; link the contacts it concerns first.")
	}
	if r.Kind == tresor.RequestObjectionDirect {
		for _, cid := range r.ContactIDs {
			if _, err := g.Object(ctx, cid); err != nil {
				return nil, err
			}
		}
	}
	return g.decide(ctx, "request.object", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		var events []tresor.RequestEvent
		for _, cid := range r.ContactIDs {
			purpose := "marketing"
			if r.Kind == tresor.RequestObjection {
				purpose = string(tresor.BasisLegitimateInterest)
				if _, err := tx.Contact(ctx, cid); err != nil {
					return nil, err
				}
				// An objection already on record stays as it is, with the
				// grounds recorded against it.
				_, err := tx.InterestObjection(ctx, cid)
				if tresor.ErrorCode(err) == tresor.ECNotFound {
					o := &tresor.InterestObjection{ContactID: cid, ObjectedAt: req.now, RequestID: r.ID}
					if err := tx.PutInterestObjection(ctx, o); err != nil {
						return nil, err
					}
				} else if err != nil {
					return nil, err
				}
				if err := g.eventIn(ctx, tx, "contact.objected", cid, purpose); err != nil {
					return nil, err
				}
			}
			events = append(events, tresor.RequestEvent{Action: tresor.ActionObjected, ContactID: cid, Purpose: purpose})
		}
		return events, nil
	})
}

// RecordCompellingGrounds records the DPO's decision that compelling
// legitimate grounds for the processing for one purpose override the
// person's interests (Art. 21(1) second sentence): the purpose may process
// the person's data again. Never for direct marketing (Art. 21(3)), and
// only for a purpose that rests on legitimate interest for the person. The
// reason goes into the request's sealed history; the audit trail records
// contact.compelling_grounds with the purpose, and request.grounds.
func (g *Gate) RecordCompellingGrounds(ctx context.Context, id string, c tresor.CompellingGrounds) (*tresor.Request, error) {
	reason, err := requestReason("reason", c.Reason)
	if err != nil {
		return nil, err
	}
	pu, ok := g.policy.Purpose(c.Purpose)
	if !ok {
		return nil, policy.Refuse(policy.RPurposeUnknown, c.Purpose, strings.Join(g.purposeIDs(), ", "))
	}
	if pu.DirectMarketing() {
		return nil, policy.Refuse(policy.RGroundsDirectMarketing, pu.ID)
	}
	return g.decide(ctx, "request.grounds", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		if err := acting(r, tresor.RequestObjection); err != nil {
			return nil, err
		}
		if err := requestNames(r, c.ContactID); err != nil {
			return nil, err
		}
		row, err := tx.Contact(ctx, c.ContactID)
		if err != nil {
			return nil, err
		}
		records, err := row.Provenance.Records()
		if err != nil {
			return nil, err
		}
		if !policy.RestsOnInterest(pu, records) {
			return nil, policy.Refuse(policy.RGroundsNoInterest, pu.ID)
		}
		o, err := tx.InterestObjection(ctx, c.ContactID)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return nil, tresor.Errorf(tresor.ECConflict, "The person has no objection to processing on legitimate interest on record; apply the request's objection first.")
		} else if err != nil {
			return nil, err
		}
		if !o.Overridden(pu.ID) {
			o.Grounds = append(o.Grounds, tresor.GroundsOverride{Purpose: pu.ID, DecidedAt: req.now, DecidedBy: req.actor.String(), RequestID: r.ID})
		}
		if err := tx.PutInterestObjection(ctx, o); err != nil {
			return nil, err
		}
		if err := g.eventIn(ctx, tx, "contact.compelling_grounds", c.ContactID, pu.ID); err != nil {
			return nil, err
		}
		return []tresor.RequestEvent{{Action: tresor.ActionCompellingGrounds, ContactID: c.ContactID, Purpose: pu.ID, Reason: reason}}, nil
	})
}

// ---- restriction (Art. 18) and lifting

// ApplyRestriction restricts the processing of every contact the request
// names (Art. 18): from now on only data protection sees them. The audit
// trail records contact.restricted for each and request.restrict.
func (g *Gate) ApplyRestriction(ctx context.Context, id string) (*tresor.Request, error) {
	return g.decide(ctx, "request.restrict", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		if err := acting(r, tresor.RequestRestriction); err != nil {
			return nil, err
		}
		if len(r.ContactIDs) == 0 {
			return nil, tresor.Errorf(tresor.ECConflict, "The request names no contact yet; link the contacts it concerns first.")
		}
		var events []tresor.RequestEvent
		for _, cid := range r.ContactIDs {
			row, c, err := g.openContact(ctx, tx, cid)
			if err != nil {
				return nil, err
			}
			if c.RestrictedAt == nil {
				c.RestrictedAt = &req.now
				if _, err := g.rewriteContact(ctx, tx, c, row, req); err != nil {
					return nil, err
				}
				if err := g.eventIn(ctx, tx, "contact.restricted", cid, "request"); err != nil {
					return nil, err
				}
			}
			events = append(events, tresor.RequestEvent{Action: tresor.ActionRestricted, ContactID: cid})
		}
		return events, nil
	})
}

// Lift ends a restriction (Art. 18(3): the person is told before) or an
// objection to processing on legitimate interest the person withdrew, by a
// recorded decision of the DPO with its reason, on a request of the same
// kind that names the contact. An objection to direct marketing is lifted
// only as the person's own withdrawal of it (liftMarketingObjection). The
// audit trail records contact.restriction_lifted or contact.objection_lifted
// and request.lift.
func (g *Gate) Lift(ctx context.Context, id string, l tresor.Lift) (*tresor.Request, error) {
	reason, err := requestReason("reason", l.Reason)
	if err != nil {
		return nil, err
	}
	if l.What == tresor.LiftObjectionMarketing {
		return g.liftMarketingObjection(ctx, id, l.ContactID, reason)
	}
	kind := map[tresor.LiftKind]tresor.RequestKind{tresor.LiftRestriction: tresor.RequestRestriction, tresor.LiftObjection: tresor.RequestObjection}[l.What]
	if kind == "" {
		return nil, fieldError("lift", "what", "is restriction, objection or objection_marketing")
	}
	return g.decide(ctx, "request.lift", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		if r.Kind != kind {
			return nil, tresor.Errorf(tresor.ECConflict, "A %s is lifted on a request of kind %s; this one is %s.", l.What, kind, r.Kind)
		}
		if err := requestNames(r, l.ContactID); err != nil {
			return nil, err
		}
		row, c, err := g.openContact(ctx, tx, l.ContactID)
		if err != nil {
			return nil, err
		}
		ev := tresor.RequestEvent{ContactID: l.ContactID, Reason: reason}
		switch l.What {
		case tresor.LiftRestriction:
			if c.RestrictedAt == nil {
				return nil, tresor.Errorf(tresor.ECConflict, "The processing of this contact is not restricted.")
			}
			c.RestrictedAt = nil
			if _, err := g.rewriteContact(ctx, tx, c, row, req); err != nil {
				return nil, err
			}
			ev.Action = tresor.ActionRestrictionLifted
			return []tresor.RequestEvent{ev}, g.eventIn(ctx, tx, "contact.restriction_lifted", l.ContactID, "request "+r.ID)
		default:
			if _, err := tx.InterestObjection(ctx, l.ContactID); err != nil {
				if tresor.ErrorCode(err) == tresor.ECNotFound {
					return nil, tresor.Errorf(tresor.ECConflict, "The person has no objection to processing on legitimate interest on record.")
				}
				return nil, err
			}
			if err := tx.DeleteInterestObjection(ctx, l.ContactID); err != nil {
				return nil, err
			}
			ev.Action = tresor.ActionObjectionLifted
			return []tresor.RequestEvent{ev}, g.eventIn(ctx, tx, "contact.objection_lifted", l.ContactID, "request "+r.ID)
		}
	})
}

// LiftRestriction lifts the restriction of a contact outside a request, by
// the DPO, for a reason that names no personal data (it goes into the
// audit trail's contact.restriction_lifted). Restrict(…, false) refuses:
// a restriction is never lifted without a recorded reason.
func (g *Gate) LiftRestriction(ctx context.Context, contactID, reason string) (*tresor.Contact, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	reason, err = requestReason("reason", reason)
	if err != nil {
		return nil, err
	}
	var out *tresor.Contact
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, c, err := g.openContact(ctx, tx, contactID)
		if err != nil {
			return err
		}
		if what := personalIn(reason, &c.ContactDetails); what != "" {
			return policy.Refuse(policy.RReasonUnsafe, what)
		}
		if c.RestrictedAt == nil {
			return tresor.Errorf(tresor.ECConflict, "The processing of this contact is not restricted.")
		}
		c.RestrictedAt = nil
		if out, err = g.rewriteContact(ctx, tx, c, row, req); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "contact.restriction_lifted", contactID, reason)
	})
	if err != nil {
		return nil, err
	}
	return contacts.shown(req, out), nil
}

// errLiftNeedsReason refuses lifting a restriction without a reason.
func errLiftNeedsReason() error {
	return &tresor.Error{Code: tresor.ECValidation,
		Message:   "A restriction (Art. 18 GDPR) is lifted only by a recorded decision of the data-protection officer: give the reason.",
		MessageDE: "Eine Einschränkung (Art. 18 DSGVO) wird nur durch eine dokumentierte Entscheidung des Datenschutzes aufgehoben: Geben Sie den Grund an.",
		Fields:    []tresor.FieldError{{Field: "reason", Message: "is required to lift a restriction"}}}
}

// ---- erasure (Art. 17)

// EraseForRequest erases every contact the request names (Art. 17), with
// the request as the reason. A contact a legal hold keeps is not erased;
// records the law keeps (HGB §257, AO §147) survive the erasure detached
// from the person until their period ends. The answer says, per contact,
// which. The audit trail records contact.erased (or the refusal) for each
// and request.erase.
func (g *Gate) EraseForRequest(ctx context.Context, id string) (*tresor.Erased, error) {
	r, err := g.readRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := acting(r, tresor.RequestErasure); err != nil {
		return nil, err
	}
	if len(r.ContactIDs) == 0 {
		return nil, tresor.Errorf(tresor.ECConflict, "The request names no contact yet; link the contacts it concerns first.")
	}
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	reason := "data-subject request " + r.ID
	var outcomes []tresor.ErasureOutcome
	for _, cid := range r.ContactIDs {
		o := tresor.ErasureOutcome{ContactID: cid}
		retained, err := g.retainedOf(ctx, req, cid)
		if err != nil {
			return nil, err
		}
		holds, err := g.store.Read().Holds(ctx, cid)
		if err != nil {
			return nil, err
		}
		for _, h := range holds {
			if h.Active() {
				o.Holds = append(o.Holds, h.ID)
			}
		}
		e, err := g.erase(ctx, req, cid, tresor.ErasureRequest, reason, 0)
		switch code := tresor.ErrorCode(err); {
		case err == nil:
			o.Result, o.Erasure, o.Retained = "erased", e, retained
		case code == tresor.ECLegalHold:
			o.Result = "kept_legal_hold"
		case code == tresor.ECErased || code == tresor.ECNotFound:
			o.Result = "already_erased"
		default:
			if _, ok := err.(*tresor.Error); !ok {
				return nil, err
			}
			o.Result = "refused"
		}
		if err != nil {
			o.Explanation = explanationOf(err)
		}
		outcomes = append(outcomes, o)
	}
	out, err := g.decide(ctx, "request.erase", id, func(tx tresor.Tx, req *request, r *tresor.Request) ([]tresor.RequestEvent, error) {
		var events []tresor.RequestEvent
		for _, o := range outcomes {
			ev := tresor.RequestEvent{Action: tresor.ActionErased, ContactID: o.ContactID, Reason: o.Result}
			if o.Result != "erased" {
				ev.Action = tresor.ActionErasureKept
			}
			for _, k := range o.Retained {
				ev.Reason += fmt.Sprintf("; %d %s kept until %s", k.Count, k.Class, k.Until)
			}
			events = append(events, ev)
		}
		return events, nil
	})
	if err != nil {
		return nil, err
	}
	return &tresor.Erased{Request: out, Outcomes: outcomes}, nil
}

// retainedOf counts the contact's records under a running statutory period,
// by class, with the end of the longest.
func (g *Gate) retainedOf(ctx context.Context, req *request, contactID string) ([]tresor.RetainedKept, error) {
	by := map[string]*tresor.RetainedKept{}
	var classes []string
	page := tresor.Page{Limit: 500}
	for {
		rows, err := g.store.Read().Interactions(ctx, tresor.InteractionFilter{ContactID: contactID, Page: page})
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if row.RetentionClass == "" || row.RetainUntil == nil || !row.RetainUntil.After(req.now) {
				continue
			}
			k := by[row.RetentionClass]
			if k == nil {
				k = &tresor.RetainedKept{Class: row.RetentionClass}
				by[row.RetentionClass] = k
				classes = append(classes, row.RetentionClass)
			}
			k.Count++
			if d := tresor.Date(row.RetainUntil.Format(time.DateOnly)); d > k.Until {
				k.Until = d
			}
		}
		if len(rows) < page.Limit {
			break
		}
		page.After = rows[len(rows)-1].ID
	}
	sort.Strings(classes)
	var out []tresor.RetainedKept
	for _, c := range classes {
		out = append(out, *by[c])
	}
	return out, nil
}

// explanationOf is the rule a refusal explains, in both languages.
func explanationOf(err error) *tresor.Reason {
	e, ok := err.(*tresor.Error)
	if !ok {
		return nil
	}
	de := e.MessageDE
	if de == "" {
		de = e.Message
	}
	return &tresor.Reason{Code: string(e.Code), Message: e.Message, MessageDE: de}
}
