package tresor

import (
	"context"
	"errors"
	"io"
	"time"
)

// Store is a storage backend (SQLite or PostgreSQL). It is called only by the
// gate. It keeps personal fields as opaque bytes the gate has prepared (the
// Sealed fields of the row types) and never sees them in the clear.
//
// Errors: ECNotFound for a missing object, ECConflict for a uniqueness
// violation, ECInvalidReference for a reference to a missing object.
type Store interface {
	// Read returns the queries against the read pool, outside a transaction.
	Read() Reader
	// Fault names an error of the storage itself rather than an answer of
	// it: ECStorageUnavailable (no connection, a connection cut, the server
	// shutting down), ECStorageFull (no space left); "" otherwise.
	Fault(err error) Code
	// Update runs fn in one write transaction; it commits if fn returns nil.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Migrate applies the migrations the database lacks and returns the schema
	// version before and after. It refuses a schema newer than it knows.
	Migrate(ctx context.Context) (from, to int, err error)
	// SchemaVersion returns the version of the database and the newest version
	// this build knows.
	SchemaVersion(ctx context.Context) (current, known int, err error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Stats describes the connection pools, for metrics.
	Stats() []PoolStats
	// Backend names the backend: "sqlite" or "postgres".
	Backend() string
	// ListenChanges calls woke whenever another process notes a change, until
	// ctx ends (PostgreSQL: LISTEN). It returns at once where the engine
	// cannot notify (SQLite); readers of the feed then poll it.
	ListenChanges(ctx context.Context, woke func()) error
	// Lead tries, once, to make this process the leader of the servers on
	// the database: the one that runs the periodic jobs meant to run once
	// for all of them. It returns the lease, or nil and no error while
	// another process leads. PostgreSQL: a session-level advisory lock (one
	// per schema) held on a connection of its own, released when that
	// connection ends, so a server that dies gives the lead up with its
	// connection. SQLite: one process serves the database (it holds the
	// data directory's lock), so Lead always succeeds.
	Lead(ctx context.Context) (Lease, error)
	// Snapshot writes a consistent online copy of the whole database
	// without the rows of data_keys to w — a database file (SQLite, VACUUM
	// INTO, the keys deleted from the copy and the copy vacuumed) or a
	// pg_dump archive (PostgreSQL, the table's data excluded) — and returns
	// the wrapped data keys: those of the copy itself (SQLite), or those
	// read right after the dump (PostgreSQL).
	Snapshot(ctx context.Context, w io.Writer) ([]WrappedKey, error)
	// Check verifies the database's own integrity (SQLite: integrity_check).
	Check(ctx context.Context) error
	// Compact makes deleted bytes unrecoverable from the database's files
	// where the engine allows: SQLite checkpoints and truncates its
	// write-ahead log (deleted cells are zeroed by secure_delete), and with
	// rewrite also rebuilds the file (VACUUM). PostgreSQL leaves it to
	// (auto)vacuum.
	Compact(ctx context.Context, rewrite bool) error
	Close() error
}

// Lease is the lead of the servers on one database (Store.Lead).
type Lease interface {
	// Held checks that the lead is still held, by asking the database on
	// the lease's own connection. An error means the lead is lost (or cannot
	// be confirmed, and is then given up): the holder stops the jobs of the
	// leader.
	Held(ctx context.Context) error
	// Release gives the lead up; another process may take it at once.
	Release() error
}

// PoolStats describes one connection pool.
type PoolStats struct {
	Pool         string // "writer", "reader" or "pool"
	MaxOpen      int
	Open         int
	InUse        int
	Idle         int
	WaitCount    int64
	WaitDuration time.Duration
}

// Reader holds the queries, one interface per concern; a consumer that
// needs one concern names that interface.
type Reader interface {
	ContactReader
	RecordReader
	IdentityReader
	ConsentReader
	ProtectionReader
	AuditReader
	SocialReader
	MaintenanceReader
	MergeReader
	TaskReader
	MailReader
	RequestReader
	SubjectExportReader
	ObjectionReader
	TagReader
	BreachReader
	ListeningReader
	OutboxReader
}

// ContactReader reads contacts and the blind index of their identifiers.
type ContactReader interface {
	Contact(ctx context.Context, id string) (*ContactRow, error)
	Contacts(ctx context.Context, f ContactQuery) ([]*ContactRow, error)
	// ContactsByID reads the contacts with the ids (at most a page) in one
	// query, leaving out those not found, in no particular order.
	ContactsByID(ctx context.Context, ids []string) ([]*ContactRow, error)
	// ConsentContacts lists the ids of the contacts with a recorded consent
	// state for the purpose and channel (any state if state is "").
	ConsentContacts(ctx context.Context, purpose string, channel ConsentChannel, state ConsentState) ([]string, error)
	// LookupKinds lists the kinds of identifiers a contact has ("email", "phone", "handle:mastodon", …).
	LookupKinds(ctx context.Context, contactID string) ([]string, error)
	// LookupContacts returns, for those of the blind-index keys that are in
	// the lookup index, the contact each belongs to.
	LookupContacts(ctx context.Context, keys []LookupKey) (map[LookupKey]string, error)
	// LookupContactIDs lists every contact indexed under the blind-index
	// key, in id order (duplicates included, unlike LookupContacts).
	LookupContactIDs(ctx context.Context, key LookupKey) ([]string, error)
}

// RecordReader reads the CRM records around contacts: organisations,
// interactions, deals in their pipelines, cases and campaigns, and the
// counts of all of them.
type RecordReader interface {
	Organization(ctx context.Context, id string) (*Organization, error)
	Organizations(ctx context.Context, f OrganizationFilter) ([]*Organization, error)
	Interaction(ctx context.Context, id string) (*InteractionRow, error)
	Interactions(ctx context.Context, f InteractionFilter) ([]*InteractionRow, error)
	Deal(ctx context.Context, id string) (*Deal, error)
	Deals(ctx context.Context, f DealFilter) ([]*Deal, error)
	Pipeline(ctx context.Context, id string) (*Pipeline, error)
	Pipelines(ctx context.Context, p Page) ([]*Pipeline, error)
	Case(ctx context.Context, id string) (*CaseRow, error)
	Cases(ctx context.Context, f CaseFilter) ([]*CaseRow, error)
	Campaign(ctx context.Context, id string) (*Campaign, error)
	Campaigns(ctx context.Context, f CampaignFilter) ([]*Campaign, error)
	Stats(ctx context.Context) (*Stats, error)
}

// IdentityReader reads who may sign in: users, API tokens, sessions,
// failed sign-ins and password-reset links.
type IdentityReader interface {
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UserByExternal(ctx context.Context, issuer, subject string) (*User, error)
	Users(ctx context.Context, p Page) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	Token(ctx context.Context, id string) (*Token, error)
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	TokensOf(ctx context.Context, userID string) ([]*Token, error)
	SessionByHash(ctx context.Context, hash []byte) (*Session, error)
	// LoginFailures returns the failed sign-ins counted under key and the time of the last.
	LoginFailures(ctx context.Context, key string) (int, time.Time, error)
	PasswordReset(ctx context.Context, hash []byte) (*PasswordReset, error)
	RoleGrant(ctx context.Context, id string) (*RoleGrant, error)
	// RoleGrants lists grants in a state ("" for every state) of a user ("" for everyone), newest first.
	RoleGrants(ctx context.Context, state GrantState, userID string) ([]*RoleGrant, error)
	// AuthEpoch is a number that every revoked token, disabled user and
	// change of roles moves on; a cached credential is good only while it stands.
	AuthEpoch(ctx context.Context) (int64, error)
}

// ConsentReader reads what decides whether a person may be contacted: the
// consent ledger and its confirmation links, the suppression list, inbound
// conversations, and the audience of a campaign these decide.
type ConsentReader interface {
	ConsentEvents(ctx context.Context, contactID string) ([]ConsentEvent, error)
	ConsentStates(ctx context.Context, contactID string) ([]ConsentStatus, error)
	ConsentLink(ctx context.Context, hash []byte) (*ConsentLinkRow, error)
	// Suppressed reports whether one of the keys is on the suppression list for scope.
	Suppressed(ctx context.Context, keys []LookupKey, scope string) (bool, error)
	// SuppressedKeys returns those of the keys on the suppression list for
	// scope: Suppressed for a whole batch at once.
	SuppressedKeys(ctx context.Context, keys []LookupKey, scope string) (map[LookupKey]bool, error)
	// ContactSuppressed reports whether an identifier of the contact is on the suppression list.
	ContactSuppressed(ctx context.Context, contactID, scope string) (bool, error)
	// Suppressions returns the whole suppression list.
	Suppressions(ctx context.Context) ([]Suppression, error)
	// InboundSince reports whether the contact started a conversation by an
	// interaction of the kind (and network) since the time.
	InboundSince(ctx context.Context, contactID string, kind InteractionKind, network string, since time.Time) (bool, error)
	// Audience computes, for every contact of the query, the reason it is
	// excluded ("" for eligible).
	Audience(ctx context.Context, q AudienceQuery) ([]AudienceRow, error)
}

// ProtectionReader reads what protects personal data at rest and over
// time: wrapped data keys and the versions of the key-encryption key,
// erasures, legal holds and retention.
type ProtectionReader interface {
	// DataKey returns the wrapped data key of a subject (ECNotFound if none).
	DataKey(ctx context.Context, subject string) (*WrappedKey, error)
	// KEKVersions lists the versions of the key-encryption key the database
	// was sealed under, with their check values.
	KEKVersions(ctx context.Context) ([]KEKVersion, error)
	// DataKeyCounts counts the data keys per KEK version.
	DataKeyCounts(ctx context.Context) (map[int]int, error)
	// DataKeysNotUnder lists up to limit data keys wrapped under another KEK
	// version than kek, by subject after after.
	DataKeysNotUnder(ctx context.Context, kek int, after string, limit int) ([]WrappedKey, error)
	// Erasure returns the tombstone of an erased contact (ECNotFound if none).
	Erasure(ctx context.Context, contactID string) (*Erasure, error)
	// Erasures returns the erasure journal in the order it was written.
	Erasures(ctx context.Context) ([]Erasure, error)
	Hold(ctx context.Context, id string) (*LegalHold, error)
	// Holds lists a contact's legal holds, released ones included.
	Holds(ctx context.Context, contactID string) ([]LegalHold, error)
	// ActiveHolds lists the legal holds not released, of every contact, by id.
	ActiveHolds(ctx context.Context, p Page) ([]LegalHold, error)
	// RetentionScan lists up to limit contacts by id after after.
	RetentionScan(ctx context.Context, after string, limit int) ([]RetentionRow, error)
	// ExpiredRecords lists up to limit interactions, by id after after, that
	// belong to no contact any more and whose statutory period ended before t.
	ExpiredRecords(ctx context.Context, t time.Time, after string, limit int) ([]string, error)
	// LastRetentionRun returns the newest retention run that changed data
	// (not a dry run); ECNotFound if none.
	LastRetentionRun(ctx context.Context) (*RetentionReport, error)
}

// AuditReader reads the audit trail: its entries, the chain's head, the
// checkpoints, prunings and the object index.
type AuditReader interface {
	// AuditEntries lists audit entries, newest first (Page.After is a seq).
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// AuditScan lists up to limit entries after seq, oldest first.
	AuditScan(ctx context.Context, after int64, limit int) ([]*AuditEntry, error)
	// AuditMax returns the highest seq in the trail (0 for none).
	AuditMax(ctx context.Context) (int64, error)
	// AuditRange lists the entries with after < seq <= upto, oldest first.
	AuditRange(ctx context.Context, after, upto int64) ([]*AuditEntry, error)
	// AuditHead returns the seq and chain link of the newest entry.
	AuditHead(ctx context.Context) (int64, []byte, error)
	// AuditCheckpoints lists the checkpoints, oldest first.
	AuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
	// AuditPrune returns the newest pruning (nil if none).
	AuditPrune(ctx context.Context) (*AuditPrune, error)
	// AuditPrunedLeaves returns the leaf hashes of all pruned entries, in order.
	AuditPrunedLeaves(ctx context.Context) ([][]byte, error)
	// AuditObjectRefs counts the rows of the object index.
	AuditObjectRefs(ctx context.Context) (int64, error)
	// AuditTouched lists the objects of a type an actor's entries named in a
	// time window, with the first and last time and the number of entries.
	AuditTouched(ctx context.Context, actor, objectType string, since, until time.Time) ([]AuditTouch, error)
}

// SocialReader reads the social-network channels and their posts, and the
// information duties (Art. 14) owed for data that came from imports and
// networks.
type SocialReader interface {
	Channel(ctx context.Context, id string) (*SocialChannelRow, error)
	Channels(ctx context.Context) ([]*SocialChannelRow, error)
	Posts(ctx context.Context, q PostQuery) ([]*Post, error)
	// Notices lists information duties.
	Notices(ctx context.Context, q NoticeQuery) ([]*Notice, error)
	// Imports lists import records, newest first.
	Imports(ctx context.Context, q ImportQuery) ([]*ImportRecord, error)
	// ImportRecord returns one import record (ECNotFound if none).
	ImportRecord(ctx context.Context, id string) (*ImportRecord, error)
}

// MaintenanceReader reads the maintenance tasks migrations leave for the
// gate (rebuilding the blind index, sealing old rows).
type MaintenanceReader interface {
	// MaintenancePending reports whether a maintenance task awaits.
	MaintenancePending(ctx context.Context, task string) (bool, error)
	// Changes returns up to limit entries of the change feed after seq, in
	// order; LastChange returns the newest seq (0 for none).
	Changes(ctx context.Context, after int64, limit int) ([]*Change, error)
	LastChange(ctx context.Context) (int64, error)
}

// Change is an entry of the change feed: the ids of the contacts and the
// organizations one transaction of one process wrote, so that the other
// processes on the database bring their in-memory search index up to date.
// It holds ids only, never personal data.
type Change struct {
	Seq           int64
	Origin        string // the process that wrote, a random id
	At            time.Time
	Contacts      []string
	Organizations []string
}

// AuditTouch is an object an actor touched.
type AuditTouch struct {
	ObjectID    string
	First, Last time.Time
	Entries     int
}

// Suppression is an entry of the suppression list: a keyed hash.
type Suppression struct {
	Key       LookupKey
	Scope     string
	CreatedAt time.Time
}

// ConsentLinkRow is a stored confirmation link (only its hash).
type ConsentLinkRow struct {
	Hash      []byte
	Kind      string
	ContactID string
	Purpose   string
	Channel   ConsentChannel
	TextHash  string
	CreatedAt time.Time
	ExpiresAt *time.Time
	UsedAt    *time.Time
}

// AudienceQuery selects the contacts of a campaign and what decides about them.
type AudienceQuery struct {
	ConsentPurpose   string
	Channel          ConsentChannel
	AddressKind      string    // the lookup kind an address for the channel has; "" if none can be checked
	ExpiredBefore    time.Time // a granted consent with neither change nor interaction since is expired
	SuppressionScope string
	Segment
}

// AudienceRow is one contact of an audience and why it is excluded ("" for eligible).
type AudienceRow struct {
	ContactID string
	Reason    string
}

// PasswordReset is a one-time link to set a new password.
type PasswordReset struct {
	Hash      []byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	// Ref names the link in the audit trail without revealing its secret.
	Ref string
	// IssuedBy is the actor who asked for the link ("user:ID", "system").
	IssuedBy string
}

// Tx is a write transaction: every query, and the writes of every concern.
// Lists in a Tx see the transaction's own writes.
type Tx interface {
	Reader
	ContactWriter
	RecordWriter
	IdentityWriter
	ConsentWriter
	ProtectionWriter
	AuditWriter
	SocialWriter
	MaintenanceWriter
	MergeWriter
	TaskWriter
	MailWriter
	RequestWriter
	SubjectExportWriter
	ObjectionWriter
	TagWriter
	BreachWriter
	ListeningWriter
	OutboxWriter
}

// ContactWriter writes contacts and the blind index of their identifiers.
type ContactWriter interface {
	// InsertContacts inserts the contacts and their lookup keys; bulk-capable
	// (COPY on PostgreSQL).
	InsertContacts(ctx context.Context, rows []*ContactRow) error
	// UpdateContact replaces the contact and its lookup keys if its stored
	// version is prev, and stores row.Version (prev+1).
	UpdateContact(ctx context.Context, row *ContactRow, prev int64) error
	DeleteContact(ctx context.Context, id string) error
	// SetLookup replaces the lookup keys of a contact.
	SetLookup(ctx context.Context, contactID string, keys []LookupKey) error
	// TouchContact records an interaction with the contact at the time.
	TouchContact(ctx context.Context, contactID string, at time.Time) error
}

// RecordWriter writes the CRM records around contacts: organisations,
// interactions, deals in their pipelines, cases and campaigns.
type RecordWriter interface {
	InsertOrganization(ctx context.Context, o *Organization) error
	UpdateOrganization(ctx context.Context, o *Organization, prev int64) error
	DeleteOrganization(ctx context.Context, id string) error

	InsertInteraction(ctx context.Context, row *InteractionRow) error
	UpdateInteraction(ctx context.Context, row *InteractionRow, prev int64) error
	DeleteInteraction(ctx context.Context, id string) error

	InsertDeal(ctx context.Context, d *Deal) error
	UpdateDeal(ctx context.Context, d *Deal, prev int64) error
	DeleteDeal(ctx context.Context, id string) error
	// CountDeals counts the deals in a pipeline, or in one of its stages if stage is not "".
	CountDeals(ctx context.Context, pipelineID, stage string) (int, error)

	InsertPipeline(ctx context.Context, pl *Pipeline) error
	UpdatePipeline(ctx context.Context, pl *Pipeline, prev int64) error
	DeletePipeline(ctx context.Context, id string) error

	InsertCase(ctx context.Context, row *CaseRow) error
	UpdateCase(ctx context.Context, row *CaseRow, prev int64) error
	DeleteCase(ctx context.Context, id string) error

	InsertCampaign(ctx context.Context, c *Campaign) error
	UpdateCampaign(ctx context.Context, c *Campaign, prev int64) error
	DeleteCampaign(ctx context.Context, id string) error
}

// IdentityWriter writes who may sign in: users, API tokens, sessions,
// recovery codes, failed sign-ins and password-reset links.
type IdentityWriter interface {
	InsertUser(ctx context.Context, u *User) error
	// UpdateUser writes every field of the user but its id and creation
	// time, if the stored version is still prev (ECVersionMismatch if not);
	// u.Version is the version written (prev, or prev+1 for a change of an
	// administrator).
	UpdateUser(ctx context.Context, u *User, prev int64) error
	InsertToken(ctx context.Context, t *Token) error
	RevokeToken(ctx context.Context, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	InsertSession(ctx context.Context, s *Session) error
	TouchSession(ctx context.Context, id string, at time.Time) error
	// SetSessionPurpose records the purpose a session works for.
	SetSessionPurpose(ctx context.Context, id, purpose string) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessions ends every session of a user but the one with id except
	// ("" for none) and returns how many it ended.
	DeleteSessions(ctx context.Context, userID, except string) (int, error)

	// ReplaceRecoveryCodes replaces a user's recovery codes by the given hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// UseRecoveryCode marks an unused code as used and reports whether there was one.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (bool, error)

	// AddLoginFailure counts one failed sign-in under key; a count whose last
	// failure is older than since starts again at one.
	AddLoginFailure(ctx context.Context, key string, at, since time.Time) error
	ClearLoginFailures(ctx context.Context, key string) error

	InsertPasswordReset(ctx context.Context, r *PasswordReset) error
	// UsePasswordReset marks an unused, unexpired link as used and reports whether there was one.
	UsePasswordReset(ctx context.Context, hash []byte, at time.Time) (bool, error)
	InsertRoleGrant(ctx context.Context, g *RoleGrant) error
	// DecideRoleGrant moves a pending grant to state and reports whether it was pending.
	DecideRoleGrant(ctx context.Context, id string, state GrantState, by string, at time.Time) (bool, error)
	// BumpAuthEpoch moves the epoch on, in the transaction that withdraws access.
	BumpAuthEpoch(ctx context.Context) error
}

// ConsentWriter writes the consent ledger, its confirmation links and the
// suppression list.
type ConsentWriter interface {
	// Suppress puts keys on the suppression list for scope.
	Suppress(ctx context.Context, keys []LookupKey, scope string, at time.Time) error
	// Unsuppress takes keys off the suppression list for scope and reports
	// how many entries went. Only the recorded withdrawal of an objection
	// to direct marketing by the person does (gate/decisions_marketing.go).
	Unsuppress(ctx context.Context, keys []LookupKey, scope string) (int, error)
	// InsertConsentEvent appends to the ledger and sets the derived state.
	InsertConsentEvent(ctx context.Context, e *ConsentEvent, state ConsentState) error
	InsertConsentLink(ctx context.Context, l *ConsentLinkRow) error
	// UseConsentLink marks an unused, unexpired link used and reports whether there was one.
	UseConsentLink(ctx context.Context, hash []byte, at time.Time) (bool, error)
	// DeleteConsents removes a contact's consent ledger, states and links for
	// one purpose (its processing for that purpose ended) and returns how many
	// ledger events went.
	DeleteConsents(ctx context.Context, contactID, purpose string) (int, error)
}

// ProtectionWriter writes what protects personal data at rest and over
// time: data keys and their rotation, erasure, legal holds, archiving and
// retention.
type ProtectionWriter interface {
	InsertDataKey(ctx context.Context, k WrappedKey, at time.Time) error
	// RewrapDataKeys replaces the wrapping of each key that is still under
	// the KEK version in prev (same index) and returns how many were.
	RewrapDataKeys(ctx context.Context, keys []WrappedKey, prev []int) (int, error)
	DeleteDataKey(ctx context.Context, subject string) error
	// InsertKEKVersion records a KEK version's check value unless it is known.
	InsertKEKVersion(ctx context.Context, v KEKVersion) error
	// EraseContact removes a contact and everything that names it: its
	// interactions and cases (deleted or anonymised by mode), its consent
	// ledger, lookup keys, released holds and data key; deals keep their
	// plain fields without the link. Records already detached from the
	// contact are untouched.
	EraseContact(ctx context.Context, id string, interactions, cases ErasureMode) (ErasedRecords, error)
	InsertErasure(ctx context.Context, e *Erasure) error
	InsertHold(ctx context.Context, h *LegalHold) error
	// ReleaseHold marks an active hold released and reports whether it was active.
	ReleaseHold(ctx context.Context, id, by string, at time.Time) (bool, error)
	// ArchiveContact archives a contact with its interactions, cases and deals.
	ArchiveContact(ctx context.Context, id string, at time.Time) error
	InsertRetentionRun(ctx context.Context, r *RetentionReport) error
	// SetConsentEventIP replaces the stored address of a consent event.
	SetConsentEventIP(ctx context.Context, id, ip string) error
}

// AuditWriter appends to the audit trail and maintains its index,
// checkpoints and prunings.
type AuditWriter interface {
	// LockAuditHead returns the seq and chain link of the newest audit entry
	// and holds them until the transaction ends (the chain has one writer).
	LockAuditHead(ctx context.Context) (int64, []byte, error)
	// InsertAudit appends chained entries (their Seq and Hash set) and moves
	// the head to the last.
	InsertAudit(ctx context.Context, entries []*AuditEntry) error
	// IndexAudit writes the object index rows of up to limit entries past the
	// index's high-water mark, and returns how many entries it indexed.
	IndexAudit(ctx context.Context, limit int) (int, error)
	InsertAuditCheckpoint(ctx context.Context, c *AuditCheckpoint) error
	// PruneAudit records a pruning, keeps the pruned entries' leaf hashes and
	// deletes the entries up to it.
	PruneAudit(ctx context.Context, p *AuditPrune) error
}

// SocialWriter writes the social-network channels and their posts, and the
// information duties (Art. 14).
type SocialWriter interface {
	InsertChannel(ctx context.Context, c *SocialChannelRow) error
	// SetChannelState stores a channel's inbox cursor and last error.
	SetChannelState(ctx context.Context, id, cursor, lastError string, at time.Time) error
	DeleteChannel(ctx context.Context, id string) error
	InsertPost(ctx context.Context, p *Post) error
	// PostDone stores where publishing a post stands: its key and attempts
	// before an attempt, the outcome after.
	PostDone(ctx context.Context, p *Post) error
	InsertNotices(ctx context.Context, ns []*Notice) error
	// NoticeSent marks an open notice sent and reports whether it was open.
	NoticeSent(ctx context.Context, id, channel string, at time.Time) (bool, error)
	InsertImport(ctx context.Context, r *ImportRecord) error
	// UpdateImport stores an import's state, error, counts and times (its
	// other fields never change); ECNotFound if there is no such record.
	UpdateImport(ctx context.Context, r *ImportRecord) error
}

// MaintenanceWriter settles the maintenance tasks migrations leave.
type MaintenanceWriter interface {
	// MaintenanceDone removes a maintenance task.
	MaintenanceDone(ctx context.Context, task string) error
	// NoteChange adds an entry to the change feed (Seq is set by the store);
	// on PostgreSQL it also notifies the listeners at commit.
	NoteChange(ctx context.Context, c *Change) error
	// PruneChanges deletes the entries of the change feed older than before.
	PruneChanges(ctx context.Context, before time.Time) (int, error)
}

// ContactRow is a contact as the store keeps it.
type ContactRow struct {
	Contact             // with ContactDetails empty
	Sealed  []byte      // the personal fields, prepared by the gate
	Lookup  []LookupKey // written with the row, not read back
	// Claim, set by an import for the people it creates, claims the row's
	// identifying lookup keys (LookupKey.Identifies): a key is claimed by
	// one contact at most, and InsertContacts fails with ErrClaimed (in an
	// ECConflict) when another transaction claimed one first. Contacts
	// created otherwise may share identifiers; rewriting a contact's keys
	// (SetLookup, UpdateContact) leaves them unclaimed.
	Claim bool
	Sealing
}

// ErrClaimed is the cause of the conflict InsertContacts reports when an
// identifier a row claims is claimed already: another import stored the
// person in a transaction that overlapped this one.
var ErrClaimed = errors.New("an identifier is claimed by a contact another import stored")

// Sealing says which data key seals a row. Reads return the key with the row;
// a write stores Key with the row when KeyIsNew.
type Sealing struct {
	Key      *WrappedKey
	KeyIsNew bool
}

// ContactQuery selects contact rows; Lookup, if set, is an exact identifier match.
type ContactQuery struct {
	ContactFilter
	Lookup *LookupKey
	// HideRestricted leaves out contacts whose processing is restricted.
	HideRestricted bool
	// HideArchived leaves out archived contacts (closed customer relations).
	HideArchived bool
	// HideObjectedScope, if set, leaves out contacts who objected, or one of
	// whose identifiers is suppressed for that scope.
	HideObjectedScope string
	// Flag, if set, keeps only the contacts whose processing is restricted
	// (FlagRestricted) or who objected (FlagObjected).
	Flag ContactFlag
}

// InteractionRow is an interaction as the store keeps it.
type InteractionRow struct {
	Interaction        // with InteractionContent empty
	Sealed      []byte // the content, prepared by the gate; empty once anonymised
	Sealing
}

// StoredKey returns the data key the stored row was sealed with; nil for none
// or for a nil row.
func (r *InteractionRow) StoredKey() *WrappedKey {
	if r == nil {
		return nil
	}
	return r.Key
}

// StoredKey returns the data key the stored row was sealed with; nil for none
// or for a nil row.
func (r *CaseRow) StoredKey() *WrappedKey {
	if r == nil {
		return nil
	}
	return r.Key
}

// CaseRow is a case as the store keeps it.
type CaseRow struct {
	Case          // with CaseContent empty
	Sealed []byte // the content, prepared by the gate; empty once anonymised
	Sealing
}

// WrappedKey is a data key as the store keeps it: encrypted under a version
// of the key-encryption key, which the store never sees. Subject is whose
// key it is: a contact's id, or a record's own id when it belongs to no
// contact.
type WrappedKey struct {
	Subject    string
	Version    int // the data key's own version, bound into everything it seals
	KEKVersion int
	Wrapped    []byte
}

// TagReader reads the tags of contacts and organizations and the saved
// segments. Contact and organization rows carry their tags already.
type TagReader interface {
	// TagCounts counts the contacts and organizations of every tag in use;
	// hideRestricted leaves out restricted and archived contacts.
	TagCounts(ctx context.Context, hideRestricted bool) ([]TagCount, error)
	// ContactIDs lists the ids of every contact of the query (no page).
	ContactIDs(ctx context.Context, q ContactQuery) ([]string, error)
	Segment(ctx context.Context, id string) (*SavedSegment, error)
	Segments(ctx context.Context, p Page) ([]*SavedSegment, error)
	// SegmentCampaigns lists the ids of the campaigns not yet sent whose
	// audience is the segment.
	SegmentCampaigns(ctx context.Context, segmentID string) ([]string, error)
}

// TagWriter writes tags and segments. Tags go with their contact or
// organization when it is deleted or erased.
type TagWriter interface {
	// AddContactTag puts a tag on a contact and reports whether it was new.
	AddContactTag(ctx context.Context, contactID string, t Tag, at time.Time) (bool, error)
	// RemoveContactTag removes a tag (by key) and reports whether it was there.
	RemoveContactTag(ctx context.Context, contactID, key string) (bool, error)
	AddOrganizationTag(ctx context.Context, organizationID string, t Tag, at time.Time) (bool, error)
	RemoveOrganizationTag(ctx context.Context, organizationID, key string) (bool, error)
	InsertSegment(ctx context.Context, s *SavedSegment) error
	UpdateSegment(ctx context.Context, s *SavedSegment, prev int64) error
	DeleteSegment(ctx context.Context, id string) error
}
