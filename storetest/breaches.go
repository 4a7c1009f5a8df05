package storetest

import (
	"slices"
	"testing"
	"time"

	"tresor"
)

// breachTests are the store's part of the breach register.
var breachTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"BreachRoundTripKeepsPlainFieldsAndSealedBlob", testBreachRoundTrip},
	{"BreachUpdateChecksVersion", testBreachVersion},
	{"BreachesListNewestFirstInPages", testBreachPaging},
}

func breachRow(at time.Time) *tresor.BreachRow {
	r := &tresor.BreachRow{Sealed: []byte("\x00sealed description")}
	r.Meta = meta(epoch)
	r.Title, r.AwareAt, r.Risk, r.State = "Laptop lost", at, tresor.BreachRiskSome, tresor.BreachOpen
	return r
}

func testBreachRoundTrip(t *testing.T, s tresor.Store) {
	r := breachRow(epoch.Add(-time.Hour))
	r.Categories, r.PeopleAffected, r.RecordsAffected = []string{"contact.email"}, 12, 40
	r.Scope = &tresor.BreachScope{Actor: "token:x", Since: epoch.Add(-2 * time.Hour), Until: epoch, Contacts: 3, Records: 7, CountedAt: epoch}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertBreach(ctx, r) })
	got, err := s.Read().Breach(ctx, r.ID)
	must(t, err)
	if got.ID != r.ID || got.Title != r.Title || !got.AwareAt.Equal(r.AwareAt) || got.State != tresor.BreachOpen || got.PeopleAffected != 12 ||
		got.RecordsAffected != 40 || !slices.Equal(got.Categories, r.Categories) || string(got.Sealed) != string(r.Sealed) ||
		got.Scope == nil || got.Scope.Records != 7 || !got.CreatedAt.Equal(epoch) || got.Version != 1 {
		t.Fatalf("round trip: %+v", got)
	}
	wantCode(t, errOf(s.Read().Breach(ctx, newID())), tresor.ECNotFound)
}

func errOf[T any](_ T, err error) error { return err }

func testBreachVersion(t *testing.T, s tresor.Store) {
	r := breachRow(epoch)
	update(t, s, func(tx tresor.Tx) error { return tx.InsertBreach(ctx, r) })
	next := *r
	next.Version, next.State = 2, tresor.BreachAuthorityNotified
	at := epoch.Add(time.Hour)
	next.NotifiedAt, next.UpdatedAt = &at, at
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateBreach(ctx, &next, 1) })
	got, err := s.Read().Breach(ctx, r.ID)
	must(t, err)
	if got.State != tresor.BreachAuthorityNotified || got.NotifiedAt == nil || !got.NotifiedAt.Equal(at) || got.Version != 2 {
		t.Fatalf("after update: %+v", got)
	}
	stale := next
	stale.Version = 3
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateBreach(ctx, &stale, 1) }), tresor.ECVersionMismatch)
}

func testBreachPaging(t *testing.T, s tresor.Store) {
	var want []string
	for i := range 5 {
		r := breachRow(epoch.Add(time.Duration(i) * time.Hour))
		update(t, s, func(tx tresor.Tx) error { return tx.InsertBreach(ctx, r) })
		want = append([]string{r.ID}, want...)
	}
	var got []string
	p := tresor.Page{Limit: 2}
	for {
		rows, err := s.Read().Breaches(ctx, p)
		must(t, err)
		got = append(got, ids(rows)...)
		if len(rows) < p.Limit {
			break
		}
		p.After = rows[len(rows)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages: %v, want %v", got, want)
	}
}
