package gate

import (
	"context"
	"fmt"
	"time"

	"tresor"
)

// Requests from the web form whose address was never verified: the
// verification link works for requestVerifyDays (7); the DPO may send a new
// one. A request nobody verified is not answered (Art. 12(6): the
// controller may ask for the information needed to confirm the identity,
// and cannot act without it), and it should not be kept open for ever with
// its sealed address. So the retention run closes it as refused when
// requestUnverifiedDays have passed since it was received, or since the
// last verification link the DPO sent, whichever is later: the link's week
// plus a grace of more than three weeks for a person who was away, and
// still within the month Art. 12(3) gives for the answer. Its history
// records the reason, the audit trail request.close_unverified; nothing is
// mailed (the address was never shown to be the person's). From then on it
// is a closed request like any other and falls under their retention
// (retention.requests_years after closing).

// requestUnverifiedDays is how long an unverified web-form request stays
// open after its receipt or its last verification link.
const requestUnverifiedDays = 30

// unverifiedReason is recorded as the reason of the refusal.
const unverifiedReason = "identity not verified (Art. 12(6))"

// unverifiedSince is the time from which an unverified request's period
// counts: the later of its receipt and the last verification link sent.
func unverifiedSince(r *tresor.Request) time.Time {
	since, _ := time.Parse(time.DateOnly, string(r.ReceivedAt))
	for _, e := range r.History {
		if e.Action == tresor.ActionVerificationSent && e.At.After(since) {
			since = e.At
		}
	}
	return since
}

// unverifiedDue reports whether the request is a web-form request still
// awaiting verification whose period ended at now.
func unverifiedDue(r *tresor.Request, now time.Time) bool {
	if r.Channel != tresor.ArrivedByWebForm || r.State != tresor.RequestReceived || r.Damaged {
		return false
	}
	return !now.Before(unverifiedSince(r).AddDate(0, 0, requestUnverifiedDays))
}

// closeUnverifiedRequests refuses the web-form requests whose identity was
// never verified within their period (see above); with rep.DryRun it only
// counts them.
func (g *Gate) closeUnverifiedRequests(ctx context.Context, req *request, rep *tresor.RetentionReport) error {
	// Received before this day at the latest: nothing newer can be due.
	latest := tresor.Date(req.now.AddDate(0, 0, -requestUnverifiedDays).Format(time.DateOnly))
	after := ""
	for {
		rows, err := g.store.Read().DataRequests(ctx, tresor.RequestFilter{States: []tresor.RequestState{tresor.RequestReceived},
			Page: tresor.Page{After: after, Limit: 500}})
		if err != nil {
			return err
		}
		for _, row := range rows {
			if row.Channel != tresor.ArrivedByWebForm || row.ReceivedAt > latest {
				continue
			}
			r, err := g.requestFromRow(ctx, row)
			if err != nil || !unverifiedDue(r, req.now) {
				continue // a damaged request is the DPO's to look at
			}
			if !rep.DryRun {
				closed, err := g.closeUnverified(ctx, req, row.ID)
				if err != nil {
					return err
				}
				if !closed {
					continue
				}
			}
			rep.RequestsUnverified++
		}
		if len(rows) < 500 {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}

// closeUnverified refuses one unverified request in its own transaction,
// checking again that it is still due (it may have been verified in the
// meantime). It reports whether it closed the request.
func (g *Gate) closeUnverified(ctx context.Context, req *request, id string) (bool, error) {
	var entry *tresor.AuditEntry
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.DataRequest(ctx, id)
		if err != nil {
			return err
		}
		r, err := g.requestFromRow(ctx, row)
		if err != nil || !unverifiedDue(r, req.now) {
			return nil
		}
		prev := r.Version
		at := req.now
		r.State, r.Reason, r.ClosedAt = tresor.RequestRefused, unverifiedReason, &at
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: tresor.RequestRefused, Reason: unverifiedReason})
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
		entry = g.entry(ctx, "request.close_unverified", "request", []string{id}, nil, nil)
		entry.Detail = fmt.Sprintf("identity not verified within %d days (Art. 12(6))", requestUnverifiedDays)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if tresor.ErrorCode(err) == tresor.ECConflict || tresor.ErrorCode(err) == tresor.ECNotFound {
		return false, nil // changed or deleted in the meantime
	}
	if err != nil || entry == nil {
		return false, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return true, nil
}
