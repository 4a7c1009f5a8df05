package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tresor"
	"tresor/policy"
	"tresor/vault"
)

var _ tresor.ProtectionService = (*Gate)(nil)

// WithJournal sets the file the erasure journal is copied to (one JSON
// object per line, appended and synced). It lives beside the database, so
// that a restore of an older backup can re-apply erasures even when the
// database is lost.
func WithJournal(path string) Option { return func(g *Gate) { g.journal = path } }

// JournalFile is the name of the erasure journal in the data directory.
const JournalFile = "erasures.jsonl"

// dataProtection authorises a data-protection duty: erasure, legal holds.
func (g *Gate) dataProtection(ctx context.Context) (*request, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if !req.pu.SeesRestricted {
		return nil, policy.Refuse(policy.RDataProtectionOnly, req.pu.ID)
	}
	return req, nil
}

// EraseContact erases a contact on request (Art. 17 GDPR).
func (g *Gate) EraseContact(ctx context.Context, id string, r tresor.EraseRequest) (*tresor.Erasure, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(r.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, fieldError("erasure", "reason", "say why, in up to 500 characters (a ticket number, say; no personal data)")
	}
	return g.erase(ctx, req, id, tresor.ErasureRequest, reason, 0)
}

// DeleteContact deletes a contact for the declared purpose. While other
// purposes hold the person (their provenance names them), it only ends this
// purpose's processing (see endPurpose): one purpose does not erase what
// another collected. When no other purpose holds the person, or the purpose
// is data protection's, the deletion is an erasure: the data key goes, the
// journal remembers it, and a restored backup does not bring the person back.
func (g *Gate) DeleteContact(ctx context.Context, id string, ifVersion int64) error {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return err
	}
	_, err = g.erase(ctx, req, id, tresor.ErasureDelete, "deleted by "+req.actor.String(), ifVersion)
	return err
}

// erase destroys a contact's data key and rows in one transaction and writes
// its tombstone and journal entry. A deletion under a purpose other than data
// protection of a person other purposes hold ends only that purpose's
// processing instead, and returns no erasure.
func (g *Gate) erase(ctx context.Context, req *request, id string, origin tresor.ErasureOrigin, reason string, ifVersion int64) (*tresor.Erasure, error) {
	var out *tresor.Erasure
	ended := false
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.Contact(ctx, id)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return g.erasedOr(ctx, tx, id, err)
		}
		if err != nil {
			return err
		}
		c, openErr := contacts.fromRow(ctx, g, row, nil) // a damaged contact can still be erased
		if err := contacts.guarded(ctx, g, tx, req, c); err != nil {
			return err
		}
		if c.ArchivedAt != nil && origin == tresor.ErasureDelete {
			return policy.Refuse(policy.RArchived, c.ArchivedAt.Format(time.DateOnly))
		}
		if err := checkVersion("contact", c.Version, ifVersion); err != nil {
			return err
		}
		if err := activeHolds(ctx, tx, id); err != nil {
			return err
		}
		if origin == tresor.ErasureDelete && !req.pu.SeesRestricted {
			var err error
			if ended, err = g.endPurpose(ctx, tx, req, row, c, openErr); err != nil || ended {
				return err
			}
		}
		if openErr == nil && origin == tresor.ErasureRequest {
			if what := personalIn(reason, &c.ContactDetails); what != "" {
				return policy.Refuse(policy.RReasonUnsafe, what)
			}
		}
		retained, err := g.detachRetained(ctx, tx, req, id)
		if err != nil {
			return err
		}
		if _, err := g.cancelExportsOfContacts(ctx, tx, id); err != nil {
			return err
		}
		inter, cs := g.policy.Retention.Interactions, g.policy.Retention.Cases
		n, err := tx.EraseContact(ctx, id, inter, cs)
		if err != nil {
			return err
		}
		n.InteractionsRetained = retained
		out = &tresor.Erasure{ContactID: id, ErasedAt: req.now, Actor: req.actor.String(), Origin: origin, Reason: reason, Records: n}
		if err := tx.InsertErasure(ctx, out); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "contact.erased", id, string(origin))
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "contact.erase", "contact", []string{id}, nil, err))
		return nil, err
	}
	if ended {
		return nil, nil
	}
	if err := g.appendJournal(out); err != nil {
		// The erasure is done and in the database's journal; the copy beside
		// it failed. Say so loudly: a restore needs one of the two.
		g.log.Error("erasure journal file not written", "contact", id, "error", err)
	}
	// The deleted rows' old page images leave the write-ahead log now (a
	// checkpoint); readers still in the log only delay it to the next one.
	if err := g.store.Compact(ctx, false); err != nil {
		g.log.Warn("compact after erasure", "error", err)
	}
	return out, nil
}

