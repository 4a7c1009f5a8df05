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

// count runs a named query that returns one count.
func (c *conn) count(ctx context.Context, name string, args ...any) (int, error) {
	s, err := c.stmt(ctx, name)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", name, c.db.dialect.TranslateError(err))
	}
	return n, nil
}

// LookupKinds lists the kinds of identifiers a contact has.
func (c *conn) LookupKinds(ctx context.Context, contactID string) ([]string, error) {
	if !tresor.ValidID(contactID) {
		return nil, nil
	}
	return list(ctx, c, queries["lookup-kinds"], []any{contactID}, func(s scanner) (string, error) {
		var k string
		return k, s.Scan(&k)
	})
}

// Suppressed reports whether one of the keys is suppressed for scope.
func (c *conn) Suppressed(ctx context.Context, keys []tresor.LookupKey, scope string) (bool, error) {
	for _, k := range keys {
		n, err := c.count(ctx, "suppression-exists", string(k.Kind), k.Value, scope)
		if err != nil || n > 0 {
			return n > 0, err
		}
	}
	return false, nil
}

// ContactSuppressed reports whether an identifier of the contact is suppressed.
func (c *conn) ContactSuppressed(ctx context.Context, contactID, scope string) (bool, error) {
	n, err := c.count(ctx, "contact-suppressed", contactID, scope)
	return n > 0, err
}

