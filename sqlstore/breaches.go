package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"tresor"
)

var (
	_ tresor.BreachReader = (*conn)(nil)
	_ tresor.BreachWriter = (*conn)(nil)
)

func scanBreach(s scanner) (*tresor.BreachRow, error) {
	var r tresor.BreachRow
	var id, plain string
	var created, updated, version int64
	var key keyColumns
	if err := s.Scan(&id, &plain, &created, &updated, &version, &r.Sealed,
		&key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(plain), &r.Breach); err != nil {
		return nil, fmt.Errorf("breach %s: %w", id, err)
	}
	r.BreachContent = tresor.BreachContent{}
	r.ID, r.CreatedAt, r.UpdatedAt, r.Version, r.Key = id, fromMicros(created), fromMicros(updated), version, key.get()
	return &r, nil
}

// plainBreach is the JSON of a breach's plain fields (the content, computed
// clock fields and the row's metadata left out).
func plainBreach(r *tresor.BreachRow) (string, error) {
	b := r.Breach
	b.BreachContent, b.Meta = tresor.BreachContent{}, tresor.Meta{}
	b.Remaining, b.Overdue = 0, false
	out, err := json.Marshal(&b)
	return string(out), err
}

// Breach returns one breach.
func (c *conn) Breach(ctx context.Context, id string) (*tresor.BreachRow, error) {
	return get(ctx, c, "breach", id, scanBreach)
}

// Breaches lists breaches, the newest first; a page continues before the id
// of its cursor.
func (c *conn) Breaches(ctx context.Context, p tresor.Page) ([]*tresor.BreachRow, error) {
	var f filter
	if p.After != "" {
		if !tresor.ValidID(p.After) {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
		}
		f.add("br.id < ?", p.After)
	}
	text, args := f.ordered(queries["breach-select"], "br.id DESC", p.Limit)
	return list(ctx, c, text, args, scanBreach)
}

// InsertBreach inserts a breach.
func (c *conn) InsertBreach(ctx context.Context, r *tresor.BreachRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	plain, err := plainBreach(r)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "breach-insert", r.ID, micros(r.AwareAt), string(r.State), plain, keySubject(r.Key),
		micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed)
	return err
}

// UpdateBreach replaces a breach.
func (c *conn) UpdateBreach(ctx context.Context, r *tresor.BreachRow, prev int64) error {
	if err := c.newKey(ctx, r.Sealing, r.UpdatedAt); err != nil {
		return err
	}
	plain, err := plainBreach(r)
	if err != nil {
		return err
	}
	return changeOne(ctx, c, "breach", r.ID, "breach-update", r.ID, micros(r.AwareAt), string(r.State), plain,
		keySubject(r.Key), micros(r.UpdatedAt), r.Version, r.Sealed, prev)
}
