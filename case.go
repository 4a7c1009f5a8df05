package tresor

import (
	"context"
	"time"
)

// CaseStatus is where a service case stands.
type CaseStatus string

// The case statuses.
const (
	CaseNew      CaseStatus = "new"
	CaseOpen     CaseStatus = "open"
	CasePending  CaseStatus = "pending" // waiting for the customer
	CaseResolved CaseStatus = "resolved"
	CaseClosed   CaseStatus = "closed"
)

// CaseStatuses lists every case status.
func CaseStatuses() []CaseStatus {
	return []CaseStatus{CaseNew, CaseOpen, CasePending, CaseResolved, CaseClosed}
}

// Priority is the urgency of a case.
type Priority string

// The priorities.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}
}

// Channel is how a case reached the company.
type Channel string

// The case channels.
const (
	ChannelEmail    Channel = "email"
	ChannelPhone    Channel = "phone"
	ChannelWeb      Channel = "web"
	ChannelChat     Channel = "chat"
	ChannelSocial   Channel = "social"
	ChannelLetter   Channel = "letter"
	ChannelInPerson Channel = "in_person"
)

// Channels lists every case channel.
func Channels() []Channel {
	return []Channel{ChannelEmail, ChannelPhone, ChannelWeb, ChannelChat, ChannelSocial, ChannelLetter, ChannelInPerson}
}

// Case is a customer-service ticket.
type Case struct {
	Meta
	Status         CaseStatus `json:"status" category:"none"`
	Priority       Priority   `json:"priority" category:"none"`
	Channel        Channel    `json:"channel" category:"none"`
	Network        string     `json:"network,omitempty" category:"none"` // for the social channel
	AssigneeID     string     `json:"assignee_id,omitempty" category:"none"`
	ContactID      string     `json:"contact_id,omitempty" category:"none"`
	OrganizationID string     `json:"organization_id,omitempty" category:"none"`
	CaseContent
	Archive
	Integrity
	Collection
	Provenance Provenance `json:"provenance,omitzero" category:"none"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty" category:"none"`
	Withheld   []Category `json:"withheld,omitempty" category:"none"`
}

// CaseContent is what the customer asked and told: personal data.
type CaseContent struct {
	Subject     string `json:"subject" category:"interaction.content"`
	Description string `json:"description" category:"interaction.content"`
	// Sender is the handle of whoever wrote a message that opened a case
	// from a social network, as the network gave it: with it an agent links
	// an unknown sender to a contact (Tresor never creates one itself).
	Sender string `json:"sender,omitempty" category:"social.handle"`
}

// Validate checks the case.
func (c *Case) Validate() error {
	var p Problems
	checkOneOf(&p, "status", c.Status, CaseStatuses(), true)
	checkOneOf(&p, "priority", c.Priority, Priorities(), true)
	checkOneOf(&p, "channel", c.Channel, Channels(), true)
	if c.Channel == ChannelSocial && !ValidNetwork(c.Network) {
		p.Add("network", "a case from a social network names the network, such as mastodon or bluesky")
	}
	if c.Channel != ChannelSocial && c.Network != "" {
		p.Add("network", "only a case from the social channel has a network")
	}
	checkID(&p, "assignee_id", c.AssigneeID)
	checkID(&p, "contact_id", c.ContactID)
	checkID(&p, "organization_id", c.OrganizationID)
	checkText(&p, "subject", c.Subject, maxShortText, true, false)
	checkText(&p, "description", c.Description, maxLongText, false, true)
	checkText(&p, "sender", c.Sender, maxShortText, false, false)
	if c.Sender != "" && c.Channel != ChannelSocial {
		p.Add("sender", "only a case from the social channel has a sender's handle")
	}
	c.Collection.validate(&p)
	return p.Err("case")
}

// CaseFilter selects cases in a list.
type CaseFilter struct {
	Status       CaseStatus
	Priority     Priority
	AssigneeID   string
	ContactID    string
	UpdatedSince time.Time
	// HideArchived leaves out archived records; set by the gate.
	HideArchived bool
	// HideRestricted leaves out the records of people whose processing is
	// restricted (Art. 18); set by the gate.
	HideRestricted bool
	Page
}

// CaseService is the gate's interface for service cases.
type CaseService interface {
	CreateCase(ctx context.Context, c *Case) error
	Case(ctx context.Context, id string) (*Case, error)
	Cases(ctx context.Context, f CaseFilter) (*List[*Case], error)
	UpdateCase(ctx context.Context, id string, u Update) (*Case, error)
	DeleteCase(ctx context.Context, id string, ifVersion int64) error
	// LinkCaseSender links a case a message from an unknown sender on a
	// social network opened to an existing contact, at the case's version,
	// and records the sender's handle with the contact.
	LinkCaseSender(ctx context.Context, id, contactID string, ifVersion int64) (*Case, error)
	// CaseAssignees lists the users a case may be given to under the
	// declared purpose: those whose roles allow it, by id and name only.
	CaseAssignees(ctx context.Context) ([]Assignee, error)
}

// Assignee is a user a case may be given to: what a colleague may know of
// them, nothing more.
type Assignee struct {
	ID   string `json:"id"`
	Name string `json:"name"` // the address they sign in with
}
