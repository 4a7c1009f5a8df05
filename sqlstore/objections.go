package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"tresor"
)

var (
	_ tresor.ObjectionReader = (*conn)(nil)
	_ tresor.ObjectionWriter = (*conn)(nil)
)

// InterestObjection returns the contact's objection to processing on
// legitimate interest (Art. 21(1)); ECNotFound if there is none.
func (c *conn) InterestObjection(ctx context.Context, contactID string) (*tresor.InterestObjection, error) {
	if !tresor.ValidID(contactID) {
		return nil, notFound("objection", contactID)
	}
	os, err := list(ctx, c, queries["interest-objection-get"], []any{contactID}, scanInterestObjection)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, notFound("objection", contactID)
	}
	return os[0], nil
}

// InterestObjections returns the objections of those of the contacts that
// have one, by contact id: one query for a page of a list.
func (c *conn) InterestObjections(ctx context.Context, contactIDs []string) (map[string]*tresor.InterestObjection, error) {
	ids := make([]string, 0, len(contactIDs))
	for _, id := range contactIDs {
		if tresor.ValidID(id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	out := make(map[string]*tresor.InterestObjection)
	if len(ids) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteString("SELECT contact_id, objected_at, request_id, grounds FROM interest_objections WHERE contact_id IN (")
	c.params(&b, 1, len(ids))
	b.WriteString(")")
	os, err := list(ctx, c, b.String(), anys(ids), scanInterestObjection)
	for _, o := range os {
		out[o.ContactID] = o
	}
	return out, err
}

func scanInterestObjection(s scanner) (*tresor.InterestObjection, error) {
	var o tresor.InterestObjection
	var at int64
	var grounds string
	if err := s.Scan(&o.ContactID, &at, &o.RequestID, &grounds); err != nil {
		return nil, err
	}
	o.ObjectedAt = fromMicros(at)
	return &o, json.Unmarshal([]byte(grounds), &o.Grounds)
}

// PutInterestObjection stores the contact's objection, replacing one.
func (c *conn) PutInterestObjection(ctx context.Context, o *tresor.InterestObjection) error {
	grounds, err := json.Marshal(o.Grounds)
	if err != nil {
		return err
	}
	if o.Grounds == nil {
		grounds = []byte("[]")
	}
	_, err = c.exec(ctx, "interest-objection-put", o.ContactID, micros(o.ObjectedAt), o.RequestID, string(grounds))
	return err
}

// DeleteInterestObjection removes the contact's objection.
func (c *conn) DeleteInterestObjection(ctx context.Context, contactID string) error {
	if !tresor.ValidID(contactID) {
		return nil
	}
	_, err := c.exec(ctx, "interest-objection-delete", contactID)
	return err
}
