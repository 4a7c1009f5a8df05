package storetest

import (
	"slices"
	"testing"
	"time"

	"tresor"
)

// testClosedRequests: closed_at round-trips; ClosedRequests lists the
// requests closed before a time, by id, after a cursor; DeleteDataRequest
// removes one, and a second delete is not found.
func testClosedRequests(t *testing.T, s tresor.Store) {
	old, recent, open := requestRow("2026-01-10", tresor.RequestAnswered), requestRow("2026-01-11", tresor.RequestRefused),
		requestRow("2026-01-12", tresor.RequestReceived)
	t1, t2 := epoch.Add(24*time.Hour), epoch.Add(30*24*time.Hour)
	old.ClosedAt, recent.ClosedAt = &t1, &t2
	insertRequests(t, s, old, recent, open)
	got, err := s.Read().DataRequest(ctx, old.ID)
	must(t, err)
	if got.ClosedAt == nil || !got.ClosedAt.Equal(t1) {
		t.Fatalf("closed_at = %v, want %v", got.ClosedAt, t1)
	}
	if got, err := s.Read().DataRequest(ctx, open.ID); err != nil || got.ClosedAt != nil {
		t.Fatalf("open request: %+v %v", got, err)
	}
	ids, err := s.Read().ClosedRequests(ctx, t2, "", 10)
	must(t, err)
	if !slices.Equal(ids, []string{old.ID}) {
		t.Errorf("closed before t2 = %v, want the old one", ids)
	}
	ids, err = s.Read().ClosedRequests(ctx, t2.Add(time.Second), "", 10)
	must(t, err)
	want := []string{old.ID, recent.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("closed before later = %v, want %v", ids, want)
	}
	ids, err = s.Read().ClosedRequests(ctx, t2.Add(time.Second), want[0], 10)
	must(t, err)
	if !slices.Equal(ids, want[1:]) {
		t.Errorf("after the cursor = %v, want %v", ids, want[1:])
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteDataRequest(ctx, old.ID) })
	_, err = s.Read().DataRequest(ctx, old.ID)
	wantCode(t, err, tresor.ECNotFound)
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteDataRequest(ctx, old.ID) }), tresor.ECNotFound)
}

// testRequestReminderClaims: a reminder of a request is claimed once per
// deadline; another reminder or a new deadline is a new claim.
func testRequestReminderClaims(t *testing.T, s tresor.Store) {
	r := requestRow("2026-02-01", tresor.RequestReceived)
	insertRequests(t, s, r)
	claim := func(which string, due tresor.Date) bool {
		t.Helper()
		var ok bool
		update(t, s, func(tx tresor.Tx) (err error) {
			ok, err = tx.ClaimRequestReminder(ctx, r.ID, which, due, epoch)
			return err
		})
		return ok
	}
	if !claim(tresor.RequestReminderWeek, r.Due) {
		t.Fatal("the first claim failed")
	}
	if claim(tresor.RequestReminderWeek, r.Due) {
		t.Error("the same reminder was claimed twice")
	}
	if !claim(tresor.RequestReminderDue, r.Due) {
		t.Error("the day's reminder could not be claimed beside the week's")
	}
	if !claim(tresor.RequestReminderWeek, "2026-05-01") {
		t.Error("an extended deadline gets no new reminder")
	}
}
