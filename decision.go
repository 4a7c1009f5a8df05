package tresor

import (
	"context"
	"encoding/json"
	"time"
)

// The decisions the data-protection officer takes on a request of a data
// subject that changes data (issue [2.4] §1): rectification (Art. 16) with
// the notice to recipients (Art. 19), objection to processing on legitimate
// interest (Art. 21(1)) and compelling grounds against it, restriction
// (Art. 18), erasure (Art. 17), and the lifting of a restriction or an
// objection. Each is recorded in the request's sealed history.

// RequestAction names what a decision on a request did.
type RequestAction string

// The decisions recorded in a request's history.
const (
	ActionRectified          RequestAction = "rectified"           // Art. 16: fields changed, old → new
	ActionRecipientsNotified RequestAction = "recipients_notified" // Art. 19: recipients told
	ActionRecipientsNot      RequestAction = "recipients_not_notified"
	ActionObjected           RequestAction = "objected"           // Art. 21(1) or 21(2) applied
	ActionCompellingGrounds  RequestAction = "compelling_grounds" // Art. 21(1): the processing goes on for one purpose
	ActionRestricted         RequestAction = "restricted"         // Art. 18 applied
	ActionRestrictionLifted  RequestAction = "restriction_lifted" // Art. 18(3)
	ActionObjectionLifted    RequestAction = "objection_lifted"
	ActionErased             RequestAction = "erased" // Art. 17
	ActionErasureKept        RequestAction = "erasure_kept"
	// The delivery of an access or portability export (Art. 15, 20).
	ActionExportSent       RequestAction = "export_sent"
	ActionExportDownloaded RequestAction = "export_downloaded"
	ActionExportExpired    RequestAction = "export_expired"
	// The export was deleted before its download: the person was erased,
	// or a newer export replaced it.
	ActionExportCancelled RequestAction = "export_cancelled"
	// The DPO sent the requester a new link to verify the address (a
	// web-form request's period without verification counts from it).
	ActionVerificationSent RequestAction = "verification_sent"
)

// FieldChange is one field a rectification changed, with the values before
// and after (JSON): personal data, sealed in the request.
type FieldChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// Rectification is the body of POST /api/v1/requests/{id}/rectify: the
// contact the request concerns and the new values of its fields.
type Rectification struct {
	ContactID string                     `json:"contact_id"`
	Changes   map[string]json.RawMessage `json:"changes"`
}

// Rectified is the answer to a rectification.
type Rectified struct {
	Request *Request      `json:"request"`
	Contact *Contact      `json:"contact"`
	Changes []FieldChange `json:"changes"`
}

