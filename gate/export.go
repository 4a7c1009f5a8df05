package gate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"tresor"
)

// The export of contacts for users (issue [2.3]): a selection or the current
// list, as CSV or vCard. It reads through the same steps as the lists (the
// query hides restricted, archived and objected people from the purposes
// that may not see them, fromRow opens only the categories the purpose may
// see, listed is the second line of defence, shown withholds), leaves out
// every column of a category the purpose may not see, refuses a list larger
// than tresor.MaxExport before writing a byte, and records one audit entry
// with every exported id.

// exportColumn is one column of the CSV export.
type exportColumn struct {
	name  string
	cat   tresor.Category // "" for the id, which is no personal datum
	value func(c *tresor.Contact) string
}

// postal returns a field of the contact's postal address, "" without one.
func postal(f func(a *tresor.PostalAddress) string) func(c *tresor.Contact) string {
	return func(c *tresor.Contact) string {
		if c.PostalAddress == nil {
			return ""
		}
		return f(c.PostalAddress)
	}
}

// exportColumns are the columns of the CSV export, in order.
var exportColumns = []exportColumn{
	{"id", "", func(c *tresor.Contact) string { return c.ID }},
	{"given_name", tresor.CatContactName, func(c *tresor.Contact) string { return c.GivenName }},
	{"family_name", tresor.CatContactName, func(c *tresor.Contact) string { return c.FamilyName }},
	{"emails", tresor.CatContactEmail, func(c *tresor.Contact) string { return strings.Join(c.Emails, ", ") }},
	{"phones", tresor.CatContactPhone, func(c *tresor.Contact) string { return strings.Join(c.Phones, ", ") }},
	{"street", tresor.CatContactPostal, postal(func(a *tresor.PostalAddress) string { return a.Street })},
	{"postal_code", tresor.CatContactPostal, postal(func(a *tresor.PostalAddress) string { return a.PostalCode })},
	{"city", tresor.CatContactPostal, postal(func(a *tresor.PostalAddress) string { return a.City })},
	{"region", tresor.CatContactPostal, postal(func(a *tresor.PostalAddress) string { return a.Region })},
	{"country", tresor.CatContactPostal, postal(func(a *tresor.PostalAddress) string { return a.Country })},
	{"social_handles", tresor.CatSocialHandle, func(c *tresor.Contact) string {
		hs := make([]string, len(c.SocialHandles))
		for i, h := range c.SocialHandles {
			hs[i] = h.Network + ":" + h.Handle
		}
		return strings.Join(hs, ", ")
	}},
	{"organization", tresor.CatEmployer, func(c *tresor.Contact) string { return c.Organization }},
	{"position", tresor.CatPosition, func(c *tresor.Contact) string { return c.Position }},
	{"preferred_language", tresor.CatContactLanguage, func(c *tresor.Contact) string { return c.PreferredLanguage }},
}

// exportCategories are the categories an export can hold, in taxonomy order.
func exportCategories() []tresor.Category {
	var out []tresor.Category
	for _, c := range tresor.Categories() {
		if slices.ContainsFunc(exportColumns, func(col exportColumn) bool { return col.cat == c }) {
			out = append(out, c)
		}
	}
	return out
}

// exportTooLarge is the refusal of an export above the cap.
func exportTooLarge() error {
	return &tresor.Error{Code: tresor.ECExportTooLarge,
		Message: fmt.Sprintf("This export would hold more than %d contacts, the most one export may hold. Narrow the list (a search, an owner, an organization) or select the contacts.", tresor.MaxExport),
		MessageDE: fmt.Sprintf("Dieser Export enthielte mehr als %d Kontakte, die Höchstzahl für einen Export. Grenzen Sie die Liste ein (Suche, Verantwortliche, Organisation) oder wählen Sie die Kontakte aus.",
			tresor.MaxExport)}
}

