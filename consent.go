package tresor

import (
	"context"
	"strings"
	"time"
)

// ConsentChannel is a way to reach a person: email, phone, postal, or a
// network's direct messages or mentions ("social_dm:mastodon",
// "social_mention:bluesky"). Consent is given per channel.
type ConsentChannel string

// The channels without a network.
const (
	ChannelEmailMsg  ConsentChannel = "email"
	ChannelPhoneCall ConsentChannel = "phone"
	ChannelPostal    ConsentChannel = "postal"
)

// Channel prefixes of the social channels.
const (
	SocialDM      = "social_dm:"
	SocialMention = "social_mention:"
)

// ParseConsentChannel checks a channel name.
func ParseConsentChannel(s string) (ConsentChannel, error) {
	switch c := ConsentChannel(s); {
	case c == ChannelEmailMsg || c == ChannelPhoneCall || c == ChannelPostal:
		return c, nil
	case strings.HasPrefix(s, SocialDM) && ValidNetwork(strings.TrimPrefix(s, SocialDM)),
		strings.HasPrefix(s, SocialMention) && ValidNetwork(strings.TrimPrefix(s, SocialMention)):
		return c, nil
	}
	return "", Errorf(ECInvalidParameter, "The channel %q is not known; the channels are email, phone, postal, social_dm:NETWORK and social_mention:NETWORK (for example social_dm:mastodon).", s)
}

// Network returns the network of a social channel, or "".
func (c ConsentChannel) Network() string {
	s := string(c)
	if n, ok := strings.CutPrefix(s, SocialDM); ok {
		return n
	}
	n, _ := strings.CutPrefix(s, SocialMention)
	return n
}

// ConsentState is where a person's consent for a purpose on a channel stands.
type ConsentState string

// The consent states, derived from the ledger's events.
const (
	ConsentUnknown   ConsentState = "unknown"
	ConsentPending   ConsentState = "pending"
	ConsentGranted   ConsentState = "granted"
	ConsentWithdrawn ConsentState = "withdrawn"
	ConsentExpired   ConsentState = "expired"
)

// ConsentAction is what a ledger event records.
type ConsentAction string

// The consent actions.
const (
	ConsentAsk      ConsentAction = "request"  // asked; waiting for confirmation (double opt-in)
	ConsentGrant    ConsentAction = "grant"    // given
	ConsentWithdraw ConsentAction = "withdraw" // taken back
)

// ConsentMethod is how a consent event was proven.
type ConsentMethod string

// The consent methods.
const (
	MethodWebForm     ConsentMethod = "web_form"
	MethodDoubleOptIn ConsentMethod = "double_opt_in"
	MethodPaper       ConsentMethod = "paper"
	MethodImport      ConsentMethod = "import"
	MethodLink        ConsentMethod = "link"      // the withdrawal link in a message
	MethodObjection   ConsentMethod = "objection" // an objection under Art. 21 withdrew it
	MethodRequest     ConsentMethod = "request"   // a request of the person, recorded by staff
	MethodMerge       ConsentMethod = "merge"     // a merge carried over the withdrawal of the other record
)

// ConsentMethods lists the methods a caller may name.
func ConsentMethods() []ConsentMethod {
	return []ConsentMethod{MethodWebForm, MethodDoubleOptIn, MethodPaper, MethodImport, MethodRequest}
}

// ConsentEvent is one immutable entry of the consent ledger.
type ConsentEvent struct {
	ID        string         `json:"id"`
	ContactID string         `json:"contact_id"`
	Purpose   string         `json:"purpose"`
	Channel   ConsentChannel `json:"channel"`
	Action    ConsentAction  `json:"action"`
	Method    ConsentMethod  `json:"method"`
	// TextHash is the SHA-256 of the consent text the person was shown.
	TextHash string    `json:"text_hash"`
	IP       string    `json:"ip,omitempty"` // the address that confirmed, where known
	Actor    string    `json:"actor"`        // who recorded it: an actor id, "system" or "link"
	At       time.Time `json:"at"`
}

