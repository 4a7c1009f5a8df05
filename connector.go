package tresor

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// NetworkKind says what a social network is mostly used for; it decides
// which profile fields count as business and which as private.
type NetworkKind string

// Network kinds.
const (
	KindProfessional NetworkKind = "professional" // LinkedIn, XING
	KindPrivate      NetworkKind = "private"      // Facebook, Instagram
	KindMixed        NetworkKind = "mixed"        // Mastodon, Bluesky
)

// SocialProfile is the public profile of a handle on a network.
type SocialProfile struct {
	Network     string         `json:"network"`
	Handle      string         `json:"handle"` // normalised, e.g. "@erika@social.example"
	DisplayName string         `json:"display_name"`
	Bio         string         `json:"bio"`
	URL         string         `json:"url"`
	Fields      []ProfileField `json:"fields,omitempty"` // the profile's own name/value pairs
	// Locked: the account approves its followers; what it posts for them
	// is not public.
	Locked bool `json:"locked"`
	Bot    bool `json:"bot"`
}

// ProfileField is one name/value pair of a profile.
type ProfileField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PostVisibility is who may see a post on the network.
type PostVisibility string

// Post visibilities.
const (
	PostPublic    PostVisibility = "public"
	PostUnlisted  PostVisibility = "unlisted"  // public, but not in public timelines
	PostFollowers PostVisibility = "followers" // the author's followers only
	PostDirect    PostVisibility = "direct"    // the mentioned accounts only
)

