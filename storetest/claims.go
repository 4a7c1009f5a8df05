package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"tresor"
)

// claimTests are the store's part of imports on several servers at the
// same moment: a unique claim on identifiers, not a check alone.
var claimTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"ClaimedIdentifiers", testClaimedIdentifiers},
}

// claimedRow is a contact as an import stores it: claiming its e-mail
// address, with a postal address colleagues share.
func claimedRow(email string) *tresor.ContactRow {
	r := contactRow("", email)
	r.Lookup = []tresor.LookupKey{{Kind: tresor.LookupEmail, Value: email}, {Kind: tresor.LookupPostal, Value: "muster-gmbh"}}
	r.Claim = true
	return r
}

func testClaimedIdentifiers(t *testing.T, s tresor.Store) {
	t.Run("an identifier claimed in an overlapping transaction is refused with ErrClaimed", func(t *testing.T) {
		first := []*tresor.ContactRow{claimedRow("a@example.org"), claimedRow("shared@example.org")}
		second := []*tresor.ContactRow{claimedRow("b@example.org"), claimedRow("shared@example.org")}
		inserted, commit := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.Update(ctx, func(tx tresor.Tx) error {
				if err := tx.InsertContacts(ctx, first); err != nil {
					return err
				}
				close(inserted)
				<-commit // the transaction stays open while the second one starts
				return nil
			})
		}()
		<-inserted
		errc := make(chan error, 1)
		go func() {
			errc <- s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, second) })
		}()
		// The second transaction reaches the index (PostgreSQL) or the
		// writer's turn (SQLite) and waits for the first; had it not yet,
		// it meets the first's committed claim: the outcome is the same.
		time.Sleep(200 * time.Millisecond)
		close(commit)
		must(t, <-done)
		err := <-errc
		wantCode(t, err, tresor.ECConflict)
		if !errors.Is(err, tresor.ErrClaimed) {
			t.Fatalf("error = %v, want ErrClaimed", err)
		}
		if got := lookup(t, s.Read(), tresor.LookupEmail, "shared@example.org"); !slices.Equal(got, []string{first[1].ID}) {
			t.Fatalf("shared@ is held by %v, want the first import's contact %s", got, first[1].ID)
		}
		if got := lookup(t, s.Read(), tresor.LookupEmail, "b@example.org"); len(got) != 0 {
			t.Fatalf("the refused transaction stored %v", got)
		}
	})
	t.Run("a postal address is not claimed", func(t *testing.T) {
		insertContacts(t, s, claimedRow("c@example.org"), claimedRow("d@example.org"))
		if got := lookup(t, s.Read(), tresor.LookupPostal, "muster-gmbh"); len(got) < 4 {
			t.Fatalf("the shared address finds %v, want every colleague", got)
		}
	})
	t.Run("a claimed identifier is refused to one row and to many", func(t *testing.T) {
		for _, rows := range [][]*tresor.ContactRow{{claimedRow("a@example.org")}, {claimedRow("e@example.org"), claimedRow("a@example.org")}} {
			err := s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, rows) })
			if !errors.Is(err, tresor.ErrClaimed) {
				t.Fatalf("%d rows: error = %v, want ErrClaimed", len(rows), err)
			}
		}
	})
	t.Run("contacts that claim nothing share identifiers", func(t *testing.T) {
		byHand := contactRow("", "a@example.org")
		byHand.Lookup = []tresor.LookupKey{{Kind: tresor.LookupEmail, Value: "a@example.org"}}
		byHand2 := *byHand
		byHand2.Meta = meta(epoch)
		insertContacts(t, s, byHand)
		insertContacts(t, s, &byHand2)
		if got := lookup(t, s.Read(), tresor.LookupEmail, "a@example.org"); len(got) != 3 {
			t.Fatalf("a@ finds %v, want the imported contact and the two created by hand", got)
		}
	})
	t.Run("rewritten keys are no longer claimed", func(t *testing.T) {
		r := claimedRow("f@example.org")
		insertContacts(t, s, r)
		update(t, s, func(tx tresor.Tx) error { return tx.SetLookup(ctx, r.ID, r.Lookup) })
		insertContacts(t, s, claimedRow("f@example.org"))
		if got := lookup(t, s.Read(), tresor.LookupEmail, "f@example.org"); len(got) != 2 {
			t.Fatalf("f@ finds %v, want two contacts", got)
		}
	})
	t.Run("an identifier is free to claim again once its contact is deleted", func(t *testing.T) {
		r := claimedRow("g@example.org")
		insertContacts(t, s, r)
		update(t, s, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, r.ID) })
		insertContacts(t, s, claimedRow("g@example.org"))
	})
}