// Suppress puts keys on the suppression list.
func (c *conn) Suppress(ctx context.Context, keys []tresor.LookupKey, scope string, at time.Time) error {
	for _, k := range keys {
		if _, err := c.exec(ctx, "suppression-insert", string(k.Kind), k.Value, scope, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

// InboundSince reports whether the contact started a conversation of the kind since the time.
func (c *conn) InboundSince(ctx context.Context, contactID string, kind tresor.InteractionKind, network string, since time.Time) (bool, error) {
	n, err := c.count(ctx, "inbound-count", contactID, string(kind), network, micros(since))
	return n > 0, err
}

// TouchContact records an interaction with the contact.
func (c *conn) TouchContact(ctx context.Context, contactID string, at time.Time) error {
	_, err := c.exec(ctx, "contact-touch", contactID, micros(at))
	return err
}

// MaintenancePending reports whether a maintenance task awaits.
func (c *conn) MaintenancePending(ctx context.Context, task string) (bool, error) {
	n, err := c.count(ctx, "maintenance-pending", task)
	return n > 0, err
}

// MaintenanceDone removes a maintenance task.
func (c *conn) MaintenanceDone(ctx context.Context, task string) error {
	_, err := c.exec(ctx, "maintenance-done", task)
	return err
}

// ---- consent

// InsertConsentEvent appends to the ledger and sets the derived state.
func (c *conn) InsertConsentEvent(ctx context.Context, e *tresor.ConsentEvent, state tresor.ConsentState) error {
	if _, err := c.exec(ctx, "consent-event-insert", e.ID, e.ContactID, e.Purpose, string(e.Channel), string(e.Action),
		string(e.Method), e.TextHash, e.IP, e.Actor, micros(e.At)); err != nil {
		return err
	}
	_, err := c.exec(ctx, "consent-state-set", e.ContactID, e.Purpose, string(e.Channel), string(state), micros(e.At))
	return err
}

// ConsentEvents returns a contact's ledger, oldest first.
func (c *conn) ConsentEvents(ctx context.Context, contactID string) ([]tresor.ConsentEvent, error) {
	if !tresor.ValidID(contactID) {
		return nil, nil
	}
	return list(ctx, c, queries["consent-events"], []any{contactID}, func(s scanner) (tresor.ConsentEvent, error) {
		var e tresor.ConsentEvent
		var at int64
		err := s.Scan(&e.ID, &e.ContactID, &e.Purpose, &e.Channel, &e.Action, &e.Method, &e.TextHash, &e.IP, &e.Actor, &at)
		e.At = fromMicros(at)
		return e, err
	})
}

// ConsentStates returns the stored states of a contact.
func (c *conn) ConsentStates(ctx context.Context, contactID string) ([]tresor.ConsentStatus, error) {
	if !tresor.ValidID(contactID) {
		return nil, nil
	}
	return list(ctx, c, queries["consent-states"], []any{contactID}, func(s scanner) (tresor.ConsentStatus, error) {
		var st tresor.ConsentStatus
		var at int64
		err := s.Scan(&st.Purpose, &st.Channel, &st.State, &at)
		st.Since = fromMicros(at)
		return st, err
	})
}

// InsertConsentLink stores a link.
func (c *conn) InsertConsentLink(ctx context.Context, l *tresor.ConsentLinkRow) error {
	_, err := c.exec(ctx, "consent-link-insert", l.Hash, l.Kind, l.ContactID, l.Purpose, string(l.Channel), l.TextHash,
		micros(l.CreatedAt), nullMicros(l.ExpiresAt))
	return err
}

// ConsentLink returns a link by the hash of its secret.
func (c *conn) ConsentLink(ctx context.Context, hash []byte) (*tresor.ConsentLinkRow, error) {
	s, err := c.stmt(ctx, "consent-link")
	if err != nil {
		return nil, err
	}
	var l tresor.ConsentLinkRow
	var created int64
	var expires, used sql.NullInt64
	err = s.QueryRowContext(ctx, hash).Scan(&l.Hash, &l.Kind, &l.ContactID, &l.Purpose, &l.Channel, &l.TextHash, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tresor.Errorf(tresor.ECLinkInvalid, "There is no such link.")
	}
	if err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMicros(created), optTime(expires), optTime(used)
	return &l, nil
}

// UseConsentLink marks a link used, once.
func (c *conn) UseConsentLink(ctx context.Context, hash []byte, at time.Time) (bool, error) {
	return affected(c.exec(ctx, "consent-link-use", hash, micros(at)))
}

// Audience computes the exclusion reason of every contact of the query in
// one statement; the reason codes are those of package policy.
func (c *conn) Audience(ctx context.Context, q tresor.AudienceQuery) ([]tresor.AudienceRow, error) {
	var f filter
	f.add("1 = 1") // the CASE below numbers its parameters after the filters
	f.eq("c.owner_id", q.OwnerID)
	f.eq("c.organization_id", q.OrganizationID)
	where := ""
	for _, cond := range f.conds {
		where += " AND " + cond
	}
	args := append(f.args, q.SuppressionScope, micros(q.ExpiredBefore), q.ConsentPurpose, string(q.Channel), q.AddressKind)
	n := len(f.args)
	p := func(i int) string { return fmt.Sprintf("$%d", n+i) }
	text := `SELECT c.id, CASE
    WHEN c.restricted_at IS NOT NULL THEN 'contact_restricted'
    WHEN c.objected_at IS NOT NULL THEN 'objected'
    WHEN EXISTS (SELECT 1 FROM contact_lookup sl JOIN suppressions ss ON ss.kind = sl.kind AND ss.value = sl.value
                 WHERE sl.contact_id = c.id AND ss.scope = ` + p(1) + `) THEN 'suppressed'
    WHEN s.state IS NULL THEN 'consent_missing'
    WHEN s.state = 'pending' THEN 'consent_pending'
    WHEN s.state = 'withdrawn' THEN 'consent_withdrawn'
    WHEN s.state <> 'granted' THEN 'consent_missing'
    WHEN s.changed_at < ` + p(2) + ` AND (c.last_interaction_at IS NULL OR c.last_interaction_at < ` + p(2) + `) THEN 'consent_expired'
    WHEN ` + p(5) + ` <> '' AND NOT EXISTS (SELECT 1 FROM contact_lookup a WHERE a.contact_id = c.id AND a.kind = ` + p(5) + `) THEN 'no_address'
    ELSE '' END
FROM contacts c LEFT JOIN consent_states s ON s.contact_id = c.id AND s.purpose = ` + p(3) + ` AND s.channel = ` + p(4) + `
WHERE 1 = 1` + where + ` ORDER BY c.id`
	return list(ctx, c, text, args, func(s scanner) (tresor.AudienceRow, error) {
		var r tresor.AudienceRow
		return r, s.Scan(&r.ContactID, &r.Reason)
	})
}

// ---- campaigns

func scanCampaign(s scanner) (*tresor.Campaign, error) {
	var m tresor.Campaign
	var content string
	var owner sql.NullString
	var sent sql.NullInt64
	var created, updated int64
	if err := s.Scan(&m.ID, &m.Name, &m.Purpose, &m.Channel, &content, &owner, &sent, &created, &updated, &m.Version); err != nil {
		return nil, err
	}
	var stored campaignContent
	if err := json.Unmarshal([]byte(content), &stored); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", m.ID, err)
	}
	m.Content, m.Segment = stored.Content, stored.Segment
	m.OwnerID, m.SentAt = owner.String, optTime(sent)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

// campaignContent is what the content column holds.
type campaignContent struct {
	Content tresor.CampaignContent `json:"content"`
	Segment tresor.Segment         `json:"segment"`
}

func campaignArgs(m *tresor.Campaign) []any {
	b, _ := json.Marshal(campaignContent{m.Content, m.Segment})
	return []any{m.ID, m.Name, m.Purpose, string(m.Channel), string(b), nullID(m.OwnerID), nullMicros(m.SentAt)}
}

// Campaign returns one campaign.
func (c *conn) Campaign(ctx context.Context, id string) (*tresor.Campaign, error) {
	return get(ctx, c, "campaign", id, scanCampaign)
}

// Campaigns lists campaigns.
func (c *conn) Campaigns(ctx context.Context, q tresor.CampaignFilter) ([]*tresor.Campaign, error) {
	var f filter
	text, args := f.query(queries["campaign-select"], "m.id", q.Page)
	return list(ctx, c, text, args, scanCampaign)
}

// InsertCampaign inserts a campaign.
func (c *conn) InsertCampaign(ctx context.Context, m *tresor.Campaign) error {
	_, err := c.exec(ctx, "campaign-insert", append(campaignArgs(m), micros(m.CreatedAt), micros(m.UpdatedAt), m.Version)...)
	return err
}

// UpdateCampaign replaces a campaign.
func (c *conn) UpdateCampaign(ctx context.Context, m *tresor.Campaign, prev int64) error {
	return changeOne(ctx, c, "campaign", m.ID, "campaign-update", append(campaignArgs(m), micros(m.UpdatedAt), m.Version, prev)...)
}

// DeleteCampaign deletes a campaign.
func (c *conn) DeleteCampaign(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "campaign", id)
}
