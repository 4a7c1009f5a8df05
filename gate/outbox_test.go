package gate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// recordingMailer takes every mail and counts them by Message-ID.
type recordingMailer struct {
	mu   sync.Mutex
	byID map[string]int
}

func (r *recordingMailer) Send(_ context.Context, m *tresor.Mail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]int{}
	}
	r.byID[m.MessageID]++
	return nil
}

// TestOutboxOfSeveralServers: mails queued while the mail server was away
// are sent once by servers that run their senders at the same moment on
// one database — the claim, not a leader, keeps them apart.
func TestOutboxOfSeveralServers(t *testing.T) {
	sharedDatabase(t, func(t *testing.T, cfg func() datadir.Config) {
		queuing := openGate(t, cfg(), gate.WithMailer(failingMailer{}))
		dpo := as(t, queuing, "dpo@example.org", "data_protection", tresor.RoleDPO)
		const mails = 24
		for i := range mails {
			r, err := queuing.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
				Address: fmt.Sprintf("person-%d@example.org", i), ReceivedAt: dayOffset(-2)})
			must(t, err)
			verified(t, queuing, dpo, r)
			out, err := queuing.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Auskunft", Body: "Text"})
			must(t, err)
			if out.Mail != tresor.MailQueued {
				t.Fatalf("mail = %q with the mail server away", out.Mail)
			}
		}
		// The retries are due: the senders' clocks are past the backoff.
		later := func() time.Time { return time.Now().Add(time.Hour) }
		mailer := &recordingMailer{}
		senders := []*gate.Gate{
			openGate(t, cfg(), gate.WithMailer(mailer), gate.WithClock(later)),
			openGate(t, cfg(), gate.WithMailer(mailer), gate.WithClock(later)),
			openGate(t, cfg(), gate.WithMailer(mailer), gate.WithClock(later)),
		}
		var wg sync.WaitGroup
		for _, g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := g.SendOutbox(bg); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()

		t.Run("each queued mail is sent once across the servers", func(t *testing.T) {
			if len(mailer.byID) != mails {
				t.Errorf("%d distinct mails sent, want %d", len(mailer.byID), mails)
			}
			for id, n := range mailer.byID {
				if n != 1 {
					t.Errorf("mail %s sent %d times", id, n)
				}
			}
		})
		t.Run("every sent mail is marked sent", func(t *testing.T) {
			n, err := senders[0].OutboxCounts(dpo)
			must(t, err)
			if n[tresor.OutboxSent] != mails || n[tresor.OutboxQueued] != 0 || n[tresor.OutboxSending] != 0 {
				t.Errorf("outbox = %v", n)
			}
		})
		t.Run("a sent mail is not sent again", func(t *testing.T) {
			sent, err := senders[1].SendOutbox(bg)
			must(t, err)
			if sent != 0 {
				t.Errorf("%d mails sent again", sent)
			}
		})
	})
}
