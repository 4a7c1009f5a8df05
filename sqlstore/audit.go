package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

func scanAudit(s scanner) (*tresor.AuditEntry, error) {
	var e tresor.AuditEntry
	var at int64
	var ids, cats, decision string
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.Roles, &e.Purpose, &e.Action, &e.ObjectType, &ids, &cats, &decision,
		&e.Reason, &e.RequestID, &e.Client, &e.Detail, &e.Hash); err != nil {
		return nil, err
	}
	e.At, e.Decision = fromMicros(at), tresor.Decision(decision)
	if ids != "" {
		e.ObjectIDs = strings.Split(ids, ",")
	}
	if cats != "" {
		for _, c := range strings.Split(cats, ",") {
			e.Categories = append(e.Categories, tresor.Category(c))
		}
	}
	return &e, nil
}

func joinCategories(cs []tresor.Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// AuditEntries lists entries, newest first.
func (c *conn) AuditEntries(ctx context.Context, q tresor.AuditFilter) ([]*tresor.AuditEntry, error) {
	var f filter
	head := queries["audit-select"]
	if q.ContactID != "" {
		head += " JOIN audit_objects o ON o.seq = a.seq"
		f.add("o.object_id = ?", q.ContactID)
	}
	f.eq("a.actor", q.Actor)
	f.eq("a.purpose", q.Purpose)
	f.eq("a.decision", string(q.Decision))
	if strings.HasSuffix(q.Action, ".") {
		f.add("a.action LIKE ?", q.Action+"%")
	} else {
		f.eq("a.action", q.Action)
	}
	f.since("a.at", q.Since)
	if !q.Until.IsZero() {
		f.add("a.at < ?", micros(q.Until))
	}
	if q.After != "" {
		seq, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one this server issued.")
		}
		f.add("a.seq < ?", seq)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = tresor.DefaultPageSize
	}
	text, args := f.query(head, "a.seq", tresor.Page{Limit: limit})
	text = strings.Replace(text, "ORDER BY a.seq", "ORDER BY a.seq DESC", 1)
	return list(ctx, c, text, args, scanAudit)
}

// AuditScan lists entries after seq, oldest first.
func (c *conn) AuditScan(ctx context.Context, after int64, limit int) ([]*tresor.AuditEntry, error) {
	return list(ctx, c, queries["audit-select"]+" WHERE a.seq > $1 ORDER BY a.seq LIMIT $2", []any{after, limit}, scanAudit)
}

// AuditRange lists the entries of a range of seq.
func (c *conn) AuditRange(ctx context.Context, after, upto int64) ([]*tresor.AuditEntry, error) {
	return list(ctx, c, queries["audit-select"]+" WHERE a.seq > $1 AND a.seq <= $2 ORDER BY a.seq", []any{after, upto}, scanAudit)
}

// AuditMax returns the highest seq in the trail (0 for none).
func (c *conn) AuditMax(ctx context.Context) (int64, error) {
	s, err := c.stmt(ctx, "audit-max")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, s.QueryRowContext(ctx).Scan(&n)
}

// AuditHead returns the newest entry's seq and link.
func (c *conn) AuditHead(ctx context.Context) (int64, []byte, error) {
	return c.auditHead(ctx, "audit-head")
}

// LockAuditHead returns the head and locks it until the transaction ends.
// SQLite's single writer serialises transactions already; on PostgreSQL an
// update of the head row takes its lock, and a second appender waits for it.
func (c *conn) LockAuditHead(ctx context.Context) (int64, []byte, error) {
	if c.db.dialect.Name == "postgres" {
		if _, err := c.exec(ctx, "audit-head-lock"); err != nil {
			return 0, nil, err
		}
	}
	return c.auditHead(ctx, "audit-head")
}

func (c *conn) auditHead(ctx context.Context, query string) (int64, []byte, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return 0, nil, err
	}
	var seq int64
	var hash []byte
	if err := s.QueryRowContext(ctx).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("the audit head: %w", err)
	}
	return seq, hash, nil
}

// InsertAudit appends chained entries and moves the head.
func (c *conn) InsertAudit(ctx context.Context, entries []*tresor.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if c.db.dialect.CopyAudit != nil && c.sqlConn != nil && len(entries) > 8 {
		if err := c.db.dialect.CopyAudit(ctx, c.sqlConn, entries); err != nil {
			return err
		}
	} else {
		ins, err := c.stmt(ctx, "audit-insert")
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, err := ins.ExecContext(ctx, AuditArgs(e)...); err != nil {
				return err
			}
		}
	}
	last := entries[len(entries)-1]
	_, err := c.exec(ctx, "audit-head-set", last.Seq, last.Hash)
	return err
}

