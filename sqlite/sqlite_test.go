package sqlite_test

import (
	"context"
	"fmt"
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
