package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"tresor"
)

var (
	_ tresor.OutboxReader = (*conn)(nil)
	_ tresor.OutboxWriter = (*conn)(nil)
)

// InsertOutboxMail queues a mail and stores its new data key.
func (c *conn) InsertOutboxMail(ctx context.Context, r *tresor.OutboxRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	var contact any
	if r.ContactID != "" {
		contact = r.ContactID
	}
	_, err := c.exec(ctx, "outbox-insert", r.ID, r.Kind, contact, keySubject(r.Key), micros(r.NextAt), micros(r.CreatedAt), r.Sealed)
	return err
}

// OutboxDue lists the mails a sender may claim.
func (c *conn) OutboxDue(ctx context.Context, now, stale time.Time, limit int) ([]string, error) {
	return list(ctx, c, queries["outbox-due"], []any{micros(now), micros(stale), limit}, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

// OutboxMail returns a queued mail with its data key.
func (c *conn) OutboxMail(ctx context.Context, id string) (*tresor.OutboxRow, error) {
	if !tresor.ValidID(id) {
		return nil, notFound("mail", id)
	}
	s, err := c.stmt(ctx, "outbox-get")
	if err != nil {
		return nil, err
	}
	var r tresor.OutboxRow
	var contact sql.NullString
	var state string
	var next, created int64
	var claimed, done sql.NullInt64
	var key keyColumns
	err = s.QueryRowContext(ctx, id).Scan(&r.ID, &r.Kind, &contact, &state, &r.Attempts, &next, &claimed, &created, &done,
		&r.LastError, &r.Sealed, &key.subject, &key.version, &key.kek, &key.wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("mail", id)
	}
	if err != nil {
		return nil, err
	}
	r.ContactID, r.State, r.Key = contact.String, tresor.OutboxState(state), key.get()
	r.NextAt, r.CreatedAt = fromMicros(next), fromMicros(created)
	if claimed.Valid {
		t := fromMicros(claimed.Int64)
		r.ClaimedAt = &t
	}
	if done.Valid {
		t := fromMicros(done.Int64)
		r.DoneAt = &t
	}
	return &r, nil
}

// OutboxNext returns the earliest next_at of the queued mails.
func (c *conn) OutboxNext(ctx context.Context) (*time.Time, error) {
	s, err := c.stmt(ctx, "outbox-next")
	if err != nil {
		return nil, err
	}
	var next sql.NullInt64
	if err := s.QueryRowContext(ctx).Scan(&next); err != nil {
		return nil, err
	}
	if !next.Valid {
		return nil, nil
	}
	t := fromMicros(next.Int64)
	return &t, nil
}

// OutboxCounts counts the mails per state.
func (c *conn) OutboxCounts(ctx context.Context) (map[tresor.OutboxState]int, error) {
	type count struct {
		state string
		n     int
	}
	rows, err := list(ctx, c, queries["outbox-counts"], nil, func(s scanner) (count, error) {
		var k count
		return k, s.Scan(&k.state, &k.n)
	})
	if err != nil {
		return nil, err
	}
	out := map[tresor.OutboxState]int{}
	for _, k := range rows {
		out[tresor.OutboxState(k.state)] = k.n
	}
	return out, nil
}

// ClaimOutboxMail claims a mail for one sender with one conditional UPDATE:
// of two senders, the second finds the row no longer queued (PostgreSQL
// re-checks the condition after the first one's commit) and claims nothing.
func (c *conn) ClaimOutboxMail(ctx context.Context, id string, now, stale time.Time) (bool, error) {
	res, err := c.exec(ctx, "outbox-claim", id, micros(now), micros(stale))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// OutboxMailDone marks a claimed mail sent or failed and empties it.
func (c *conn) OutboxMailDone(ctx context.Context, id string, state tresor.OutboxState, at time.Time, reason string) error {
	_, err := c.exec(ctx, "outbox-done", id, string(state), micros(at), reason, []byte{})
	return err
}

// OutboxMailRetry puts a claimed mail back in the queue.
func (c *conn) OutboxMailRetry(ctx context.Context, id string, next time.Time, reason string) error {
	_, err := c.exec(ctx, "outbox-retry", id, micros(next), reason)
	return err
}

// PurgeOutbox deletes the mails sent or failed before t.
func (c *conn) PurgeOutbox(ctx context.Context, before time.Time) (int, error) {
	res, err := c.exec(ctx, "outbox-purge", micros(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
