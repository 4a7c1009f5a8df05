package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"tresor"
)

var (
	_ tresor.SubjectExportReader = (*conn)(nil)
	_ tresor.SubjectExportWriter = (*conn)(nil)
)

// scanSubjectExport scans a stored export; withSealed says whether the
// query selects the sealed content (a list for the purge does not).
func scanSubjectExport(s scanner, withSealed bool) (*tresor.SubjectExportRow, error) {
	var r tresor.SubjectExportRow
	var created, expires int64
	var key keyColumns
	dest := []any{&r.ID, &r.RequestID, &r.TokenHash, &r.Language, &created, &expires}
	if withSealed {
		dest = append(dest, &r.Sealed)
	}
	dest = append(dest, &key.subject, &key.version, &key.kek, &key.wrapped)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	r.Key = key.get()
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &r, nil
}

// SubjectExportByToken returns the export whose link secret hashes to hash.
func (c *conn) SubjectExportByToken(ctx context.Context, hash []byte) (*tresor.SubjectExportRow, error) {
	s, err := c.stmt(ctx, "subject-export-by-token")
	if err != nil {
		return nil, err
	}
	r, err := scanSubjectExport(s.QueryRowContext(ctx, hash), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no such export.")
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// SubjectExportsBefore lists the exports that expire before t.
func (c *conn) SubjectExportsBefore(ctx context.Context, t time.Time) ([]*tresor.SubjectExportRow, error) {
	return list(ctx, c, queries["subject-exports-before"], []any{micros(t)}, func(s scanner) (*tresor.SubjectExportRow, error) {
		return scanSubjectExport(s, false)
	})
}

// InsertSubjectExport stores an export and its new data key.
func (c *conn) InsertSubjectExport(ctx context.Context, r *tresor.SubjectExportRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	_, err := c.exec(ctx, "subject-export-insert", r.ID, r.RequestID, r.TokenHash, r.Language, keySubject(r.Key),
		micros(r.CreatedAt), micros(r.ExpiresAt), r.Sealed)
	return err
}

// DeleteSubjectExport deletes an export (its key is the gate's to delete).
func (c *conn) DeleteSubjectExport(ctx context.Context, id string) (bool, error) {
	if !tresor.ValidID(id) {
		return false, nil
	}
	res, err := c.exec(ctx, "subject-export-delete", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
