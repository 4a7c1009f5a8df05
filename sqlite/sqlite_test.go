package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
