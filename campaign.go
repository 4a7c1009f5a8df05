package tresor

import (
	"context"
	"time"
)

// CampaignContent is the message of a campaign in German and English; a
// recipient gets the language of their preferred_language (German otherwise).
type CampaignContent struct {
	SubjectDE string `json:"subject_de"`
	SubjectEN string `json:"subject_en"`
	BodyDE    string `json:"body_de"`
	BodyEN    string `json:"body_en"`
}

// Segment narrows a campaign's audience.
type Segment struct {
	OwnerID        string `json:"owner_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// Campaign is a message for many people, for one purpose, on one channel.
type Campaign struct {
	Meta
	Name    string         `json:"name"`
	Purpose string         `json:"purpose"`
	Channel ConsentChannel `json:"channel"`
	Segment Segment        `json:"segment"`
	// SegmentID, if set, takes the audience from a saved segment (and the
	// inline segment narrows it further).
	SegmentID string          `json:"segment_id,omitempty"`
	Content   CampaignContent `json:"content"`
	OwnerID   string          `json:"owner_id,omitempty"`
	SentAt    *time.Time      `json:"sent_at,omitempty"`
}

// Validate checks the campaign.
func (c *Campaign) Validate() error {
	var p Problems
	checkText(&p, "name", c.Name, maxShortText, true, false)
	if !ValidSlug(c.Purpose) {
		p.Add("purpose", "is required: the purpose the campaign serves")
	}
	if _, err := ParseConsentChannel(string(c.Channel)); err != nil {
		p.Add("channel", "%s", ErrorMessage(err))
	}
	checkID(&p, "owner_id", c.OwnerID)
	checkID(&p, "segment.owner_id", c.Segment.OwnerID)
	checkID(&p, "segment_id", c.SegmentID)
	checkID(&p, "segment.organization_id", c.Segment.OrganizationID)
	ct := c.Content
	checkText(&p, "content.subject_de", ct.SubjectDE, maxShortText, false, false)
	checkText(&p, "content.subject_en", ct.SubjectEN, maxShortText, false, false)
	checkText(&p, "content.body_de", ct.BodyDE, maxLongText, false, true)
	checkText(&p, "content.body_en", ct.BodyEN, maxLongText, false, true)
	if (ct.SubjectDE == "" || ct.BodyDE == "") && (ct.SubjectEN == "" || ct.BodyEN == "") {
		p.Add("content", "needs a subject and a body in German, in English, or both")
	}
	return p.Err("campaign")
}

// Audience is who a campaign may reach, and how many it may not, per reason.
type Audience struct {
	Eligible   int            `json:"eligible"`
	Recipients []string       `json:"recipients"` // contact ids
	Excluded   map[string]int `json:"excluded"`   // reason code → count
	Reasons    []Reason       `json:"reasons"`    // the rule of each exclusion
}

// SendReport says what sending a campaign did.
type SendReport struct {
	Sent     int            `json:"sent"`
	Failed   int            `json:"failed"`
	Excluded map[string]int `json:"excluded"`
}

// CampaignFilter selects campaigns in a list.
type CampaignFilter struct {
	Page
}

// CampaignService manages campaigns.
type CampaignService interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	Campaign(ctx context.Context, id string) (*Campaign, error)
	Campaigns(ctx context.Context, f CampaignFilter) (*List[*Campaign], error)
	UpdateCampaign(ctx context.Context, id string, u Update) (*Campaign, error)
	DeleteCampaign(ctx context.Context, id string, ifVersion int64) error
	// Audience computes who the campaign may reach now.
	Audience(ctx context.Context, id string) (*Audience, error)
	// SendCampaign sends an e-mail campaign to its audience, each message through the outbound gate.
	SendCampaign(ctx context.Context, id string) (*SendReport, error)
}

// Mail is a message to send.
type Mail struct {
	To      string
	Subject string
	Text    string
	// Headers are extra headers, such as List-Unsubscribe.
	Headers map[string]string
	// MessageID is the mail's Message-ID without angle brackets: the
	// mailer sets it when it composes the mail, unless the caller did.
	MessageID string
}

// Mailer sends mail.
type Mailer interface {
	Send(ctx context.Context, m *Mail) error
}
