package storetest

import (
	"slices"
	"testing"

	"tresor"
)

// requestTests are the store's part of the register of requests of data
// subjects.
var requestTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"RequestsRoundTripFilterAndOrderByDue", testRequests},
	{"RequestsPageByDueThenID", testRequestsPaging},
	{"ClosedRequestsListedByClosingAndDeleted", testClosedRequests},
	{"RequestReminderClaimedOncePerDeadline", testRequestReminderClaims},
}

func requestRow(received tresor.Date, state tresor.RequestState) *tresor.RequestRow {
	r := &tresor.RequestRow{Sealed: []byte("sealed address " + string(received))}
	r.Meta = meta(epoch)
	r.Kind, r.Channel, r.ReceivedAt, r.State = tresor.RequestAccess, tresor.ArrivedByEmail, received, state
	r.Due = tresor.RequestDue(received)
	return r
}

func insertRequests(t *testing.T, s tresor.Store, rows ...*tresor.RequestRow) {
	t.Helper()
	update(t, s, func(tx tresor.Tx) error {
		for _, r := range rows {
			if err := tx.InsertDataRequest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func listRequests(t *testing.T, s tresor.Store, f tresor.RequestFilter) []string {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 50
	}
	rows, err := s.Read().DataRequests(ctx, f)
	must(t, err)
	return ids(rows)
}

func testRequests(t *testing.T, s tresor.Store) {
	late := requestRow("2026-01-31", tresor.RequestInProgress)
	soon := requestRow("2026-03-01", tresor.RequestReceived)
	answered := requestRow("2026-01-15", tresor.RequestAnswered)
	insertRequests(t, s, soon, answered, late)

	got, err := s.Read().DataRequest(ctx, late.ID)
	must(t, err)
	if got.Kind != tresor.RequestAccess || got.Channel != tresor.ArrivedByEmail || got.ReceivedAt != "2026-01-31" ||
		got.Due != "2026-02-28" || got.State != tresor.RequestInProgress || got.Extended ||
		string(got.Sealed) != "sealed address 2026-01-31" || !got.CreatedAt.Equal(epoch) || got.Version != 1 {
		t.Fatalf("request = %+v", got)
	}

	for _, c := range []struct {
		name string
		f    tresor.RequestFilter
		want []string
	}{
		{"all, by due", tresor.RequestFilter{}, []string{answered.ID, late.ID, soon.ID}},
		{"open", tresor.RequestFilter{States: []tresor.RequestState{tresor.RequestReceived, tresor.RequestInProgress}},
			[]string{late.ID, soon.ID}},
		{"one state", tresor.RequestFilter{States: []tresor.RequestState{tresor.RequestAnswered}}, []string{answered.ID}},
		{"due before", tresor.RequestFilter{DueBefore: "2026-03-01"}, []string{answered.ID, late.ID}},
	} {
		if got := listRequests(t, s, c.f); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	r2 := *late
	r2.State, r2.Extended, r2.Due, r2.Version, r2.Sealed = tresor.RequestExtended, true, "2026-04-28", 2, []byte("changed")
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateDataRequest(ctx, &r2, 1) })
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateDataRequest(ctx, &r2, 1) }), tresor.ECVersionMismatch)
	got, err = s.Read().DataRequest(ctx, late.ID)
	must(t, err)
	if got.Version != 2 || got.State != tresor.RequestExtended || !got.Extended || got.Due != "2026-04-28" || string(got.Sealed) != "changed" {
		t.Errorf("updated request = %+v", got)
	}
	_, err = s.Read().DataRequest(ctx, newID())
	wantCode(t, err, tresor.ECNotFound)
	_, err = s.Read().DataRequest(ctx, "not-an-id")
	wantCode(t, err, tresor.ECNotFound)
}

func testRequestsPaging(t *testing.T, s tresor.Store) {
	var rows []*tresor.RequestRow
	for _, d := range []tresor.Date{"2026-02-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-01-01"} {
		rows = append(rows, requestRow(d, tresor.RequestReceived))
	}
	insertRequests(t, s, rows...)
	all := listRequests(t, s, tresor.RequestFilter{})
	var paged []string
	p := tresor.Page{Limit: 2}
	for {
		got := listRequests(t, s, tresor.RequestFilter{Page: p})
		paged = append(paged, got...)
		if len(got) < 2 {
			break
		}
		p.After = got[len(got)-1]
	}
	if !slices.Equal(all, paged) || len(all) != 5 {
		t.Errorf("paged %v, all %v", paged, all)
	}
	_, err := s.Read().DataRequests(ctx, tresor.RequestFilter{Page: tresor.Page{Limit: 2, After: "nonsense"}})
	wantCode(t, err, tresor.ECInvalidCursor)
}
