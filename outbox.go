package tresor

import (
	"context"
	"time"
)

// OutboxState is where a queued mail stands.
type OutboxState string

// The states of a queued mail: queued (waiting, or waiting again after a
// failed attempt), sending (claimed by one sender), sent (the mail server
// took it), failed (the mail server refused it for good, or it waited too
// long).
const (
	OutboxQueued  OutboxState = "queued"
	OutboxSending OutboxState = "sending"
	OutboxSent    OutboxState = "sent"
	OutboxFailed  OutboxState = "failed"
)

// MailQueued and MailSent say, in an answer, what became of the mail an
// action owes: sent at once, or queued in the outbox because the mail
// server did not take it yet (it is sent when the server is back).
const (
	MailQueued = "queued"
	MailSent   = "sent"
)

// OutboxRow is a queued mail as the store keeps it. The recipient, subject
// and text are sealed (Sealed) under ContactID's data key, or under the
// mail's own key (Key.Subject = ID) when it goes to no contact.
type OutboxRow struct {
	ID        string
	Kind      string // consent_confirmation, art14_notice, request_answer, …
	ContactID string // "" when the mail goes to no contact
	State     OutboxState
	Attempts  int
	NextAt    time.Time
	ClaimedAt *time.Time
	CreatedAt time.Time
	DoneAt    *time.Time
	LastError string // never an address
	Sealed    []byte
	Sealing
}

// OutboxReader reads the outbox.
type OutboxReader interface {
	// OutboxDue lists, oldest first, up to limit ids of the mails a sender
	// may claim at now: queued and due, or sending but claimed before
	// stale (the sender died).
	OutboxDue(ctx context.Context, now, stale time.Time, limit int) ([]string, error)
	// OutboxMail returns a queued mail with its data key (nil when erased).
	OutboxMail(ctx context.Context, id string) (*OutboxRow, error)
	// OutboxNext returns the earliest next_at of the queued mails; nil for none.
	OutboxNext(ctx context.Context) (*time.Time, error)
	// OutboxCounts counts the mails per state.
	OutboxCounts(ctx context.Context) (map[OutboxState]int, error)
}

// OutboxWriter writes the outbox.
type OutboxWriter interface {
	// InsertOutboxMail queues a mail (and stores its new data key).
	InsertOutboxMail(ctx context.Context, r *OutboxRow) error
	// ClaimOutboxMail moves a mail that is queued and due at now, or
	// sending but claimed before stale, to sending; false if another
	// sender has it or it is gone. It is one conditional UPDATE, so two
	// senders on one database never both claim it.
	ClaimOutboxMail(ctx context.Context, id string, now, stale time.Time) (bool, error)
	// OutboxMailDone marks a claimed mail sent or failed and empties its
	// sealed content.
	OutboxMailDone(ctx context.Context, id string, state OutboxState, at time.Time, reason string) error
	// OutboxMailRetry puts a claimed mail back in the queue until next.
	OutboxMailRetry(ctx context.Context, id string, next time.Time, reason string) error
	// PurgeOutbox deletes the mails sent or failed before t.
	PurgeOutbox(ctx context.Context, before time.Time) (int, error)
}