// Recipient is someone personal data of the person went to, as far as the
// store keeps it (Art. 19): mails and social messages sent to or about the
// person, campaign mails.
type Recipient struct {
	ContactID string `json:"contact_id"`
	// Kind: email, social_message, campaign, call, meeting, letter.
	Kind string `json:"kind"`
	// Channel: the network of a social message, the campaign's id.
	Channel string    `json:"channel,omitempty"`
	Count   int       `json:"count"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// NotNotifiedBecause says why recipients were not notified (Art. 19 first
// sentence: unless this proves impossible or involves disproportionate effort).
type NotNotifiedBecause string

// The reasons recipients may go unnotified.
const (
	NotifyImpossible       NotNotifiedBecause = "impossible"
	NotifyDisproportionate NotNotifiedBecause = "disproportionate_effort"
)

// RecipientsNotice is the body of POST /api/v1/requests/{id}/recipients-notified:
// the recipients were notified of the rectification, erasure or restriction
// (Notified), or why not, with a note.
type RecipientsNotice struct {
	Notified bool               `json:"notified"`
	Because  NotNotifiedBecause `json:"because,omitempty"`
	Note     string             `json:"note"`
}

// CompellingGrounds is the body of POST /api/v1/requests/{id}/compelling-grounds:
// the DPO's decision that compelling legitimate grounds for processing for
// the purpose override the person's objection (Art. 21(1) second sentence).
type CompellingGrounds struct {
	ContactID string `json:"contact_id"`
	Purpose   string `json:"purpose"`
	Reason    string `json:"reason"`
}

// LiftKind is what a lifting decision ends.
type LiftKind string

// What may be lifted.
const (
	LiftRestriction LiftKind = "restriction" // Art. 18(3): the person is told before
	LiftObjection   LiftKind = "objection"   // an Art. 21(1) objection the person withdrew
	// LiftObjectionMarketing ends an objection to direct marketing
	// (Art. 21(2)) the person withdrew: their identifiers leave the
	// suppression list, so that their own fresh consent can be recorded.
	// The reason names the evidence of the withdrawal.
	LiftObjectionMarketing LiftKind = "objection_marketing"
)

// Lift is the body of POST /api/v1/requests/{id}/lift.
type Lift struct {
	ContactID string   `json:"contact_id"`
	What      LiftKind `json:"what"`
	Reason    string   `json:"reason"`
}

// ErasureOutcome is, for one contact of an erasure request, what happened:
// erased, or kept because of legal holds; and which records the law keeps
// for how long.
type ErasureOutcome struct {
	ContactID string `json:"contact_id"`
	// Result: erased, kept_legal_hold, already_erased or refused.
	Result   string         `json:"result"`
	Erasure  *Erasure       `json:"erasure,omitempty"`
	Holds    []string       `json:"holds,omitempty"` // the ids of the holds that keep the contact
	Retained []RetainedKept `json:"retained,omitempty"`
	// Explanation is the rule, in English and German, when not erased.
	Explanation *Reason `json:"explanation,omitempty"`
}

// RetainedKept counts records the law keeps after an erasure (HGB §257, AO §147).
type RetainedKept struct {
	Class string `json:"class"`
	Count int    `json:"count"`
	Until Date   `json:"until"` // the end of the longest period among them
}

// Erased is the answer to an erasure request.
type Erased struct {
	Request  *Request         `json:"request"`
	Outcomes []ErasureOutcome `json:"outcomes"`
}

// InterestObjection is an objection to processing on legitimate interest
// (Art. 21(1) GDPR) of one contact, with the purposes for which the DPO
// recorded compelling legitimate grounds. It holds no personal data: the
// reasons are sealed in the requests.
type InterestObjection struct {
	ContactID  string            `json:"contact_id"`
	ObjectedAt time.Time         `json:"objected_at"`
	RequestID  string            `json:"request_id"`
	Grounds    []GroundsOverride `json:"grounds,omitempty"`
}

// GroundsOverride is a purpose for which compelling grounds were recorded.
type GroundsOverride struct {
	Purpose   string    `json:"purpose"`
	DecidedAt time.Time `json:"decided_at"`
	DecidedBy string    `json:"decided_by"`
	RequestID string    `json:"request_id"`
}

// Overridden reports whether compelling grounds were recorded for the purpose.
func (o *InterestObjection) Overridden(purpose string) bool {
	for _, g := range o.Grounds {
		if g.Purpose == purpose {
			return true
		}
	}
	return false
}

// ObjectionReader reads objections to processing on legitimate interest.
type ObjectionReader interface {
	// InterestObjection returns the contact's objection; ECNotFound if none.
	InterestObjection(ctx context.Context, contactID string) (*InterestObjection, error)
	// InterestObjections returns the objections of those of the contacts
	// that have one, by contact id, in one query (for a page of a list).
	InterestObjections(ctx context.Context, contactIDs []string) (map[string]*InterestObjection, error)
}

// ObjectionWriter writes them.
type ObjectionWriter interface {
	// PutInterestObjection stores the contact's objection, replacing one.
	PutInterestObjection(ctx context.Context, o *InterestObjection) error
	// DeleteInterestObjection removes it (no error when there is none).
	DeleteInterestObjection(ctx context.Context, contactID string) error
}

// DecisionService is the gate's interface for the decisions on requests;
// only the data_protection purpose may use it.
type DecisionService interface {
	Rectify(ctx context.Context, requestID string, r Rectification) (*Rectified, error)
	RequestRecipients(ctx context.Context, requestID string) ([]Recipient, error)
	NotifyRecipients(ctx context.Context, requestID string, n RecipientsNotice) (*Request, error)
	// ApplyObjection applies the request's objection to its contacts:
	// Art. 21(1) for kind objection, Art. 21(2) for objection_marketing.
	ApplyObjection(ctx context.Context, requestID string) (*Request, error)
	RecordCompellingGrounds(ctx context.Context, requestID string, c CompellingGrounds) (*Request, error)
	// ApplyRestriction restricts the processing of the request's contacts.
	ApplyRestriction(ctx context.Context, requestID string) (*Request, error)
	Lift(ctx context.Context, requestID string, l Lift) (*Request, error)
	// EraseForRequest erases the request's contacts, as far as holds allow.
	EraseForRequest(ctx context.Context, requestID string) (*Erased, error)
}
