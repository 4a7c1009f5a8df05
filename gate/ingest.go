package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/importer"
	"tresor/policy"
)

var _ tresor.ImportService = (*Gate)(nil)

// ImportOptions describe an import.
type ImportOptions struct {
	Format        importer.Format
	LegalBasis    tresor.LegalBasis
	BalancingNote string
	// Network is the social network the file comes from ("linkedin",
	// "xing", "mastodon", …); "" for the company's own records (an address
	// book, a spreadsheet). LinkedIn and Mastodon files name their network.
	Network string
	Mapping *importer.Mapping
	DryRun  bool
	// Progress, if set, is called with the number of rows read so far.
	Progress func(rows int)
}

// Import imports a file described by a request (the API's form).
func (g *Gate) Import(ctx context.Context, r io.Reader, req tresor.ImportRequest) (*tresor.ImportReport, error) {
	return g.ImportWithProgress(ctx, r, req, nil)
}

// ImportWithProgress is Import that reports the rows read so far.
func (g *Gate) ImportWithProgress(ctx context.Context, r io.Reader, req tresor.ImportRequest, progress func(rows int)) (*tresor.ImportReport, error) {
	opt := ImportOptions{Format: importer.Format(req.Format), LegalBasis: req.LegalBasis, BalancingNote: req.BalancingNote,
		Network: req.Network, DryRun: req.DryRun, Progress: progress}
	if req.Mapping != "" {
		m, err := importer.ParseMapping(strings.NewReader(req.Mapping))
		if err != nil {
			return nil, tresor.Errorf(tresor.ECValidation, "The column mapping is invalid: %s", err)
		}
		opt.Mapping = m
	}
	return g.ImportFile(ctx, r, opt)
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

// ImportFile reads a file through the ingestion gate: every row is checked
// against the rules below before anything is stored, and the report counts
// what was accepted and what was dropped, and why.
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
//   - People on the suppression list are not imported for marketing.
//   - A row that matches a stored contact by e-mail, phone or handle is a
//     duplicate and changes nothing: importing a file twice creates
//     nothing new, and an import stopped half-way is resumed by running it
//     again. A row without any of those identifiers is refused: it could
//     not be matched again, nor found on an erasure request.
//   - Every stored contact gets provenance (source import, network, import
//     id, visibility) and, since the data was not collected from the person,
//     an information duty (Art. 14) due in a month.
func (g *Gate) ImportFile(ctx context.Context, r io.Reader, opt ImportOptions) (*tresor.ImportReport, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	network, err := importNetwork(opt)
	if err != nil {
		return nil, err
	}
	if err := g.policy.CheckBasis(req.pu, opt.LegalBasis, opt.BalancingNote); err != nil {
		return nil, err
	}
	src, err := importer.Open(opt.Format, r, importer.Options{Mapping: opt.Mapping})
	if err != nil {
		return nil, &tresor.Error{Code: tresor.ECValidation, Message: fmt.Sprintf("The file cannot be read as %s: %s", opt.Format, err), Err: err}
	}
	in := &ingest{g: g, req: req, opt: opt, network: network, seen: map[tresor.LookupKey]bool{},
		rep: &tresor.ImportReport{ID: newID(), Format: string(opt.Format), Network: network, Purpose: req.pu.ID, DryRun: opt.DryRun,
			StartedAt: req.now, Refused: map[string]int{}, Dropped: map[string]int{}, Errors: []tresor.ImportRowError{}, Examples: []string{}}}
	for {
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
			return in.rep, &tresor.Error{Code: tresor.ECValidation, Message: "The file cannot be read further.", Err: err}
		}
		in.rep.Rows++
		if c := in.admit(rec); c != nil {
			in.batch = append(in.batch, c)
		}
		if len(in.batch) >= importBatch {
			if err := in.flush(ctx); err != nil {
				return in.rep, err
			}
		}
		if opt.Progress != nil && in.rep.Rows%1000 == 0 {
			opt.Progress(in.rep.Rows)
		}
	}
	if err := in.flush(ctx); err != nil {
		return in.rep, err
	}
	if opt.Progress != nil {
		opt.Progress(in.rep.Rows)
	}
	in.rep.FinishedAt = tresor.Truncate(g.now())
	g.event(ctx, "import.run", in.rep.ID, fmt.Sprintf("format=%s network=%s dry_run=%v rows=%d created=%d duplicates=%d refused=%d",
		opt.Format, network, opt.DryRun, in.rep.Rows, in.rep.Created, in.rep.Duplicates, sum(in.rep.Refused)))
	return in.rep, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// importNetwork is the network of a file: named by its format, or by the
// caller for vCards and CSV from a social network.
func importNetwork(opt ImportOptions) (string, error) {
	switch opt.Format {
	case importer.LinkedIn:
		return "linkedin", nil
	case importer.MastodonFollowing:
		return "mastodon", nil
	case importer.VCard, importer.CSV:
		if opt.Network != "" && !tresor.ValidNetwork(opt.Network) {
			return "", tresor.Errorf(tresor.ECInvalidParameter, "%q is not a network Tresor knows.", opt.Network)
		}
		return opt.Network, nil
	}
	return "", tresor.Errorf(tresor.ECInvalidParameter, "The format %q is unknown; the formats are linkedin, vcard, mastodon-following, csv.", opt.Format)
}

// ingest is one import under way.
type ingest struct {
	g       *Gate
	req     *request
	opt     ImportOptions
	network string
	rep     *tresor.ImportReport
	batch   []*tresor.Contact
	rows    []int                     // the file row of each contact in batch
	seen    map[tresor.LookupKey]bool // identifiers of this file's rows so far
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
}

func (in *ingest) refuse(row int, reason, why string) {
	in.rep.Refused[reason]++
	in.example(row, "%s", why)
}

func (in *ingest) drop(row int, reason, why string) {
	in.rep.Dropped[reason]++
	in.example(row, "%s", why)
}

// connectionsOnly reports whether a field of a social file was shown only
// to the person's connections: contact details in a LinkedIn or XING export
// are, names, employers, positions and profile addresses are public.
func (in *ingest) connectionsOnly() bool { return in.network != "" }

// admit turns a record into the contact the rules allow, or nil.
func (in *ingest) admit(rec *importer.Record) *tresor.Contact {
	pu := in.req.pu
	c := &tresor.Contact{Collection: tresor.Collection{LegalBasis: in.opt.LegalBasis, BalancingNote: in.opt.BalancingNote,
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
	d.Emails, d.Phones, d.SocialHandles = nonNil(d.Emails), nonNil(d.Phones), nonNil(d.SocialHandles)
	if err := c.Validate(); err != nil {
		msg := "the row is not valid"
		if e := tresor.AsError(err); e != nil && len(e.Fields) > 0 {
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			msg = "invalid " + strings.Join(fields, ", ")
		}
		in.rowError(rec.Row, msg)
		return nil
	}
	keys := in.g.lookupKeys(d)
	if len(keys) == 0 {
		in.refuse(rec.Row, "no_identifier", "no e-mail address, phone number or handle the purpose may store: the person could not be matched again")
		return nil
	}
	for _, k := range keys {
		if in.seen[k] {
			in.rep.Duplicates++
			return nil // twice in this file
		}
	}
	for _, k := range keys {
		in.seen[k] = true
	}
	in.rows = append(in.rows, rec.Row)
	return c
}

// flush stores the batch: drops duplicates of stored contacts and people on
// the suppression list, then creates the rest with their information duties.
// The check and the insert are one write transaction (on SQLite, where
// writers take turns, no other process can store the same people in
// between), and imports of this server take turns (on PostgreSQL, whose
// transactions overlap).
func (in *ingest) flush(ctx context.Context) error {
	batch, rows := in.batch, in.rows
	in.batch, in.rows = nil, nil
	if len(batch) == 0 {
		return nil
	}
	g := in.g
	if in.opt.DryRun {
		keep, err := in.screenStored(ctx, g.store.Read(), batch, rows)
		if err != nil {
			return err
		}
		in.rep.Created += len(keep)
		in.rep.Notices += len(keep)
		return nil
	}
	g.importMu.Lock()
	defer g.importMu.Unlock()
	rep := *in.rep // the counts as they were, should the transaction fail
	rep.Refused, rep.Examples = maps.Clone(in.rep.Refused), slices.Clone(in.rep.Examples)
	ictx := tresor.WithPurpose(ctx, in.req.pu.ID)
	stored, err := createWith(ictx, g, contacts, batch,
		func(tx tresor.Tx, batch []*tresor.Contact) ([]*tresor.Contact, error) {
			return in.screenStored(ctx, tx, batch, rows)
		},
		func(tx tresor.Tx, keep []*tresor.Contact) error {
			ns := make([]*tresor.Notice, len(keep))
			for i, c := range keep {
				ns[i] = &tresor.Notice{ID: newID(), ContactID: c.ID, Source: string(in.opt.Format), Network: in.network,
					ImportID: in.rep.ID, Purpose: in.req.pu.ID, CreatedAt: in.req.now, DueAt: in.req.now.Add(noticePeriod)}
			}
			return tx.InsertNotices(ctx, ns)
		})
	if err != nil {
		*in.rep = rep
		return err
	}
	in.rep.Created += len(stored)
	in.rep.Notices += len(stored)
	return nil
}

// screenStored returns the contacts of the batch to store: not a duplicate
// of a stored contact, not suppressed for the purpose. rows are their row
// numbers in the file.
func (in *ingest) screenStored(ctx context.Context, r tresor.Reader, batch []*tresor.Contact, rows []int) ([]*tresor.Contact, error) {
	g := in.g
	var all []tresor.LookupKey
	keysOf := make([][]tresor.LookupKey, len(batch))
	for i, c := range batch {
		keysOf[i] = g.lookupKeys(&c.ContactDetails)
		all = append(all, keysOf[i]...)
	}
	known, err := r.LookupContacts(ctx, all)
	if err != nil {
		return nil, err
	}
	var keep []*tresor.Contact
	for i, c := range batch {
		dup := false
		for _, k := range keysOf[i] {
			if _, ok := known[k]; ok {
				dup = true
				break
			}
		}
		if dup {
			in.rep.Duplicates++
			continue
		}
		if in.req.pu.HidesObjected {
			suppressed, err := r.Suppressed(ctx, keysOf[i], suppressionScope)
			if err != nil {
				return nil, err
			}
			if suppressed {
				in.refuse(rows[i], "suppressed", "the person objected to marketing; the suppression list keeps them out (Art. 21)")
				continue
			}
		}
		keep = append(keep, c)
	}
	return keep, nil
}
