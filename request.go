package tresor

import (
	"context"
	"time"
)

// RequestKind is the right a data subject exercises with a request.
type RequestKind string

// The kinds of requests of data subjects (Art. 7(3), 15–21 GDPR).
const (
	RequestAccess          RequestKind = "access"              // Art. 15
	RequestRectification   RequestKind = "rectification"       // Art. 16
	RequestErasure         RequestKind = "erasure"             // Art. 17
	RequestRestriction     RequestKind = "restriction"         // Art. 18
	RequestPortability     RequestKind = "portability"         // Art. 20
	RequestObjection       RequestKind = "objection"           // Art. 21(1): processing on legitimate interest
	RequestObjectionDirect RequestKind = "objection_marketing" // Art. 21(2): direct marketing
	RequestWithdrawal      RequestKind = "consent_withdrawal"  // Art. 7(3)
)

// RequestKinds lists every kind of request.
func RequestKinds() []RequestKind {
	return []RequestKind{RequestAccess, RequestRectification, RequestErasure, RequestRestriction,
		RequestPortability, RequestObjection, RequestObjectionDirect, RequestWithdrawal}
}

// RequestChannel is how a request arrived.
type RequestChannel string

// The channels a request arrives by.
const (
	ArrivedByEmail   RequestChannel = "email"
	ArrivedByLetter  RequestChannel = "letter"
	ArrivedByPhone   RequestChannel = "phone"
	ArrivedByWebForm RequestChannel = "web_form"
)

// RequestChannels lists every channel.
func RequestChannels() []RequestChannel {
	return []RequestChannel{ArrivedByEmail, ArrivedByLetter, ArrivedByPhone, ArrivedByWebForm}
}

// RequestState is where a request stands.
type RequestState string

// The states of a request: received → identity_verified → in_progress →
// answered or refused; extended (Art. 12(3)) from any open state.
const (
	RequestReceived         RequestState = "received"
	RequestIdentityVerified RequestState = "identity_verified"
	RequestInProgress       RequestState = "in_progress"
	RequestExtended         RequestState = "extended"
	RequestAnswered         RequestState = "answered"
	RequestRefused          RequestState = "refused"
)

// RequestStates lists every state.
func RequestStates() []RequestState {
	return []RequestState{RequestReceived, RequestIdentityVerified, RequestInProgress, RequestExtended,
		RequestAnswered, RequestRefused}
}

// Open reports whether the request still awaits its answer.
func (s RequestState) Open() bool { return s != RequestAnswered && s != RequestRefused }

// requestMoves are the changes of state /state allows; extended is reached
// only by an extension (with its reason), answered and refused are final.
var requestMoves = map[RequestState][]RequestState{
	RequestReceived:         {RequestIdentityVerified, RequestRefused},
	RequestIdentityVerified: {RequestInProgress, RequestAnswered, RequestRefused},
	RequestInProgress:       {RequestAnswered, RequestRefused},
	RequestExtended:         {RequestInProgress, RequestAnswered, RequestRefused},
}

// RequestMoveAllowed reports whether a request in state from may go to to.
func RequestMoveAllowed(from, to RequestState) bool {
	for _, s := range requestMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RequestNextStates lists the states a request in state s may go to.
func RequestNextStates(s RequestState) []RequestState { return requestMoves[s] }

// AddLegalMonths adds n months to a day as Regulation (EEC, Euratom)
// No 1182/71 Art. 3(2)(c) counts them: the period ends on the day of the
// last month with the same date as the day it started from; where that
// month has no such day, on its last day (31 January + 1 month = 28 or 29
// February). An invalid day gives "".
func AddLegalMonths(d Date, n int) Date {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return ""
	}
	y, m, day := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); day > last {
		day = last
	}
	return Date(time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
}

// RequestDue is the day by which a request received on the day must be
// answered: one month (Art. 12(3) GDPR).
func RequestDue(received Date) Date { return AddLegalMonths(received, 1) }