// SocialPost is a post or direct message on a network.
type SocialPost struct {
	ID         string         `json:"id"` // the network's id
	Network    string         `json:"network"`
	Author     string         `json:"author"` // normalised handle
	Text       string         `json:"text"`   // plain text (HTML removed)
	Visibility PostVisibility `json:"visibility"`
	Language   string         `json:"language,omitempty"` // ISO 639-1 where the network says
	URL        string         `json:"url,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	InReplyTo  string         `json:"in_reply_to,omitempty"` // the id of the post it answers
	Mentions   []string       `json:"mentions,omitempty"`    // normalised handles
	// ToCompany: the post mentions or was sent to the company account.
	ToCompany bool `json:"to_company"`
}

// Connector reaches one company account on one social network. Every call
// goes through the gate, which decides what may be read, stored and sent;
// a connector only speaks the network's protocol.
type Connector interface {
	// Network is the network's id ("mastodon", "bluesky").
	Network() string
	Kind() NetworkKind
	// Account is the company account's own handle.
	Account(ctx context.Context) (string, error)
	// Profile reads the public profile of a handle.
	Profile(ctx context.Context, handle string) (*SocialProfile, error)
	// Inbox lists mentions of and direct messages to the company account
	// after the cursor ("" for the newest page), oldest first, and returns
	// the cursor to continue from.
	Inbox(ctx context.Context, cursor string) ([]SocialPost, string, error)
	// Publish posts publicly on the company account. A retry with the
	// same Key does not post twice where the network lets the caller name
	// the post (Bluesky's record key, Mastodon's Idempotency-Key). When no
	// answer came, the error wraps ErrOutcomeUnknown.
	Publish(ctx context.Context, r PublishRequest) (*SocialPost, error)
	// Published looks for the post an earlier attempt with the same
	// request may have created; nil and no error when there is none.
	Published(ctx context.Context, r PublishRequest) (*SocialPost, error)
	// Send writes to one person: a direct message (direct) or a public
	// mention, optionally in reply to a post.
	Send(ctx context.Context, to, text string, direct bool, inReplyTo string) (*SocialPost, error)
	// Stream calls fn with public posts that contain any of the keywords
	// until ctx ends.
	Stream(ctx context.Context, keywords []string, fn func(SocialPost)) error
}

// StreamResumer is a Connector whose stream can resume: StreamSince is
// Stream, except that its first poll also delivers the public posts made
// after since (as far back as the network's pages reach), so that a stream
// started again after a restart catches up on what it missed. Posts may
// come twice; the listening gate counts each once.
type StreamResumer interface {
	StreamSince(ctx context.Context, keywords []string, since time.Time, fn func(SocialPost)) error
}

// ErrConnector marks a failure of the network (a timeout, an answer that is
// not what the protocol says). The channel stays usable.
type ErrConnector struct {
	Network string
	Op      string
	Err     error
}

// ErrNotSupported, wrapped in an ErrConnector, says the network (or its
// connector) cannot do what was asked, e.g. direct messages on Bluesky.
// Asking again will not help; the answer says what to do instead.
var ErrNotSupported = errors.New("not supported on this network")

// ErrOutcomeUnknown, wrapped in an ErrConnector, says a request that
// changes something got no answer that tells whether it took effect: a
// timeout, a connection cut, a server error (5xx), an answer that could not
// be read. Only a refusal (4xx) is a definite failure.
var ErrOutcomeUnknown = errors.New("the outcome is unknown")

func (e *ErrConnector) Error() string { return e.Network + ": " + e.Op + ": " + e.Err.Error() }
func (e *ErrConnector) Unwrap() error { return e.Err }

// SocialChannel is a company account on a social network.
type SocialChannel struct {
	ID        string    `json:"id"`
	Network   string    `json:"network"`
	Name      string    `json:"name"`    // a label, e.g. "Support on Mastodon"
	Account   string    `json:"account"` // the company account's handle
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SocialChannelRow is a channel as the store keeps it.
type SocialChannelRow struct {
	SocialChannel
	Credentials []byte // sealed under the channel's data key
	InboxCursor string
	Sealing
}

// SocialChannelRequest creates a channel; Credentials are the connector's own
// (for Mastodon: server, client id and secret, access token).
type SocialChannelRequest struct {
	Network     string          `json:"network"`
	Name        string          `json:"name"`
	Credentials json.RawMessage `json:"credentials"`
}

// Check reports what is wrong with the request (a validation_failed
// error), before any network is asked.
func (r SocialChannelRequest) Check() error {
	var p Problems
	if !ValidNetwork(r.Network) {
		p.Add("network", "%q is not a network Tresor knows", r.Network)
	}
	if name := strings.TrimSpace(r.Name); name == "" || utf8.RuneCountInString(name) > 100 {
		p.Add("name", "give the channel a name of up to 100 characters")
	}
	if len(r.Credentials) == 0 {
		p.Add("credentials", "are required")
	}
	return p.Err("channel")
}

// Post is a post of the company on one of its channels.
type Post struct {
	ID          string     `json:"id"`
	ChannelID   string     `json:"channel_id"`
	Text        string     `json:"text"`
	PublishAt   time.Time  `json:"publish_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	RemoteID    string     `json:"remote_id,omitempty"`
	URL         string     `json:"url,omitempty"`
	Error       string     `json:"error,omitempty"`
	// Unconfirmed says why the last attempt to publish has no known
	// outcome (no answer came); the next run looks for the post on the
	// network before it tries again.
	Unconfirmed string    `json:"unconfirmed,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// Key is the post's identity on the network (see PublishRequest),
	// Attempts how often it was sent, AttemptedAt when first.
	Key         string     `json:"-"`
	Attempts    int        `json:"-"`
	AttemptedAt *time.Time `json:"-"`
}

// PostQuery selects posts.
type PostQuery struct {
	ChannelID string
	DueBefore time.Time // unpublished and due before this time
	Page
}

// SocialSend is a message to one person on a channel: a direct message or
// a public mention, advertising or not.
type SocialSend struct {
	ChannelID   string `json:"channel_id"`
	ContactID   string `json:"contact_id"`
	Text        string `json:"text"`
	Direct      bool   `json:"direct"`
	Advertising bool   `json:"advertising"`
	InReplyTo   string `json:"in_reply_to,omitempty"`
}

// InboxReport says what reading a channel's inbox did.
type InboxReport struct {
	Read         int            `json:"read"`
	Interactions int            `json:"interactions"` // mentions by known contacts
	Cases        int            `json:"cases"`        // direct messages, and mentions by unknown people
	Dropped      map[string]int `json:"dropped"`      // content not stored, by reason
}

// SocialService runs the company's social channels through the gate.
type SocialService interface {
	CreateChannel(ctx context.Context, r SocialChannelRequest) (*SocialChannel, error)
	Channels(ctx context.Context) ([]SocialChannel, error)
	DeleteChannel(ctx context.Context, id string) error
	// SchedulePost publishes now (PublishAt zero or past) or later.
	SchedulePost(ctx context.Context, p *Post) (*Post, error)
	Posts(ctx context.Context, q PostQuery) (*List[*Post], error)
	// SendSocial writes to one person, through the outbound gate.
	SendSocial(ctx context.Context, s SocialSend) (*ReachDecision, error)
	// PollInbox reads a channel's mentions and direct messages.
	PollInbox(ctx context.Context, channelID string) (*InboxReport, error)
	// SocialProfile reads a public profile, screened like an import.
	SocialProfile(ctx context.Context, channelID, handle string) (*SocialProfile, []string, error)
}

// PublishRequest is a company post to publish.
type PublishRequest struct {
	// Key is the post's identity, chosen before the first attempt and the
	// same on every retry (see NewPostKey).
	Key  string
	Text string
	// Since is when the first attempt began (zero: this is the first).
	// A network that cannot look a post up by its key searches from here.
	Since time.Time
}

// postKeyAlphabet is the sortable base32 of AT Protocol timestamp ids.
const postKeyAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// NewPostKey returns a new key for a post: a timestamp id of 13
// characters (53 bits of microseconds since 1970, 10 bits of clock), which
// the AT Protocol takes as a record key and Mastodon as an
// Idempotency-Key. clock tells apart keys made in the same microsecond.
func NewPostKey(t time.Time, clock uint16) string {
	v := uint64(t.UnixMicro())&(1<<53-1)<<10 | uint64(clock&0x3ff)
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = postKeyAlphabet[v&0x1f]
		v >>= 5
	}
	return string(b[:])
}
