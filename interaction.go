package tresor

import (
	"context"
	"time"
)

// InteractionKind is what kind of contact took place.
type InteractionKind string

// The interaction kinds.
const (
	KindNote          InteractionKind = "note"
	KindEmail         InteractionKind = "email"
	KindCall          InteractionKind = "call"
	KindMeeting       InteractionKind = "meeting"
	KindSocialMessage InteractionKind = "social_message"
)

// InteractionKinds lists every interaction kind.
func InteractionKinds() []InteractionKind {
	return []InteractionKind{KindNote, KindEmail, KindCall, KindMeeting, KindSocialMessage}
}

// Direction says who started an interaction.
type Direction string

// The directions.
const (
	DirectionInbound  Direction = "inbound"  // the customer reached out
	DirectionOutbound Direction = "outbound" // we reached out
	DirectionInternal Direction = "internal" // a note among ourselves
)

// Directions lists every direction.
func Directions() []Direction {
	return []Direction{DirectionInbound, DirectionOutbound, DirectionInternal}
}

// Interaction is a note, e-mail, call, meeting or social message, linked to at
// least one contact, organization, deal or case.
type Interaction struct {
	Meta
	Kind           InteractionKind `json:"kind" category:"none"`
	Direction      Direction       `json:"direction" category:"none"`
	OccurredAt     time.Time       `json:"occurred_at" category:"none"`
	DurationSec    int             `json:"duration_seconds,omitempty" category:"none"`
	Network        string          `json:"network,omitempty" category:"none"` // for social messages
	OwnerID        string          `json:"owner_id,omitempty" category:"none"`
	ContactID      string          `json:"contact_id,omitempty" category:"none"`
	OrganizationID string          `json:"organization_id,omitempty" category:"none"`
	DealID         string          `json:"deal_id,omitempty" category:"none"`
	CaseID         string          `json:"case_id,omitempty" category:"none"`
	// RetentionClass marks a record the law makes the company keep (a
	// business letter, an accounting record: HGB §257, AO §147); the classes
	// and their periods come from the policy.
	RetentionClass string `json:"retention_class,omitempty" category:"none"`
	// RetainUntil is the end of the statutory period of its class; set by Tresor.
	RetainUntil *time.Time `json:"retain_until,omitempty" category:"none"`
	InteractionContent
	Archive
	Integrity
	Collection
	Provenance Provenance `json:"provenance,omitzero" category:"none"`
	Withheld   []Category `json:"withheld,omitempty" category:"none"`
}

// InteractionContent is what was said or written: personal data.
type InteractionContent struct {
	Subject string `json:"subject" category:"interaction.content"`
	Body    string `json:"body" category:"interaction.content"`
}

// Validate checks the interaction.
func (in *Interaction) Validate() error {
	var p Problems
	checkOneOf(&p, "kind", in.Kind, InteractionKinds(), true)
	checkOneOf(&p, "direction", in.Direction, Directions(), true)
	if in.OccurredAt.IsZero() {
		p.Add("occurred_at", "is required")
	}
	if in.DurationSec < 0 || in.DurationSec > 7*24*3600 {
		p.Add("duration_seconds", "must be between 0 and one week")
	}
	if in.Kind == KindSocialMessage && !ValidNetwork(in.Network) {
		p.Add("network", "a social message names its network, such as mastodon or bluesky")
	}
	if in.Kind != KindSocialMessage && in.Network != "" {
		p.Add("network", "only a social message has a network")
	}
	checkID(&p, "owner_id", in.OwnerID)
	checkID(&p, "contact_id", in.ContactID)
	checkID(&p, "organization_id", in.OrganizationID)
	checkID(&p, "deal_id", in.DealID)
	checkID(&p, "case_id", in.CaseID)
	if in.ContactID == "" && in.OrganizationID == "" && in.DealID == "" && in.CaseID == "" {
		p.Add("contact_id", "an interaction is linked to a contact, an organization, a deal or a case")
	}
	checkText(&p, "subject", in.Subject, maxShortText, false, false)
	checkText(&p, "body", in.Body, maxLongText, false, true)
	in.Collection.validate(&p)
	return p.Err("interaction")
}

// InteractionFilter selects interactions in a list.
type InteractionFilter struct {
	Kind           InteractionKind
	OwnerID        string
	ContactID      string
	OrganizationID string
	DealID         string
	CaseID         string
	UpdatedSince   time.Time
	// HideArchived leaves out archived records; set by the gate.
	HideArchived bool
	// HideRestricted leaves out the records of people whose processing is
	// restricted (Art. 18); set by the gate.
	HideRestricted bool
	Page
}

// InteractionService is the gate's interface for interactions.
type InteractionService interface {
	CreateInteraction(ctx context.Context, in *Interaction) error
	Interaction(ctx context.Context, id string) (*Interaction, error)
	Interactions(ctx context.Context, f InteractionFilter) (*List[*Interaction], error)
	UpdateInteraction(ctx context.Context, id string, u Update) (*Interaction, error)
	DeleteInteraction(ctx context.Context, id string, ifVersion int64) error
}
