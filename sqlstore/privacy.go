package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// LookupContactIDs lists the contacts indexed under the key.
func (c *conn) LookupContactIDs(ctx context.Context, key tresor.LookupKey) ([]string, error) {
	return list(ctx, c, queries["lookup-contact-ids"], []any{string(key.Kind), key.Value}, func(s scanner) (string, error) {
		var id string
		return id, s.Scan(&id)
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

// Unsuppress takes keys off the suppression list.
func (c *conn) Unsuppress(ctx context.Context, keys []tresor.LookupKey, scope string) (int, error) {
	n := 0
	for _, k := range keys {
		res, err := c.exec(ctx, "suppression-delete", string(k.Kind), k.Value, scope)
		if err != nil {
			return n, err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += int(m)
	}
	return n, nil
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

// DeleteConsents removes a contact's consents for one purpose.
func (c *conn) DeleteConsents(ctx context.Context, contactID, purpose string) (int, error) {
	if !tresor.ValidID(contactID) {
		return 0, nil
	}
	res, err := c.exec(ctx, "purpose-consent-events-delete", contactID, purpose)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	for _, q := range []string{"purpose-consent-states-delete", "purpose-consent-links-delete"} {
		if _, err := c.exec(ctx, q, contactID, purpose); err != nil {
			return 0, err
		}
	}
	return int(n), nil
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

// Audience computes the exclusion reason of every contact of the query; the
// reason codes are those of package policy. It reads the contacts and the
// consent states of the purpose and channel as two scans in contact order
// and merges them, and matches the suppression list from its own (short)
// side: no lookup per contact.
func (c *conn) Audience(ctx context.Context, q tresor.AudienceQuery) ([]tresor.AudienceRow, error) {
	suppressed := map[string]bool{}
	ids, err := list(ctx, c, `SELECT DISTINCT l.contact_id FROM suppressions s
		JOIN contact_lookup l ON l.kind = s.kind AND l.value = s.value WHERE s.scope = $1`, []any{q.SuppressionScope}, scanString)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		suppressed[id] = true
	}

	// Each scan returns two columns: the driver's cost is per column read,
	// so the facts about a row come as one short string of flags.
	cutoff := micros(q.ExpiredBefore)
	states, err := c.queryText(ctx, `SELECT s.contact_id, s.state || CASE WHEN s.changed_at >= $3 THEN '+' ELSE '' END
		FROM consent_states s WHERE s.purpose = $1 AND s.channel = $2 ORDER BY s.contact_id`, q.ConsentPurpose, string(q.Channel), cutoff)
	if err != nil {
		return nil, err
	}
	defer states.Close()
	var nextID, nextState string
	advance := func() bool {
		if states.Next() {
			err = states.Scan(&nextID, &nextState)
			return err == nil
		}
		nextID = "\xff" // after every id
		return false
	}
	advance()

	args := []any{cutoff, "%," + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q.AddressKind) + ",%"}
	where := "1 = 1"
	for _, cond := range []struct{ col, v string }{{"c.owner_id", q.OwnerID}, {"c.organization_id", q.OrganizationID}} {
		if cond.v != "" {
			args = append(args, cond.v)
			where += fmt.Sprintf(" AND %s = $%d", cond.col, len(args))
		}
	}
	text := `SELECT c.id,
		CASE WHEN c.restricted_at IS NOT NULL THEN 'r' WHEN c.objected_at IS NOT NULL THEN 'o' ELSE '' END ||
		CASE WHEN c.last_interaction_at >= $1 THEN 't' ELSE '' END ||
		CASE WHEN ',' || c.address_kinds || ',' LIKE $2 ESCAPE '\' THEN 'a' ELSE '' END
		FROM contacts c WHERE ` + where + ` ORDER BY c.id`
	rows, err := c.queryText(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tresor.AudienceRow
	for rows.Next() {
		var id, flags string
		if err := rows.Scan(&id, &flags); err != nil {
			return nil, err
		}
		for nextID < id && advance() {
		}
		if err != nil {
			return nil, err
		}
		state := ""
		if nextID == id {
			state = nextState
		}
		recent := strings.HasSuffix(state, "+") || strings.Contains(flags, "t")
		state = strings.TrimSuffix(state, "+")
		reason := ""
		switch {
		case strings.HasPrefix(flags, "r"):
			reason = "contact_restricted"
		case strings.HasPrefix(flags, "o"):
			reason = "objected"
		case suppressed[id]:
			reason = "suppressed"
		case state == "pending":
			reason = "consent_pending"
		case state == "withdrawn":
			reason = "consent_withdrawn"
		case state != "granted":
			reason = "consent_missing"
		case !recent:
			reason = "consent_expired"
		case q.AddressKind != "" && !strings.Contains(flags, "a"):
			reason = "no_address"
		}
		out = append(out, tresor.AudienceRow{ContactID: id, Reason: reason})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, states.Err()
}

func scanString(s scanner) (string, error) {
	var v string
	return v, s.Scan(&v)
}

// ---- campaigns

func scanCampaign(s scanner) (*tresor.Campaign, error) {
	var m tresor.Campaign
	var content string
	var owner, segment sql.NullString
	var sent sql.NullInt64
	var created, updated int64
	if err := s.Scan(&m.ID, &m.Name, &m.Purpose, &m.Channel, &content, &owner, &sent, &created, &updated, &m.Version, &segment); err != nil {
		return nil, err
	}
	var stored campaignContent
	if err := json.Unmarshal([]byte(content), &stored); err != nil {
		return nil, fmt.Errorf("campaign %s: %w", m.ID, err)
	}
	m.Content, m.Segment = stored.Content, stored.Segment
	m.OwnerID, m.SentAt, m.SegmentID = owner.String, optTime(sent), segment.String
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
	_, err := c.exec(ctx, "campaign-insert", append(campaignArgs(m), micros(m.CreatedAt), micros(m.UpdatedAt), m.Version, nullID(m.SegmentID))...)
	return err
}

// UpdateCampaign replaces a campaign.
func (c *conn) UpdateCampaign(ctx context.Context, m *tresor.Campaign, prev int64) error {
	return changeOne(ctx, c, "campaign", m.ID, "campaign-update", append(campaignArgs(m), micros(m.UpdatedAt), m.Version, prev, nullID(m.SegmentID))...)
}

// DeleteCampaign deletes a campaign.
func (c *conn) DeleteCampaign(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "campaign", id)
}