// RequestExtendedDue is the deadline after the one extension Art. 12(3)
// allows: two further months counted from the end of the first month.
// (This is never later than three months from receipt, so it is the safe
// reading: 31 January → 28 February → 28 April.)
func RequestExtendedDue(received Date) Date { return AddLegalMonths(RequestDue(received), 2) }

// Request is a request of a data subject in the DPO's register. Who asked
// (the address) and what was said about it (the reasons, the history) may
// name people; they are sealed under the request's own key.
type Request struct {
	Meta
	RequestContent
	Kind       RequestKind    `json:"kind" category:"none"`
	Channel    RequestChannel `json:"channel" category:"none"`
	ReceivedAt Date           `json:"received_at" category:"none"`
	State      RequestState   `json:"state" category:"none"`
	Due        Date           `json:"due" category:"none"`
	Extended   bool           `json:"extended" category:"none"`
	// ClosedAt is when the request was answered or refused; the retention
	// period of closed requests counts from it.
	ClosedAt *time.Time `json:"closed_at,omitempty" category:"none"`
	// Mail, in the answer to a request answered by e-mail, says what
	// became of the mail: "sent", or "queued" in the outbox while the mail
	// server is away (it is sent when the server is back). Not stored.
	Mail string `json:"mail,omitempty" category:"none"`
	Integrity
}

// RequestContent is the sealed part of a request.
type RequestContent struct {
	// Address is where the requester can be reached: an e-mail or postal
	// address or a telephone number.
	Address string `json:"address" category:"interaction.content"`
	// ContactIDs are the contacts the request concerns, once known.
	ContactIDs []string `json:"contact_ids,omitempty" category:"interaction.content"`
	// Candidates are the contacts whose identifiers match the address,
	// found by blind index when the identity was verified; the DPO decides
	// which of them the request concerns (ContactIDs).
	Candidates []string `json:"candidates,omitempty" category:"interaction.content"`
	// Message is what the requester wrote with a request from the web form.
	Message string `json:"message,omitempty" category:"interaction.content"`
	// Language is the language to answer in: de or en ("" for German).
	Language string `json:"language,omitempty" category:"interaction.content"`
	// ExtensionReason says why the deadline was extended (Art. 12(3)).
	ExtensionReason string `json:"extension_reason,omitempty" category:"interaction.content"`
	// Reason is the reason of the last change of state; for a refusal,
	// why (e.g. manifestly unfounded, Art. 12(5)).
	Reason  string         `json:"reason,omitempty" category:"interaction.content"`
	History []RequestEvent `json:"history,omitempty" category:"interaction.content"`
	// Answers are the answers and notices given to the requester.
	Answers []RequestAnswer `json:"answers,omitempty" category:"interaction.content"`
}

// RequestEvent is one change of a request's state.
type RequestEvent struct {
	At     time.Time    `json:"at"`
	State  RequestState `json:"state"`
	Reason string       `json:"reason,omitempty"`
	// By is the user who made the change ("" for the system,
	// "requester" for the person who asked, through the form or the link).
	By string `json:"by,omitempty"`
	// Action, for a decision on the request's data (decision.go), or an
	// event that is no change of state (export_sent, export_downloaded,
	// export_expired: the state stays as it was): what was done, to which
	// contact, for which purpose, and the fields a rectification changed.
	Action    RequestAction `json:"action,omitempty"`
	ContactID string        `json:"contact_id,omitempty"`
	Purpose   string        `json:"purpose,omitempty"`
	Changes   []FieldChange `json:"changes,omitempty"`
}

