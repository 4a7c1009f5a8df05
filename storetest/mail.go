package storetest

import (
	"sync"
	"testing"
	"time"

	"tresor"
)

// mailTests are the store's part of e-mail in and out.
var mailTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"MailClaimIsTakenOnce", testMailClaim},
	{"MailThreadFindsTheCase", testMailThread},
}

func testMailClaim(t *testing.T, s tresor.Store) {
	claim := func(by string, at time.Time) bool {
		var ok bool
		update(t, s, func(tx tresor.Tx) (err error) {
			ok, err = tx.ClaimMail(ctx, &tresor.MailClaim{Mailbox: "crm@mail.example.org:995", UID: "uid-1", By: by, At: at, StaleFrom: at.Add(-15 * time.Minute)})
			return err
		})
		return ok
	}
	// Eight servers claim the same mail at once: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if claim("server-"+string(rune('a'+i)), epoch) {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d servers claimed the mail", won)
	}
	if claim("late", epoch.Add(time.Minute)) {
		t.Fatal("a fresh claim was taken over")
	}
	// A claim never done is taken over once it is stale; a done one never.
	if !claim("rescuer", epoch.Add(time.Hour)) {
		t.Fatal("a stale claim was not taken over")
	}
	update(t, s, func(tx tresor.Tx) error {
		return tx.MailDone(ctx, "crm@mail.example.org:995", "uid-1", epoch.Add(time.Hour))
	})
	if claim("later", epoch.Add(48*time.Hour)) {
		t.Fatal("a mail taken in was claimed again")
	}
	// A released claim may be claimed again at once.
	update(t, s, func(tx tresor.Tx) (err error) {
		ok, err := tx.ClaimMail(ctx, &tresor.MailClaim{Mailbox: "other", UID: "u", By: "x", At: epoch, StaleFrom: epoch.Add(-time.Minute)})
		if err == nil && !ok {
			t.Error("a new claim failed")
		}
		return err
	})
	update(t, s, func(tx tresor.Tx) error { return tx.ReleaseMail(ctx, "other", "u", "x") })
	update(t, s, func(tx tresor.Tx) (err error) {
		ok, err := tx.ClaimMail(ctx, &tresor.MailClaim{Mailbox: "other", UID: "u", By: "y", At: epoch, StaleFrom: epoch.Add(-time.Minute)})
		if err == nil && !ok {
			t.Error("a released claim could not be claimed again")
		}
		return err
	})
}

func testMailThread(t *testing.T, s tresor.Store) {
	update(t, s, func(tx tresor.Tx) error {
		for i, m := range []*tresor.MailMessage{
			{Hash: "h1", MessageID: "a@example.org", CaseID: "case-1", ContactID: "c1", Direction: tresor.DirectionInbound, CreatedAt: epoch},
			{Hash: "h2", MessageID: "b@example.org", CaseID: "case-1", ContactID: "c1", Direction: tresor.DirectionOutbound, CreatedAt: epoch.Add(time.Minute)},
			{Hash: "h3", MessageID: "c@example.org", CaseID: "", ContactID: "c2", Direction: tresor.DirectionOutbound, CreatedAt: epoch},
			{Hash: "h1", MessageID: "again@example.org", CaseID: "case-2", ContactID: "c3", Direction: tresor.DirectionInbound, CreatedAt: epoch},
		} {
			if err := tx.InsertMailMessage(ctx, m); err != nil {
				t.Errorf("message %d: %v", i, err)
			}
		}
		return nil
	})
	r := s.Read()
	if id, err := r.MailThread(ctx, []string{"nope", "h3", "h2"}); err != nil || id != "case-1" {
		t.Fatalf("thread = %q, %v", id, err)
	}
	if id, _ := r.MailThread(ctx, []string{"h3"}); id != "" {
		t.Fatalf("a mail without a case threads to %q", id)
	}
	msgs, err := r.MailMessages(ctx, "case-1")
	must(t, err)
	if len(msgs) != 2 || msgs[0].MessageID != "a@example.org" || msgs[1].Direction != tresor.DirectionOutbound {
		t.Fatalf("messages %+v", msgs)
	}
	if ok, _ := r.MailFrom(ctx, "c1"); !ok {
		t.Fatal("c1 wrote, MailFrom says no")
	}
	if ok, _ := r.MailFrom(ctx, "c2"); ok {
		t.Fatal("c2 never wrote, MailFrom says yes")
	}
	if ok, _ := r.MailKnown(ctx, "h3"); !ok {
		t.Fatal("a known mail is unknown")
	}
}
