package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tresor"
)

// keyColumns scans the data key joined to a row (NULL when the row has none).
type keyColumns struct {
	subject      sql.NullString
	version, kek sql.NullInt64
	wrapped      []byte
}

func (k *keyColumns) get() *tresor.WrappedKey {
	if !k.subject.Valid {
		return nil
	}
	return &tresor.WrappedKey{Subject: k.subject.String, Version: int(k.version.Int64), KEKVersion: int(k.kek.Int64), Wrapped: k.wrapped}
}

func keySubject(k *tresor.WrappedKey) any {
	if k == nil {
		return nil
	}
	return k.Subject
}

func insertKey(ctx context.Context, c *conn, s *sql.Stmt, k *tresor.WrappedKey, at time.Time) error {
	if k == nil {
		return errors.New("sqlstore: a new data key is missing")
	}
	if _, err := s.ExecContext(ctx, k.Subject, k.Version, k.KEKVersion, k.Wrapped, micros(at)); err != nil {
		return fmt.Errorf("insert data key: %w", c.db.dialect.TranslateError(err))
	}
	return nil
}

// newKey stores a row's data key if the row brings a new one.
func (c *conn) newKey(ctx context.Context, s tresor.Sealing, at time.Time) error {
	if !s.KeyIsNew {
		return nil
	}
	return c.InsertDataKey(ctx, *s.Key, at)
}

func scanKey(s scanner) (tresor.WrappedKey, error) {
	var k tresor.WrappedKey
	err := s.Scan(&k.Subject, &k.Version, &k.KEKVersion, &k.Wrapped)
	return k, err
}