// Validate checks the request.
func (r *Request) Validate() error {
	var p Problems
	checkOneOf(&p, "kind", r.Kind, RequestKinds(), true)
	checkOneOf(&p, "channel", r.Channel, RequestChannels(), true)
	checkText(&p, "address", r.Address, maxShortText, true, false)
	if !r.ReceivedAt.Valid() {
		p.Add("received_at", "is required: the day the request arrived, in the form YYYY-MM-DD")
	}
	checkOneOf(&p, "state", r.State, RequestStates(), true)
	if r.State.Open() == (r.ClosedAt != nil) {
		p.Add("closed_at", "is set exactly when the request is answered or refused")
	}
	for _, id := range r.ContactIDs {
		checkID(&p, "contact_ids", id)
	}
	for _, id := range r.Candidates {
		checkID(&p, "candidates", id)
	}
	checkText(&p, "message", r.Message, maxLongText, false, true)
	if r.Language != "" && r.Language != "de" && r.Language != "en" {
		p.Add("language", "must be de or en")
	}
	checkText(&p, "extension_reason", r.ExtensionReason, maxLongText, false, true)
	checkText(&p, "reason", r.Reason, maxLongText, false, true)
	if r.Extended != (r.ExtensionReason != "") {
		p.Add("extension_reason", "is recorded exactly when the deadline was extended")
	}
	return p.Err("request")
}

// Overdue reports whether the open request was due before the day today.
func (r *Request) Overdue(today Date) bool { return r.State.Open() && r.Due < today }

// RequestFilter selects requests; lists are ordered by due date, then by
// creation.
type RequestFilter struct {
	// States keeps the requests in one of the states (none: all).
	States []RequestState
	// DueBefore keeps those due before the day.
	DueBefore Date
	Page
}

// RequestRow is a request as the store keeps it.
type RequestRow struct {
	Request        // with RequestContent empty
	Sealed  []byte // the content, sealed by the gate
	Sealing
}

// StoredKey returns the data key the stored row was sealed with; nil for
// none or for a nil row.
func (r *RequestRow) StoredKey() *WrappedKey {
	if r == nil {
		return nil
	}
	return r.Key
}

// RequestReader reads the request register.
type RequestReader interface {
	DataRequest(ctx context.Context, id string) (*RequestRow, error)
	DataRequests(ctx context.Context, f RequestFilter) ([]*RequestRow, error)
	// ClosedRequests lists the ids of requests closed before the time, at
	// most limit, by id after the id after.
	ClosedRequests(ctx context.Context, before time.Time, after string, limit int) ([]string, error)
}

// RequestWriter writes the request register.
type RequestWriter interface {
	InsertDataRequest(ctx context.Context, row *RequestRow) error
	UpdateDataRequest(ctx context.Context, row *RequestRow, prev int64) error
	// DeleteDataRequest deletes a request (its key is deleted apart).
	DeleteDataRequest(ctx context.Context, id string) error
	// ClaimRequestReminder claims a reminder (RequestReminderWeek or
	// RequestReminderDue) of a request for its deadline due; false when it
	// was claimed already, by this or another server.
	ClaimRequestReminder(ctx context.Context, requestID, reminder string, due Date, at time.Time) (bool, error)
}

// NewRequest is what the DPO enters of a new request.
type NewRequest struct {
	Kind       RequestKind    `json:"kind"`
	Channel    RequestChannel `json:"channel"`
	Address    string         `json:"address"`
	ReceivedAt Date           `json:"received_at"`
	ContactIDs []string       `json:"contact_ids,omitempty"`
}

// RequestService is the gate's interface for the request register; only
// the data_protection purpose may use it.
type RequestService interface {
	CreateRequest(ctx context.Context, n NewRequest) (*Request, error)
	DataRequest(ctx context.Context, id string) (*Request, error)
	DataRequests(ctx context.Context, f RequestFilter) (*List[*Request], error)
	// RequestState moves a request on; a refusal needs the reason.
	RequestState(ctx context.Context, id string, to RequestState, reason string) (*Request, error)
	// ExtendRequest extends the deadline by two months, once, for the reason.
	ExtendRequest(ctx context.Context, id, reason string) (*Request, error)
}
