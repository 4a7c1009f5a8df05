package storetest

import (
	"slices"
	"testing"

	"tresor"
)

// flagTests are the store's part of the data-protection officer's lists.
var flagTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"FlagKeepsOnlyRestrictedOrObjectedContacts", testContactFlags},
	{"ActiveHoldsLeaveOutReleasedOnes", testActiveHolds},
}

func testContactFlags(t *testing.T, s tresor.Store) {
	free, held, objected, both := contactRow("", "free@example.org"), contactRow("", "held@example.org"),
		contactRow("", "objected@example.org"), contactRow("", "both@example.org")
	at := epoch
	held.RestrictedAt, objected.ObjectedAt, both.RestrictedAt, both.ObjectedAt = &at, &at, &at, &at
	insertContacts(t, s, free, held, objected, both)
	for _, tc := range []struct {
		flag tresor.ContactFlag
		want []string
	}{
		{tresor.FlagRestricted, []string{held.ID, both.ID}},
		{tresor.FlagObjected, []string{objected.ID, both.ID}},
		{"", []string{free.ID, held.ID, objected.ID, both.ID}},
	} {
		rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{Flag: tc.flag})
		must(t, err)
		got := ids(rows)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("flag %q: %v, want %v", tc.flag, got, want)
		}
	}
	rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{Flag: tresor.FlagRestricted,
		ContactFilter: tresor.ContactFilter{Page: tresor.Page{Limit: 1}}})
	must(t, err)
	if len(rows) != 1 {
		t.Fatalf("a page of one restricted contact: %d", len(rows))
	}
	next, err := s.Read().Contacts(ctx, tresor.ContactQuery{Flag: tresor.FlagRestricted,
		ContactFilter: tresor.ContactFilter{Page: tresor.Page{Limit: 5, After: rows[0].ID}}})
	must(t, err)
	if len(next) != 1 || next[0].ID == rows[0].ID || next[0].RestrictedAt == nil {
		t.Fatalf("the next page of restricted contacts: %v", ids(next))
	}
}

func testActiveHolds(t *testing.T, s tresor.Store) {
	a, b := contactRow("", "a@example.org"), contactRow("", "b@example.org")
	insertContacts(t, s, a, b)
	h1 := &tresor.LegalHold{ID: newID(), ContactID: a.ID, Reason: "case 1", PlacedBy: "user:x", PlacedAt: epoch}
	h2 := &tresor.LegalHold{ID: newID(), ContactID: b.ID, Reason: "case 2", PlacedBy: "user:x", PlacedAt: epoch}
	h3 := &tresor.LegalHold{ID: newID(), ContactID: a.ID, Reason: "case 3", PlacedBy: "user:x", PlacedAt: epoch}
	update(t, s, func(tx tresor.Tx) error {
		for _, h := range []*tresor.LegalHold{h1, h2, h3} {
			if err := tx.InsertHold(ctx, h); err != nil {
				return err
			}
		}
		_, err := tx.ReleaseHold(ctx, h2.ID, "user:y", epoch)
		return err
	})
	hs, err := s.Read().ActiveHolds(ctx, tresor.Page{})
	must(t, err)
	if len(hs) != 2 || hs[0].ID != h1.ID || hs[1].ID != h3.ID || hs[0].Reason != "case 1" || hs[1].ContactID != a.ID {
		t.Fatalf("active holds: %+v", hs)
	}
	hs, err = s.Read().ActiveHolds(ctx, tresor.Page{Limit: 1, After: h1.ID})
	must(t, err)
	if len(hs) != 1 || hs[0].ID != h3.ID {
		t.Fatalf("the page after the first hold: %+v", hs)
	}
}
