package tresor

import (
	"context"
	"time"
)

// ErasureOrigin says what caused an erasure.
type ErasureOrigin string

// Erasure origins.
const (
	ErasureRequest   ErasureOrigin = "request"   // an erasure request (Art. 17 GDPR)
	ErasureDelete    ErasureOrigin = "delete"    // a user deleted the contact
	ErasureRetention ErasureOrigin = "retention" // the retention period ended
	ErasureMerge     ErasureOrigin = "merge"     // absorbed into another contact by a merge
)

// Erasure is an entry of the erasure journal and the tombstone of an erased
// contact. It holds no personal data: ids, times, who, why and what went.
type Erasure struct {
	ContactID string        `json:"contact_id"`
	ErasedAt  time.Time     `json:"erased_at"`
	Actor     string        `json:"actor"`
	Origin    ErasureOrigin `json:"origin"`
	Reason    string        `json:"reason"`
	Records   ErasedRecords `json:"records"`
}

// ErasedRecords counts what an erasure did with the person's records.
type ErasedRecords struct {
	Interactions           int `json:"interactions_erased"`
	InteractionsAnonymised int `json:"interactions_anonymised"`
	// InteractionsRetained are business letters and accounting records the
	// law keeps (HGB §257, AO §147): archived under a key of their own and
	// erased when their period ends.
	InteractionsRetained int `json:"interactions_retained"`
	Cases                int `json:"cases_erased"`
	CasesAnonymised      int `json:"cases_anonymised"`
	DealsDetached        int `json:"deals_detached"`
	ConsentEvents        int `json:"consent_events_erased"`
}

// LegalHold keeps a contact from erasure and retention while a claim, an
// audit or a litigation needs the data (Art. 17(3)(e) GDPR).
type LegalHold struct {
	ID         string     `json:"id"`
	ContactID  string     `json:"contact_id"`
	Reason     string     `json:"reason"`
	PlacedBy   string     `json:"placed_by"`
	PlacedAt   time.Time  `json:"placed_at"`
	ReleasedBy string     `json:"released_by,omitempty"`
	ReleasedAt *time.Time `json:"released_at,omitempty"`
}

// Active reports whether the hold still holds.
func (h *LegalHold) Active() bool { return h.ReleasedAt == nil }

// EraseRequest asks to erase a contact.
type EraseRequest struct {
	Reason string `json:"reason"`
}

// ProtectionService erases, holds and archives contacts and runs retention.
type ProtectionService interface {
	// EraseContact destroys the contact's data key, deletes its rows, treats
	// its interactions and cases as the policy says, and writes a tombstone
	// and a journal entry. A legal hold refuses it.
	EraseContact(ctx context.Context, id string, r EraseRequest) (*Erasure, error)
	// ContactErasure returns the tombstone of an erased contact.
	ContactErasure(ctx context.Context, id string) (*Erasure, error)
	PlaceHold(ctx context.Context, contactID, reason string) (*LegalHold, error)
	ReleaseHold(ctx context.Context, id string) (*LegalHold, error)
	Holds(ctx context.Context, contactID string) ([]LegalHold, error)
	// ActiveHolds lists the legal holds not released, of every contact.
	ActiveHolds(ctx context.Context, p Page) (*List[LegalHold], error)
	// FlaggedContacts lists the contacts whose processing is restricted
	// (Art. 18) or who objected (Art. 21), by id.
	FlaggedContacts(ctx context.Context, flag ContactFlag, p Page) (*List[*Contact], error)
	// CloseContact ends the customer relation: the contact and its records
	// are archived (read-only, seen only under the data-protection purpose).
	CloseContact(ctx context.Context, id string) (*Contact, error)
	// RunRetention applies the retention policy; with dryRun it only reports.
	RunRetention(ctx context.Context, dryRun bool) (*RetentionReport, error)
}

// ContactFlag is a mark the data-protection officer lists contacts by.
type ContactFlag string

const (
	FlagRestricted ContactFlag = "restricted" // processing restricted (Art. 18 GDPR)
	FlagObjected   ContactFlag = "objected"   // objected to direct marketing (Art. 21 GDPR)
)

// RetentionReport says what a retention run did, or would do.
type RetentionReport struct {
	ID         string    `json:"id"`
	DryRun     bool      `json:"dry_run"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Checked    int       `json:"contacts_checked"`
	// Erased are contacts whose every datum outlived its purpose's period.
	Erased []RetentionAction `json:"erased"`
	// Stripped are contacts from which some categories were removed.
	Stripped []RetentionAction `json:"stripped"`
	// RecordsExpired are retained records (business letters, accounting
	// records) whose statutory period ended; they are erased.
	RecordsExpired int `json:"records_expired"`
	// RequestsExpired are answered or refused requests of data subjects
	// whose retention after closing ended; they are deleted.
	RequestsExpired int `json:"requests_expired"`
	// RequestsUnverified are web-form requests whose identity was never
	// verified within 30 days of their receipt or last verification link;
	// they are closed as refused (Art. 12(6)).
	RequestsUnverified int `json:"requests_unverified_closed"`
	// Held are contacts a legal hold kept although their period ended.
	Held   []string `json:"held"`
	Errors []string `json:"errors"`
}

// RetentionAction is one contact a retention run changed.
type RetentionAction struct {
	ContactID  string     `json:"contact_id"`
	Rule       string     `json:"rule"` // e.g. "marketing: 730 days after the last interaction"
	Categories []Category `json:"categories,omitempty"`
}

// KEKVersion is a version of the key-encryption key as the database knows
// it: only a check value that proves the key, never the key.
type KEKVersion struct {
	Version   int
	Check     []byte
	CreatedAt time.Time
}

// RetentionRow is what retention needs to know of a contact, without its
// sealed fields.
type RetentionRow struct {
	ID                string
	Provenance        Provenance
	CreatedAt         time.Time
	LastInteractionAt *time.Time
	ArchivedAt        *time.Time
	Held              bool
}

// ErasureMode says what erasing a person does to a kind of their records.
type ErasureMode string

// Erasure modes.
const (
	EraseRecords     ErasureMode = "erase"     // delete them
	AnonymiseRecords ErasureMode = "anonymise" // keep their plain fields, drop the content and the link to the person
)
