package gate

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"tresor"
)

// The durable outbox (issue [2.7] §3, "SMTP down"). A mail an action owes
// is written to mail_outbox in the transaction of the action, so a
// committed action always has its mail queued and a rolled-back one never.
// Right after the commit the action tries to send it (most mail leaves at
// once, as before); when the mail server does not take it, it stays queued
// and WatchOutbox sends it when the server is back, retrying with backoff.
//
// Exactly once, as far as SMTP allows: a sender claims a mail (queued →
// sending, one conditional UPDATE, so of several servers on one database
// only one claims it), sends it, and marks it sent in a second, short
// transaction after the server accepted it. A crash between the server's
// acceptance and that mark leaves the mail "sending"; after outboxLease it
// is claimed again and sent a second time. Every queued mail carries a
// Message-ID made from its id, the same on every attempt, so receivers
// that de-duplicate by Message-ID see it once.
//
// Privacy: the address, subject and text are sealed, under the person's
// data key where the mail goes to a contact (an erasure deletes the key
// and the queued mails), else under the mail's own key, deleted with the
// content once the mail is sent or has failed. Logs and last_error never
// carry the address.

// The kinds of queued mail.
const (
	mailConsentConfirmation = "consent_confirmation"
	mailArt14Notice         = "art14_notice"
	mailRequestAnswer       = "request_answer"
	mailRequestVerification = "request_verification"
	mailAccountWelcome      = "account_welcome"
)

const (
	// outboxLease is how long a claim holds: a mail "sending" for longer
	// (its sender died) is claimed again. Far above the SMTP timeout.
	outboxLease = 10 * time.Minute
	// outboxGiveUp is how long a mail is retried before it fails.
	outboxGiveUp = 72 * time.Hour
	// outboxKeep is how long sent and failed mails (their content emptied)
	// are kept as a record of delivery.
	outboxKeep = 30 * 24 * time.Hour
	// outboxAttemptTimeout bounds an attempt made right after an action.
	outboxAttemptTimeout = 15 * time.Second
	outboxFirstRetry     = 2 * time.Second
)

// outboxConfig is the gate's outbox: how the sender is woken and how long
// it waits at most between attempts.
type outboxConfig struct {
	wake       chan struct{}
	maxBackoff time.Duration
}

// WithMailRetry sets the longest wait between two attempts to send a
// queued mail (default 5 minutes).
func WithMailRetry(max time.Duration) Option {
	return func(g *Gate) { g.outbox.maxBackoff = max }
}

// outboxMail is a queued mail's content, sealed.
type outboxMail struct {
	To        string            `json:"to" category:"contact.email"`
	Subject   string            `json:"subject" category:"interaction.content"`
	Text      string            `json:"text" category:"interaction.content"`
	Headers   map[string]string `json:"headers,omitempty" category:"interaction.content"`
	MessageID string            `json:"message_id" category:"interaction.content"`
}

// queueMail seals m and queues it in tx; contactID is the person it goes
// to ("" for none: it is sealed under its own key). It returns the id.
func (g *Gate) queueMail(ctx context.Context, tx tresor.Tx, kind, contactID string, m *tresor.Mail) (string, error) {
	id, now := newID(), g.now()
	content := outboxMail{To: m.To, Subject: m.Subject, Text: m.Text, Headers: m.Headers, MessageID: g.outboxMessageID(id)}
	if m.MessageID != "" {
		content.MessageID = m.MessageID
	}
	sealed, sealing, err := g.sealRecord(ctx, tx, "mail", id, contactID, nil, &content)
	if err != nil {
		return "", err
	}
	row := &tresor.OutboxRow{ID: id, Kind: kind, ContactID: contactID, State: tresor.OutboxQueued, NextAt: now, CreatedAt: now,
		Sealed: sealed, Sealing: sealing}
	if err := tx.InsertOutboxMail(ctx, row); err != nil {
		return "", err
	}
	return id, nil
}

// outboxMessageID is the stable Message-ID of a queued mail: its id at the
// host people reach Tresor at.
func (g *Gate) outboxMessageID(id string) string {
	host := "tresor.invalid"
	if u, err := url.Parse(g.publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return id + "@" + host
}

// sendQueued tries to send the mails just queued (after their commit) and
// says what became of them: tresor.MailSent when the mail server took all,
// tresor.MailQueued when one waits in the outbox for the sender.
func (g *Gate) sendQueued(ctx context.Context, ids ...string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outboxAttemptTimeout)
	defer cancel()
	out := tresor.MailSent
	for _, id := range ids {
		if sent, _ := g.deliver(ctx, id); !sent {
			out = tresor.MailQueued
		}
	}
	if out == tresor.MailQueued {
		g.wakeOutbox()
	}
	return out
}

// wakeOutbox wakes this server's sender; never blocks.
func (g *Gate) wakeOutbox() {
	select {
	case g.outbox.wake <- struct{}{}:
	default:
	}
}

