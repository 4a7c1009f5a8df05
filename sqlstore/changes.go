package sqlstore

import (
	"context"
	"strings"
	"time"

	"tresor"
)

// The change feed: one row per transaction that wrote contacts or
// organizations, with their ids comma-separated (ids never hold a comma).

// NoteChange adds an entry to the change feed.
func (c *conn) NoteChange(ctx context.Context, ch *tresor.Change) error {
	s, err := c.stmt(ctx, "change-insert")
	if err != nil {
		return err
	}
	if err := s.QueryRowContext(ctx, ch.Origin, micros(ch.At), strings.Join(ch.Contacts, ","),
		strings.Join(ch.Organizations, ",")).Scan(&ch.Seq); err != nil {
		return err
	}
	if c.db.dialect.NotifyChange != "" {
		if _, err := c.tx.ExecContext(ctx, c.db.dialect.NotifyChange); err != nil {
			return err
		}
	}
	return nil
}

// Changes returns up to limit entries after seq.
func (c *conn) Changes(ctx context.Context, after int64, limit int) ([]*tresor.Change, error) {
	s, err := c.stmt(ctx, "changes-after")
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tresor.Change
	for rows.Next() {
		var ch tresor.Change
		var at int64
		var contacts, orgs string
		if err := rows.Scan(&ch.Seq, &ch.Origin, &at, &contacts, &orgs); err != nil {
			return nil, err
		}
		ch.At, ch.Contacts, ch.Organizations = fromMicros(at), splitIDs(contacts), splitIDs(orgs)
		out = append(out, &ch)
	}
	return out, rows.Err()
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// LastChange returns the newest seq of the feed.
func (c *conn) LastChange(ctx context.Context) (int64, error) {
	s, err := c.stmt(ctx, "change-last")
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.QueryRowContext(ctx).Scan(&n)
	return n, err
}

// PruneChanges deletes the entries older than before.
func (c *conn) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	r, err := c.exec(ctx, "changes-prune", micros(before))
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

// ListenChanges calls woke on every notification of a change, where the
// dialect can listen.
func (db *DB) ListenChanges(ctx context.Context, woke func()) error {
	if db.dialect.ListenChanges == nil {
		return nil
	}
	return db.dialect.ListenChanges(ctx, woke)
}

// Lead tries to take the lead of the servers on the database, where the
// dialect can tell several servers apart; otherwise this process is the
// only one and leads.
func (db *DB) Lead(ctx context.Context) (tresor.Lease, error) {
	if db.dialect.Lead == nil {
		return soleLease{}, nil
	}
	return db.dialect.Lead(ctx)
}

// soleLease is the lead of the only process on the database: held until
// the process ends.
type soleLease struct{}

func (soleLease) Held(context.Context) error { return nil }
func (soleLease) Release() error             { return nil }
