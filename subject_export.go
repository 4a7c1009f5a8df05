package tresor

import (
	"context"
	"time"
)

// The answer to a request of access (Art. 15 GDPR) or portability
// (Art. 20): one export of everything Tresor holds about the person(s) a
// request concerns, as a readable HTML document and as JSON of a versioned
// schema (docs/schemas/subject-export-v1.json). It names the person's own
// data only: no colleague's id or name, no other person's data.

// SubjectExportSchema names the version of the JSON schema of the export.
const SubjectExportSchema = "tresor.subject-export/v1"

// SubjectExportDays is how long a mailed download link works; after it, or
// after the one download, the stored export and its key are deleted.
const SubjectExportDays = 14

// SubjectExportFormat is a rendering of the export.
type SubjectExportFormat string

// The renderings.
const (
	SubjectExportJSON SubjectExportFormat = "json"
	SubjectExportHTML SubjectExportFormat = "html"
)

// SubjectExport is the export of a person's data, as the JSON holds it.
type SubjectExport struct {
	Schema       string                `json:"schema"`
	GeneratedAt  time.Time             `json:"generated_at"`
	Language     string                `json:"language"`
	Request      SubjectRequestInfo    `json:"request"`
	Contacts     []SubjectContact      `json:"contacts"`
	Interactions []SubjectInteraction  `json:"interactions"`
	Cases        []SubjectCase         `json:"cases"`
	Deals        []SubjectDeal         `json:"deals"`
	Tasks        []SubjectTask         `json:"tasks"`
	Consents     []SubjectConsent      `json:"consents"`
	ConsentState []SubjectConsentState `json:"consent_states"`
	Notices      []SubjectNotice       `json:"notices"`
	Recipients   SubjectRecipients     `json:"recipients"`
	Retention    []SubjectRetention    `json:"retention"`
	AccessLog    []SubjectAccess       `json:"access_log"`
}

// SubjectRequestInfo is the request the export answers.
type SubjectRequestInfo struct {
	ID         string      `json:"id"`
	Kind       RequestKind `json:"kind"`
	ReceivedAt Date        `json:"received_at"`
}

// SubjectContact is one stored contact record of the person, decrypted.
type SubjectContact struct {
	ID                string              `json:"id"`
	CreatedAt         time.Time           `json:"created_at"`
	UpdatedAt         time.Time           `json:"updated_at"`
	GivenName         string              `json:"given_name"`
	FamilyName        string              `json:"family_name"`
	Emails            []string            `json:"emails"`
	Phones            []string            `json:"phones"`
	PostalAddress     *PostalAddress      `json:"postal_address,omitempty"`
	SocialHandles     []SocialHandle      `json:"social_handles"`
	Organization      string              `json:"organization"`
	Position          string              `json:"position"`
	PreferredLanguage string              `json:"preferred_language"`
	Tags              []string            `json:"tags"`
	RestrictedAt      *time.Time          `json:"restricted_at,omitempty"`
	ObjectedAt        *time.Time          `json:"objected_at,omitempty"`
	ArchivedAt        *time.Time          `json:"archived_at,omitempty"`
	LastInteractionAt *time.Time          `json:"last_interaction_at,omitempty"`
	Provenance        []SubjectProvenance `json:"provenance"`
}

// SubjectProvenance says where some fields came from and on which ground
// they are processed; who collected them is left out (a colleague).
type SubjectProvenance struct {
	Fields        []string   `json:"fields"`
	Purpose       string     `json:"purpose"`
	LegalBasis    LegalBasis `json:"legal_basis,omitempty"`
	BalancingNote string     `json:"balancing_note,omitempty"`
	Source        Source     `json:"source,omitempty"`
	Network       string     `json:"source_network,omitempty"`
	CollectedAt   time.Time  `json:"collected_at"`
}

// SubjectInteraction is an interaction with the person.
type SubjectInteraction struct {
	ID             string          `json:"id"`
	Kind           InteractionKind `json:"kind"`
	Direction      Direction       `json:"direction"`
	OccurredAt     time.Time       `json:"occurred_at"`
	DurationSec    int             `json:"duration_seconds,omitempty"`
	Network        string          `json:"network,omitempty"`
	Subject        string          `json:"subject"`
	Body           string          `json:"body"`
	CaseID         string          `json:"case_id,omitempty"`
	DealID         string          `json:"deal_id,omitempty"`
	RetentionClass string          `json:"retention_class,omitempty"`
	RetainUntil    *time.Time      `json:"retain_until,omitempty"`
	// Purpose and LegalBasis are those it was last recorded under.
	Purpose    string     `json:"purpose,omitempty"`
	LegalBasis LegalBasis `json:"legal_basis,omitempty"`
}

// SubjectCase is a service case of the person.
type SubjectCase struct {
	ID          string     `json:"id"`
	CreatedAt   time.Time  `json:"created_at"`
	Status      CaseStatus `json:"status"`
	Priority    Priority   `json:"priority"`
	Channel     Channel    `json:"channel"`
	Network     string     `json:"network,omitempty"`
	Subject     string     `json:"subject"`
	Description string     `json:"description"`
	Sender      string     `json:"sender,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	// Purpose and LegalBasis are those it was last recorded under.
	Purpose    string     `json:"purpose,omitempty"`
	LegalBasis LegalBasis `json:"legal_basis,omitempty"`
}

// SubjectDeal is a deal with the person.
type SubjectDeal struct {
	ID            string     `json:"id"`
	CreatedAt     time.Time  `json:"created_at"`
	Title         string     `json:"title"`
	Pipeline      string     `json:"pipeline"`
	Stage         string     `json:"stage"`
	Value         string     `json:"value,omitempty"`
	Currency      string     `json:"currency,omitempty"`
	ExpectedClose Date       `json:"expected_close,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	OutcomeReason string     `json:"outcome_reason,omitempty"`
}

