package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"tresor"
)

var (
	_ tresor.RequestReader = (*conn)(nil)
	_ tresor.RequestWriter = (*conn)(nil)
)

func scanRequest(s scanner) (*tresor.RequestRow, error) {
	var r tresor.RequestRow
	var extended int64
	var created, updated int64
	var key keyColumns
	var closed sql.NullInt64
	if err := s.Scan(&r.ID, &r.Kind, &r.Channel, &r.ReceivedAt, &r.State, &r.Due, &extended, &created, &updated,
		&r.Version, &r.Sealed, &key.subject, &key.version, &key.kek, &key.wrapped, &closed); err != nil {
		return nil, err
	}
	r.Key, r.Extended, r.ClosedAt = key.get(), extended != 0, optTime(closed)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

// DataRequest returns one request of a data subject.
func (c *conn) DataRequest(ctx context.Context, id string) (*tresor.RequestRow, error) {
	return get(ctx, c, "request", id, scanRequest)
}

// DataRequests lists requests by due date, then by id; a page continues
// after the due date and id of the request its cursor names.
func (c *conn) DataRequests(ctx context.Context, q tresor.RequestFilter) ([]*tresor.RequestRow, error) {
	var f filter
	if len(q.States) > 0 {
		marks := make([]string, len(q.States))
		args := make([]any, len(q.States))
		for i, s := range q.States {
			marks[i], args[i] = "?", string(s)
		}
		f.add("rq.state IN ("+strings.Join(marks, ", ")+")", args...)
	}
	if q.DueBefore != "" {
		f.add("rq.due < ?", string(q.DueBefore))
	}
	if q.Page.After != "" {
		if !tresor.ValidID(q.Page.After) {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
		}
		f.add("(rq.due > (SELECT a.due FROM data_requests a WHERE a.id = ?) OR (rq.due = (SELECT b.due FROM data_requests b WHERE b.id = ?) AND rq.id > ?))",
			q.Page.After, q.Page.After, q.Page.After)
	}
	text, args := f.ordered(queries["request-select"], "rq.due, rq.id", q.Page.Limit)
	return list(ctx, c, text, args, scanRequest)
}

func requestArgs(r *tresor.RequestRow) []any {
	extended := 0
	if r.Extended {
		extended = 1
	}
	return []any{string(r.Kind), string(r.Channel), string(r.ReceivedAt), string(r.State), string(r.Due), extended,
		keySubject(r.Key), nullMicros(r.ClosedAt)}
}

// InsertDataRequest inserts a request.
func (c *conn) InsertDataRequest(ctx context.Context, r *tresor.RequestRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, requestArgs(r)...)
	_, err := c.exec(ctx, "request-insert", append(args, micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed)...)
	return err
}

// UpdateDataRequest replaces a request.
func (c *conn) UpdateDataRequest(ctx context.Context, r *tresor.RequestRow, prev int64) error {
	if err := c.newKey(ctx, r.Sealing, r.UpdatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, requestArgs(r)...)
	return changeOne(ctx, c, "request", r.ID, "request-update", append(args, micros(r.UpdatedAt), r.Version, r.Sealed, prev)...)
}

// DeleteDataRequest deletes a request; its reminders go with it.
func (c *conn) DeleteDataRequest(ctx context.Context, id string) error {
	res, err := c.exec(ctx, "request-delete", id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return tresor.Errorf(tresor.ECNotFound, "No request %s.", id)
	}
	return nil
}

// ClosedRequests lists the ids of requests closed before the time.
func (c *conn) ClosedRequests(ctx context.Context, before time.Time, after string, limit int) ([]string, error) {
	var f filter
	f.add("rq.closed_at IS NOT NULL")
	f.add("rq.closed_at < ?", micros(before))
	text, args := f.query(queries["request-closed"], "rq.id", tresor.Page{After: after, Limit: limit})
	return list(ctx, c, text, args, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

// ClaimRequestReminder claims a reminder of a request for its deadline.
func (c *conn) ClaimRequestReminder(ctx context.Context, requestID, reminder string, due tresor.Date, at time.Time) (bool, error) {
	res, err := c.exec(ctx, "request-reminder-claim", requestID, reminder, string(due), micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
