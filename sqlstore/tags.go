package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tresor"
)

// ---- tags

// contactFilters adds the conditions of a contact list on tags and times.
func contactFilters(f *filter, q tresor.ContactFilter) {
	if q.Tag != "" {
		f.add("EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag = ?)", q.Tag)
	}
	f.since("c.created_at", q.CreatedSince)
	before(f, "c.created_at", q.CreatedBefore)
	before(f, "c.updated_at", q.UpdatedBefore)
}

func before(f *filter, col string, t time.Time) {
	if !t.IsZero() {
		f.add(col+" < ?", micros(t))
	}
}

// attachTags reads the tags of the rows with one query and hands each row
// its own, in the order of their keys.
func attachTags[T any](ctx context.Context, c *conn, table, col string, rows []T, id func(T) string, set func(T, []string)) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, len(rows))
	for i, r := range rows {
		args[i] = id(r)
	}
	text := fmt.Sprintf("SELECT %s, display FROM %s WHERE %s IN (%s) ORDER BY %s, tag", col, table, col, placeholders(len(rows)), col)
	rs, err := c.queryText(ctx, text, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	tags := map[string][]string{}
	for rs.Next() {
		var owner, display string
		if err := rs.Scan(&owner, &display); err != nil {
			return err
		}
		tags[owner] = append(tags[owner], display)
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for _, r := range rows {
		set(r, tags[id(r)])
	}
	return nil
}

func placeholders(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
	}
	return b.String()
}

func contactTags(ctx context.Context, c *conn, rows []*tresor.ContactRow) error {
	return attachTags(ctx, c, "contact_tags", "contact_id", rows,
		func(r *tresor.ContactRow) string { return r.ID }, func(r *tresor.ContactRow, t []string) { r.Tags = t })
}

func organizationTags(ctx context.Context, c *conn, os []*tresor.Organization) error {
	return attachTags(ctx, c, "organization_tags", "organization_id", os,
		func(o *tresor.Organization) string { return o.ID }, func(o *tresor.Organization, t []string) { o.Tags = t })
}

// AddContactTag puts a tag on a contact.
func (c *conn) AddContactTag(ctx context.Context, contactID string, t tresor.Tag, at time.Time) (bool, error) {
	return c.addTag(ctx, "contact", contactID, t, at)
}

// RemoveContactTag removes a tag from a contact.
func (c *conn) RemoveContactTag(ctx context.Context, contactID, key string) (bool, error) {
	return c.removeTag(ctx, "contact", contactID, key)
}

// AddOrganizationTag puts a tag on an organization.
func (c *conn) AddOrganizationTag(ctx context.Context, organizationID string, t tresor.Tag, at time.Time) (bool, error) {
	return c.addTag(ctx, "organization", organizationID, t, at)
}

// RemoveOrganizationTag removes a tag from an organization.
func (c *conn) RemoveOrganizationTag(ctx context.Context, organizationID, key string) (bool, error) {
	return c.removeTag(ctx, "organization", organizationID, key)
}

func (c *conn) addTag(ctx context.Context, object, id string, t tresor.Tag, at time.Time) (bool, error) {
	if !validKey(object, id) {
		return false, notFound(object, id)
	}
	res, err := c.exec(ctx, object+"-tag-add", id, t.Key, t.Display, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (c *conn) removeTag(ctx context.Context, object, id, key string) (bool, error) {
	if !validKey(object, id) {
		return false, nil
	}
	res, err := c.exec(ctx, object+"-tag-remove", id, key)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TagCounts counts the contacts and organizations of every tag.
func (c *conn) TagCounts(ctx context.Context, hideRestricted bool) ([]tresor.TagCount, error) {
	name := "tag-counts"
	if hideRestricted {
		name = "tag-counts-unrestricted"
	}
	s, err := c.stmt(ctx, name)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx)
	if err != nil {
		return nil, c.db.dialect.TranslateError(err)
	}
	defer rows.Close()
	out := []tresor.TagCount{}
	for rows.Next() {
		var t tresor.TagCount
		if err := rows.Scan(&t.Key, &t.Display, &t.Contacts, &t.Organizations); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ContactIDs lists the ids of every contact of the query.
func (c *conn) ContactIDs(ctx context.Context, q tresor.ContactQuery) ([]string, error) {
	var f filter
	contactQueryFilters(&f, q)
	text, args := f.ordered("SELECT c.id FROM contacts c", "c.id", 1<<30)
	return list(ctx, c, text, args, scanString)
}

// ---- segments

func scanSegment(s scanner) (*tresor.SavedSegment, error) {
	var m tresor.SavedSegment
	var owner sql.NullString
	var rules string
	var created, updated int64
	if err := s.Scan(&m.ID, &m.Name, &owner, &rules, &created, &updated, &m.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rules), &m.Rules); err != nil {
		return nil, fmt.Errorf("segment %s: %w", m.ID, err)
	}
	m.OwnerID = owner.String
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

func segmentArgs(m *tresor.SavedSegment) []any {
	b, _ := json.Marshal(m.Rules)
	return []any{m.ID, m.Name, nullID(m.OwnerID), string(b)}
}

// Segment returns one segment.
func (c *conn) Segment(ctx context.Context, id string) (*tresor.SavedSegment, error) {
	return get(ctx, c, "segment", id, scanSegment)
}

// Segments lists segments.
func (c *conn) Segments(ctx context.Context, p tresor.Page) ([]*tresor.SavedSegment, error) {
	var f filter
	text, args := f.query(queries["segment-select"], "s.id", p)
	return list(ctx, c, text, args, scanSegment)
}

// SegmentCampaigns lists the unsent campaigns of a segment.
func (c *conn) SegmentCampaigns(ctx context.Context, segmentID string) ([]string, error) {
	if !validKey("segment", segmentID) {
		return nil, nil
	}
	return list(ctx, c, queries["segment-campaigns"], []any{segmentID}, scanString)
}

// InsertSegment inserts a segment.
func (c *conn) InsertSegment(ctx context.Context, m *tresor.SavedSegment) error {
	_, err := c.exec(ctx, "segment-insert", append(segmentArgs(m), micros(m.CreatedAt), micros(m.UpdatedAt), m.Version)...)
	return err
}

// UpdateSegment replaces a segment.
func (c *conn) UpdateSegment(ctx context.Context, m *tresor.SavedSegment, prev int64) error {
	return changeOne(ctx, c, "segment", m.ID, "segment-update", append(segmentArgs(m), micros(m.UpdatedAt), m.Version, prev)...)
}

// DeleteSegment deletes a segment; sent campaigns that used it keep no link.
func (c *conn) DeleteSegment(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "segment", id)
}
