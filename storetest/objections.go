package storetest

import (
	"fmt"
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
	{"InterestObjectionsOfAPageAreExactlyThoseStored", testInterestObjectionsOfAPage},
	{"UnsuppressTakesOnlyTheKeysOfTheScope", testUnsuppress},
	{"SuppressedKeysOfABatchAreExactlyThoseOnTheList", testSuppressedKeys},
}

// testSuppressedKeys: the check of a whole import batch finds exactly the
// keys on the list for the scope, of every kind, in a batch larger than
// one statement's worth of parameters.
func testSuppressedKeys(t *testing.T, s tresor.Store) {
	var keys []tresor.LookupKey
	for i := range 1200 {
		kind := tresor.LookupEmail
		if i%2 == 1 {
			kind = tresor.LookupPhone
		}
		keys = append(keys, tresor.LookupKey{Kind: kind, Value: fmt.Sprintf("batch-%04d", i)})
	}
	on := []tresor.LookupKey{keys[3], keys[700], keys[1101]}
	update(t, s, func(tx tresor.Tx) error { return tx.Suppress(ctx, on, "marketing", epoch) })
	update(t, s, func(tx tresor.Tx) error { return tx.Suppress(ctx, keys[10:11], "other", epoch) })
	got, err := s.Read().SuppressedKeys(ctx, keys, "marketing")
	must(t, err)
	if len(got) != len(on) {
		t.Fatalf("suppressed = %v, want %v", got, on)
	}
	for _, k := range on {
		if !got[k] {
			t.Errorf("%v is on the list but not found", k)
		}
	}
	if got, err = s.Read().SuppressedKeys(ctx, nil, "marketing"); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v, %v", got, err)
	}
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

// testInterestObjectionsOfAPage: the one query of a list page finds the
// objection of exactly the contacts that have one, ignoring ids that are
// none and ids named twice.
func testInterestObjectionsOfAPage(t *testing.T, s tresor.Store) {
	a, b, c := contactRow("", "page-a@example.org"), contactRow("", "page-b@example.org"), contactRow("", "page-c@example.org")
	insertContacts(t, s, a, b, c)
	req := newID()
	update(t, s, func(tx tresor.Tx) error {
		return tx.PutInterestObjection(ctx, &tresor.InterestObjection{ContactID: b.ID, ObjectedAt: epoch, RequestID: req,
			Grounds: []tresor.GroundsOverride{{Purpose: "service", DecidedAt: epoch, DecidedBy: "user:x", RequestID: req}}})
	})
	got, err := s.Read().InterestObjections(ctx, []string{a.ID, b.ID, "not-an-id", c.ID, b.ID, ""})
	must(t, err)
	if len(got) != 1 || got[b.ID] == nil || got[b.ID].RequestID != req || !got[b.ID].Overridden("service") {
		t.Fatalf("objections of the page = %+v", got)
	}
	got, err = s.Read().InterestObjections(ctx, nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("objections of no contact = %+v", got)
	}
}
