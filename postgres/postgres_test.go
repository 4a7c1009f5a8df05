package postgres_test

import (
	"context"
	"testing"

	"tresor"
	"tresor/postgres"
	"tresor/storetest"
)

func openTemp(t *testing.T) tresor.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), storetest.PostgresURL(t), postgres.Options{MaxConns: 8})
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

// TestLead: the lead of the servers on one database is an advisory lock
// held by one store at a time, per schema, and given up with its session.
func TestLead(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	open := func(url string) tresor.Store {
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(url), open(url)
	la, err := a.Lead(ctx)
	if err != nil || la == nil {
		t.Fatalf("the first store does not lead: %v", err)
	}
	t.Run("while one server leads, another does not", func(t *testing.T) {
		if lb, err := b.Lead(ctx); err != nil || lb != nil {
			t.Fatalf("a second lead on the same schema: %v, %v", lb, err)
		}
		if err := la.Held(ctx); err != nil {
			t.Fatalf("the lead is not held: %v", err)
		}
	})
	t.Run("another schema has a lead of its own", func(t *testing.T) {
		lc, err := open(storetest.PostgresURL(t)).Lead(ctx)
		if err != nil || lc == nil {
			t.Fatalf("no lead in another schema: %v", err)
		}
		_ = lc.Release()
	})
	t.Run("a released lead is taken by another server at once", func(t *testing.T) {
		if err := la.Release(); err != nil {
			t.Fatal(err)
		}
		if err := la.Held(ctx); err == nil {
			t.Fatal("a released lead is still held")
		}
		lb, err := b.Lead(ctx)
		if err != nil || lb == nil {
			t.Fatalf("the lead was not taken after the release: %v", err)
		}
		defer lb.Release()
	})
}
