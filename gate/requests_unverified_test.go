package gate_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"tresor"
)

// TestUnverifiedRequestRules: a request from the web form whose identity
// was never verified is closed as refused by the retention run 30 days
// after its receipt or its last verification link (Art. 12(6)), and is then
// kept like any closed request.
func TestUnverifiedRequestRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, dpo := e.g, e.ctx["data_protection"]
		client := 0
		submit := func(t *testing.T, email string) (*tresor.Request, string) {
			t.Helper()
			client++
			_, err := g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestAccess, Email: email, Language: "en",
				Client: fmt.Sprintf("198.51.100.%d:4711", client)})
			must(t, err)
			tok := link(t, e.mail.last(t).Text, "/requests/verify")
			l, err := g.DataRequests(dpo, tresor.RequestFilter{Page: tresor.Page{Limit: 200}})
			must(t, err)
			for _, r := range l.Items {
				if r.Address == email {
					return r, tok
				}
			}
			t.Fatalf("no request of %s", email)
			return nil, ""
		}
		state := func(t *testing.T, id string) *tresor.Request {
			t.Helper()
			r, err := g.DataRequest(dpo, id)
			must(t, err)
			return r
		}
		run := func(t *testing.T, dry bool) *tresor.RetentionReport {
			t.Helper()
			rep, err := g.RunRetention(dpo, dry)
			must(t, err)
			return rep
		}

		t.Run("an unverified web-form request is closed as refused 30 days after receipt, audited, nothing mailed", func(t *testing.T) {
			r, _ := submit(t, "never-verified@example.org")
			e.clock.advance(29 * 24 * time.Hour)
			if rep := run(t, false); rep.RequestsUnverified != 0 || state(t, r.ID).State != tresor.RequestReceived {
				t.Fatalf("closed before its 30 days: %d", rep.RequestsUnverified)
			}
			e.clock.advance(2 * 24 * time.Hour)
			if rep := run(t, true); rep.RequestsUnverified != 1 || state(t, r.ID).State != tresor.RequestReceived {
				t.Fatalf("dry run: reported %d, state %s", rep.RequestsUnverified, state(t, r.ID).State)
			}
			mails := len(e.mail.all())
			if rep := run(t, false); rep.RequestsUnverified != 1 {
				t.Fatalf("closed %d requests, want 1", rep.RequestsUnverified)
			}
			got := state(t, r.ID)
			last := got.History[len(got.History)-1]
			if got.State != tresor.RequestRefused || got.ClosedAt == nil || got.Reason != "identity not verified (Art. 12(6))" ||
				last.State != tresor.RequestRefused || last.Reason != "identity not verified (Art. 12(6))" {
				t.Fatalf("request = %s %q %v, history ends %+v", got.State, got.Reason, got.ClosedAt, last)
			}
			if !slices.Contains(auditActions(t, g, r.ID), "request.close_unverified") {
				t.Errorf("audit = %v", auditActions(t, g, r.ID))
			}
			if len(e.mail.all()) != mails {
				t.Error("closing an unverified request mailed someone")
			}
			if rep := run(t, false); rep.RequestsUnverified != 0 {
				t.Errorf("a second run closed %d again", rep.RequestsUnverified)
			}
		})

		t.Run("a verified web-form request and a request staff recorded stay open", func(t *testing.T) {
			v, tok := submit(t, "verified@example.org")
			_, err := g.VerifyRequest(bg, tok, "198.51.100.200:1")
			must(t, err)
			staff, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
				Address: "Musterstraße 1, 12345 Musterstadt", ReceivedAt: tresor.Date(e.clock.now().Format(time.DateOnly))})
			must(t, err)
			e.clock.advance(40 * 24 * time.Hour)
			run(t, false)
			if s := state(t, v.ID).State; s != tresor.RequestIdentityVerified {
				t.Errorf("verified request: %s", s)
			}
			if s := state(t, staff.ID).State; s != tresor.RequestReceived {
				t.Errorf("request by letter: %s", s)
			}
		})

		t.Run("a new verification link from the DPO restarts the 30 days", func(t *testing.T) {
			r, _ := submit(t, "away-on-holiday@example.org")
			e.clock.advance(25 * 24 * time.Hour)
			_, err := g.SendRequestVerification(dpo, r.ID)
			must(t, err)
			got := state(t, r.ID)
			if last := got.History[len(got.History)-1]; last.Action != tresor.ActionVerificationSent {
				t.Fatalf("history ends with %+v", last)
			}
			e.clock.advance(10 * 24 * time.Hour)
			run(t, false)
			if s := state(t, r.ID).State; s != tresor.RequestReceived {
				t.Fatalf("closed while the new link's period runs: %s", s)
			}
			_, err = g.VerifyRequest(bg, link(t, e.mail.last(t).Text, "/requests/verify"), "198.51.100.201:1")
			wantCode(t, err, tresor.ECLinkInvalid) // the new link's week is over, the request still open
			e.clock.advance(21 * 24 * time.Hour)
			if rep := run(t, false); rep.RequestsUnverified != 1 || state(t, r.ID).State != tresor.RequestRefused {
				t.Fatalf("closed %d; state %s", rep.RequestsUnverified, state(t, r.ID).State)
			}
		})

		t.Run("a closed unverified request falls under the retention of closed requests", func(t *testing.T) {
			r, _ := submit(t, "gone-later@example.org")
			e.clock.advance(31 * 24 * time.Hour)
			run(t, false)
			if s := state(t, r.ID).State; s != tresor.RequestRefused {
				t.Fatalf("state %s", s)
			}
			e.clock.advance((3*366 + 1) * 24 * time.Hour)
			if rep := run(t, false); rep.RequestsExpired == 0 {
				t.Fatal("no closed request expired")
			}
			_, err := g.DataRequest(dpo, r.ID)
			wantCode(t, err, tresor.ECNotFound)
		})
	})
}
