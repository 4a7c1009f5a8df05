package gate

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"tresor"
)

var _ tresor.RequestService = (*Gate)(nil)

// The register of requests of data subjects (Art. 12–22 GDPR) is the
// data-protection officer's: every call needs the data_protection purpose,
// which only the DPO role declares (an administrator is refused, as is an
// account that holds admin beside it: separation of duties). The address,
// the contacts concerned, the reasons and the history are sealed under the
// request's own key.

// requestRegister admits the data_protection purpose only, and records a
// refusal.
func (g *Gate) requestRegister(ctx context.Context, action string) (*request, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if !req.pu.SeesRestricted {
		err := &tresor.Error{Code: tresor.ECForbidden,
			Message:   fmt.Sprintf("The register of requests of data subjects is the data-protection officer's: declare the purpose data_protection, not %q.", req.pu.ID),
			MessageDE: fmt.Sprintf("Das Register der Anträge betroffener Personen führt der Datenschutz: Geben Sie den Zweck data_protection an, nicht %q.", req.pu.ID)}
		g.recordBestEffort(ctx, g.entry(ctx, action, "request", nil, nil, err))
		return nil, err
	}
	return req, nil
}

func (g *Gate) requestToRow(ctx context.Context, tx tresor.Tx, r *tresor.Request, old *tresor.RequestRow) (*tresor.RequestRow, error) {
	row := &tresor.RequestRow{Request: *r}
	row.RequestContent = tresor.RequestContent{}
	var err error
	row.Sealed, row.Sealing, err = g.sealRecord(ctx, tx, "request", r.ID, "", old.StoredKey(), &r.RequestContent)
	return row, err
}

func (g *Gate) requestFromRow(ctx context.Context, row *tresor.RequestRow) (*tresor.Request, error) {
	r := row.Request
	if _, err := g.openRecord(ctx, "request", r.ID, row.Key, row.Sealed, &r.RequestContent, nil); err != nil {
		r.RequestContent, r.Damaged = tresor.RequestContent{}, true
		return &r, err
	}
	return &r, nil
}

// requestReason checks a reason: required, one to 500 characters.
func requestReason(field, reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return "", fieldError("request", field, "say why, in up to 500 characters")
	}
	return reason, nil
}

// CreateRequest records a request that arrived; it is received, due one
// month after the day it arrived. The audit trail records request.create.
func (g *Gate) CreateRequest(ctx context.Context, n tresor.NewRequest) (*tresor.Request, error) {
	req, err := g.requestRegister(ctx, "request.create")
	if err != nil {
		return nil, err
	}
	// A day that has begun somewhere (UTC+14) is not in the future: the DPO
	// in Berlin records a letter of "today" at 00:30, while it is still
	// yesterday in UTC.
	today := tresor.Date(req.now.UTC().Add(14 * time.Hour).Format(time.DateOnly))
	if n.ReceivedAt.Valid() && n.ReceivedAt > today {
		return nil, fieldError("request", "received_at", "lies in the future; give the day the request arrived")
	}
	r := &tresor.Request{Kind: n.Kind, Channel: n.Channel, ReceivedAt: n.ReceivedAt, State: tresor.RequestReceived,
		Due: tresor.RequestDue(n.ReceivedAt)}
	r.Address, r.ContactIDs = strings.TrimSpace(n.Address), n.ContactIDs
	r.ID, r.CreatedAt, r.UpdatedAt, r.Version = newID(), req.now, req.now, 1
	r.History = []tresor.RequestEvent{{At: req.now, State: tresor.RequestReceived, By: req.ownerID()}}
	if err := r.Validate(); err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "request.create", "request", nil, nil, err))
		return nil, err
	}
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		for _, id := range r.ContactIDs {
			if _, err := tx.Contact(ctx, id); err != nil {
				return tresor.Errorf(tresor.ECInvalidReference, "contact_ids: the contact %s does not exist.", id)
			}
		}
		row, err := g.requestToRow(ctx, tx, r, nil)
		if err != nil {
			return err
		}
		if err := tx.InsertDataRequest(ctx, row); err != nil {
			return err
		}
		entry = g.entry(ctx, "request.create", "request", []string{r.ID}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "request.create", "request", nil, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return r, nil
}

// DataRequest returns one request; the audit trail records request.read.
func (g *Gate) DataRequest(ctx context.Context, id string) (*tresor.Request, error) {
	if _, err := g.requestRegister(ctx, "request.read"); err != nil {
		return nil, err
	}
	row, err := g.store.Read().DataRequest(ctx, id)
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "request.read", "request", []string{id}, nil, err))
		return nil, err
	}
	r, err := g.requestFromRow(ctx, row)
	if err != nil {
		g.log.Warn("request does not open", "request", id, "error", err)
	}
	if err := g.record(ctx, g.entry(ctx, "request.read", "request", []string{id}, nil, nil)); err != nil {
		return nil, err
	}
	return r, nil
}