// ExportContacts writes the contacts of a selection (req.IDs) or of a list
// (req.Filter, with its search) as CSV or vCard, with only what the declared
// purpose may see. Nothing is written to w unless the whole export, and its
// audit entry, succeeded.
func (g *Gate) ExportContacts(ctx context.Context, er tresor.ExportRequest, w io.Writer) (*tresor.ExportResult, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if er.Format == "" {
		er.Format = tresor.ExportCSV
	}
	if !slices.Contains(tresor.ExportFormats(), er.Format) {
		return nil, &tresor.Error{Code: tresor.ECInvalidParameter,
			Message:   fmt.Sprintf("The format %q is unknown; the formats are csv and vcard.", er.Format),
			MessageDE: fmt.Sprintf("Das Format %q ist unbekannt; die Formate sind csv und vcard.", er.Format)}
	}
	if er.Separator == 0 {
		er.Separator = ','
	}
	if er.Separator != ',' && er.Separator != ';' {
		return nil, &tresor.Error{Code: tresor.ECInvalidParameter, Message: "The separator must be a comma or a semicolon.",
			MessageDE: "Das Trennzeichen muss ein Komma oder ein Semikolon sein."}
	}
	var cs []*tresor.Contact
	skipped := 0
	detail := ""
	if len(er.IDs) > 0 {
		cs, skipped, err = g.exportSelection(ctx, req, er.IDs)
		detail = fmt.Sprintf("selection of %d", len(er.IDs))
	} else {
		cs, err = g.exportList(ctx, req, er.Filter)
		detail = "list"
		if er.Filter.Query != "" {
			detail = "search " + g.queryHash(er.Filter.Query)
		}
	}
	if tresor.ErrorCode(err) == tresor.ECExportTooLarge {
		g.recordBestEffort(ctx, g.entry(ctx, "contact.export", "contact", nil, nil, err))
	}
	if err != nil {
		return nil, err
	}

	res := &tresor.ExportResult{Format: er.Format, IDs: idsOf(cs), Skipped: skipped}
	for _, c := range exportCategories() {
		if !req.pu.Allows(c) {
			res.Withheld = append(res.Withheld, c)
		}
	}
	var buf bytes.Buffer
	if er.Format == tresor.ExportVCard {
		err = writeVCards(&buf, cs, req.pu.Allows)
	} else {
		err = writeContactsCSV(&buf, cs, er.Separator, req.pu.Allows)
	}
	if err != nil {
		return nil, err
	}
	var cats []tresor.Category
	for _, c := range cs {
		cats = mergeCategories(cats, shownCategories(c))
	}
	e := g.entry(ctx, "contact.export", "contact", res.IDs, cats, nil)
	e.Detail = fmt.Sprintf("%s, %s, %d exported, %d left out", er.Format, detail, len(cs), skipped)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	return res, nil
}

