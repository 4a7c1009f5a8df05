package gate

import (
	"context"
	"slices"
	"time"

	"tresor"
)

// An export waiting for its download is a copy of the person's data. It
// must not outlive the person (an erasure deletes it, whatever caused the
// erasure: a request, the DPO, retention or a merge) nor the link that
// replaced it (a new sending cancels the earlier links of the request).
// Both delete the stored export with its data key, so that nothing of it
// can be opened again, and note it on the request; the link then answers
// as an expired one.

// pendingForever is a time after every expiry of an export: the pending
// exports are few (each lives tresor.SubjectExportDays at most), so the
// gate lists them all rather than indexing them by person.
var pendingForever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// cancelSubjectExport deletes one pending export and its key inside tx and
// notes why on its request (if the request is still there); the audit
// trail records subject_export.cancel.
func (g *Gate) cancelSubjectExport(ctx context.Context, tx tresor.Tx, row *tresor.SubjectExportRow, note, detail string) error {
	gone, err := tx.DeleteSubjectExport(ctx, row.ID)
	if err != nil || !gone {
		return err
	}
	if err := tx.DeleteDataKey(ctx, row.ID); err != nil {
		return err
	}
	if err := g.eventIn(ctx, tx, "subject_export.cancel", row.RequestID, detail); err != nil {
		return err
	}
	err = g.noteOnRequest(ctx, tx, row.RequestID, tresor.ActionExportCancelled, note, "")
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil
	}
	return err
}

// cancelExportsOfContacts deletes, inside tx, every pending export of a
// request that names one of the contacts. It returns how many went.
func (g *Gate) cancelExportsOfContacts(ctx context.Context, tx tresor.Tx, contactIDs ...string) (int, error) {
	rows, err := tx.SubjectExportsBefore(ctx, pendingForever)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	names := map[string]bool{} // request id → names one of the contacts
	n := 0
	for _, row := range rows {
		named, seen := names[row.RequestID]
		if !seen {
			rr, err := tx.DataRequest(ctx, row.RequestID)
			if tresor.ErrorCode(err) == tresor.ECNotFound {
				continue
			} else if err != nil {
				return n, err
			}
			// A request whose sealed part cannot be opened names nobody
			// we can see; its export still ends with its link.
			r, err := g.requestFromRow(ctx, rr)
			named = err == nil && slices.ContainsFunc(contactIDs, func(id string) bool { return slices.Contains(r.ContactIDs, id) })
			names[row.RequestID] = named
		}
		if !named {
			continue
		}
		if err := g.cancelSubjectExport(ctx, tx, row,
			"The person was erased; the export prepared for them was deleted with them and its link no longer works.", "person erased"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// cancelEarlierExports deletes, inside tx, the pending exports of the
// request other than keep: only the newest link works.
func (g *Gate) cancelEarlierExports(ctx context.Context, tx tresor.Tx, requestID, keep string) (int, error) {
	rows, err := tx.SubjectExportsBefore(ctx, pendingForever)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		if row.RequestID != requestID || row.ID == keep {
			continue
		}
		if err := g.cancelSubjectExport(ctx, tx, row,
			"A new export was sent; the earlier link was cancelled and its export deleted.", "replaced by a newer export"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