// endPurpose ends the declared purpose's processing of a person whom other
// purposes still hold (their provenance names them, on the contact or on its
// interactions and cases): the fields last collected for this purpose go with
// their provenance and lookup keys, and so do the person's consents for it;
// the person stays for the others. It reports false, changing nothing, when
// no other purpose holds the person: then the deletion erases. A damaged
// contact (openErr) is left to the data-protection officer.
func (g *Gate) endPurpose(ctx context.Context, tx tresor.Tx, req *request, row *tresor.ContactRow, c *tresor.Contact, openErr error) (bool, error) {
	purpose := req.pu.ID
	records, err := c.Provenance.Records()
	if err != nil {
		return false, err
	}
	others, err := g.otherHolders(ctx, tx, purpose, c.ID, records)
	if err != nil || len(others) == 0 {
		return false, err
	}
	if openErr != nil {
		return false, openErr
	}
	var fields []string
	var kept []tresor.ProvenanceRecord
	for _, r := range records {
		if r.Purpose == purpose {
			fields = append(fields, r.Fields...)
		} else {
			kept = append(kept, r)
		}
	}
	if len(kept) != len(records) {
		for _, f := range personalFields(&c.ContactDetails) {
			if slices.Contains(fields, f.Name) {
				fieldValue(&c.ContactDetails, f).SetZero()
			}
		}
		c.Provenance = tresor.NewProvenance(kept)
		if _, err := g.rewriteContact(ctx, tx, c, row, req); err != nil {
			return false, err
		}
	}
	n, err := tx.DeleteConsents(ctx, c.ID, purpose)
	if err != nil {
		return false, err
	}
	detail := fmt.Sprintf("purpose=%s fields=%s consent_events=%d held_by=%s", purpose, strings.Join(fields, ","), n, strings.Join(others, ","))
	return true, g.eventIn(ctx, tx, "contact.purpose_ended", c.ID, detail)
}

