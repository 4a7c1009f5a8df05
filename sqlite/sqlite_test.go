package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"tresor"
	"tresor/sqlite"
	"tresor/storetest"
)

func openTemp(t *testing.T) tresor.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTemp)
}

// TestTwoProcessesWriteAtOnce opens the same file twice, as the CLI does
// beside a running server, and writes from both at once: busy_timeout and
// BEGIN IMMEDIATE make every transaction wait its turn instead of failing
// with "database is locked".
func TestTwoProcessesWriteAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	var stores []tresor.Store
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := stores[w%2]
			for i := 0; i < 25; i++ {
				u := &tresor.User{ID: uuid.Must(uuid.NewV7()).String(), Email: fmt.Sprintf("u%d-%d@example.org", w, i),
					Roles: []tresor.Role{tresor.RoleSales}, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
				err := s.Update(ctx, func(tx tresor.Tx) error {
					if _, err := tx.CountUsers(ctx); err != nil {
						return err
					}
					return tx.InsertUser(ctx, u)
				})
				if err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent write failed: %v", err)
	}
	n, err := stores[0].Read().CountUsers(ctx)
	if err != nil || n != 200 {
		t.Fatalf("%d users (%v), want 200", n, err)
	}
}

// TestDatabaseStaysAtItsPath proves that characters which end or escape
// the path of an SQLite URI do not move the database into another file.
func TestDatabaseStaysAtItsPath(t *testing.T) {
	for _, name := range []string{"a#01", "b?mode=memory", "c%23d", "plain"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "tresor.db")
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the database is not at %s: %v", path, err)
			}
			entries, err := os.ReadDir(filepath.Dir(dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Fatalf("files beside the data directory: %v", entries)
			}
		})
	}
}

// TestOnlyServerLeads: one server serves a SQLite database (it holds the
// data directory's lock), so it always leads the periodic jobs.
func TestOnlyServerLeads(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for range 2 {
		l, err := s.Lead(ctx)
		if err != nil || l == nil {
			t.Fatalf("the server on a SQLite database does not lead: %v", err)
		}
		if err := l.Held(ctx); err != nil {
			t.Fatalf("the lead is not held: %v", err)
		}
	}
}

// TestOwnProvenanceStaysInThePersonsRow: provenance shared by several
// people of a batch is kept once, by reference; a person's own provenance
// (whose balancing note is free text that may name the person) stays in
// the person's row and leaves the file with the person.
func TestOwnProvenanceStaysInThePersonsRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tresor.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	row := func(note string) *tresor.ContactRow {
		r := &tresor.ContactRow{Sealed: []byte("opaque")}
		r.Meta = tresor.Meta{ID: uuid.NewString(), CreatedAt: at, UpdatedAt: at, Version: 1}
		r.Provenance = tresor.NewProvenance([]tresor.ProvenanceRecord{{Fields: []string{"given_name"}, Purpose: "sales",
			CollectedAt: at, CollectedBy: "system", Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest,
				BalancingNote: note, Source: tresor.SourceImport}}})
		return r
	}
	const shared, own = "Business contacts of the spring trade fair.", "Erika Musterfrau asked for a call back."
	batch := []*tresor.ContactRow{row(shared), row(shared), row(shared)}
	person := row(own)
	for _, rows := range [][]*tresor.ContactRow{batch, {person}} {
		if err := s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, rows) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range append(batch, person) {
		got, err := s.Read().Contact(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if recs, err := got.Provenance.Records(); err != nil || len(recs) != 1 {
			t.Fatalf("provenance of %s: %v %v", r.ID, recs, err)
		}
	}
	if err := s.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, person.ID) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	file := func() string {
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err == nil {
				all = append(all, b...)
			}
		}
		return string(all)
	}()
	t.Run("the batch's provenance is kept once", func(t *testing.T) {
		if n := strings.Count(file, shared); n != 1 {
			t.Fatalf("the shared note is in the file %d times, want 1", n)
		}
	})
	t.Run("a person's own note leaves the file with the person", func(t *testing.T) {
		if strings.Contains(file, own) {
			t.Fatal("the erased person's own balancing note is still in the database file")
		}
	})
}
