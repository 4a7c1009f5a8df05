package storetest

import (
	"testing"
	"time"

	"tresor"
)

// objectionTests are the store's part of objections to processing on
// legitimate interest (Art. 21(1)).
var objectionTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"InterestObjectionRoundTripReplaceDelete", testInterestObjection},
	{"InterestObjectionGoesWithTheContact", testInterestObjectionCascades},
}

func testInterestObjection(t *testing.T, s tresor.Store) {
	c := contactRow("", "objects@example.org")
	insertContacts(t, s, c)
	_, err := s.Read().InterestObjection(ctx, c.ID)
	wantCode(t, err, tresor.ECNotFound)
	_, err = s.Read().InterestObjection(ctx, "not-an-id")
	wantCode(t, err, tresor.ECNotFound)

	req := newID()
	o := &tresor.InterestObjection{ContactID: c.ID, ObjectedAt: epoch, RequestID: req}
	update(t, s, func(tx tresor.Tx) error { return tx.PutInterestObjection(ctx, o) })
	got, err := s.Read().InterestObjection(ctx, c.ID)
	must(t, err)
	if got.ContactID != c.ID || !got.ObjectedAt.Equal(epoch) || got.RequestID != req || len(got.Grounds) != 0 {
		t.Fatalf("objection = %+v", got)
	}

	o.Grounds = []tresor.GroundsOverride{{Purpose: "service", DecidedAt: epoch.Add(time.Hour), DecidedBy: "user:x", RequestID: req}}
	update(t, s, func(tx tresor.Tx) error { return tx.PutInterestObjection(ctx, o) })
	got, err = s.Read().InterestObjection(ctx, c.ID)
	must(t, err)
	if len(got.Grounds) != 1 || !got.Overridden("service") || got.Overridden("sales") ||
		!got.Grounds[0].DecidedAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("objection after replace = %+v", got)
	}

	update(t, s, func(tx tresor.Tx) error { return tx.DeleteInterestObjection(ctx, c.ID) })
	_, err = s.Read().InterestObjection(ctx, c.ID)
	wantCode(t, err, tresor.ECNotFound)
	// Deleting what is not there is no error.
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteInterestObjection(ctx, c.ID) })
}

func testInterestObjectionCascades(t *testing.T, s tresor.Store) {
	c := contactRow("", "gone@example.org")
	insertContacts(t, s, c)
	update(t, s, func(tx tresor.Tx) error {
		return tx.PutInterestObjection(ctx, &tresor.InterestObjection{ContactID: c.ID, ObjectedAt: epoch, RequestID: newID()})
	})
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, c.ID) })
	_, err := s.Read().InterestObjection(ctx, c.ID)
	wantCode(t, err, tresor.ECNotFound)
}
