package tresor

import (
	"context"
	"time"
)

// EmailKind says on what ground a one-off e-mail to a person is sent; the
// outbound gate judges each differently (§7 UWG, Art. 6 GDPR).
type EmailKind string

// The kinds of one-off e-mail.
const (
	// EmailAdvertising needs the person's consent to advertising by e-mail.
	EmailAdvertising EmailKind = "advertising"
	// EmailReply answers a conversation the person started by mail.
	EmailReply EmailKind = "reply"
	// EmailContract is needed for a contract with the person.
	EmailContract EmailKind = "contract"
)

// EmailKinds lists every kind of one-off e-mail.
func EmailKinds() []EmailKind { return []EmailKind{EmailAdvertising, EmailReply, EmailContract} }

// EmailSend is a one-off e-mail to a contact.
type EmailSend struct {
	ContactID string    `json:"-"`
	Kind      EmailKind `json:"kind"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
}

// Validate checks the mail.
func (e *EmailSend) Validate() error {
	var p Problems
	checkOneOf(&p, "kind", e.Kind, EmailKinds(), true)
	checkText(&p, "subject", e.Subject, maxShortText, true, false)
	checkText(&p, "body", e.Body, maxLongText, true, true)
	return p.Err("email")
}

// EmailSent is the outcome of a mail that went out: the interaction that
// records it and why the outbound gate let it pass.
type EmailSent struct {
	InteractionID string   `json:"interaction_id"`
	CaseID        string   `json:"case_id,omitempty"`
	Reasons       []Reason `json:"reasons"`
}

// InboundMail is one message of a mailbox, parsed: only what Tresor keeps
// or needs to decide. Attachments are counted, never kept.
type InboundMail struct {
	MessageID   string    // without angle brackets
	InReplyTo   []string  // message ids, without angle brackets
	References  []string  // message ids, without angle brackets
	From        string    // the sender's address
	Subject     string    // decoded
	Text        string    // the plain text (or text taken from HTML), decoded to UTF-8
	Attachments int       // parts that were attachments: not stored
	Date        time.Time // zero if the mail has none or a broken one
}

// MailboxItem is a message waiting in a mailbox, by its unique id (POP3 UIDL).
type MailboxItem struct {
	UID  string
	Size int
}

// Mailbox is a mailbox Tresor reads inbound mail from (POP3).
type Mailbox interface {
	// Name names the mailbox (user@host) in the store's claims and the
	// audit trail.
	Name() string
	// Open signs in; the session ends with Close.
	Open(ctx context.Context) (MailboxSession, error)
}

// MailboxSession is one signed-in session with a mailbox.
type MailboxSession interface {
	List(ctx context.Context) ([]MailboxItem, error)
	// Retrieve reads and parses one message.
	Retrieve(ctx context.Context, uid string) (*InboundMail, error)
	// Delete marks a message for deletion when the session ends.
	Delete(ctx context.Context, uid string) error
	// Close ends the session (QUIT), which commits the deletions.
	Close() error
}

// MailboxReport says what one poll of the mailbox did.
type MailboxReport struct {
	Read        int            `json:"read"`        // new messages read
	Skipped     int            `json:"skipped"`     // taken already (by this or another server)
	Cases       int            `json:"cases"`       // new cases
	Replies     int            `json:"replies"`     // added to an existing case
	Linked      int            `json:"linked"`      // from a known contact
	Attachments int            `json:"attachments"` // attachments not stored
	Dropped     map[string]int `json:"dropped"`     // by reason
	Failed      int            `json:"failed"`      // left in the mailbox for the next poll
}

// MailMessage is a mail Tresor sent or received, for threading: its
// Message-ID (the raw value, to answer with In-Reply-To, and a keyed hash
// to find it) and the case or contact it belongs to.
type MailMessage struct {
	Hash      string // keyed hash of the Message-ID
	MessageID string
	CaseID    string
	ContactID string
	Direction Direction
	CreatedAt time.Time
}

// MailClaim is one server's claim to take in one message of a mailbox.
type MailClaim struct {
	Mailbox   string
	UID       string
	By        string // the server that claims it
	At        time.Time
	StaleFrom time.Time // a claim older than this, not done, may be taken over
}

// MailService is the gate's interface for e-mail in and out.
type MailService interface {
	// SendEmail sends a one-off e-mail to a contact, if the outbound gate
	// lets it pass.
	SendEmail(ctx context.Context, e EmailSend) (*EmailSent, error)
	// ReplyToCase answers a case by e-mail, threaded to its mails.
	ReplyToCase(ctx context.Context, caseID string, e EmailSend) (*EmailSent, error)
	// PollMailbox takes in the new mails of the mailbox.
	PollMailbox(ctx context.Context) (*MailboxReport, error)
}

// MailReader reads what Tresor knows of mails for threading.
type MailReader interface {
	// MailThread returns the case of the first of the hashes that names a
	// known mail with a case, or "".
	MailThread(ctx context.Context, hashes []string) (string, error)
	// MailMessages lists the mails of a case, oldest first.
	MailMessages(ctx context.Context, caseID string) ([]*MailMessage, error)
	// MailKnown reports whether a mail with the Message-ID's hash is known.
	MailKnown(ctx context.Context, hash string) (bool, error)
	// MailFrom reports whether the contact ever wrote to the company by mail.
	MailFrom(ctx context.Context, contactID string) (bool, error)
}

// MailWriter writes the mails and the mailbox claims.
type MailWriter interface {
	InsertMailMessage(ctx context.Context, m *MailMessage) error
	// ClaimMail claims a message of a mailbox for one server; false if it
	// was taken, or is claimed by another server since after StaleFrom.
	ClaimMail(ctx context.Context, c *MailClaim) (bool, error)
	// MailDone marks a claimed message taken for good.
	MailDone(ctx context.Context, mailbox, uid string, at time.Time) error
	// ReleaseMail gives up a claim that could not be completed.
	ReleaseMail(ctx context.Context, mailbox, uid, by string) error
}
