package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"tresor"
)

func scanContact(s scanner) (*tresor.ContactRow, error) {
	var r tresor.ContactRow
	var owner, org sql.NullString
	var prov string
	var restricted, objected, touched, archived sql.NullInt64
	var created, updated int64
	var key keyColumns
	if err := s.Scan(&r.ID, &owner, &org, &prov, &restricted, &objected, &touched, &archived,
		&created, &updated, &r.Version, &r.Sealed, &key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	r.Key, r.ArchivedAt = key.get(), optTime(archived)
	r.OwnerID, r.OrganizationID = owner.String, org.String
	r.RestrictedAt, r.ObjectedAt, r.LastInteractionAt = optTime(restricted), optTime(objected), optTime(touched)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	r.Provenance = tresor.ProvenanceJSON([]byte(prov))
	return &r, nil
}

// provenanceColumn encodes provenance for its column.
func provenanceColumn(p tresor.Provenance) string {
	b, err := p.MarshalJSON()
	if err != nil {
		panic(err) // the records have only strings and times
	}
	return string(b)
}

// Contact returns one contact.
func (c *conn) Contact(ctx context.Context, id string) (*tresor.ContactRow, error) {
	row, err := get(ctx, c, "contact", id, scanContact)
	if err != nil {
		return nil, err
	}
	return row, contactTags(ctx, c, []*tresor.ContactRow{row})
}

// Contacts lists contacts by filter, or the contacts with one lookup key.
func (c *conn) Contacts(ctx context.Context, q tresor.ContactQuery) ([]*tresor.ContactRow, error) {
	var f filter
	head := queries["contact-select"]
	if q.Lookup != nil {
		head += " JOIN contact_lookup l ON l.contact_id = c.id"
		f.add("l.kind = ?", string(q.Lookup.Kind))
		f.add("l.value = ?", q.Lookup.Value)
	}
	contactQueryFilters(&f, q)
	text, args := f.query(head, "c.id", q.Page)
	rows, err := list(ctx, c, text, args, scanContact)
	if err != nil {
		return nil, err
	}
	return rows, contactTags(ctx, c, rows)
}

// contactQueryFilters adds the conditions of a contact query but its lookup.
func contactQueryFilters(f *filter, q tresor.ContactQuery) {
	f.eq("c.owner_id", q.OwnerID)
	f.eq("c.organization_id", q.OrganizationID)
	f.since("c.updated_at", q.UpdatedSince)
	if q.HideRestricted {
		f.add("c.restricted_at IS NULL")
	}
	if q.HideArchived {
		f.add("c.archived_at IS NULL")
	}
	if q.HideObjectedScope != "" {
		f.add("c.objected_at IS NULL")
		f.add(`NOT EXISTS (SELECT 1 FROM contact_lookup sl JOIN suppressions ss ON ss.kind = sl.kind AND ss.value = sl.value
			WHERE sl.contact_id = c.id AND ss.scope = ?)`, q.HideObjectedScope)
	}
	if cf := q.Consent; cf != nil {
		if cf.State == tresor.ConsentUnknown {
			f.add("NOT EXISTS (SELECT 1 FROM consent_states cs WHERE cs.contact_id = c.id AND cs.purpose = ? AND cs.channel = ?)",
				cf.Purpose, string(cf.Channel))
		} else {
			f.add("EXISTS (SELECT 1 FROM consent_states cs WHERE cs.contact_id = c.id AND cs.purpose = ? AND cs.channel = ? AND cs.state = ?)",
				cf.Purpose, string(cf.Channel), string(cf.State))
		}
	}
	switch q.Flag {
	case tresor.FlagRestricted:
		f.add("c.restricted_at IS NOT NULL")
	case tresor.FlagObjected:
		f.add("c.objected_at IS NOT NULL")
	}
	contactFilters(f, q.ContactFilter)
}

// ContactsByID reads the contacts with the ids, in one query; ids not
// found are left out, the order is the store's.
func (c *conn) ContactsByID(ctx context.Context, ids []string) ([]*tresor.ContactRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var f filter
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	f.add("c.id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+")", args...)
	text, fargs := f.query(queries["contact-select"], "c.id", tresor.Page{Limit: len(ids)})
	rows, err := list(ctx, c, text, fargs, scanContact)
	if err != nil {
		return nil, err
	}
	return rows, contactTags(ctx, c, rows)
}

// ConsentContacts lists the contacts with a recorded consent state.
func (c *conn) ConsentContacts(ctx context.Context, purpose string, channel tresor.ConsentChannel, state tresor.ConsentState) ([]string, error) {
	s, err := c.stmt(ctx, "consent-contacts")
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, purpose, string(channel), string(state))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func contactArgs(r *tresor.ContactRow) []any {
	return []any{r.ID, nullID(r.OwnerID), nullID(r.OrganizationID), provenanceColumn(r.Provenance),
		nullMicros(r.RestrictedAt), nullMicros(r.ObjectedAt), nullMicros(r.LastInteractionAt), nullMicros(r.ArchivedAt),
		micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed, AddressKinds(r.Lookup)}
}

// AddressKinds is the address_kinds column: the sorted kinds of the keys.
func AddressKinds(keys []tresor.LookupKey) string {
	var kinds []string
	for _, k := range keys {
		if !slices.Contains(kinds, string(k.Kind)) {
			kinds = append(kinds, string(k.Kind))
		}
	}
	slices.Sort(kinds)
	return strings.Join(kinds, ",")
}

// Claimed is the conflict of an identifier claimed twice, by the unique
// index contact_lookup_claimed: the dialects' TranslateError return it.
func Claimed(err error) error {
	return &tresor.Error{Code: tresor.ECConflict, Message: "Another import stored the same person at the same moment.",
		MessageDE: "Ein anderer Import hat dieselbe Person im selben Moment gespeichert.", Err: fmt.Errorf("%w: %w", tresor.ErrClaimed, err)}
}

// InsertContacts inserts contacts and their lookup keys, by COPY where the
// dialect offers it, by multi-row statements where it has ? parameters,
// and by one prepared statement per row and table otherwise.
func (c *conn) InsertContacts(ctx context.Context, rows []*tresor.ContactRow) error {
	if len(rows) == 0 {
		return nil
	}
	rows, err := c.withProvenanceRefs(ctx, rows)
	if err != nil {
		return err
	}
	if c.db.dialect.CopyContacts != nil && len(rows) > 1 {
		if err := c.db.dialect.CopyContacts(ctx, c.sqlConn, rows); err != nil {
			return fmt.Errorf("copy contacts: %w", c.db.dialect.TranslateError(err))
		}
		c.bulk += len(rows)
		return nil
	}
	if c.bulkRows(len(rows)) {
		return c.insertContactsBulk(ctx, rows)
	}
	ins, err := c.stmt(ctx, "contact-insert")
	if err != nil {
		return err
	}
	look, err := c.stmt(ctx, "lookup-insert")
	if err != nil {
		return err
	}
	key, err := c.stmt(ctx, "data-key-insert")
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.KeyIsNew {
			if err := insertKey(ctx, c, key, r.Key, r.CreatedAt); err != nil {
				return err
			}
		}
		if _, err := ins.ExecContext(ctx, contactArgs(r)...); err != nil {
			return fmt.Errorf("insert contact: %w", c.db.dialect.TranslateError(err))
		}
		if err := insertLookup(ctx, c, look, r); err != nil {
			return err
		}
	}
	return nil
}