// exportSelection reads the selected contacts one by one, as a read does;
// those that do not exist, that the purpose may not see, or whose record is
// damaged are left out and counted.
func (g *Gate) exportSelection(ctx context.Context, req *request, ids []string) ([]*tresor.Contact, int, error) {
	var uniq []string
	for _, id := range ids {
		if !tresor.ValidID(id) {
			return nil, 0, tresor.Errorf(tresor.ECInvalidParameter, "The selection holds %q, which is no contact id.", id)
		}
		if !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	if len(uniq) > tresor.MaxExport {
		return nil, 0, exportTooLarge()
	}
	r := g.store.Read()
	out := make([]*tresor.Contact, 0, len(uniq))
	skipped := 0
	for _, id := range uniq {
		row, err := r.Contact(ctx, id)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			skipped++
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		c, err := contacts.fromRow(ctx, g, row, req.pu.Allows)
		if err == nil {
			err = encodable(contacts.name, c)
		}
		if gerr := contacts.guarded(ctx, g, r, req, c); gerr != nil || err != nil {
			if err != nil && !isDamaged(c) {
				return nil, 0, err
			}
			skipped++
			continue
		}
		out = append(out, contacts.shown(req, c))
	}
	return out, skipped, nil
}

// exportPage is how many rows the export of a list reads at a time.
const exportPage = 1000

// exportList reads the whole list f describes (a search with f.Query, an
// order or a consent filter), as Contacts does, refusing it above the cap
// before anything is decrypted.
func (g *Gate) exportList(ctx context.Context, req *request, f tresor.ContactFilter) ([]*tresor.Contact, error) {
	f.Page = tresor.Page{}
	if err := g.narrowContacts(ctx, req, &f); err != nil {
		return nil, err
	}
	if err := g.checkContactFilter(req, &f); err != nil {
		return nil, err
	}
	var rows []*tresor.ContactRow
	if f.Query != "" || f.Sort == tresor.SortName || f.Sort == tresor.SortOrganization || f.Sort == tresor.SortUpdated {
		// What the list finds or orders through the people index.
		if f.Email != "" {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "Give q or sort, or email, not both.")
		}
		if _, err := g.searchReady(ctx, f.Query, tresor.Page{}); err != nil {
			return nil, err
		}
		res, err := g.contactHits(ctx, req, f, 0, tresor.MaxExport+1)
		if err != nil {
			return nil, err
		}
		if res.Total > tresor.MaxExport {
			return nil, exportTooLarge()
		}
		for from := 0; from < len(res.Hits); from += exportPage {
			hits := res.Hits[from:min(from+exportPage, len(res.Hits))]
			ids := make([]string, len(hits))
			for i, h := range hits {
				ids[i] = h.ID
			}
			page, err := g.store.Read().ContactsByID(ctx, ids)
			if err != nil {
				return nil, err
			}
			byID := make(map[string]*tresor.ContactRow, len(page))
			for _, row := range page {
				byID[row.ID] = row
			}
			for _, id := range ids {
				if row, ok := byID[id]; ok { // else erased since the search
					rows = append(rows, row)
				}
			}
		}
	} else {
		q, err := g.contactQuery(req, f)
		if err != nil {
			return nil, err
		}
		for {
			q.Page = tresor.Page{After: q.Page.After, Limit: exportPage}
			page, err := g.store.Read().Contacts(ctx, q)
			if err != nil {
				return nil, err
			}
			rows = append(rows, page...)
			if len(rows) > tresor.MaxExport {
				return nil, exportTooLarge()
			}
			if len(page) < exportPage {
				break
			}
			q.Page.After = page[len(page)-1].ID
		}
	}
	out := make([]*tresor.Contact, 0, len(rows))
	for _, row := range rows {
		c, err := contacts.fromRow(ctx, g, row, req.pu.Allows)
		if err == nil {
			err = encodable(contacts.name, c)
		}
		if err != nil {
			if !isDamaged(c) {
				return nil, err
			}
			continue // a damaged record holds nothing to export
		}
		if contacts.listed(ctx, g, req, c) != nil {
			continue // the query leaves these out; this is a second line of defence
		}
		out = append(out, contacts.shown(req, c))
	}
	return out, nil
}

// writeContactsCSV writes the contacts as CSV: a byte order mark (so Excel
// reads UTF-8), a header row and one row per contact, without the columns of
// the categories allow refuses; every cell through csvWriter.
func writeContactsCSV(w io.Writer, cs []*tresor.Contact, sep rune, allow func(tresor.Category) bool) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	var cols []exportColumn
	for _, col := range exportColumns {
		if col.cat == "" || allow(col.cat) {
			cols = append(cols, col)
		}
	}
	cw := newCSVWriterSep(w, sep)
	head := make([]string, len(cols))
	for i, col := range cols {
		head[i] = col.name
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, c := range cs {
		row := make([]string, len(cols))
		for i, col := range cols {
			row[i] = col.value(c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	return cw.Flush()
}
