package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"tresor"
)

// outboxTests are the store's part of the durable outbox of mail.
var outboxTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"OutboxClaimsOnceRetriesAndSettles", testOutboxClaimsOnceRetriesAndSettles},
	{"OutboxStaleClaimIsTakenOver", testOutboxStaleClaimIsTakenOver},
	{"OutboxClaimOfConcurrentSendersIsExclusive", testOutboxConcurrentClaims},
	{"OutboxErasureDeletesThePersonsQueuedMail", testOutboxErasure},
}

// outboxRow is a queued mail under its own new key, or a contact's.
func outboxRow(contactID string) *tresor.OutboxRow {
	id := newID()
	subject := id
	if contactID != "" {
		subject = contactID
	}
	return &tresor.OutboxRow{ID: id, Kind: "request_answer", ContactID: contactID, State: tresor.OutboxQueued, NextAt: epoch,
		CreatedAt: epoch, Sealed: []byte("sealed mail " + id),
		Sealing: tresor.Sealing{Key: &tresor.WrappedKey{Subject: subject, Version: 1, KEKVersion: 1, Wrapped: []byte("wrapped")}, KeyIsNew: true}}
}

func claim(t *testing.T, s tresor.Store, id string, now, stale time.Time) bool {
	t.Helper()
	var ok bool
	update(t, s, func(tx tresor.Tx) error {
		var err error
		ok, err = tx.ClaimOutboxMail(ctx, id, now, stale)
		return err
	})
	return ok
}

func testOutboxClaimsOnceRetriesAndSettles(t *testing.T, s tresor.Store) {
	m := outboxRow("")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOutboxMail(ctx, m) })
	got, err := s.Read().OutboxMail(ctx, m.ID)
	must(t, err)
	if got.State != tresor.OutboxQueued || !bytes.Equal(got.Sealed, m.Sealed) || got.Key == nil || got.Key.Subject != m.ID ||
		!got.NextAt.Equal(epoch) || got.ContactID != "" {
		t.Fatalf("read back = %+v", got)
	}
	if due, err := s.Read().OutboxDue(ctx, epoch.Add(-time.Second), epoch.Add(-time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("due before next_at: %v %v", due, err)
	}
	if due, err := s.Read().OutboxDue(ctx, epoch, epoch.Add(-time.Hour), 10); err != nil || len(due) != 1 || due[0] != m.ID {
		t.Fatalf("due at next_at: %v %v", due, err)
	}
	if !claim(t, s, m.ID, epoch, epoch.Add(-time.Hour)) || claim(t, s, m.ID, epoch, epoch.Add(-time.Hour)) {
		t.Fatal("the mail was not claimed exactly once")
	}
	next := epoch.Add(time.Minute)
	update(t, s, func(tx tresor.Tx) error { return tx.OutboxMailRetry(ctx, m.ID, next, "connection refused") })
	got, err = s.Read().OutboxMail(ctx, m.ID)
	must(t, err)
	if got.State != tresor.OutboxQueued || got.Attempts != 1 || !got.NextAt.Equal(next) || got.LastError != "connection refused" {
		t.Fatalf("after a retry = %+v", got)
	}
	if n, err := s.Read().OutboxNext(ctx); err != nil || n == nil || !n.Equal(next) {
		t.Fatalf("next = %v %v", n, err)
	}
	if claim(t, s, m.ID, epoch.Add(time.Second), epoch.Add(-time.Hour)) {
		t.Fatal("claimed before its retry was due")
	}
	if !claim(t, s, m.ID, next, epoch.Add(-time.Hour)) {
		t.Fatal("not claimed when its retry was due")
	}
	update(t, s, func(tx tresor.Tx) error { return tx.OutboxMailDone(ctx, m.ID, tresor.OutboxSent, next, "") })
	got, err = s.Read().OutboxMail(ctx, m.ID)
	must(t, err)
	if got.State != tresor.OutboxSent || len(got.Sealed) != 0 || got.Key != nil || got.Attempts != 2 || got.DoneAt == nil {
		t.Fatalf("after sending = %+v", got)
	}
	if claim(t, s, m.ID, next.Add(time.Hour), next.Add(time.Hour)) {
		t.Fatal("a sent mail was claimed again")
	}
	counts, err := s.Read().OutboxCounts(ctx)
	must(t, err)
	if counts[tresor.OutboxSent] != 1 || counts[tresor.OutboxQueued] != 0 {
		t.Fatalf("counts = %v", counts)
	}
	if n, err := s.Read().OutboxNext(ctx); err != nil || n != nil {
		t.Fatalf("next with nothing queued = %v %v", n, err)
	}
	var purged int
	update(t, s, func(tx tresor.Tx) error {
		var err error
		purged, err = tx.PurgeOutbox(ctx, next.Add(time.Second))
		return err
	})
	if purged != 1 {
		t.Fatalf("purged %d", purged)
	}
	_, err = s.Read().OutboxMail(ctx, m.ID)
	wantCode(t, err, tresor.ECNotFound)
}

func testOutboxStaleClaimIsTakenOver(t *testing.T, s tresor.Store) {
	m := outboxRow("")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOutboxMail(ctx, m) })
	if !claim(t, s, m.ID, epoch, epoch.Add(-10*time.Minute)) {
		t.Fatal("not claimed")
	}
	later := epoch.Add(5 * time.Minute)
	if claim(t, s, m.ID, later, later.Add(-10*time.Minute)) {
		t.Fatal("a claim within its lease was taken over")
	}
	later = epoch.Add(11 * time.Minute)
	if due, err := s.Read().OutboxDue(ctx, later, later.Add(-10*time.Minute), 10); err != nil || len(due) != 1 {
		t.Fatalf("a stale claim is not due: %v %v", due, err)
	}
	if !claim(t, s, m.ID, later, later.Add(-10*time.Minute)) {
		t.Fatal("a claim past its lease was not taken over")
	}
}

func testOutboxConcurrentClaims(t *testing.T, s tresor.Store) {
	m := outboxRow("")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOutboxMail(ctx, m) })
	const senders = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := s.Update(ctx, func(tx tresor.Tx) error {
				var err error
				ok, err = tx.ClaimOutboxMail(ctx, m.ID, epoch, epoch.Add(-time.Hour))
				return err
			})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of %d senders claimed the mail, want 1", won, senders)
	}
}

func testOutboxErasure(t *testing.T, s tresor.Store) {
	a, b := contactRow("", "a@example.org"), contactRow("", "b@example.org")
	insertContacts(t, s, a, b)
	ma, mb := outboxRow(a.ID), outboxRow(b.ID)
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertOutboxMail(ctx, ma); err != nil {
			return err
		}
		return tx.InsertOutboxMail(ctx, mb)
	})
	update(t, s, func(tx tresor.Tx) error {
		_, err := tx.EraseContact(ctx, a.ID, tresor.EraseRecords, tresor.EraseRecords)
		return err
	})
	_, err := s.Read().OutboxMail(ctx, ma.ID)
	wantCode(t, err, tresor.ECNotFound)
	if _, err := s.Read().DataKey(ctx, a.ID); tresor.ErrorCode(err) != tresor.ECNotFound {
		t.Fatalf("the erased person's key: %v", err)
	}
	got, err := s.Read().OutboxMail(ctx, mb.ID)
	must(t, err)
	if got.Key == nil || got.Key.Subject != b.ID {
		t.Fatalf("the other person's mail = %+v", got)
	}
}
