package storetest

import (
	"slices"
	"testing"

	"tresor"
)

// mergeTests are the store's part of finding and merging duplicates.
var mergeTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"DuplicateKeysPairContactsSharingAnIdentifier", testDuplicateKeys},
	{"MergeMovesLinksAndLeavesATombstone", testMergeLinks},
}

func testDuplicateKeys(t *testing.T, s tresor.Store) {
	a, b, c := contactRow("", "same@example.org"), contactRow("", "same@example.org"), contactRow("", "other@example.org")
	c.Lookup = []tresor.LookupKey{{Kind: tresor.LookupEmail, Value: "other@example.org"}, {Kind: tresor.LookupPostal, Value: "de|10115|berlin|x"}}
	a.Lookup = append(a.Lookup, tresor.LookupKey{Kind: tresor.LookupPostal, Value: "de|10115|berlin|x"})
	insertContacts(t, s, a, b, c)
	keys, err := s.Read().DuplicateKeys(ctx, 100)
	must(t, err)
	lo, hi := min(a.ID, b.ID), max(a.ID, b.ID)
	want := []tresor.DuplicateKey{{Kind: tresor.LookupEmail, A: lo, B: hi}, {Kind: tresor.LookupPhone, A: lo, B: hi}}
	if !slices.Equal(keys, want) {
		t.Fatalf("DuplicateKeys = %+v, want %+v (a shared postal address is no duplicate)", keys, want)
	}
	if keys, err := s.Read().DuplicateKeys(ctx, 1); err != nil || len(keys) != 1 {
		t.Fatalf("DuplicateKeys with limit 1 = %v, %v", keys, err)
	}
}

func testMergeLinks(t *testing.T, s tresor.Store) {
	into, from := contactRow("", "into@example.org"), contactRow("", "from@example.org")
	insertContacts(t, s, into, from)
	update(t, s, func(tx tresor.Tx) error {
		for _, id := range []string{into.ID, from.ID} {
			if err := tx.InsertConsentEvent(ctx, &tresor.ConsentEvent{ID: newID(), ContactID: id, Purpose: "marketing", Channel: tresor.ChannelEmailMsg,
				Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Actor: "system", At: epoch}, tresor.ConsentGranted); err != nil {
				return err
			}
		}
		if err := tx.InsertNotices(ctx, []*tresor.Notice{{ID: newID(), ContactID: from.ID, Source: "csv", Purpose: "sales",
			CreatedAt: epoch, DueAt: epoch}}); err != nil {
			return err
		}
		notices, events, err := tx.MoveContactLinks(ctx, from.ID, into.ID)
		if err != nil {
			return err
		}
		if notices != 1 || events != 1 {
			t.Errorf("moved %d notices and %d events, want 1 and 1", notices, events)
		}
		if err := tx.SetConsentState(ctx, into.ID, tresor.ConsentStatus{Purpose: "marketing", Channel: tresor.ChannelEmailMsg,
			State: tresor.ConsentWithdrawn, Since: epoch}); err != nil {
			return err
		}
		return tx.InsertMerge(ctx, &tresor.Merge{From: from.ID, Into: into.ID, MergedAt: epoch, Actor: "user:x"})
	})
	events, err := s.Read().ConsentEvents(ctx, into.ID)
	must(t, err)
	if len(events) != 2 {
		t.Fatalf("the survivor's ledger has %d events, want both", len(events))
	}
	states, err := s.Read().ConsentStates(ctx, into.ID)
	must(t, err)
	if len(states) != 1 || states[0].State != tresor.ConsentWithdrawn {
		t.Fatalf("survivor's states %+v", states)
	}
	if states, _ := s.Read().ConsentStates(ctx, from.ID); len(states) != 0 {
		t.Fatalf("the absorbed contact keeps states %+v", states)
	}
	m, err := s.Read().Merged(ctx, from.ID)
	must(t, err)
	if m.Into != into.ID || !m.MergedAt.Equal(epoch) || m.Actor != "user:x" {
		t.Fatalf("tombstone %+v", m)
	}
	_, err = s.Read().Merged(ctx, into.ID)
	wantCode(t, err, tresor.ECNotFound)
}
