package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"tresor"
	"tresor/importer"
	"tresor/policy"
)

var _ tresor.ImportService = (*Gate)(nil)

// Import imports a file described by a request (the API's form).
func (g *Gate) Import(ctx context.Context, r io.Reader, req tresor.ImportRequest) (*tresor.ImportReport, error) {
	return g.ImportWithProgress(ctx, r, req, nil)
}

// importBatch is how many accepted rows one transaction stores: about a
// second of SQLite's single writer at the rates in docs/benchmarks.md.
const importBatch = 10000

// noticePeriod is the time Art. 14(3)(a) GDPR gives to inform the person.
const noticePeriod = 30 * 24 * time.Hour

// maxRowErrors bounds the malformed rows a report lists.
const maxRowErrors = 1000

// maxExamples bounds the examples in a report.
const maxExamples = 25

// maxExplained bounds the explanations a report groups its rows by; rows
// beyond are counted only.
const maxExplained = 200

// ImportWithProgress is Import that calls progress, if not nil, with the
// number of rows read so far. It reads the file through the ingestion
// gate: every row is checked against the rules below before anything is
// stored, and the report counts what was accepted and what was dropped,
// and why.
//
//   - The declared purpose must allow the legal basis (and legitimate
//     interest needs its balancing note); a social file names its network.
//   - Only what was publicly visible on a social network is taken: what the
//     person showed only to their connections (LinkedIn's e-mail addresses,
//     XING's phone numbers) is dropped (R9).
//   - Private fields (birthday, free-text notes, photos) are dropped; Tresor
//     stores no such fields.
//   - Special categories (Art. 9) found in a position, an organisation or a
//     note drop that field; they are counted, never stored or logged.
//   - Categories the purpose may not store are dropped (minimisation).
//   - A field a person can do without (postal address, phone number,
//     e-mail address, handle, organisation, position, language) that is
//     not valid is dropped and the person stored with the rest; a name
//     that is not valid makes the row malformed (see validate).
//   - People on the suppression list are not imported for marketing.
//   - A row that matches a stored contact by e-mail, phone or handle is a
//     duplicate and changes nothing: importing a file twice creates
//     nothing new, an import stopped half-way is resumed by running it
//     again, and imports of the same people at the same moment, on one
//     server or several, create each person once (see flush). A row
//     without any of those identifiers is refused: it could not be
//     matched again, nor found on an erasure request.
//   - Every stored contact gets provenance (source import, network, import
//     id, visibility) and, since the data was not collected from the person,
//     an information duty (Art. 14) due in a month.
//
// The caller is authorised, and the purpose's legal basis checked, once for
// the whole file; each row is validated, and its blind-index keys computed,
// once, when it is admitted.
func (g *Gate) ImportWithProgress(ctx context.Context, r io.Reader, req tresor.ImportRequest, progress func(rows int)) (*tresor.ImportReport, error) {
	in, src, err := g.prepareImport(ctx, r, req)
	if err != nil {
		return nil, err
	}
	if !req.DryRun {
		if err := in.begin(ctx); err != nil {
			return nil, err
		}
	}
	err = in.run(ctx, src, progress)
	if !req.DryRun {
		in.end(ctx, err)
	}
	return in.rep, err
}

// prepareImport checks what can be checked before a row is read: the
// mapping, the caller and purpose, the network, the legal basis, and that
// the file opens as its format.
func (g *Gate) prepareImport(ctx context.Context, r io.Reader, req tresor.ImportRequest) (*ingest, importer.Reader, error) {
	format := importer.Format(req.Format)
	var mapping *importer.Mapping
	if req.Mapping != "" {
		m, err := importer.ParseMapping(strings.NewReader(req.Mapping))
		if err != nil {
			return nil, nil, tresor.Errorf(tresor.ECValidation, "The column mapping is invalid: %s", err)
		}
		mapping = m
	}
	ar, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, nil, err
	}
	network, err := importNetwork(format, req.Network)
	if err != nil {
		return nil, nil, err
	}
	if err := g.policy.CheckBasis(ar.pu, req.LegalBasis, req.BalancingNote); err != nil {
		return nil, nil, err
	}
	src, err := importer.Open(format, r, importer.Options{Mapping: mapping})
	if err != nil {
		return nil, nil, &tresor.Error{Code: tresor.ECValidation, Message: fmt.Sprintf("The file cannot be read as %s: %s", format, err), Err: err}
	}
	in := &ingest{g: g, req: ar, imp: req, network: network, seen: map[tresor.LookupKey]bool{},
		rep: &tresor.ImportReport{ID: newID(), Format: req.Format, Network: network, Purpose: ar.pu.ID, DryRun: req.DryRun,
			StartedAt: ar.now, Refused: map[string]int{}, Dropped: map[string]int{}, Errors: []tresor.ImportRowError{}, Examples: []string{},
			Explained: []tresor.ImportExplained{}}}
	return in, src, nil
}

