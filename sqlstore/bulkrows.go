package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"tresor"
)

// On SQLite every statement is a call through database/sql and the driver
// whatever it writes, and an import writes four rows a person. There the
// bulk inserts write bulkChunk rows a statement with ? parameters (SQLite
// binds $N parameters by name, scanning the statement's names for each: a
// cost quadratic in their number), each table's rows in the order of its
// key, so that consecutive rows land on the same pages of its index.

// bulkChunk is how many rows one multi-row INSERT writes: 13 parameters a
// contact, 1,300 a statement, far below SQLite's limit of 32,766.
const bulkChunk = 100

func init() {
	for _, q := range []string{"contact-insert", "lookup-insert", "data-key-insert", "notice-insert"} {
		queries[q+"*bulk?"] = multiRow(queries[q], bulkChunk, true)
	}
}

// bulkRows reports whether n rows go by multi-row statements.
func (c *conn) bulkRows(n int) bool { return c.db.dialect.PositionalParams && n > 1 }

// insertFlat runs the INSERT name of queries.sql for the rows in args,
// width parameters a row, bulkChunk rows a statement (prepared once for a
// full chunk). what names the rows in an error.
func (c *conn) insertFlat(ctx context.Context, name, what string, width int, args []any) error {
	var full *sql.Stmt
	for len(args) > 0 {
		n := min(len(args)/width, bulkChunk)
		chunk := args[:n*width]
		args = args[n*width:]
		var err error
		if n == bulkChunk {
			if full == nil {
				if full, err = c.stmt(ctx, name+"*bulk?"); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, chunk...)
		} else {
			_, err = c.queryExec(ctx, multiRow(queries[name], n, true), chunk...)
		}
		if err != nil {
			return fmt.Errorf("insert %s: %w", what, c.db.dialect.TranslateError(err))
		}
	}
	return nil
}

// insertContactsBulk is InsertContacts by multi-row statements: the new
// data keys, then the contacts, then their lookup keys (which refer to
// them), each sorted by its key.
func (c *conn) insertContactsBulk(ctx context.Context, rows []*tresor.ContactRow) error {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b *tresor.ContactRow) int { return cmp.Compare(a.ID, b.ID) })

	var keys []*tresor.ContactRow
	nLookup := 0
	for _, r := range sorted {
		if r.KeyIsNew {
			if r.Key == nil {
				return errors.New("sqlstore: a new data key is missing")
			}
			keys = append(keys, r)
		}
		nLookup += len(r.Lookup)
	}
	slices.SortFunc(keys, func(a, b *tresor.ContactRow) int { return cmp.Compare(a.Key.Subject, b.Key.Subject) })
	args := make([]any, 0, 5*len(keys))
	for _, r := range keys {
		k := r.Key
		args = append(args, k.Subject, k.Version, k.KEKVersion, k.Wrapped, micros(r.CreatedAt))
	}
	if err := c.insertFlat(ctx, "data-key-insert", "data key", 5, args); err != nil {
		return err
	}

	args = make([]any, 0, 13*len(sorted))
	for _, r := range sorted {
		args = append(args, contactArgs(r)...)
	}
	if err := c.insertFlat(ctx, "contact-insert", "contact", 13, args); err != nil {
		return err
	}

	type lookup struct {
		kind, value, id string
		claimed         bool
	}
	ls := make([]lookup, 0, nLookup)
	for _, r := range sorted {
		for _, k := range r.Lookup {
			ls = append(ls, lookup{string(k.Kind), k.Value, r.ID, r.Claim && k.Identifies()})
		}
	}
	slices.SortFunc(ls, func(a, b lookup) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.value, b.value), cmp.Compare(a.id, b.id))
	})
	args = make([]any, 0, 4*len(ls))
	for _, l := range ls {
		args = append(args, l.kind, l.value, l.id, l.claimed)
	}
	return c.insertFlat(ctx, "lookup-insert", "lookup key", 4, args)
}

// insertNoticesBulk is InsertNotices by multi-row statements, sorted by id.
func (c *conn) insertNoticesBulk(ctx context.Context, ns []*tresor.Notice) error {
	sorted := slices.Clone(ns)
	slices.SortFunc(sorted, func(a, b *tresor.Notice) int { return cmp.Compare(a.ID, b.ID) })
	args := make([]any, 0, 8*len(sorted))
	for _, n := range sorted {
		args = append(args, n.ID, n.ContactID, n.Source, n.Network, n.ImportID, n.Purpose, micros(n.CreatedAt), micros(n.DueAt))
	}
	return c.insertFlat(ctx, "notice-insert", "notice", 8, args)
}