// DataKey returns a subject's wrapped data key.
func (c *conn) DataKey(ctx context.Context, subject string) (*tresor.WrappedKey, error) {
	if !tresor.ValidID(subject) {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no data key for %q.", subject)
	}
	s, err := c.stmt(ctx, "data-key")
	if err != nil {
		return nil, err
	}
	k, err := scanKey(s.QueryRowContext(ctx, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no data key for %q.", subject)
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// InsertDataKey stores a wrapped data key.
func (c *conn) InsertDataKey(ctx context.Context, k tresor.WrappedKey, at time.Time) error {
	s, err := c.stmt(ctx, "data-key-insert")
	if err != nil {
		return err
	}
	return insertKey(ctx, c, s, &k, at)
}

// RewrapDataKeys replaces the wrapping of keys still under their old version:
// in one round trip where the dialect can (a pipelined batch on PostgreSQL),
// by a prepared statement otherwise.
func (c *conn) RewrapDataKeys(ctx context.Context, keys []tresor.WrappedKey, prev []int) (int, error) {
	if c.db.dialect.RewrapKeys != nil && c.sqlConn != nil {
		n, err := c.db.dialect.RewrapKeys(ctx, c.sqlConn, queries["data-key-rewrap"], keys, prev)
		if err != nil {
			return n, fmt.Errorf("rewrap data keys: %w", c.db.dialect.TranslateError(err))
		}
		return n, nil
	}
	st, err := c.stmt(ctx, "data-key-rewrap")
	if err != nil {
		return 0, err
	}
	n := 0
	for i, k := range keys {
		res, err := st.ExecContext(ctx, k.Subject, k.KEKVersion, k.Wrapped, prev[i])
		if err != nil {
			return n, err
		}
		if m, err := res.RowsAffected(); err != nil {
			return n, err
		} else if m == 1 {
			n++
		}
	}
	return n, nil
}

// DeleteDataKey destroys a subject's data key.
func (c *conn) DeleteDataKey(ctx context.Context, subject string) error {
	_, err := c.exec(ctx, "data-key-delete", subject)
	return err
}

// DataKeyCounts counts the data keys per KEK version.
func (c *conn) DataKeyCounts(ctx context.Context) (map[int]int, error) {
	rows, err := c.queryText(ctx, queries["data-key-counts"])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

// DataKeysNotUnder lists keys wrapped under another KEK version than kek.
func (c *conn) DataKeysNotUnder(ctx context.Context, kek int, after string, limit int) ([]tresor.WrappedKey, error) {
	var f filter
	f.add("kek_version <> ?", kek)
	text, args := f.query(queries["data-keys-not-under"], "subject", tresor.Page{After: after, Limit: limit})
	return list(ctx, c, text, args, scanKey)
}

// KEKVersions lists the KEK versions the database knows.
func (c *conn) KEKVersions(ctx context.Context) ([]tresor.KEKVersion, error) {
	return list(ctx, c, queries["kek-versions"], nil, func(s scanner) (tresor.KEKVersion, error) {
		var v tresor.KEKVersion
		var at int64
		err := s.Scan(&v.Version, &v.Check, &at)
		v.CreatedAt = fromMicros(at)
		return v, err
	})
}

// InsertKEKVersion records a KEK version's check value unless it is known.
func (c *conn) InsertKEKVersion(ctx context.Context, v tresor.KEKVersion) error {
	_, err := c.exec(ctx, "kek-version-insert", v.Version, v.Check, micros(v.CreatedAt))
	return err
}

func scanErasure(s scanner) (tresor.Erasure, error) {
	var e tresor.Erasure
	var at int64
	var origin, records string
	if err := s.Scan(&e.ContactID, &at, &e.Actor, &origin, &e.Reason, &records); err != nil {
		return e, err
	}
	e.ErasedAt, e.Origin = fromMicros(at), tresor.ErasureOrigin(origin)
	if err := json.Unmarshal([]byte(records), &e.Records); err != nil {
		return e, fmt.Errorf("erasure of %s: %w", e.ContactID, err)
	}
	return e, nil
}

// Erasure returns a contact's tombstone.
func (c *conn) Erasure(ctx context.Context, contactID string) (*tresor.Erasure, error) {
	if !tresor.ValidID(contactID) {
		return nil, notFound("erasure", contactID)
	}
	es, err := list(ctx, c, queries["erasure-select"]+" WHERE contact_id = $1", []any{contactID}, scanErasure)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, notFound("erasure", contactID)
	}
	return &es[0], nil
}

// Erasures returns the whole journal.
func (c *conn) Erasures(ctx context.Context) ([]tresor.Erasure, error) {
	return list(ctx, c, queries["erasure-select"]+" ORDER BY erased_at, contact_id", nil, scanErasure)
}

// InsertErasure writes a journal entry and tombstone.
func (c *conn) InsertErasure(ctx context.Context, e *tresor.Erasure) error {
	records, err := json.Marshal(e.Records)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "erasure-insert", e.ContactID, micros(e.ErasedAt), e.Actor, string(e.Origin), e.Reason, string(records))
	return err
}

// Suppressions returns the whole suppression list.
func (c *conn) Suppressions(ctx context.Context) ([]tresor.Suppression, error) {
	return list(ctx, c, queries["suppressions-all"], nil, func(s scanner) (tresor.Suppression, error) {
		var x tresor.Suppression
		var kind string
		var at int64
		err := s.Scan(&kind, &x.Key.Value, &x.Scope, &at)
		x.Key.Kind, x.CreatedAt = tresor.LookupKind(kind), fromMicros(at)
		return x, err
	})
}

func scanHold(s scanner) (*tresor.LegalHold, error) {
	var h tresor.LegalHold
	var by sql.NullString
	var at int64
	var released sql.NullInt64
	if err := s.Scan(&h.ID, &h.ContactID, &h.Reason, &h.PlacedBy, &at, &by, &released); err != nil {
		return nil, err
	}
	h.PlacedAt, h.ReleasedBy, h.ReleasedAt = fromMicros(at), by.String, optTime(released)
	return &h, nil
}

// Hold returns one legal hold.
func (c *conn) Hold(ctx context.Context, id string) (*tresor.LegalHold, error) {
	return get(ctx, c, "hold", id, scanHold)
}

// Holds lists a contact's holds.
func (c *conn) Holds(ctx context.Context, contactID string) ([]tresor.LegalHold, error) {
	if !tresor.ValidID(contactID) {
		return nil, nil
	}
	hs, err := list(ctx, c, queries["hold-select"]+" WHERE h.contact_id = $1 ORDER BY h.placed_at, h.id", []any{contactID}, scanHold)
	out := make([]tresor.LegalHold, len(hs))
	for i, h := range hs {
		out[i] = *h
	}
	return out, err
}

// ActiveHolds lists the holds not released, by id.
func (c *conn) ActiveHolds(ctx context.Context, p tresor.Page) ([]tresor.LegalHold, error) {
	var f filter
	f.add("h.released_at IS NULL")
	text, args := f.query(queries["hold-select"], "h.id", p)
	hs, err := list(ctx, c, text, args, scanHold)
	out := make([]tresor.LegalHold, len(hs))
	for i, h := range hs {
		out[i] = *h
	}
	return out, err
}

// InsertHold places a legal hold.
func (c *conn) InsertHold(ctx context.Context, h *tresor.LegalHold) error {
	_, err := c.exec(ctx, "hold-insert", h.ID, h.ContactID, h.Reason, h.PlacedBy, micros(h.PlacedAt))
	return err
}

// ReleaseHold releases an active hold.
func (c *conn) ReleaseHold(ctx context.Context, id, by string, at time.Time) (bool, error) {
	if !tresor.ValidID(id) {
		return false, nil
	}
	res, err := c.exec(ctx, "hold-release", id, by, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetentionScan lists contacts for a retention run.
func (c *conn) RetentionScan(ctx context.Context, after string, limit int) ([]tresor.RetentionRow, error) {
	var f filter
	text, args := f.query(queries["retention-scan"], "c.id", tresor.Page{After: after, Limit: limit})
	return list(ctx, c, text, args, func(s scanner) (tresor.RetentionRow, error) {
		var r tresor.RetentionRow
		var prov string
		var created int64
		var touched, archived sql.NullInt64
		err := s.Scan(&r.ID, &prov, &created, &touched, &archived, &r.Held)
		r.Provenance, r.CreatedAt = tresor.ProvenanceJSON([]byte(prov)), fromMicros(created)
		r.LastInteractionAt, r.ArchivedAt = optTime(touched), optTime(archived)
		return r, err
	})
}

// ExpiredRecords lists detached interactions whose statutory period ended.
func (c *conn) ExpiredRecords(ctx context.Context, t time.Time, after string, limit int) ([]string, error) {
	var f filter
	f.add("i.contact_id IS NULL")
	f.add("i.retain_until IS NOT NULL")
	f.add("i.retain_until < ?", micros(t))
	text, args := f.query(queries["expired-records"], "i.id", tresor.Page{After: after, Limit: limit})
	return list(ctx, c, text, args, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

// EraseContact removes a contact and everything that names it.
func (c *conn) EraseContact(ctx context.Context, id string, interactions, cases tresor.ErasureMode) (tresor.ErasedRecords, error) {
	var n tresor.ErasedRecords
	if !tresor.ValidID(id) {
		return n, notFound("contact", id)
	}
	count := func(query string, args ...any) (int, error) {
		res, err := c.exec(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		return int(k), err
	}
	var err error
	if interactions == tresor.AnonymiseRecords {
		n.InteractionsAnonymised, err = count("anonymise-interactions", id, []byte{})
	} else {
		n.Interactions, err = count("erase-interactions", id)
	}
	if err != nil {
		return n, err
	}
	if cases == tresor.AnonymiseRecords {
		n.CasesAnonymised, err = count("anonymise-cases", id, []byte{})
	} else {
		n.Cases, err = count("erase-cases", id)
	}
	if err != nil {
		return n, err
	}
	if n.DealsDetached, err = count("detach-deals", id); err != nil {
		return n, err
	}
	if n.ConsentEvents, err = count("erase-consent-events", id); err != nil {
		return n, err
	}
	if _, err := count("erase-holds", id); err != nil {
		return n, err
	}
	// The Message-IDs of the person's mails go with them.
	if _, err := count("erase-mail-messages", id); err != nil {
		return n, err
	}
	// So do the mails queued to them: their data key goes below, and the rows now.
	if _, err := count("erase-outbox", id); err != nil {
		return n, err
	}
	if err := deleteOne(ctx, c, "contact", id); err != nil {
		return n, err
	}
	return n, c.DeleteDataKey(ctx, id)
}

// ArchiveContact archives a contact and its records.
func (c *conn) ArchiveContact(ctx context.Context, id string, at time.Time) error {
	for _, q := range []string{"archive-contact", "archive-interactions", "archive-cases", "archive-deals"} {
		if _, err := c.exec(ctx, q, id, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

// InsertRetentionRun stores a run's report.
func (c *conn) InsertRetentionRun(ctx context.Context, r *tresor.RetentionReport) error {
	report, err := json.Marshal(r)
	if err != nil {
		return err
	}
	dry := 0
	if r.DryRun {
		dry = 1
	}
	_, err = c.exec(ctx, "retention-run-insert", r.ID, micros(r.StartedAt), micros(r.FinishedAt), dry, string(report))
	return err
}

// LastRetentionRun returns the newest run that changed data.
func (c *conn) LastRetentionRun(ctx context.Context) (*tresor.RetentionReport, error) {
	rs, err := list(ctx, c, queries["retention-run-last"], nil, func(s scanner) (string, error) {
		var r string
		return r, s.Scan(&r)
	})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, tresor.Errorf(tresor.ECNotFound, "Retention has not run yet.")
	}
	var r tresor.RetentionReport
	return &r, json.Unmarshal([]byte(rs[0]), &r)
}

// SetConsentEventIP replaces the stored address of a consent event (sealing
// one written before protection at rest).
func (c *conn) SetConsentEventIP(ctx context.Context, id, ip string) error {
	_, err := c.exec(ctx, "consent-event-ip", id, ip)
	return err
}
