package tresor

import (
	"context"
	"io"
	"time"
)

// AuditEntry is one entry of the audit trail: who did what, when, for which
// purpose, to which objects, and whether the policy allowed it. It holds ids
// and codes, never personal data, so an erasure never has to rewrite it.
type AuditEntry struct {
	Seq        int64      `json:"seq"`
	At         time.Time  `json:"at"`
	Actor      string     `json:"actor"` // "user:ID", "token:ID", "system", "link", "anonymous"
	Roles      string     `json:"roles,omitempty"`
	Purpose    string     `json:"purpose,omitempty"`
	Action     string     `json:"action"` // "contact.read", "login.failed", "retention.run", …
	ObjectType string     `json:"object_type,omitempty"`
	ObjectIDs  []string   `json:"object_ids,omitempty"`
	Categories []Category `json:"categories,omitempty"`
	Decision   Decision   `json:"decision"`
	Reason     string     `json:"reason,omitempty"` // the code of a refusal
	RequestID  string     `json:"request_id,omitempty"`
	Client     string     `json:"client,omitempty"` // the client address, truncated as configured
	Detail     string     `json:"detail,omitempty"`
	// Hash is the entry's link in the hash chain (set by the audit trail).
	Hash []byte `json:"hash,omitempty"`
}

// Decision is what the policy decided about an action.
type Decision string

// Decisions.
const (
	Allowed Decision = "allow"
	Refused Decision = "refuse"
)

// AuditFilter selects audit entries.
type AuditFilter struct {
	ContactID string // entries that name this object id
	Actor     string // "user:ID", "token:ID", "system"
	Action    string // exact, or a prefix ending in "." ("contact.")
	Purpose   string
	Decision  Decision // "" for any
	Since     time.Time
	Until     time.Time
	Page
}

// AuditCheckpoint is a signed statement of the audit trail's size, Merkle
// root and chain hash at a time.
type AuditCheckpoint struct {
	Size      int64     `json:"size"`
	At        time.Time `json:"at"`
	Root      []byte    `json:"root"`
	Chain     []byte    `json:"chain"`
	Range     []byte    `json:"range,omitempty"` // the compact range at Size, to extend from
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
}

// AuditPrune records that entries up to Upto were removed after their
// retention; verification starts from its chain hash and compact range.
type AuditPrune struct {
	Upto  int64
	At    time.Time
	Chain []byte
	Range []byte
	// Leaves are the leaf hashes of the pruned entries (written, not read back).
	Leaves [][]byte
}

// AuditService answers the data-protection officer's and auditor's questions.
type AuditService interface {
	// AuditLog lists entries, newest first.
	AuditLog(ctx context.Context, f AuditFilter) (*List[*AuditEntry], error)
	// AuditExport writes, as CSV, every contact an actor touched in a time
	// window (for a breach notification, Art. 33/34 GDPR).
	AuditExport(ctx context.Context, f AuditFilter, w io.Writer) error
	// MyRefusals lists the refusals the signed-in actor met lately, newest
	// first: their own entries only, so that the workspace can say again
	// which rule stopped them.
	MyRefusals(ctx context.Context, limit int) ([]*AuditEntry, error)
}
