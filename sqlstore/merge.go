package sqlstore

import (
	"context"

	"tresor"
)

// Merged returns the tombstone a merge left of a contact.
func (c *conn) Merged(ctx context.Context, contactID string) (*tresor.Merge, error) {
	if !tresor.ValidID(contactID) {
		return nil, notFound("merge", contactID)
	}
	ms, err := list(ctx, c, queries["merge-get"], []any{contactID}, func(s scanner) (tresor.Merge, error) {
		var m tresor.Merge
		var at int64
		err := s.Scan(&m.From, &m.Into, &at, &m.Actor)
		m.MergedAt = fromMicros(at)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, notFound("merge", contactID)
	}
	return &ms[0], nil
}

// DuplicateKeys lists pairs of contacts that share a blind-index key.
func (c *conn) DuplicateKeys(ctx context.Context, limit int) ([]tresor.DuplicateKey, error) {
	return list(ctx, c, queries["duplicate-keys"], []any{limit}, func(s scanner) (tresor.DuplicateKey, error) {
		var k tresor.DuplicateKey
		var kind string
		err := s.Scan(&kind, &k.A, &k.B)
		k.Kind = tresor.LookupKind(kind)
		return k, err
	})
}

// InsertMerge writes a merge's tombstone.
func (c *conn) InsertMerge(ctx context.Context, m *tresor.Merge) error {
	_, err := c.exec(ctx, "merge-insert", m.From, m.Into, micros(m.MergedAt), m.Actor)
	return err
}

// MoveContactLinks moves notices, consent links and the consent ledger from
// one contact to another; the derived states of from go (the gate sets the
// survivor's).
func (c *conn) MoveContactLinks(ctx context.Context, from, into string) (notices, events int, err error) {
	count := func(query string) (int, error) {
		res, err := c.exec(ctx, query, from, into)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		return int(n), err
	}
	if notices, err = count("merge-move-notices"); err != nil {
		return 0, 0, err
	}
	if events, err = count("merge-move-consent-events"); err != nil {
		return 0, 0, err
	}
	if _, err = count("merge-move-consent-links"); err != nil {
		return 0, 0, err
	}
	// The mails of the absorbed contact keep threading their cases.
	if _, err = count("merge-move-mail-messages"); err != nil {
		return 0, 0, err
	}
	_, err = c.exec(ctx, "merge-drop-consent-states", from)
	return notices, events, err
}

// SetConsentState sets a derived consent state.
func (c *conn) SetConsentState(ctx context.Context, contactID string, st tresor.ConsentStatus) error {
	_, err := c.exec(ctx, "consent-state-set", contactID, st.Purpose, string(st.Channel), string(st.State), micros(st.Since))
	return err
}
