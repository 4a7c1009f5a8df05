package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

func scanNotice(s scanner) (*tresor.Notice, error) {
	var n tresor.Notice
	var created, due int64
	var sent sql.NullInt64
	if err := s.Scan(&n.ID, &n.ContactID, &n.Source, &n.Network, &n.ImportID, &n.Purpose, &created, &due, &sent, &n.Channel); err != nil {
		return nil, err
	}
	n.CreatedAt, n.DueAt, n.SentAt = fromMicros(created), fromMicros(due), optTime(sent)
	return &n, nil
}

// Notices lists information duties.
func (c *conn) Notices(ctx context.Context, q tresor.NoticeQuery) ([]*tresor.Notice, error) {
	var f filter
	if q.Open {
		f.add("n.sent_at IS NULL")
	}
	if !q.DueBefore.IsZero() {
		f.add("n.due_at < ?", micros(q.DueBefore))
	}
	f.eq("n.contact_id", q.ContactID)
	text, args := f.query(queries["notice-select"], "n.id", q.Page)
	return list(ctx, c, text, args, scanNotice)
}

// InsertNotices stores information duties.
func (c *conn) InsertNotices(ctx context.Context, ns []*tresor.Notice) error {
	if c.db.dialect.CopyNotices != nil && c.sqlConn != nil && len(ns) > 1 {
		if err := c.db.dialect.CopyNotices(ctx, c.sqlConn, ns); err != nil {
			return fmt.Errorf("copy notices: %w", c.db.dialect.TranslateError(err))
		}
		c.bulk += len(ns)
		return nil
	}
	if c.bulkRows(len(ns)) {
		return c.insertNoticesBulk(ctx, ns)
	}
	s, err := c.stmt(ctx, "notice-insert")
	if err != nil {
		return err
	}
	for _, n := range ns {
		if _, err := s.ExecContext(ctx, n.ID, n.ContactID, n.Source, n.Network, n.ImportID, n.Purpose, micros(n.CreatedAt), micros(n.DueAt)); err != nil {
			return c.db.dialect.TranslateError(err)
		}
	}
	return nil
}

