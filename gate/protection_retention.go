package gate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"tresor"
	"tresor/policy"
	"tresor/vault"
)

// RunRetention applies the retention policy to every contact: a contact
// whose every datum outlived the purpose it was collected for is erased
// (statutory records are kept under their floor, see erase); a contact of
// whom only some data expired loses those fields; retained records whose
// floor ended are erased. Legal holds keep a contact as it is. With dryRun
// nothing changes and the report says what would.
func (g *Gate) RunRetention(ctx context.Context, dryRun bool) (*tresor.RetentionReport, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	rep := &tresor.RetentionReport{ID: newID(), DryRun: dryRun, StartedAt: req.now,
		Erased: []tresor.RetentionAction{}, Stripped: []tresor.RetentionAction{}, Held: []string{}, Errors: []string{}}
	if err := g.retainAll(ctx, req, rep, g.policy); err != nil {
		return nil, err
	}
	if err := g.expireRecords(ctx, req, rep); err != nil {
		return nil, err
	}
	if err := g.closeUnverifiedRequests(ctx, req, rep); err != nil {
		return nil, err
	}
	if err := g.expireRequests(ctx, req, rep); err != nil {
		return nil, err
	}
	rep.FinishedAt = tresor.Truncate(g.now())
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertRetentionRun(ctx, rep) }); err != nil {
		return nil, err
	}
	g.event(ctx, "retention.run", rep.ID, fmt.Sprintf("dry_run=%v erased=%d stripped=%d records=%d requests=%d unverified=%d held=%d errors=%d",
		dryRun, len(rep.Erased), len(rep.Stripped), rep.RecordsExpired, rep.RequestsExpired, rep.RequestsUnverified, len(rep.Held), len(rep.Errors)))
	return rep, nil
}

// retainAll decides about every contact under the policy pol and, unless
// the report is a dry run, acts.
func (g *Gate) retainAll(ctx context.Context, req *request, rep *tresor.RetentionReport, pol *policy.Policy) error {
	categoryOf := map[string]tresor.Category{}
	for _, f := range personalFields(&tresor.ContactDetails{}) {
		categoryOf[f.Name] = f.Category
	}
	after := ""
	for {
		rows, err := g.store.Read().RetentionScan(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, row := range rows {
			rep.Checked++
			if err := g.retainContact(ctx, req, rep, row, categoryOf, pol); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rep.Errors = append(rep.Errors, fmt.Sprintf("contact %s: %s", row.ID, g.publicMessage(err)))
			}
		}
		if len(rows) < 500 {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}

// retainContact decides about one contact and, unless it is a dry run, acts.
func (g *Gate) retainContact(ctx context.Context, req *request, rep *tresor.RetentionReport, row tresor.RetentionRow,
	categoryOf map[string]tresor.Category, pol *policy.Policy) error {
	records, err := row.Provenance.Records()
	if err != nil {
		return err
	}
	full, err := g.store.Read().Contact(ctx, row.ID)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil // erased meanwhile
	} else if err != nil {
		return err
	}
	present, err := sealedFieldNames(full.Sealed)
	if err != nil {
		return err
	}
	var data []policy.Datum
	for _, r := range records {
		for _, f := range r.Fields {
			if !slices.Contains(present, f) {
				continue // stored once, emptied since
			}
			data = append(data, policy.Datum{Field: f, Category: categoryOf[f], Purpose: r.Purpose, CollectedAt: r.CollectedAt})
		}
	}
	e := pol.Expire(data, row.LastInteractionAt, row.ArchivedAt, req.now)
	if len(e.Expired) == 0 {
		return nil
	}
	if row.Held {
		rep.Held = append(rep.Held, row.ID)
		return nil
	}
	action := tresor.RetentionAction{ContactID: row.ID, Rule: e.RuleText(), Categories: e.Categories}
	if e.All {
		if !rep.DryRun {
			if _, err := g.erase(ctx, req, row.ID, tresor.ErasureRetention, "retention: "+e.RuleText(), 0); err != nil {
				return err
			}
		}
		rep.Erased = append(rep.Erased, action)
		return nil
	}
	if !rep.DryRun {
		if err := g.stripFields(ctx, req, row.ID, e.Expired); err != nil {
			return err
		}
	}
	rep.Stripped = append(rep.Stripped, action)
	return nil
}

// sealedFieldNames lists the fields a stored blob holds.
func sealedFieldNames(blob []byte) ([]string, error) {
	switch {
	case len(blob) == 0:
		return nil, nil
	case blob[0] == vault.FormatSealed:
		return vault.SealedFields(blob)
	}
	// a record from before protection at rest: every field it may hold
	var out []string
	for _, f := range personalFields(&tresor.ContactDetails{}) {
		out = append(out, f.Name)
	}
	return out, nil
}

// stripFields removes expired fields from a contact, with their lookup keys
// and provenance, as a change by the system.
func (g *Gate) stripFields(ctx context.Context, req *request, id string, fields []string) error {
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		row, c, err := g.openContact(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, f := range personalFields(&c.ContactDetails) {
			if slices.Contains(fields, f.Name) {
				x := fieldValue(&c.ContactDetails, f)
				x.SetZero()
			}
		}
		records, err := c.Provenance.Records()
		if err != nil {
			return err
		}
		var kept []tresor.ProvenanceRecord
		for _, r := range records {
			r.Fields = slices.DeleteFunc(slices.Clone(r.Fields), func(f string) bool { return slices.Contains(fields, f) })
			if len(r.Fields) > 0 {
				kept = append(kept, r)
			}
		}
		c.Provenance = tresor.NewProvenance(kept)
		_, err = g.rewriteContact(ctx, tx, c, row, req)
		return err
	})
}

// expireRecords erases the retained records whose statutory floor ended.
func (g *Gate) expireRecords(ctx context.Context, req *request, rep *tresor.RetentionReport) error {
	after := ""
	for {
		ids, err := g.store.Read().ExpiredRecords(ctx, req.now, after, 500)
		if err != nil {
			return err
		}
		if !rep.DryRun {
			err = g.store.Update(ctx, func(tx tresor.Tx) error {
				for _, id := range ids {
					if err := tx.DeleteInteraction(ctx, id); err != nil && tresor.ErrorCode(err) != tresor.ECNotFound {
						return err
					}
					if err := tx.DeleteDataKey(ctx, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		rep.RecordsExpired += len(ids)
		if len(ids) < 500 {
			return nil
		}
		if rep.DryRun {
			after = ids[len(ids)-1] // a dry run deletes nothing, so it pages on
		}
	}
}

// RetentionDue reports whether the daily retention run is due: no run that
// changed data in the last interval.
func (g *Gate) RetentionDue(ctx context.Context, interval time.Duration) (bool, error) {
	last, err := g.store.Read().LastRetentionRun(ctx)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return g.now().Sub(last.StartedAt) >= interval, nil
}

// publicMessage is an error's message for a report: a Tresor error's own
// message, or a pointer to the log for anything else.
func (g *Gate) publicMessage(err error) string {
	if e := tresor.AsError(err); e != nil && e.Code != tresor.ECInternal {
		return e.Message
	}
	g.log.Error("retention", "error", err)
	return "an internal error; see the server log"
}
