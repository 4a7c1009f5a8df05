package storetest

import (
	"testing"
	"time"

	"tresor"
)

// importTests are the store's part of the history of imports.
var importTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"ImportRecordsRoundTripAndUpdate", testImportRecords},
	{"ImportRecordsListNewestFirstByPurpose", testImportRecordsList},
}

func importRecord(purpose string, at time.Time) *tresor.ImportRecord {
	return &tresor.ImportRecord{ID: newID(), Format: "linkedin", Network: "linkedin", Purpose: purpose, LegalBasis: tresor.BasisContract,
		FileName: "Connections.csv", Actor: "user:" + newID(), ActorName: "ines@example.org", State: tresor.ImportRunning,
		RefusedBy: map[string]int{}, Dropped: map[string]int{}, StartedAt: at, UpdatedAt: at}
}

func testImportRecords(t *testing.T, s tresor.Store) {
	r := importRecord("sales", epoch)
	update(t, s, func(tx tresor.Tx) error { return tx.InsertImport(ctx, r) })
	got, err := s.Read().ImportRecord(ctx, r.ID)
	must(t, err)
	if got.State != tresor.ImportRunning || got.FinishedAt != nil || got.FileName != "Connections.csv" || got.ActorName != "ines@example.org" ||
		!got.StartedAt.Equal(epoch) || got.LegalBasis != tresor.BasisContract || len(got.RefusedBy) != 0 {
		t.Fatalf("stored record = %+v", got)
	}
	end := epoch.Add(time.Minute)
	r.State, r.Error, r.Rows, r.Created, r.Duplicates, r.Refused = tresor.ImportFailed, tresor.ECValidation, 30000, 20000, 5, 7
	r.RefusedBy, r.Dropped = map[string]int{"no_identifier": 7}, map[string]int{"special:special.health": 2}
	r.UpdatedAt, r.FinishedAt = end, &end
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateImport(ctx, r) })
	got, err = s.Read().ImportRecord(ctx, r.ID)
	must(t, err)
	if got.State != tresor.ImportFailed || got.Error != tresor.ECValidation || got.Rows != 30000 || got.Created != 20000 || got.Duplicates != 5 ||
		got.Refused != 7 || got.RefusedBy["no_identifier"] != 7 || got.Dropped["special:special.health"] != 2 ||
		got.FinishedAt == nil || !got.FinishedAt.Equal(end) || !got.UpdatedAt.Equal(end) || got.Format != "linkedin" {
		t.Fatalf("updated record = %+v", got)
	}
	t.Run("an unknown record is not found, to read or to update", func(t *testing.T) {
		_, err := s.Read().ImportRecord(ctx, newID())
		wantCode(t, err, tresor.ECNotFound)
		_, err = s.Read().ImportRecord(ctx, "not-an-id")
		wantCode(t, err, tresor.ECNotFound)
		err = s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateImport(ctx, importRecord("sales", epoch)) })
		wantCode(t, err, tresor.ECNotFound)
	})
	t.Run("an update rolled back with its transaction leaves the record as it was", func(t *testing.T) {
		r.Created = 99999
		err := s.Update(ctx, func(tx tresor.Tx) error {
			if err := tx.UpdateImport(ctx, r); err != nil {
				return err
			}
			return tresor.Errorf(tresor.ECConflict, "roll back")
		})
		wantCode(t, err, tresor.ECConflict)
		got, err := s.Read().ImportRecord(ctx, r.ID)
		must(t, err)
		if got.Created != 20000 {
			t.Fatalf("created after the rollback = %d", got.Created)
		}
	})
}

func testImportRecordsList(t *testing.T, s tresor.Store) {
	var sales []*tresor.ImportRecord
	update(t, s, func(tx tresor.Tx) error {
		for i := range 5 {
			r := importRecord("sales", epoch.Add(time.Duration(i)*time.Second))
			if i == 2 {
				r.Purpose = "marketing"
			} else {
				sales = append(sales, r)
			}
			if err := tx.InsertImport(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	all, err := s.Read().Imports(ctx, tresor.ImportQuery{})
	must(t, err)
	if len(all) != 5 {
		t.Fatalf("all records: %d", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID <= all[i].ID {
			t.Fatalf("records not newest first: %s before %s", all[i-1].ID, all[i].ID)
		}
	}
	first, err := s.Read().Imports(ctx, tresor.ImportQuery{Purpose: "sales", Page: tresor.Page{Limit: 3}})
	must(t, err)
	if len(first) != 3 || first[0].ID != sales[3].ID || first[2].ID != sales[1].ID {
		t.Fatalf("first page of sales: %v", ids2(first))
	}
	rest, err := s.Read().Imports(ctx, tresor.ImportQuery{Purpose: "sales", Page: tresor.Page{Limit: 3, After: first[2].ID}})
	must(t, err)
	if len(rest) != 1 || rest[0].ID != sales[0].ID {
		t.Fatalf("second page of sales: %v", ids2(rest))
	}
	for _, r := range append(first, rest...) {
		if r.Purpose != "sales" {
			t.Fatalf("a record of %s in the list of sales", r.Purpose)
		}
	}
}

func ids2(rs []*tresor.ImportRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
