package tresor

import (
	"context"
	"time"
)

// Merge is the tombstone a merge leaves of the contact it absorbed: the old
// id answers with the survivor's (a redirect), never with data. It holds
// ids, a time and an actor: no personal data.
type Merge struct {
	From     string    `json:"from"`
	Into     string    `json:"into"`
	MergedAt time.Time `json:"merged_at"`
	Actor    string    `json:"actor"`
}

// DuplicateReason says why two contacts look like one person.
type DuplicateReason string

// The reasons two contacts are duplicate candidates. An identifier reason
// is the lookup kind both share ("email", "phone", "handle:mastodon").
const (
	DuplicateName DuplicateReason = "name_organization" // the same folded name at the same organization
)

// Duplicate is a pair of contacts that may be one person, with the reasons;
// Contacts shows both as the purpose may see them.
type Duplicate struct {
	Reasons  []DuplicateReason `json:"reasons"`
	Contacts [2]*Contact       `json:"contacts"`
}

// DuplicateKey is a pair of contacts that share a blind-index key of a kind.
type DuplicateKey struct {
	Kind LookupKind
	A, B string // A < B
}

// MergeRequest is the body of POST /api/v1/contacts/{id}/merge: the contact
// From is absorbed into the one the path names.
type MergeRequest struct {
	From string `json:"from"`
}

// MergeResult says what a merge did.
type MergeResult struct {
	Contact *Contact `json:"contact"` // the survivor, as the purpose may see it
	Merge
	// Fields names the fields the survivor took from the absorbed contact,
	// each keeping its own provenance.
	Fields       []string `json:"fields_taken"`
	Interactions int      `json:"interactions_moved"`
	Cases        int      `json:"cases_moved"`
	Deals        int      `json:"deals_moved"`
	Tasks        int      `json:"tasks_moved"`
	Notices      int      `json:"notices_moved"`
	ConsentEvent int      `json:"consent_events_moved"`
}

// MergeService finds duplicate contacts and merges them.
type MergeService interface {
	// Duplicates lists candidate pairs: contacts sharing an e-mail address,
	// phone number or social handle (by blind index), or the same folded
	// name at the same organization.
	Duplicates(ctx context.Context, p Page) (*List[*Duplicate], error)
	// MergeContact absorbs the contact from into the contact id.
	MergeContact(ctx context.Context, id, from string) (*MergeResult, error)
}

// MergeReader reads what merges left.
type MergeReader interface {
	// Merged returns the tombstone of a contact absorbed by a merge
	// (ECNotFound if none).
	Merged(ctx context.Context, contactID string) (*Merge, error)
	// DuplicateKeys lists up to limit pairs of contacts sharing a blind-index
	// key of another kind than postal, by (A, B).
	DuplicateKeys(ctx context.Context, limit int) ([]DuplicateKey, error)
}

// MergeWriter writes what a merge changes besides the records the gate
// re-seals.
type MergeWriter interface {
	InsertMerge(ctx context.Context, m *Merge) error
	// MoveContactLinks moves the rows that name a contact without sealed
	// fields of it (information duties, consent links, consent events, the
	// mails that thread cases) from one contact to another, and returns how
	// many notices and consent events moved.
	MoveContactLinks(ctx context.Context, from, into string) (notices, events int, err error)
	// SetConsentState sets a contact's derived consent state for a purpose
	// and channel.
	SetConsentState(ctx context.Context, contactID string, st ConsentStatus) error
}