// otherHolders lists, sorted, the purposes other than purpose that hold a
// person: those named by the provenance of the contact (records) or of its
// interactions and cases.
func (g *Gate) otherHolders(ctx context.Context, r tresor.Reader, purpose, contactID string, records []tresor.ProvenanceRecord) ([]string, error) {
	var out []string
	add := func(records []tresor.ProvenanceRecord) {
		for _, rec := range records {
			if rec.Purpose != "" && rec.Purpose != purpose && !slices.Contains(out, rec.Purpose) {
				out = append(out, rec.Purpose)
			}
		}
	}
	add(records)
	if err := eachPage(func(p tresor.Page) ([]*tresor.InteractionRow, error) {
		return r.Interactions(ctx, tresor.InteractionFilter{ContactID: contactID, Page: p})
	}, func(row *tresor.InteractionRow) (string, error) {
		recs, err := row.Provenance.Records()
		add(recs)
		return row.ID, err
	}); err != nil {
		return nil, err
	}
	if err := eachPage(func(p tresor.Page) ([]*tresor.CaseRow, error) {
		return r.Cases(ctx, tresor.CaseFilter{ContactID: contactID, Page: p})
	}, func(row *tresor.CaseRow) (string, error) {
		recs, err := row.Provenance.Records()
		add(recs)
		return row.ID, err
	}); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// erasedOr answers for a contact that is not there: erased (410, with its
// tombstone) or never known (the original error).
func (g *Gate) erasedOr(ctx context.Context, r tresor.Reader, id string, notFound error) error {
	e, err := r.Erasure(ctx, id)
	if err != nil {
		return notFound
	}
	return policy.Refuse(policy.RErased, id, e.ErasedAt.Format(time.DateOnly))
}

// activeHolds refuses when a legal hold keeps the contact.
func activeHolds(ctx context.Context, r tresor.Reader, id string) error {
	holds, err := r.Holds(ctx, id)
	if err != nil {
		return err
	}
	var reasons []string
	for _, h := range holds {
		if h.Active() {
			reasons = append(reasons, h.Reason)
		}
	}
	if len(reasons) > 0 {
		return policy.Refuse(policy.RLegalHold, strings.Join(reasons, "; "))
	}
	return nil
}

// personalIn names the kind of the person's identifiers a text repeats ("" if none).
func personalIn(text string, d *tresor.ContactDetails) string {
	t := strings.ToLower(text)
	has := func(s string) bool { return len(s) >= 3 && strings.Contains(t, strings.ToLower(s)) }
	switch {
	case has(d.GivenName + " " + d.FamilyName), has(d.FamilyName) && len(d.FamilyName) >= 4:
		return "name"
	}
	for _, e := range d.Emails {
		if has(e) {
			return "e-mail address"
		}
	}
	for _, p := range d.Phones {
		if has(p) || has(strings.ReplaceAll(p, " ", "")) {
			return "phone number"
		}
	}
	for _, h := range d.SocialHandles {
		if has(h.Handle) {
			return "social handle"
		}
	}
	return ""
}

// detachRetained moves the contact's records under a running statutory floor
// (business letters, accounting records) out of the person's reach before the
// person's key is destroyed: each is sealed again under a key of its own,
// archived, and loses the link to the person. Retention erases it when its
// floor ends.
func (g *Gate) detachRetained(ctx context.Context, tx tresor.Tx, req *request, contactID string) (int, error) {
	n := 0
	page := tresor.Page{Limit: 500}
	for {
		rows, err := tx.Interactions(ctx, tresor.InteractionFilter{ContactID: contactID, Page: page})
		if err != nil {
			return n, err
		}
		for _, row := range rows {
			if row.RetentionClass == "" || row.RetainUntil == nil || !row.RetainUntil.After(req.now) {
				continue
			}
			in, err := interactions.fromRow(ctx, g, row, nil)
			if err != nil {
				return n, err
			}
			in.ContactID = ""
			if in.ArchivedAt == nil {
				in.ArchivedAt = &req.now
			}
			in.Version, in.UpdatedAt = row.Version+1, req.now
			newRow, err := interactions.toRow(ctx, tx, g, in, row)
			if err != nil {
				return n, err
			}
			if err := tx.UpdateInteraction(ctx, newRow, row.Version); err != nil {
				return n, err
			}
			n++
		}
		if len(rows) < page.Limit {
			return n, nil
		}
		page.After = rows[len(rows)-1].ID
	}
}

// appendJournal copies an erasure to the journal file.
func (g *Gate) appendJournal(e *tresor.Erasure) error {
	if g.journal == "" {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return vault.AppendFile(g.journal, append(b, '\n'))
}

// ReadJournal reads an erasure journal file; a missing file is an empty journal.
func ReadJournal(path string) ([]tresor.Erasure, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []tresor.Erasure
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e tresor.Erasure
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			if i == len(lines)-1 {
				continue // torn by a crash while appending; the database's journal has it
			}
			return nil, fmt.Errorf("%s, line %d: %w", path, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ContactErasure returns the tombstone of an erased contact.
func (g *Gate) ContactErasure(ctx context.Context, id string) (*tresor.Erasure, error) {
	if _, err := g.dataProtection(ctx); err != nil {
		return nil, err
	}
	return g.store.Read().Erasure(ctx, id)
}

// PlaceHold places a legal hold on a contact.
func (g *Gate) PlaceHold(ctx context.Context, contactID, reason string) (*tresor.LegalHold, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, fieldError("legal_hold", "reason", "say why, in up to 500 characters (a case or file number; no personal data)")
	}
	h := &tresor.LegalHold{ID: newID(), ContactID: contactID, Reason: reason, PlacedBy: req.actor.String(), PlacedAt: req.now}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if _, err := tx.Contact(ctx, contactID); err != nil {
			if tresor.ErrorCode(err) == tresor.ECNotFound {
				return g.erasedOr(ctx, tx, contactID, err)
			}
			return err
		}
		if err := tx.InsertHold(ctx, h); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "contact.hold_placed", contactID, h.ID)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// ReleaseHold releases a legal hold.
func (g *Gate) ReleaseHold(ctx context.Context, id string) (*tresor.LegalHold, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	var out *tresor.LegalHold
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		ok, err := tx.ReleaseHold(ctx, id, req.actor.String(), req.now)
		if err != nil {
			return err
		}
		if out, err = tx.Hold(ctx, id); err != nil {
			return err
		}
		if !ok {
			return tresor.Errorf(tresor.ECConflict, "The legal hold %s was released already.", id)
		}
		return g.eventIn(ctx, tx, "contact.hold_released", out.ContactID, id)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Holds lists a contact's legal holds.
func (g *Gate) Holds(ctx context.Context, contactID string) ([]tresor.LegalHold, error) {
	if _, err := g.dataProtection(ctx); err != nil {
		return nil, err
	}
	r := g.store.Read()
	if _, err := r.Contact(ctx, contactID); err != nil {
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return nil, g.erasedOr(ctx, r, contactID, err)
		}
		return nil, err
	}
	hs, err := r.Holds(ctx, contactID)
	if err != nil {
		return nil, err
	}
	if err := g.record(ctx, g.entry(ctx, "contact.holds_read", "contact", []string{contactID}, nil, nil)); err != nil {
		return nil, err
	}
	return nonNil(hs), nil
}

// CloseContact ends a customer relation: the contact and its interactions,
// cases and deals are archived — read-only and seen only under the
// data-protection purpose — and retention counts from now.
func (g *Gate) CloseContact(ctx context.Context, id string) (*tresor.Contact, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.Contact(ctx, id)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return g.erasedOr(ctx, tx, id, err)
		}
		if err != nil {
			return err
		}
		c, err := contacts.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		if err := contacts.guarded(ctx, g, tx, req, c); err != nil {
			return err
		}
		if c.ArchivedAt != nil {
			return policy.Refuse(policy.RArchived, c.ArchivedAt.Format(time.DateOnly))
		}
		if err := tx.ArchiveContact(ctx, id, req.now); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "contact.closed", id, "")
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "contact.close", "contact", []string{id}, nil, err))
		return nil, err
	}
	if !req.pu.SeesRestricted {
		return nil, nil // archived: the caller's purpose no longer sees it
	}
	return g.Contact(ctx, id)
}

// eachPage hands every row of a keyset-paginated list to fn, which returns
// the row's id (the key of the next page).
func eachPage[R any](list func(tresor.Page) ([]R, error), fn func(R) (string, error)) error {
	for page := (tresor.Page{Limit: 500}); ; {
		rows, err := list(page)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if page.After, err = fn(row); err != nil {
				return err
			}
		}
		if len(rows) < page.Limit {
			return nil
		}
	}
}