func insertLookup(ctx context.Context, c *conn, look *sql.Stmt, r *tresor.ContactRow) error {
	for _, k := range r.Lookup {
		if _, err := look.ExecContext(ctx, string(k.Kind), k.Value, r.ID, r.Claim && k.Identifies()); err != nil {
			return fmt.Errorf("insert lookup key: %w", c.db.dialect.TranslateError(err))
		}
	}
	return nil
}

// UpdateContact replaces a contact and its lookup keys.
func (c *conn) UpdateContact(ctx context.Context, r *tresor.ContactRow, prev int64) error {
	if r.KeyIsNew {
		if err := c.InsertDataKey(ctx, *r.Key, r.UpdatedAt); err != nil {
			return err
		}
	}
	prov, err := c.provenanceRef(ctx, r.Provenance, false)
	if err != nil {
		return err
	}
	if err := changeOne(ctx, c, "contact", r.ID, "contact-update", r.ID, nullID(r.OwnerID), nullID(r.OrganizationID),
		prov, nullMicros(r.RestrictedAt), nullMicros(r.ObjectedAt), nullMicros(r.LastInteractionAt),
		micros(r.UpdatedAt), r.Version, r.Sealed, prev); err != nil {
		return err
	}
	return c.SetLookup(ctx, r.ID, r.Lookup)
}

// SetLookup replaces the lookup keys of a contact.
func (c *conn) SetLookup(ctx context.Context, contactID string, keys []tresor.LookupKey) error {
	if _, err := c.exec(ctx, "lookup-delete", contactID); err != nil {
		return err
	}
	look, err := c.stmt(ctx, "lookup-insert")
	if err != nil {
		return err
	}
	r := &tresor.ContactRow{Lookup: keys}
	r.ID = contactID
	if err := insertLookup(ctx, c, look, r); err != nil {
		return err
	}
	_, err = c.exec(ctx, "contact-address-kinds", contactID, AddressKinds(keys))
	return err
}

// DeleteContact deletes a contact; its lookup keys and interactions go with it.
func (c *conn) DeleteContact(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "contact", id)
}

// deleteOne deletes one object by id.
func deleteOne(ctx context.Context, c *conn, object, id string) error {
	if !validKey(object, id) {
		return notFound(object, id)
	}
	res, err := c.exec(ctx, object+"-delete", id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound(object, id)
	}
	return nil
}