// ConsentStatus is the current state for one purpose and channel.
type ConsentStatus struct {
	Purpose string         `json:"purpose"`
	Channel ConsentChannel `json:"channel"`
	State   ConsentState   `json:"state"`
	Since   time.Time      `json:"since"`
	// Mail, for a double opt-in, says what became of the confirmation
	// mail: "sent", or "queued" in the outbox while the mail server is
	// away (it is sent when the server is back).
	Mail string `json:"mail,omitempty"`
}

// ConsentProof is what proves a consent event.
type ConsentProof struct {
	// TextVersion is the consent text the person saw (or an identifier of its
	// version); only its SHA-256 is kept.
	TextVersion string `json:"text_version,omitempty"`
	// TextHash is the hex SHA-256 of that text, if the caller hashed it.
	TextHash string `json:"text_hash,omitempty"`
	IP       string `json:"ip,omitempty"`
}

// ConsentRequest is the body of POST /api/v1/contacts/{id}/consents.
type ConsentRequest struct {
	Purpose string        `json:"purpose"`
	Channel string        `json:"channel"`
	Action  ConsentAction `json:"action"`
	Method  ConsentMethod `json:"method"`
	Proof   ConsentProof  `json:"proof"`
}

// ConsentHistory is the state of every purpose and channel and the full ledger of a contact.
type ConsentHistory struct {
	States []ConsentStatus `json:"states"`
	Events []ConsentEvent  `json:"events"`
}

// ConsentLink is a consent link as its page shows it.
type ConsentLink struct {
	Kind      string         `json:"kind"` // "confirm" or "withdraw"
	Purpose   string         `json:"purpose"`
	PurposeDE string         `json:"purpose_de"`
	PurposeEN string         `json:"purpose_en"`
	Channel   ConsentChannel `json:"channel"`
	State     ConsentState   `json:"state"`
	Language  string         `json:"language"`
}

// Reason is a rule with its stable code and its text in English and German.
type Reason struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageDE string `json:"message_de"`
}

// ReachDecision is the answer of the outbound gate.
type ReachDecision struct {
	Allowed bool     `json:"allowed"`
	Reasons []Reason `json:"reasons"`
}

// ConsentService keeps the consent ledger and answers whether a person may be reached.
type ConsentService interface {
	RecordConsent(ctx context.Context, contactID string, r ConsentRequest) (*ConsentStatus, error)
	Consents(ctx context.Context, contactID string) (*ConsentHistory, error)
	// Reach is the outbound gate: may the contact be reached for the purpose on the channel?
	Reach(ctx context.Context, contactID, purpose string, channel ConsentChannel, advertising bool) (*ReachDecision, error)
	// ConsentLink describes the link with the secret, for its page.
	ConsentLink(ctx context.Context, secret string) (*ConsentLink, error)
	// ConfirmConsent confirms a double opt-in with the secret of its link, once.
	ConfirmConsent(ctx context.Context, secret, ip string) (*ConsentLink, error)
	// WithdrawConsent withdraws with the secret of a withdrawal link; no sign-in needed (Art. 7(3)).
	WithdrawConsent(ctx context.Context, secret, ip string) (*ConsentLink, error)
	// Object records an objection to marketing (Art. 21) and suppresses the person's identifiers.
	Object(ctx context.Context, contactID string) (*Contact, error)
	// Restrict restricts processing (Art. 18); lifting needs LiftRestriction.
	Restrict(ctx context.Context, contactID string, restricted bool) (*Contact, error)
	// LiftRestriction lifts a restriction by the DPO's decision, for the
	// recorded reason (Art. 18(3)).
	LiftRestriction(ctx context.Context, contactID, reason string) (*Contact, error)
}

// PurposeInfo describes a purpose of the policy to the people who declare it.
type PurposeInfo struct {
	ID             string       `json:"id"`
	NameDE         string       `json:"name_de"`
	NameEN         string       `json:"name_en"`
	DescriptionDE  string       `json:"description_de"`
	DescriptionEN  string       `json:"description_en"`
	Categories     []Category   `json:"categories"`
	LegalBases     []LegalBasis `json:"legal_bases"`
	RetentionDays  int          `json:"retention_days"`
	AggregatesOnly bool         `json:"aggregates_only"`
	Outbound       string       `json:"outbound"`
}