// NoticeSent marks an open notice sent.
func (c *conn) NoticeSent(ctx context.Context, id, channel string, at time.Time) (bool, error) {
	res, err := c.exec(ctx, "notice-sent", id, channel, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LookupContacts finds the contacts of blind-index keys, in one query per
// kind and 500 values (the index leads with the kind); with ? parameters
// where the dialect has them, which SQLite binds without a scan of the
// statement's names.
func (c *conn) LookupContacts(ctx context.Context, keys []tresor.LookupKey) (map[tresor.LookupKey]string, error) {
	byKind := map[tresor.LookupKind][]string{}
	for _, k := range keys {
		byKind[k.Kind] = append(byKind[k.Kind], k.Value)
	}
	if c.db.dialect.LookupArray != "" {
		return c.lookupArray(ctx, byKind)
	}
	out := map[tresor.LookupKey]string{}
	for kind, values := range byKind {
		slices.Sort(values) // the index is probed in its order
		for len(values) > 0 {
			n := min(len(values), 500)
			var b strings.Builder
			b.WriteString("SELECT value, contact_id FROM contact_lookup WHERE kind = ")
			c.params(&b, 1, 1)
			b.WriteString(" AND value IN (")
			c.params(&b, 2, n)
			b.WriteByte(')')
			if err := c.lookupRows(ctx, b.String(), append([]any{string(kind)}, anys(values[:n])...), kind, out); err != nil {
				return nil, err
			}
			values = values[n:]
		}
	}
	return out, nil
}

// lookupRows adds the (value, contact id) rows of a query to out.
func (c *conn) lookupRows(ctx context.Context, text string, args []any, kind tresor.LookupKind, out map[tresor.LookupKey]string) error {
	rows, err := list(ctx, c, text, args, func(s scanner) (kv [2]string, err error) {
		return kv, s.Scan(&kv[0], &kv[1])
	})
	if err != nil {
		return fmt.Errorf("lookup contacts: %w", err)
	}
	for _, kv := range rows {
		out[tresor.LookupKey{Kind: kind, Value: kv[0]}] = kv[1]
	}
	return nil
}

// params writes n parameters numbered from first ($first, …), or as ?
// where the dialect binds positionally.
func (c *conn) params(b *strings.Builder, first, n int) {
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.db.dialect.PositionalParams {
			b.WriteByte('?')
		} else {
			b.WriteString("$" + strconv.Itoa(first+i))
		}
	}
}

// anys returns vs as arguments of a query.
func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func scanChannel(s scanner) (*tresor.SocialChannelRow, error) {
	var c tresor.SocialChannelRow
	var created, updated int64
	var key keyColumns
	if err := s.Scan(&c.ID, &c.Network, &c.Name, &c.Account, &c.Credentials, &c.InboxCursor, &c.LastError, &created, &updated,
		&key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt, c.Key = fromMicros(created), fromMicros(updated), key.get()
	return &c, nil
}

// Channel returns one channel.
func (c *conn) Channel(ctx context.Context, id string) (*tresor.SocialChannelRow, error) {
	return get(ctx, c, "channel", id, scanChannel)
}

// Channels lists the channels.
func (c *conn) Channels(ctx context.Context) ([]*tresor.SocialChannelRow, error) {
	return list(ctx, c, queries["channel-select"]+" ORDER BY h.id", nil, scanChannel)
}

// InsertChannel stores a channel and its new data key.
func (c *conn) InsertChannel(ctx context.Context, ch *tresor.SocialChannelRow) error {
	if err := c.newKey(ctx, ch.Sealing, ch.CreatedAt); err != nil {
		return err
	}
	_, err := c.exec(ctx, "channel-insert", ch.ID, ch.Network, ch.Name, ch.Account, ch.Credentials, micros(ch.CreatedAt), micros(ch.UpdatedAt))
	return err
}

// SetChannelState stores a channel's cursor and last error.
func (c *conn) SetChannelState(ctx context.Context, id, cursor, lastError string, at time.Time) error {
	_, err := c.exec(ctx, "channel-state", id, cursor, lastError, micros(at))
	return err
}

// DeleteChannel deletes a channel and its key.
func (c *conn) DeleteChannel(ctx context.Context, id string) error {
	if err := deleteOne(ctx, c, "channel", id); err != nil {
		return err
	}
	return c.DeleteDataKey(ctx, id)
}

func scanPost(s scanner) (*tresor.Post, error) {
	var p tresor.Post
	var at, created int64
	var published, attempted sql.NullInt64
	if err := s.Scan(&p.ID, &p.ChannelID, &p.Text, &at, &published, &p.RemoteID, &p.URL, &p.Error, &p.CreatedBy, &created,
		&p.Key, &p.Attempts, &attempted, &p.Unconfirmed); err != nil {
		return nil, err
	}
	p.PublishAt, p.PublishedAt, p.CreatedAt, p.AttemptedAt = fromMicros(at), optTime(published), fromMicros(created), optTime(attempted)
	return &p, nil
}

// Posts lists posts.
func (c *conn) Posts(ctx context.Context, q tresor.PostQuery) ([]*tresor.Post, error) {
	var f filter
	f.eq("p.channel_id", q.ChannelID)
	if !q.DueBefore.IsZero() {
		f.add("p.published_at IS NULL")
		f.add("p.error = ''")
		f.add("p.publish_at <= ?", micros(q.DueBefore))
	}
	text, args := f.query(queries["post-select"], "p.id", q.Page)
	return list(ctx, c, text, args, scanPost)
}

// InsertPost stores a post.
func (c *conn) InsertPost(ctx context.Context, p *tresor.Post) error {
	_, err := c.exec(ctx, "post-insert", p.ID, p.ChannelID, p.Text, micros(p.PublishAt), nullMicros(p.PublishedAt), p.RemoteID, p.URL,
		p.Error, p.CreatedBy, micros(p.CreatedAt), p.Key, p.Attempts, nullMicros(p.AttemptedAt), p.Unconfirmed)
	return err
}

// PostDone stores where publishing a post stands: an attempt about to
// begin, or its outcome.
func (c *conn) PostDone(ctx context.Context, p *tresor.Post) error {
	_, err := c.exec(ctx, "post-done", p.ID, nullMicros(p.PublishedAt), p.RemoteID, p.URL, p.Error, p.Key, p.Attempts,
		nullMicros(p.AttemptedAt), p.Unconfirmed)
	return err
}