// SubjectTask is a task about the person (or one of their deals or cases).
type SubjectTask struct {
	ID     string     `json:"id"`
	Title  string     `json:"title"`
	Note   string     `json:"note,omitempty"`
	Due    Date       `json:"due"`
	State  TaskState  `json:"state"`
	DoneAt *time.Time `json:"done_at,omitempty"`
	CaseID string     `json:"case_id,omitempty"`
	DealID string     `json:"deal_id,omitempty"`
}

// SubjectConsent is one event of the consent ledger.
type SubjectConsent struct {
	At      time.Time      `json:"at"`
	Purpose string         `json:"purpose"`
	Channel ConsentChannel `json:"channel"`
	Action  ConsentAction  `json:"action"`
	Method  ConsentMethod  `json:"method"`
	IP      string         `json:"ip,omitempty"`
	// RecordedBy is "staff", "system" or "link" (the person, by a link).
	RecordedBy string `json:"recorded_by"`
}

// SubjectConsentState is the current consent for a purpose and channel.
type SubjectConsentState struct {
	Purpose string         `json:"purpose"`
	Channel ConsentChannel `json:"channel"`
	State   ConsentState   `json:"state"`
	Since   time.Time      `json:"since"`
}

// SubjectNotice is an information duty (Art. 14) owed to the person.
type SubjectNotice struct {
	Source    string     `json:"source"`
	Network   string     `json:"network,omitempty"`
	Purpose   string     `json:"purpose"`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     time.Time  `json:"due_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Channel   string     `json:"channel,omitempty"`
}

// SubjectRecipients says where the person's data went (Art. 15(1)(c)):
// the channels Tresor reached them through and the mails sent to them.
type SubjectRecipients struct {
	Channels  []string          `json:"channels"`
	MailsSent []SubjectMailSent `json:"mails_sent"`
}

// SubjectMailSent is a mail sent to the person.
type SubjectMailSent struct {
	At      time.Time `json:"at"`
	Subject string    `json:"subject"`
}

// SubjectRetention is how long a category of the person's data is kept.
type SubjectRetention struct {
	Category Category `json:"category"`
	Purpose  string   `json:"purpose,omitempty"`
	Days     int      `json:"days,omitempty"`
	// Rule is "after_last_interaction" (the purpose's period, counted from
	// the last interaction) or "statutory" (a record kept by law until Until).
	Rule  string     `json:"rule"`
	Law   string     `json:"law,omitempty"`
	Until *time.Time `json:"until,omitempty"`
}

// SubjectAccess is one entry of the audit trail that touched the person's
// data: which roles, for which purpose, did what and when — never who.
type SubjectAccess struct {
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type,omitempty"`
	Purpose    string    `json:"purpose,omitempty"`
	Roles      []string  `json:"roles"`
	// ActorKind is "staff", "system", "link" (the person, by a link) or
	// "anonymous".
	ActorKind  string     `json:"actor_kind"`
	Decision   Decision   `json:"decision"`
	Categories []Category `json:"categories,omitempty"`
}

// SubjectExportSent is the answer to sending an export.
type SubjectExportSent struct {
	RequestID string    `json:"request_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SubjectExportLink describes a download link for its page.
type SubjectExportLink struct {
	ExpiresAt time.Time
	Language  string
}

// SubjectExportFile is a downloaded export: a zip of the two renderings.
type SubjectExportFile struct {
	Name string
	Data []byte
}

// SubjectExportRow is a stored export, sealed under its own data key.
type SubjectExportRow struct {
	ID        string
	RequestID string
	TokenHash []byte
	Language  string
	CreatedAt time.Time
	ExpiresAt time.Time
	Sealed    []byte // the zip, sealed by the gate
	Sealing
}

// SubjectExportReader reads stored exports.
type SubjectExportReader interface {
	// SubjectExportByToken returns the export of a link (ECNotFound if none).
	SubjectExportByToken(ctx context.Context, hash []byte) (*SubjectExportRow, error)
	// SubjectExportsBefore lists the exports that expire before t (without
	// their sealed content).
	SubjectExportsBefore(ctx context.Context, t time.Time) ([]*SubjectExportRow, error)
}

// SubjectExportWriter writes stored exports.
type SubjectExportWriter interface {
	InsertSubjectExport(ctx context.Context, row *SubjectExportRow) error
	// DeleteSubjectExport deletes the export, reporting whether it was there.
	DeleteSubjectExport(ctx context.Context, id string) (bool, error)
}

// SubjectExportService builds and delivers the exports of requests of
// access and portability. Building and sending need the data_protection
// purpose; the link works without sign-in, once.
type SubjectExportService interface {
	BuildSubjectExport(ctx context.Context, requestID string, f SubjectExportFormat) ([]byte, error)
	SendSubjectExport(ctx context.Context, requestID string) (*SubjectExportSent, error)
	SubjectExportLink(ctx context.Context, token string) (*SubjectExportLink, error)
	DownloadSubjectExport(ctx context.Context, token string) (*SubjectExportFile, error)
	PurgeSubjectExports(ctx context.Context) (int, error)
}