// run reads the rows, admits them by the rules and stores them in batches.
func (in *ingest) run(ctx context.Context, src importer.Reader, progress func(rows int)) error {
	defer in.sealing.Wait() // nothing is left running when the import stops
	for {
		if err := ctx.Err(); err != nil {
			return err // the server stops: what is not stored yet is not
		}
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *importer.RowError
		if errors.As(err, &rowErr) {
			in.rep.Rows++
			in.rowError(rowErr.Row, rowErr.Msg)
			continue
		}
		if err != nil {
			return &tresor.Error{Code: tresor.ECValidation, Message: "The file cannot be read further.", Err: err}
		}
		in.rep.Rows++
		if a := in.admit(rec); a != nil {
			in.batch = append(in.batch, a)
			in.sealAhead(false)
		}
		if len(in.batch) >= importBatch {
			if err := in.flush(ctx); err != nil {
				return err
			}
		}
		if progress != nil && in.rep.Rows%1000 == 0 {
			progress(in.rep.Rows)
		}
	}
	if err := in.flush(ctx); err != nil {
		return err
	}
	if progress != nil {
		progress(in.rep.Rows)
	}
	in.rep.FinishedAt = tresor.Truncate(in.g.now())
	in.g.event(ctx, "import.run", in.rep.ID, fmt.Sprintf("format=%s network=%s dry_run=%v rows=%d created=%d duplicates=%d refused=%d",
		in.imp.Format, in.network, in.imp.DryRun, in.rep.Rows, in.rep.Created, in.rep.Duplicates, sum(in.rep.Refused)))
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// importNetwork is the network of a file: named by its format, or by the
// caller (named) for vCards and CSV from a social network.
func importNetwork(format importer.Format, named string) (string, error) {
	switch format {
	case importer.LinkedIn:
		return "linkedin", nil
	case importer.MastodonFollowing:
		return "mastodon", nil
	case importer.VCard, importer.CSV:
		if named != "" && !tresor.ValidNetwork(named) {
			return "", tresor.Errorf(tresor.ECInvalidParameter, "%q is not a network Tresor knows.", named)
		}
		return named, nil
	}
	return "", tresor.Errorf(tresor.ECInvalidParameter, "The format %q is unknown; the formats are linkedin, vcard, mastodon-following, csv.", format)
}

// ingest is one import under way.
type ingest struct {
	g       *Gate
	req     *request // the caller, authorised once for the whole file
	imp     tresor.ImportRequest
	network string
	rep     *tresor.ImportReport
	batch   []*admitted
	sealed  int                       // rows of batch handed to sealing so far (ingest_seal.go)
	sealing sync.WaitGroup            // the sealing of batch under way
	seen    map[tresor.LookupKey]bool // identifiers of this file's rows so far
	explIdx map[string]int            // rep.Explained's index by reason and message
}

// admitted is a row the rules let in, as a new contact, with what the gate
// worked out for it once, when it was admitted.
type admitted struct {
	c      *tresor.Contact
	row    int                    // in the file
	keys   []tresor.LookupKey     // the blind-index keys of its identifiers
	ids    []tresor.LookupKey     // those that identify a person: all but the postal address
	fields []tresor.PersonalField // the personal fields it fills

	sealed  []byte         // its fields, sealed ahead (ingest_seal.go)
	sealing tresor.Sealing // the new data key they are sealed under
	sealErr error
}

func (in *ingest) example(row int, format string, args ...any) {
	if len(in.rep.Examples) < maxExamples {
		in.rep.Examples = append(in.rep.Examples, fmt.Sprintf("row %d: ", row)+fmt.Sprintf(format, args...))
	}
}

// rowError reports a malformed row; the report lists the first 1,000 and
// counts them all.
func (in *ingest) rowError(row int, msg string) {
	in.rep.Refused["malformed"]++
	if len(in.rep.Errors) < maxRowErrors {
		in.rep.Errors = append(in.rep.Errors, tresor.ImportRowError{Row: row, Msg: msg})
	}
	in.explain(row, "malformed", true, msg)
}

func (in *ingest) refuse(row int, reason, why string) {
	in.rep.Refused[reason]++
	in.example(row, "%s", why)
	in.explain(row, reason, true, why)
}

func (in *ingest) drop(row int, reason, why string) {
	in.rep.Dropped[reason]++
	in.example(row, "%s", why)
	in.explain(row, reason, false, why)
}

// explain adds a row to the report's explanation of a reason, grouping
// the rows of one explanation into ranges.
func (in *ingest) explain(row int, reason string, refused bool, why string) {
	if in.explIdx == nil {
		in.explIdx = map[string]int{}
		for i, x := range in.rep.Explained {
			in.explIdx[x.Reason+"\x00"+x.Message] = i
		}
	}
	k := reason + "\x00" + why
	i, ok := in.explIdx[k]
	if !ok {
		if len(in.rep.Explained) >= maxExplained {
			return
		}
		i = len(in.rep.Explained)
		in.explIdx[k] = i
		in.rep.Explained = append(in.rep.Explained, tresor.ImportExplained{Reason: reason, Refused: refused, Message: why})
	}
	in.rep.Explained[i].AddRow(row)
}

// connectionsOnly reports whether a field of a social file was shown only
// to the person's connections: contact details in a LinkedIn or XING export
// are, names, employers, positions and profile addresses are public.
func (in *ingest) connectionsOnly() bool { return in.network != "" }

// admit turns a record into the contact the rules allow, or nil. It
// validates the contact, and computes its blind-index keys, for the whole
// import: nothing later does either again.
func (in *ingest) admit(rec *importer.Record) *admitted {
	pu := in.req.pu
	c := &tresor.Contact{Collection: tresor.Collection{LegalBasis: in.imp.LegalBasis, BalancingNote: in.imp.BalancingNote,
		Source: tresor.SourceImport, ImportID: in.rep.ID, Network: in.network}}
	if in.network != "" {
		c.Visibility = tresor.VisibilityPublic
	}
	d := &c.ContactDetails
	d.GivenName, d.FamilyName = strings.TrimSpace(rec.GivenName), strings.TrimSpace(rec.FamilyName)
	d.Organization, d.Position = strings.TrimSpace(rec.Organization), strings.TrimSpace(rec.Position)

	// Visibility (R9): contact details from a social network were visible
	// to connections only.
	if len(rec.Emails) > 0 || len(rec.Phones) > 0 || rec.Address != nil {
		if in.connectionsOnly() {
			in.drop(rec.Row, "not_public", "contact details visible only to connections on "+in.network+" were dropped (R9)")
		} else {
			d.Emails, d.Phones = slices.Clone(rec.Emails), slices.Clone(rec.Phones)
			if a := rec.Address; a != nil {
				d.PostalAddress = &tresor.PostalAddress{Street: a.Street, PostalCode: a.PostalCode, City: a.City, Region: a.Region, Country: a.Country}
			}
		}
	}
	for _, h := range rec.Handles {
		if h.Network != "" && h.Handle != "" && tresor.ValidNetwork(h.Network) {
			d.SocialHandles = append(d.SocialHandles, tresor.SocialHandle{Network: h.Network, Handle: h.Handle})
		}
	}

	// Private fields: Tresor keeps none of them.
	if rec.Birthday != "" {
		in.drop(rec.Row, "private:"+string(tresor.CatBirthday), "a birthday is private and is not stored")
	}
	if _, ok := rec.Extra["photo"]; ok {
		in.drop(rec.Row, "private:photo", "a photo is private and is not stored")
	}

	// Special categories (Art. 9), screened before anything else looks at them.
	if cat, ok := policy.SpecialCategory(d.Position); ok {
		d.Position = ""
		in.drop(rec.Row, "special:"+string(cat), "the position revealed a special category of data (Art. 9) and was dropped")
	}
	if cat, ok := policy.SpecialCategory(d.Organization); ok && cat != tresor.CatHealth {
		// an employer in health care says nothing about the person's health
		d.Organization = ""
		in.drop(rec.Row, "special:"+string(cat), "the organisation revealed a special category of data (Art. 9) and was dropped")
	}
	if rec.Notes != "" {
		if cat, ok := policy.SpecialCategory(rec.Notes); ok {
			in.drop(rec.Row, "special:"+string(cat), "a note revealed a special category of data (Art. 9) and was dropped")
		} else {
			in.drop(rec.Row, "private:notes", "free-text notes are not stored")
		}
	}

	// Minimisation: only what the purpose may store.
	for _, f := range filledFields(d) {
		if !pu.Allows(f.Category) {
			x := fieldValue(d, f)
			x.SetZero()
			in.drop(rec.Row, "category:"+string(f.Category), fmt.Sprintf("%s is not stored for the purpose %s", f.Category, pu.ID))
		}
	}
	if err := in.validate(rec.Row, c); err != nil {
		msg := "the row is not valid"
		if e := tresor.AsError(err); e != nil && len(e.Fields) > 0 {
			var bad []string
			for _, f := range e.Fields {
				bad = append(bad, f.Field)
			}
			msg = "invalid " + strings.Join(bad, ", ")
		}
		in.rowError(rec.Row, msg)
		return nil
	}
	fields := filledFields(d) // what the purpose allows and is valid
	keys := in.g.lookupKeys(d)
	// An address is shared (colleagues at the company's): it finds a
	// person, but does not tell two apart.
	ids := slices.DeleteFunc(slices.Clone(keys), func(k tresor.LookupKey) bool { return k.Kind == tresor.LookupPostal })
	if len(ids) == 0 {
		in.refuse(rec.Row, "no_identifier", "no e-mail address, phone number or handle the purpose may store: the person could not be matched again")
		return nil
	}
	for _, k := range ids {
		if in.seen[k] {
			in.rep.Duplicates++
			return nil // twice in this file
		}
	}
	for _, k := range ids {
		in.seen[k] = true
	}
	return &admitted{c: c, row: rec.Row, keys: keys, ids: ids, fields: fields}
}

// flush stores the batch: drops duplicates of stored contacts and people on
// the suppression list, then creates the rest with their information duties.
// The check and the insert are one write transaction. On SQLite writers
// take turns: no other process can store the same people in between. On
// PostgreSQL transactions overlap, and a check does not see what another
// transaction has not committed: imports of this server take turns, and
// imports of several servers are kept apart by the database. The people an
// import creates claim their identifiers, and a claimed identifier is
// unique (the index contact_lookup_claimed): of two imports storing the
// same person at the same moment, the second one's insert waits for the
// first transaction and, if it committed, fails with tresor.ErrClaimed.
// The batch is then stored again, in a new transaction whose check finds
// the people the other import stored, and counts them as duplicates.
// Contacts created by hand claim nothing: they may share an identifier
// with another (the duplicates review shows them).
func (in *ingest) flush(ctx context.Context) error {
	in.sealAhead(true)
	in.sealing.Wait()
	batch := in.batch
	in.batch, in.sealed = nil, 0
	if len(batch) == 0 {
		return nil
	}
	g := in.g
	if in.imp.DryRun {
		keep, err := in.screenStored(ctx, g.store.Read(), batch)
		if err != nil {
			return err
		}
		in.rep.Created += len(keep)
		in.rep.Notices += len(keep)
		return nil
	}
	g.importMu.Lock()
	defer g.importMu.Unlock()
	for attempt := 1; ; attempt++ {
		rep := in.snapshot() // the counts as they were, should the transaction fail
		stored, err := in.store(ctx, batch)
		if err == nil {
			in.rep.Created += stored
			in.rep.Notices += stored
			return nil
		}
		*in.rep = rep
		in.explIdx = nil // rebuilt from the report as it was
		if !errors.Is(err, tresor.ErrClaimed) {
			return err
		}
		if attempt == maxClaimAttempts {
			return &tresor.Error{Code: tresor.ECConflict,
				Message:   "Other imports stored the same people at the same moments, again and again; run the import again: it skips whom they stored.",
				MessageDE: "Andere Importe haben immer wieder dieselben Personen im selben Moment gespeichert; führen Sie den Import erneut aus: er überspringt, wen sie gespeichert haben.",
				Err:       err}
		}
	}
}

// maxClaimAttempts bounds the transactions a batch takes when other imports
// store the same people at the same moment: each conflict means another
// import committed some of them, which the next attempt finds.
const maxClaimAttempts = 10

// snapshot is a copy of the report that changes to the report leave as it is.
func (in *ingest) snapshot() tresor.ImportReport {
	rep := *in.rep
	rep.Refused, rep.Dropped, rep.Examples = maps.Clone(in.rep.Refused), maps.Clone(in.rep.Dropped), slices.Clone(in.rep.Examples)
	rep.Errors = slices.Clone(in.rep.Errors)
	rep.Explained = slices.Clone(in.rep.Explained)
	for i := range rep.Explained {
		rep.Explained[i].Rows = slices.Clone(rep.Explained[i].Rows)
	}
	return rep
}

// store creates, in one transaction, the contacts of the batch that
// screenStored keeps, their information duties and the audit entry of
// their creation, and returns how many it created. It does for imported
// contacts what the generic create does for others, without repeating
// what admit did: the caller's authorisation, validation, the blind index
// and the checks of categories and legal basis.
func (in *ingest) store(ctx context.Context, batch []*admitted) (int, error) {
	g, pu := in.g, in.req.pu
	ictx := tresor.WithPurpose(ctx, pu.ID)
	now := tresor.Truncate(g.now()) // each batch is stamped when it is stored
	by := in.req.actor.String()
	var keep []*admitted
	var done *tresor.AuditEntry
	err := g.store.Update(ictx, func(tx tresor.Tx) error {
		var err error
		if keep, err = in.screenStored(ctx, tx, batch); err != nil {
			return err
		}
		// The history's counts change with what this transaction stores.
		if err := tx.UpdateImport(ctx, in.record(tresor.ImportRunning, "", in.rep.Created+len(keep), now)); err != nil {
			return err
		}
		if len(keep) == 0 {
			return nil
		}
		rows := make([]*tresor.ContactRow, len(keep))
		ns := make([]*tresor.Notice, len(keep))
		ids := make([]string, len(keep))
		var cats []tresor.Category
		for i, a := range keep {
			c := a.c
			c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
			c.OwnerID = in.req.ownerID()
			c.Provenance = tresor.NewProvenance(tresor.Reprovenance(nil, c.Collection.Record(names(a.fields), pu.ID, now, by)))
			if rows[i], err = a.contactRow(); err != nil { // sealed by flush's sealAhead
				return err
			}
			ns[i] = &tresor.Notice{ID: newID(), ContactID: c.ID, Source: in.imp.Format, Network: in.network,
				ImportID: in.rep.ID, Purpose: pu.ID, CreatedAt: in.req.now, DueAt: in.req.now.Add(noticePeriod)}
			ids[i] = c.ID
			cats = mergeCategories(cats, categoriesOf(a.fields))
		}
		if err := tx.InsertContacts(ictx, rows); err != nil {
			return err
		}
		if err := tx.InsertNotices(ctx, ns); err != nil {
			return err
		}
		done = g.entry(ictx, "contact.create", "contact", ids, cats, nil)
		return g.appendTx(ictx, tx, []*tresor.AuditEntry{done})
	})
	if errors.Is(err, tresor.ErrClaimed) {
		return 0, err // flush stores the batch again; nothing was written
	}
	if err != nil {
		cs := make([]*tresor.Contact, len(keep))
		for i, a := range keep {
			cs[i] = a.c
		}
		err = explain(ictx, g, contacts, err, cs)
		g.recordBestEffort(ictx, g.entry(ictx, "contact.create", "contact", nil, nil, err))
		return 0, err
	}
	if done == nil {
		return 0, nil // screenStored kept nothing; nothing was written
	}
	g.committed([]*tresor.AuditEntry{done})
	return len(keep), nil
}

// screenStored returns the rows of the batch to store: not a duplicate of a
// stored contact, not suppressed for the purpose. It is the one check of
// the suppression list an imported row gets.
func (in *ingest) screenStored(ctx context.Context, r interface {
	tresor.ContactReader
	tresor.ConsentReader
}, batch []*admitted) ([]*admitted, error) {
	var all []tresor.LookupKey
	for _, a := range batch {
		all = append(all, a.ids...)
	}
	known, err := r.LookupContacts(ctx, all)
	if err != nil {
		return nil, err
	}
	var suppressed map[tresor.LookupKey]bool
	if in.req.pu.HidesObjected {
		var keys []tresor.LookupKey
		for _, a := range batch {
			keys = append(keys, a.keys...)
		}
		if suppressed, err = r.SuppressedKeys(ctx, keys, suppressionScope); err != nil {
			return nil, err
		}
	}
	var keep []*admitted
	for _, a := range batch {
		dup := false
		for _, k := range a.ids {
			if _, ok := known[k]; ok {
				dup = true
				break
			}
		}
		if dup {
			in.rep.Duplicates++
			continue
		}
		if slices.ContainsFunc(a.keys, func(k tresor.LookupKey) bool { return suppressed[k] }) {
			in.refuse(a.row, "suppressed", "the person objected to marketing; the suppression list keeps them out (Art. 21)")
			continue
		}
		keep = append(keep, a)
	}
	return keep, nil
}
