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
	{"UnsuppressTakesOnlyTheKeysOfTheScope", testUnsuppress},
}

// testUnsuppress: taking keys off the suppression list removes exactly
// those keys of that scope, counts them, and is no error when none is there.
func testUnsuppress(t *testing.T, s tresor.Store) {
	a := tresor.LookupKey{Kind: tresor.LookupEmail, Value: "unsuppress-a"}
	b := tresor.LookupKey{Kind: tresor.LookupEmail, Value: "unsuppress-b"}
	update(t, s, func(tx tresor.Tx) error { return tx.Suppress(ctx, []tresor.LookupKey{a, b}, "marketing", epoch) })
	update(t, s, func(tx tresor.Tx) error { return tx.Suppress(ctx, []tresor.LookupKey{a}, "other", epoch) })
	var n int
	update(t, s, func(tx tresor.Tx) (err error) {
		n, err = tx.Unsuppress(ctx, []tresor.LookupKey{a, {Kind: tresor.LookupEmail, Value: "never-there"}}, "marketing")
		return err
	})
	if n != 1 {
		t.Fatalf("removed %d entries, want 1", n)
	}
	for _, c := range []struct {
		key   tresor.LookupKey
		scope string
		want  bool
	}{{a, "marketing", false}, {b, "marketing", true}, {a, "other", true}} {
		got, err := s.Read().Suppressed(ctx, []tresor.LookupKey{c.key}, c.scope)
		must(t, err)
		if got != c.want {
			t.Errorf("%s in %s suppressed = %v, want %v", c.key.Value, c.scope, got, c.want)
		}
	}
	update(t, s, func(tx tresor.Tx) (err error) {
		n, err = tx.Unsuppress(ctx, []tresor.LookupKey{a}, "marketing")
		return err
	})
	if n != 0 {
		t.Errorf("removed %d entries that were gone already", n)
	}
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
