package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"tresor"
)

// provenanceTests are the store's part of provenance kept once (shared by
// the people of an import, written as a reference).
var provenanceTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"ProvenanceSharedByManyReadsBackAsWritten", testProvenanceShared},
}

func testProvenanceShared(t *testing.T, s tresor.Store) {
	record := func(note string, at time.Time) tresor.Provenance {
		return tresor.NewProvenance([]tresor.ProvenanceRecord{{Fields: []string{"given_name", "family_name", "social_handles"},
			Purpose: "sales", CollectedAt: at, CollectedBy: "system",
			Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: note,
				Source: tresor.SourceImport, ImportID: newID(), Network: "linkedin", Visibility: "public"}}})
	}
	a, b, c := record("Business contacts.", epoch), record("Other contacts.", epoch.Add(time.Hour)), record("Rolled back.", epoch)
	var rows []*tresor.ContactRow
	for i := range 6 {
		r := contactRow("", newID()+"@example.org")
		r.Provenance = a
		if i%3 == 0 {
			r.Provenance = b
		}
		rows = append(rows, r)
	}
	insertContacts(t, s, rows...)
	// A transaction that rolls back leaves no provenance behind to refer
	// to; the next one that writes the same provenance writes it again.
	gone, gone2 := contactRow("", "gone@example.org"), contactRow("", "gone2@example.org")
	gone.Provenance, gone2.Provenance = c, c
	errRollback := errors.New("roll back")
	if err := s.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertContacts(ctx, []*tresor.ContactRow{gone, gone2}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("rolled back transaction: %v", err)
	}
	kept, kept2 := contactRow("", "kept@example.org"), contactRow("", "kept2@example.org")
	kept.Provenance, kept2.Provenance = c, c
	insertContacts(t, s, kept, kept2)
	// A person's own provenance, with a note of its own, stays with the
	// person (tested for what it reads back; where it is kept is the
	// SQLite test TestOwnProvenanceStaysInThePersonsRow).
	own := contactRow("", "own@example.org")
	own.Provenance = record("Met at the trade fair.", epoch)
	insertContacts(t, s, own)
	// An update writes the provenance it is given.
	next := *rows[1]
	next.Provenance, next.Version, next.UpdatedAt = b, rows[1].Version+1, epoch.Add(time.Second)
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateContact(ctx, &next, rows[1].Version) })

	want := map[string]tresor.Provenance{kept.ID: c, kept2.ID: c, own.ID: own.Provenance}
	for i, r := range rows {
		want[r.ID] = a
		if i%3 == 0 || i == 1 {
			want[r.ID] = b
		}
	}
	for id, p := range want {
		got, err := s.Read().Contact(ctx, id)
		must(t, err)
		gr, err := got.Provenance.Records()
		must(t, err)
		wr, _ := p.Records()
		for i := range gr {
			gr[i].CollectedAt, wr[i].CollectedAt = gr[i].CollectedAt.UTC(), wr[i].CollectedAt.UTC()
		}
		if !reflect.DeepEqual(gr, wr) {
			t.Fatalf("contact %s: provenance %+v, want %+v", id, gr, wr)
		}
	}
	// The caller's rows keep their provenance as records.
	if r, _ := rows[2].Provenance.Records(); len(r) != 1 || r[0].BalancingNote != "Business contacts." {
		t.Fatalf("the caller's row was changed: %+v", r)
	}
}
