package sqlstore

import (
	"context"
	"encoding/json"

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
	os, err := list(ctx, c, queries["interest-objection-get"], []any{contactID}, func(s scanner) (*tresor.InterestObjection, error) {
		var o tresor.InterestObjection
		var at int64
		var grounds string
		if err := s.Scan(&o.ContactID, &at, &o.RequestID, &grounds); err != nil {
			return nil, err
		}
		o.ObjectedAt = fromMicros(at)
		return &o, json.Unmarshal([]byte(grounds), &o.Grounds)
	})
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, notFound("objection", contactID)
	}
	return os[0], nil
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
