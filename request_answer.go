package tresor

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// RequestOutcome is what an answer to a request tells the requester.
type RequestOutcome string

// The outcomes an answer is written for.
const (
	// OutcomeAnswered: the request was carried out (Art. 12(3)).
	OutcomeAnswered RequestOutcome = "answered"
	// OutcomeRefused: no action is taken, with the reason and the rights to
	// complain and to a judicial remedy (Art. 12(4), 12(5), 77, 79).
	OutcomeRefused RequestOutcome = "refused"
	// OutcomeExtended: the deadline was extended by two months, with the
	// reason (Art. 12(3) sentences 2 and 3).
	OutcomeExtended RequestOutcome = "extended"
)

// RequestOutcomes lists the outcomes.
func RequestOutcomes() []RequestOutcome {
	return []RequestOutcome{OutcomeAnswered, OutcomeRefused, OutcomeExtended}
}

// AnswerVia is how an answer reached the requester.
type AnswerVia string

// The ways an answer is given: by Tresor's mail server, or by the DPO by
// letter or telephone (Tresor only records it).
const (
	AnswerByEmail         AnswerVia = "email"
	AnswerByLetterOrPhone AnswerVia = "letter_or_phone"
)

// RequestAnswer is an answer or notice given to the requester, kept sealed
// with the request.
type RequestAnswer struct {
	At      time.Time      `json:"at"`
	Outcome RequestOutcome `json:"outcome"`
	Lang    string         `json:"lang"`
	Via     AnswerVia      `json:"via"`
	Subject string         `json:"subject"`
	Body    string         `json:"body"`
	By      string         `json:"by,omitempty"`
}

// RequestAnswerDraft is an answer Tresor writes from the request, for the
// DPO to check and send.
type RequestAnswerDraft struct {
	Lang    string         `json:"lang"`
	Outcome RequestOutcome `json:"outcome"`
	// Via says how the answer would go: by e-mail when the requester's
	// address is one, otherwise by letter or telephone.
	Via     AnswerVia `json:"via"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
}

// RequestAnswerSend is the answer the DPO gives. Outcome defaults to
// answered; refused and extended need the reason (for extended, the
// extension is made with the notice).
type RequestAnswerSend struct {
	Lang    string         `json:"lang"`
	Outcome RequestOutcome `json:"outcome,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Subject string         `json:"subject"`
	Body    string         `json:"body"`
}

// Validate checks the answer.
func (a *RequestAnswerSend) Validate() error {
	var p Problems
	if a.Lang != "de" && a.Lang != "en" {
		p.Add("lang", "must be de or en")
	}
	checkOneOf(&p, "outcome", a.Outcome, RequestOutcomes(), true)
	checkText(&p, "subject", a.Subject, maxShortText, true, false)
	checkText(&p, "body", a.Body, maxLongText, true, true)
	return p.Err("answer")
}

// EmailAddress returns the address as an e-mail address when it is one
// (a bare address or "Name <address>"), and false for a postal address or
// a telephone number.
func EmailAddress(address string) (string, bool) {
	address = strings.TrimSpace(address)
	if strings.ContainsAny(address, "\n\r") {
		return "", false
	}
	a, err := mail.ParseAddress(address)
	if err != nil {
		return "", false
	}
	return a.Address, true
}

// The reminders of a request's deadline.
const (
	RequestReminderWeek = "week" // a week before the deadline
	RequestReminderDue  = "due"  // on the day of the deadline
)

// RequestAnswerService writes and gives answers to requests; the DPO's
// like the register.
type RequestAnswerService interface {
	// RequestAnswerDraft writes the answer of an outcome ("" for the one
	// the request's state suggests) in a language (de or en).
	RequestAnswerDraft(ctx context.Context, id, lang string, outcome RequestOutcome) (*RequestAnswerDraft, error)
	// AnswerRequest gives the answer: by e-mail when the address is one,
	// else it records that it went by letter or telephone. It moves the
	// request to the outcome's state and keeps the answer with it.
	AnswerRequest(ctx context.Context, id string, a RequestAnswerSend) (*Request, error)
}
