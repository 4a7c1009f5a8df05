package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

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
