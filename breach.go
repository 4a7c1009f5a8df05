package tresor

import (
	"context"
	"time"
)

// BreachNotifyWithin is how long after becoming aware of a personal-data
// breach the company has to notify the supervisory authority (Art. 33(1)).
const BreachNotifyWithin = 72 * time.Hour

// BreachRisk is the assessed risk of a breach to the people affected.
type BreachRisk string

// The risk levels: a high risk means the people must be told (Art. 34(1)).
const (
	BreachRiskNone BreachRisk = "none"
	BreachRiskSome BreachRisk = "risk"
	BreachRiskHigh BreachRisk = "high"
)

// BreachRisks lists the risk levels.
func BreachRisks() []BreachRisk { return []BreachRisk{BreachRiskNone, BreachRiskSome, BreachRiskHigh} }

// BreachState is where the handling of a breach stands.
type BreachState string

// The states, in the order a breach passes through them.
const (
	BreachOpen              BreachState = "open"
	BreachAuthorityNotified BreachState = "authority_notified"
	BreachClosed            BreachState = "closed"
)

// BreachStates lists the states in order.
func BreachStates() []BreachState {
	return []BreachState{BreachOpen, BreachAuthorityNotified, BreachClosed}
}

// Breach is an incident of the breach register (Art. 33(5)): what happened,
// when the company became aware, whom and what it concerns, the risk, and
// what was done. Its content may name people, so it is sealed under the
// breach's own key; the rest is kept in clear for the register's list.
type Breach struct {
	Meta
	BreachContent
	Title           string       `json:"title" category:"none"`
	AwareAt         time.Time    `json:"aware_at" category:"none"`
	Categories      []string     `json:"categories,omitempty" category:"none"` // categories of personal data concerned
	PeopleAffected  int          `json:"people_affected" category:"none"`      // approximate
	RecordsAffected int          `json:"records_affected" category:"none"`     // approximate
	Risk            BreachRisk   `json:"risk" category:"none"`
	State           BreachState  `json:"state" category:"none"`
	NotifiedAt      *time.Time   `json:"notified_at,omitempty" category:"none"`
	ClosedAt        *time.Time   `json:"closed_at,omitempty" category:"none"`
	Scope           *BreachScope `json:"scope,omitempty" category:"none"`
	// Deadline, Remaining and Overdue are computed when the breach is read.
	Deadline  time.Time `json:"deadline" category:"none"`
	Remaining int64     `json:"remaining_seconds" category:"none"`
	Overdue   bool      `json:"overdue" category:"none"`
	Integrity
}

// BreachContent is what may name people: sealed.
type BreachContent struct {
	Description  string         `json:"description" category:"interaction.content"`
	Consequences string         `json:"consequences,omitempty" category:"interaction.content"`
	Measures     string         `json:"measures,omitempty" category:"interaction.content"`
	Actions      []BreachAction `json:"actions,omitempty" category:"interaction.content"`
}

// BreachAction is one entry of a breach's log of what was done.
type BreachAction struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
}

// BreachScope is what the audit trail says an actor or token touched in a
// window: the counts are distinct contacts and distinct other records.
type BreachScope struct {
	Actor     string    `json:"actor"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Contacts  int       `json:"contacts"`
	Records   int       `json:"records"`
	CountedAt time.Time `json:"counted_at"`
}

// BreachReadOnly are the JSON fields Tresor sets.
var BreachReadOnly = []string{"state", "notified_at", "closed_at", "scope", "deadline", "remaining_seconds",
	"overdue", "actions", "damaged"}

// Validate checks the breach.
func (b *Breach) Validate() error {
	var p Problems
	checkText(&p, "title", b.Title, maxShortText, true, false)
	checkText(&p, "description", b.Description, maxLongText, true, true)
	checkText(&p, "consequences", b.Consequences, maxLongText, false, true)
	checkText(&p, "measures", b.Measures, maxLongText, false, true)
	if b.AwareAt.IsZero() {
		p.Add("aware_at", "is required: when the company became aware of the breach (RFC 3339)")
	}
	if len(b.Categories) > maxListItems {
		p.Add("categories", "has %d entries; at most %d are allowed", len(b.Categories), maxListItems)
	}
	for _, c := range b.Categories {
		checkText(&p, "categories", c, maxShortText, true, false)
	}
	if b.PeopleAffected < 0 {
		p.Add("people_affected", "cannot be negative")
	}
	if b.RecordsAffected < 0 {
		p.Add("records_affected", "cannot be negative")
	}
	checkOneOf(&p, "risk", b.Risk, BreachRisks(), true)
	checkOneOf(&p, "state", b.State, BreachStates(), true)
	if (b.State == BreachAuthorityNotified && b.NotifiedAt == nil) || (b.State == BreachOpen && b.NotifiedAt != nil) {
		p.Add("notified_at", "is set exactly once the authority was notified")
	}
	if (b.State == BreachClosed) != (b.ClosedAt != nil) {
		p.Add("closed_at", "is set exactly when the breach is closed")
	}
	return p.Err("breach")
}

// Clock sets the 72-hour deadline and, while the authority has not been
// notified, the time left (negative: overdue) at now.
func (b *Breach) Clock(now time.Time) {
	b.Deadline = b.AwareAt.Add(BreachNotifyWithin)
	b.Remaining, b.Overdue = 0, false
	if b.State != BreachOpen {
		return
	}
	left := b.Deadline.Sub(now)
	b.Remaining = int64(left / time.Second)
	b.Overdue = left < 0
}

// PeopleMustBeTold reports whether the people must be notified (Art. 34(1)).
func (b *Breach) PeopleMustBeTold() bool { return b.Risk == BreachRiskHigh }

// BreachDrafts are the texts generated from a breach; People is empty
// unless the risk is high.
type BreachDrafts struct {
	Lang      string `json:"lang"`
	Authority string `json:"authority"`
	People    string `json:"people,omitempty"`
}

// BreachRow is a breach as the store keeps it.
type BreachRow struct {
	Breach        // with BreachContent empty
	Sealed []byte // the content, prepared by the gate
	Sealing
}

// BreachReader reads the breach register.
type BreachReader interface {
	Breach(ctx context.Context, id string) (*BreachRow, error)
	// Breaches lists breaches, newest awareness first.
	Breaches(ctx context.Context, p Page) ([]*BreachRow, error)
}

// BreachWriter writes the breach register.
type BreachWriter interface {
	InsertBreach(ctx context.Context, row *BreachRow) error
	UpdateBreach(ctx context.Context, row *BreachRow, prev int64) error
}

// BreachService is the gate's interface for the breach register.
type BreachService interface {
	CreateBreach(ctx context.Context, b *Breach) error
	Breach(ctx context.Context, id string) (*Breach, error)
	Breaches(ctx context.Context, p Page) (*List[*Breach], error)
	UpdateBreach(ctx context.Context, id string, u Update) (*Breach, error)
	// SetBreachState moves a breach on (open → authority_notified → closed),
	// with a note for its log.
	SetBreachState(ctx context.Context, id string, state BreachState, note string, ifVersion int64) (*Breach, error)
	// CountBreachScope counts from the audit trail what the actor (user:ID or
	// token:ID) touched in the window and stores it with the breach.
	CountBreachScope(ctx context.Context, id, actor string, since, until time.Time) (*Breach, error)
	BreachDrafts(ctx context.Context, id, lang string) (*BreachDrafts, error)
}