// IndexAudit writes the object index rows of up to limit entries past the
// index's high-water mark and returns how many entries it indexed.
func (c *conn) IndexAudit(ctx context.Context, limit int) (int, error) {
	var upto int64
	s, err := c.stmt(ctx, "audit-indexed")
	if err != nil {
		return 0, err
	}
	if err := s.QueryRowContext(ctx).Scan(&upto); err != nil {
		return 0, err
	}
	rows, err := list(ctx, c, queries["audit-unindexed"], []any{upto, limit}, func(s scanner) (struct {
		seq int64
		ids string
	}, error) {
		var r struct {
			seq int64
			ids string
		}
		return r, s.Scan(&r.seq, &r.ids)
	})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	obj, err := c.stmt(ctx, "audit-object-insert")
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if r.ids == "" {
			continue
		}
		if q := c.db.dialect.AuditObjectsArray; q != "" {
			// one statement for an entry, however many objects it names
			if _, err := c.queryExec(ctx, q, uniqueIDs(strings.Split(r.ids, ",")), r.seq); err != nil {
				return 0, fmt.Errorf("index audit objects: %w", err)
			}
			continue
		}
		for _, id := range uniqueIDs(strings.Split(r.ids, ",")) {
			if _, err := obj.ExecContext(ctx, id, r.seq); err != nil {
				return 0, err
			}
		}
	}
	_, err = c.exec(ctx, "audit-indexed-set", rows[len(rows)-1].seq)
	return len(rows), err
}

// AuditArgs are the audit_log columns of an entry.
func AuditArgs(e *tresor.AuditEntry) []any {
	return []any{e.Seq, micros(e.At), e.Actor, e.Roles, e.Purpose, e.Action, e.ObjectType, strings.Join(e.ObjectIDs, ","),
		joinCategories(e.Categories), string(e.Decision), e.Reason, e.RequestID, e.Client, e.Detail, e.Hash}
}

func uniqueIDs(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// UniqueIDs is uniqueIDs for the adapters' bulk paths.
func UniqueIDs(ids []string) []string { return uniqueIDs(ids) }

// InsertAuditCheckpoint stores a checkpoint.
func (c *conn) InsertAuditCheckpoint(ctx context.Context, cp *tresor.AuditCheckpoint) error {
	_, err := c.exec(ctx, "audit-checkpoint-insert", cp.Size, micros(cp.At), cp.Root, cp.Chain, cp.Range, cp.KeyID, cp.Signature)
	return err
}

// AuditCheckpoints lists the checkpoints.
func (c *conn) AuditCheckpoints(ctx context.Context) ([]tresor.AuditCheckpoint, error) {
	return list(ctx, c, queries["audit-checkpoints"], nil, func(s scanner) (tresor.AuditCheckpoint, error) {
		var cp tresor.AuditCheckpoint
		var at int64
		err := s.Scan(&cp.Size, &at, &cp.Root, &cp.Chain, &cp.Range, &cp.KeyID, &cp.Signature)
		cp.At = fromMicros(at)
		return cp, err
	})
}

// AuditPrune returns the newest pruning.
func (c *conn) AuditPrune(ctx context.Context) (*tresor.AuditPrune, error) {
	ps, err := list(ctx, c, queries["audit-prune-last"], nil, func(s scanner) (tresor.AuditPrune, error) {
		var p tresor.AuditPrune
		var at int64
		err := s.Scan(&p.Upto, &at, &p.Chain, &p.Range)
		p.At = fromMicros(at)
		return p, err
	})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// PruneAudit records a pruning and deletes the entries it covers.
func (c *conn) PruneAudit(ctx context.Context, p *tresor.AuditPrune) error {
	if _, err := c.exec(ctx, "audit-prune-insert", p.Upto, micros(p.At), p.Chain, p.Range); err != nil {
		return err
	}
	leaf, err := c.stmt(ctx, "audit-pruned-leaf-insert")
	if err != nil {
		return err
	}
	first := p.Upto - int64(len(p.Leaves)) + 1
	for i, l := range p.Leaves {
		if _, err := leaf.ExecContext(ctx, first+int64(i), l); err != nil {
			return err
		}
	}
	if _, err := c.exec(ctx, "audit-prune-objects", p.Upto); err != nil {
		return err
	}
	_, err = c.exec(ctx, "audit-prune-log", p.Upto)
	return err
}

// AuditPrunedLeaves returns the leaf hashes of pruned entries.
func (c *conn) AuditPrunedLeaves(ctx context.Context) ([][]byte, error) {
	return list(ctx, c, queries["audit-pruned-leaves"], nil, func(s scanner) ([]byte, error) {
		var b []byte
		return b, s.Scan(&b)
	})
}

// AuditObjectRefs counts the object index rows.
func (c *conn) AuditObjectRefs(ctx context.Context) (int64, error) {
	var n int64
	s, err := c.stmt(ctx, "audit-object-count")
	if err != nil {
		return 0, err
	}
	return n, s.QueryRowContext(ctx).Scan(&n)
}

// AuditTouched aggregates the objects an actor's entries named.
func (c *conn) AuditTouched(ctx context.Context, actor, objectType string, since, until time.Time) ([]tresor.AuditTouch, error) {
	rows, err := c.queryText(ctx, queries["audit-touched"], actor, objectType, micros(since), micros(until))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[string]*tresor.AuditTouch{}
	var order []string
	for rows.Next() {
		var at int64
		var ids string
		if err := rows.Scan(&at, &ids); err != nil {
			return nil, err
		}
		t := fromMicros(at)
		for _, id := range uniqueIDs(strings.Split(ids, ",")) {
			if id == "" {
				continue
			}
			x := byID[id]
			if x == nil {
				x = &tresor.AuditTouch{ObjectID: id, First: t}
				byID[id] = x
				order = append(order, id)
			}
			x.Last = t
			x.Entries++
		}
	}
	out := make([]tresor.AuditTouch, len(order))
	for i, id := range order {
		out[i] = *byID[id]
	}
	return out, rows.Err()
}