// DataRequests lists requests by due date. The audit trail records
// request.list with the ids listed.
func (g *Gate) DataRequests(ctx context.Context, f tresor.RequestFilter) (*tresor.List[*tresor.Request], error) {
	_, err := g.requestRegister(ctx, "request.list")
	if err != nil {
		return nil, err
	}
	for _, s := range f.States {
		if !validRequestState(s) {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a state of requests; use open, overdue, received, identity_verified, in_progress, extended, answered or refused.", s)
		}
	}
	if f.DueBefore != "" && !f.DueBefore.Valid() {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a date in the form YYYY-MM-DD.", f.DueBefore)
	}
	if err := f.Page.Normalize(); err != nil {
		return nil, err
	}
	limit := f.Page.Limit
	f.Page.Limit++
	rows, err := g.store.Read().DataRequests(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.Request]{Items: []*tresor.Request{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = tresor.EncodeCursor(rows[limit-1].ID)
	}
	var ids []string
	for _, row := range rows {
		r, err := g.requestFromRow(ctx, row)
		if err != nil {
			g.log.Warn("request does not open", "request", row.ID, "error", err)
		}
		out.Items = append(out.Items, r)
		ids = append(ids, r.ID)
	}
	if err := g.record(ctx, g.entry(ctx, "request.list", "request", ids, nil, nil)); err != nil {
		return nil, err
	}
	return out, nil
}

// OpenRequestStates lists the states of requests not yet answered or refused.
func OpenRequestStates() []tresor.RequestState {
	var out []tresor.RequestState
	for _, s := range tresor.RequestStates() {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}

func validRequestState(s tresor.RequestState) bool {
	for _, v := range tresor.RequestStates() {
		if s == v {
			return true
		}
	}
	return false
}

// changeRequest applies fn to the stored request in one transaction and
// records action.
func (g *Gate) changeRequest(ctx context.Context, action, id string, fn func(req *request, r *tresor.Request) error) (*tresor.Request, error) {
	return g.changeRequestNoted(ctx, action, id, nil, fn)
}

// changeRequestNoted is changeRequest whose audit entry carries the detail
// fn leaves in *detail (no personal data).
func (g *Gate) changeRequestNoted(ctx context.Context, action, id string, detail *string, fn func(req *request, r *tresor.Request) error) (*tresor.Request, error) {
	return g.changeRequestTx(ctx, action, id, detail, func(_ tresor.Tx, req *request, r *tresor.Request) error { return fn(req, r) })
}

// changeRequestTx reads the request in one write transaction, lets fn
// change it (and, through tx, what else the change needs), stores it with
// the next version and records action with the detail fn leaves.
func (g *Gate) changeRequestTx(ctx context.Context, action, id string, detail *string, fn func(tx tresor.Tx, req *request, r *tresor.Request) error) (*tresor.Request, error) {
	req, err := g.requestRegister(ctx, action)
	if err != nil {
		return nil, err
	}
	var out *tresor.Request
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.DataRequest(ctx, id)
		if err != nil {
			return err
		}
		r, err := g.requestFromRow(ctx, row)
		if err != nil {
			return err
		}
		if err := fn(tx, req, r); err != nil {
			return err
		}
		prev := r.Version
		r.UpdatedAt, r.Version = req.now, prev+1
		if err := r.Validate(); err != nil {
			return err
		}
		newRow, err := g.requestToRow(ctx, tx, r, row)
		if err != nil {
			return err
		}
		if err := tx.UpdateDataRequest(ctx, newRow, prev); err != nil {
			return err
		}
		out = r
		entry = g.entry(ctx, action, "request", []string{id}, nil, nil)
		if detail != nil {
			entry.Detail = *detail
		}
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, "request", []string{id}, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return out, nil
}

// RequestState moves a request on: received → identity_verified →
// in_progress → answered or refused (a refusal with its reason, e.g.
// manifestly unfounded, Art. 12(5)). The audit trail records request.state.
func (g *Gate) RequestState(ctx context.Context, id string, to tresor.RequestState, reason string) (*tresor.Request, error) {
	reason = strings.TrimSpace(reason)
	if to == tresor.RequestRefused {
		var err error
		if reason, err = requestReason("reason", reason); err != nil {
			g.recordBestEffort(ctx, g.entry(ctx, "request.state", "request", []string{id}, nil, err))
			return nil, err
		}
	}
	return g.changeRequest(ctx, "request.state", id, func(req *request, r *tresor.Request) error {
		if to == tresor.RequestExtended {
			return fieldError("request", "state", "a deadline is extended with its reason through /extend")
		}
		if !validRequestState(to) {
			return fieldError("request", "state", "%q is not a state of requests", to)
		}
		if !tresor.RequestMoveAllowed(r.State, to) {
			return tresor.Errorf(tresor.ECConflict, "A request that is %s cannot become %s.", r.State, to)
		}
		if to == tresor.RequestIdentityVerified {
			// Verified by hand: match the address by blind index, as the link does.
			var err error
			if r.Candidates, err = g.requestCandidates(ctx, r.Address); err != nil {
				return err
			}
		}
		r.State, r.Reason = to, reason
		if !to.Open() {
			at := req.now
			r.ClosedAt = &at
		}
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: to, Reason: reason, By: req.ownerID()})
		return nil
	})
}

// ExtendRequest extends the deadline of an open request by two further
// months (Art. 12(3)), once, for the recorded reason. The audit trail
// records request.extend.
func (g *Gate) ExtendRequest(ctx context.Context, id, reason string) (*tresor.Request, error) {
	reason, err := requestReason("reason", reason)
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "request.extend", "request", []string{id}, nil, err))
		return nil, err
	}
	return g.changeRequest(ctx, "request.extend", id, func(req *request, r *tresor.Request) error {
		if r.Extended {
			return tresor.Errorf(tresor.ECConflict, "The deadline of this request was extended already; Art. 12(3) allows one extension.")
		}
		if !r.State.Open() {
			return tresor.Errorf(tresor.ECConflict, "The request is %s; only an open request is extended.", r.State)
		}
		r.State, r.Extended, r.ExtensionReason, r.Reason = tresor.RequestExtended, true, reason, reason
		r.Due = tresor.RequestExtendedDue(r.ReceivedAt)
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: tresor.RequestExtended, Reason: reason, By: req.ownerID()})
		return nil
	})
}