// deliver claims one queued mail and sends it; sent reports whether the
// mail server took it (false also when another sender has it).
func (g *Gate) deliver(ctx context.Context, id string) (sent bool, err error) {
	if g.mailer == nil {
		return false, nil
	}
	claimed := false
	now := g.now()
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		var err error
		claimed, err = tx.ClaimOutboxMail(ctx, id, now, now.Add(-outboxLease))
		return err
	})
	if err != nil || !claimed {
		return false, err
	}
	// From here the claim is this sender's: whatever happens, settle it,
	// even when the caller's context ends.
	settle := context.WithoutCancel(ctx)
	row, err := g.store.Read().OutboxMail(settle, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return false, nil // erased since
	} else if err != nil {
		return false, err
	}
	var content outboxMail
	if _, err := g.openRecord(settle, "mail", id, row.Key, row.Sealed, &content, nil); err != nil || content.To == "" {
		// Its key is gone (the person was erased as it was claimed): it
		// can no longer be read, and is not sent.
		return false, g.settleMail(settle, row, tresor.OutboxFailed, "the mail can no longer be read")
	}
	m := &tresor.Mail{To: content.To, Subject: content.Subject, Text: content.Text, Headers: content.Headers, MessageID: content.MessageID}
	if sendErr := g.mailer.Send(ctx, m); sendErr != nil {
		reason := strings.ReplaceAll(sendErr.Error(), content.To, "[recipient]")
		var perm *textproto.Error
		switch {
		case errors.As(sendErr, &perm) && perm.Code >= 500:
			g.log.Error("queued mail refused by the mail server for good", "mail", id, "kind", row.Kind, "error", reason)
			return false, g.settleMail(settle, row, tresor.OutboxFailed, reason)
		case g.now().Sub(row.CreatedAt) > outboxGiveUp:
			g.log.Error("queued mail not sent in time; given up", "mail", id, "kind", row.Kind, "attempts", row.Attempts, "error", reason)
			return false, g.settleMail(settle, row, tresor.OutboxFailed, reason)
		}
		next := g.now().Add(g.backoff(row.Attempts))
		g.log.Warn("queued mail not sent; will retry", "mail", id, "kind", row.Kind, "attempts", row.Attempts, "retry_at", next, "error", reason)
		return false, g.store.Update(settle, func(tx tresor.Tx) error { return tx.OutboxMailRetry(settle, id, next, reason) })
	}
	// The window of a second sending: from the server's acceptance to this
	// commit (one short UPDATE).
	return true, g.settleMail(settle, row, tresor.OutboxSent, "")
}

// settleMail marks a claimed mail sent or failed, empties it and deletes
// its own data key (a contact's key stays with the contact).
func (g *Gate) settleMail(ctx context.Context, row *tresor.OutboxRow, state tresor.OutboxState, reason string) error {
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.OutboxMailDone(ctx, row.ID, state, g.now(), reason); err != nil {
			return err
		}
		if row.Key != nil && row.Key.Subject == row.ID {
			return tx.DeleteDataKey(ctx, row.ID)
		}
		return nil
	})
}

// backoff is the wait after the attempt-th failed attempt: doubling from
// two seconds, at most the configured maximum.
func (g *Gate) backoff(attempt int) time.Duration {
	max := g.outbox.maxBackoff
	if max <= 0 {
		max = 5 * time.Minute
	}
	d := outboxFirstRetry
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// SendOutbox sends the queued mails that are due, until none is left or
// the mail server does not take one; it returns how many went.
func (g *Gate) SendOutbox(ctx context.Context) (int, error) {
	sent := 0
	for {
		now := g.now()
		ids, err := g.store.Read().OutboxDue(ctx, now, now.Add(-outboxLease), 50)
		if err != nil || len(ids) == 0 {
			return sent, err
		}
		progress := false
		for _, id := range ids {
			ok, err := g.deliver(ctx, id)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
				progress = true
				continue
			}
			// Back in the queue: the mail server did not take it, and the
			// rest wait for the next round rather than each for a timeout.
			if row, err := g.store.Read().OutboxMail(ctx, id); err == nil && row.State == tresor.OutboxQueued {
				return sent, nil
			}
		}
		if !progress {
			return sent, nil // the server is away, or others have them: wait
		}
	}
}

// WatchOutbox is the sender of the outbox: it sends what is due when woken
// by a new mail of this server, at the next retry, or every poll interval
// at the latest (for mail queued by other servers on the database).
func (g *Gate) WatchOutbox(ctx context.Context, poll time.Duration) {
	if g.mailer == nil {
		return
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var purgedAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.outbox.wake:
		}
		if n, err := g.SendOutbox(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("sending queued mail", "error", err)
		} else if n > 0 {
			g.log.Info("queued mail sent", "mails", n)
		}
		if time.Since(purgedAt) > time.Hour {
			purgedAt = time.Now()
			if err := g.store.Update(ctx, func(tx tresor.Tx) error {
				_, err := tx.PurgeOutbox(ctx, g.now().Add(-outboxKeep))
				return err
			}); err != nil && ctx.Err() == nil {
				g.log.Error("purging the outbox", "error", err)
			}
		}
		wait := poll
		if next, err := g.store.Read().OutboxNext(ctx); err == nil && next != nil {
			// At least a second: a mail that is due but cannot be sent (the
			// database refuses writes) must not spin the loop.
			wait = min(poll, max(next.Sub(g.now()), time.Second))
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// OutboxCounts counts the queued mails per state (for the operator; no
// content).
func (g *Gate) OutboxCounts(ctx context.Context) (map[tresor.OutboxState]int, error) {
	if _, err := g.dataProtection(ctx); err != nil {
		return nil, err
	}
	n, err := g.store.Read().OutboxCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return n, nil
}
