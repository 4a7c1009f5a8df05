package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"tresor"
)

func scanContact(s scanner) (*tresor.ContactRow, error) {
	var r tresor.ContactRow
	var owner, org sql.NullString
	var created, updated int64
	if err := s.Scan(&r.ID, &owner, &org, &r.LegalBasis, &r.Source, &r.Purpose, &r.CollectedBy,
		&created, &updated, &r.Version, &r.Sealed); err != nil {
		return nil, err
	}
	r.OwnerID, r.OrganizationID = owner.String, org.String
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

// Contact returns one contact.
func (c *conn) Contact(ctx context.Context, id string) (*tresor.ContactRow, error) {
	return get(ctx, c, "contact", id, scanContact)
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
	f.eq("c.owner_id", q.OwnerID)
	f.eq("c.organization_id", q.OrganizationID)
	f.since("c.updated_at", q.UpdatedSince)
	text, args := f.query(head, "c.id", q.Page)
	return list(ctx, c, text, args, scanContact)
}

func contactArgs(r *tresor.ContactRow) []any {
	return []any{r.ID, nullID(r.OwnerID), nullID(r.OrganizationID), string(r.LegalBasis), string(r.Source), r.Purpose,
		r.CollectedBy, micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed}
}

// InsertContacts inserts contacts and their lookup keys, by COPY where the
// dialect offers it and by one prepared statement per table otherwise.
func (c *conn) InsertContacts(ctx context.Context, rows []*tresor.ContactRow) error {
	if len(rows) == 0 {
		return nil
	}
	if c.db.dialect.CopyContacts != nil && len(rows) > 1 {
		if err := c.db.dialect.CopyContacts(ctx, c.sqlConn, rows); err != nil {
			return fmt.Errorf("copy contacts: %w", c.db.dialect.TranslateError(err))
		}
		return nil
	}
	ins, err := c.stmt(ctx, "contact-insert")
	if err != nil {
		return err
	}
	look, err := c.stmt(ctx, "lookup-insert")
	if err != nil {
		return err
	}
	for _, r := range rows {
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
		if _, err := look.ExecContext(ctx, string(k.Kind), k.Value, r.ID); err != nil {
			return fmt.Errorf("insert lookup key: %w", c.db.dialect.TranslateError(err))
		}
	}
	return nil
}

// UpdateContact replaces a contact and its lookup keys.
func (c *conn) UpdateContact(ctx context.Context, r *tresor.ContactRow, prev int64) error {
	if err := changeOne(ctx, c, "contact", r.ID, "contact-update", r.ID, nullID(r.OwnerID), nullID(r.OrganizationID),
		string(r.LegalBasis), string(r.Source), r.Purpose, r.CollectedBy, micros(r.UpdatedAt), r.Version, r.Sealed, prev); err != nil {
		return err
	}
	if _, err := c.exec(ctx, "lookup-delete", r.ID); err != nil {
		return err
	}
	look, err := c.stmt(ctx, "lookup-insert")
	if err != nil {
		return err
	}
	return insertLookup(ctx, c, look, r)
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
