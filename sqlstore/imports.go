package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"tresor"
)

// importReasons is how an import record keeps its counts by reason: one
// JSON object, never queried by its parts.
type importReasons struct {
	Refused map[string]int `json:"refused,omitempty"`
	Dropped map[string]int `json:"dropped,omitempty"`
}

func scanImport(s scanner) (*tresor.ImportRecord, error) {
	var r tresor.ImportRecord
	var basis, state, code, reasons string
	var started, updated int64
	var finished sql.NullInt64
	if err := s.Scan(&r.ID, &r.Format, &r.Network, &r.Purpose, &basis, &r.FileName, &r.Actor, &r.ActorName, &state, &code,
		&r.Rows, &r.Created, &r.Duplicates, &r.Refused, &reasons, &started, &updated, &finished); err != nil {
		return nil, err
	}
	r.LegalBasis, r.State, r.Error = tresor.LegalBasis(basis), tresor.ImportState(state), tresor.Code(code)
	r.StartedAt, r.UpdatedAt, r.FinishedAt = fromMicros(started), fromMicros(updated), optTime(finished)
	var rs importReasons
	if reasons != "" {
		if err := json.Unmarshal([]byte(reasons), &rs); err != nil {
			return nil, fmt.Errorf("import %s: reasons: %w", r.ID, err)
		}
	}
	r.RefusedBy, r.Dropped = nonNilMap(rs.Refused), nonNilMap(rs.Dropped)
	return &r, nil
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func reasonsOf(r *tresor.ImportRecord) (string, error) {
	b, err := json.Marshal(importReasons{Refused: r.RefusedBy, Dropped: r.Dropped})
	return string(b), err
}

// Imports lists import records, newest first (ids are UUIDv7: they sort by
// creation); Page.After is the id of the last record of the page before.
func (c *conn) Imports(ctx context.Context, q tresor.ImportQuery) ([]*tresor.ImportRecord, error) {
	var f filter
	f.eq("x.purpose", q.Purpose)
	if q.After != "" {
		f.add("x.id < ?", q.After)
	}
	text := queries["import-select"]
	for i, cond := range f.conds {
		if i == 0 {
			text += " WHERE "
		} else {
			text += " AND "
		}
		text += cond
	}
	limit := q.Limit
	if limit <= 0 {
		limit = tresor.DefaultPageSize
	}
	f.args = append(f.args, limit)
	text += fmt.Sprintf(" ORDER BY x.id DESC LIMIT $%d", len(f.args))
	return list(ctx, c, text, f.args, scanImport)
}

// ImportRecord returns one import record.
func (c *conn) ImportRecord(ctx context.Context, id string) (*tresor.ImportRecord, error) {
	return get(ctx, c, "import", id, scanImport)
}

// InsertImport stores a new import record.
func (c *conn) InsertImport(ctx context.Context, r *tresor.ImportRecord) error {
	reasons, err := reasonsOf(r)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "import-insert", r.ID, r.Format, r.Network, r.Purpose, string(r.LegalBasis), r.FileName, r.Actor, r.ActorName,
		string(r.State), string(r.Error), r.Rows, r.Created, r.Duplicates, r.Refused, reasons, micros(r.StartedAt), micros(r.UpdatedAt),
		nullMicros(r.FinishedAt))
	return err
}

// UpdateImport stores an import's state, counts and times.
func (c *conn) UpdateImport(ctx context.Context, r *tresor.ImportRecord) error {
	reasons, err := reasonsOf(r)
	if err != nil {
		return err
	}
	if !tresor.ValidID(r.ID) {
		return notFound("import", r.ID)
	}
	res, err := c.exec(ctx, "import-update", r.ID, string(r.State), string(r.Error), r.Rows, r.Created, r.Duplicates, r.Refused, reasons,
		micros(r.UpdatedAt), nullMicros(r.FinishedAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("import", r.ID)
	}
	return nil
}
