// Package bluesky is the connector for Bluesky and other services of the AT
// Protocol. It speaks XRPC through indigo's client and lexicon types.
//
// The connector logs in with an app password (com.atproto.server.createSession)
// and renews the session when the access token expires
// (com.atproto.server.refreshSession, or a new login when the refresh token
// has expired too). It never sends direct messages: Bluesky's chat is not
// part of this connector, so Send with direct=true is refused.
//
// Every failure of the network is a *tresor.ErrConnector whose message holds
// neither the app password nor a token; every answer is read up to
// MaxResponseBytes.
package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bluesky-social/indigo/api/bsky"
	"github.com/bluesky-social/indigo/atproto/syntax"

	"tresor"
)

// Network is the network's id.
const Network = "bluesky"

// DefaultService is the service logged in to when Credentials.Service is
// empty.
const DefaultService = "https://bsky.social"

// WebURL is the web client that post and profile URLs point to.
const WebURL = "https://bsky.app"

// MaxResponseBytes bounds the size of one answer of the service.
const MaxResponseBytes = 8 << 20

// Defaults of Options.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultPollInterval = 30 * time.Second
)

// Credentials are what a channel stores to reach its account.
type Credentials struct {
	// Service is the base URL of the account's PDS or entryway
	// (DefaultService when empty).
	Service string `json:"service"`
	// Handle is the account's handle (or DID, or e-mail address), with or
	// without a leading "@".
	Handle string `json:"handle"`
	// AppPassword is an app password of the account, never its main
	// password.
	AppPassword string `json:"app_password"`
}

// String shows the credentials without the app password.
func (c Credentials) String() string {
	return fmt.Sprintf("bluesky.Credentials{Service:%q Handle:%q AppPassword:<redacted>}", c.Service, c.Handle)
}

// GoString is String: %#v does not show the app password either.
func (c Credentials) GoString() string { return c.String() }

// ParseCredentials reads credentials stored as JSON and checks them.
func ParseCredentials(b []byte) (Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Credentials{}, fmt.Errorf("bluesky credentials: %w", err)
	}
	if _, err := c.normalized(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// normalized checks the credentials and returns them with the defaults set,
// the service URL without a trailing slash and the handle without "@".
func (c Credentials) normalized() (Credentials, error) {
	c.Handle = strings.TrimLeft(strings.TrimSpace(c.Handle), "@")
	if c.Handle == "" {
		return c, errors.New("bluesky credentials: the handle is missing")
	}
	if c.AppPassword == "" {
		return c, errors.New("bluesky credentials: the app password is missing")
	}
	c.Service = strings.TrimSpace(c.Service)
	if c.Service == "" {
		c.Service = DefaultService
	}
	u, err := url.Parse(c.Service)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("bluesky credentials: the service %q is not an http(s) URL", c.Service)
	}
	c.Service = strings.TrimRight(c.Service, "/")
	return c, nil
}

// Options tune a connector.
type Options struct {
	// HTTPClient sends the requests (nil: a client with a 15 s timeout). The
	// connector uses a copy whose transport bounds the size of answers.
	HTTPClient *http.Client
	// PollInterval is how often Stream searches (default 30 s).
	PollInterval time.Duration
	// InboxWindow is how far before the newest notification read Inbox
	// reads again, for mentions the service sorts in late (default
	// DefaultInboxWindow, a day).
	InboxWindow time.Duration
	// Langs are the languages (BCP 47) declared on the posts written;
	// none when empty.
	Langs []string
	// Logger receives the failures Stream skips over (nil: none).
	Logger *slog.Logger
}

// Connector is a Bluesky account. It is safe for concurrent use.
type Connector struct {
	creds    Credentials
	http     *http.Client
	interval time.Duration
	window   time.Duration
	langs    []string
	log      *slog.Logger

	mu      sync.Mutex // guards sess and secrets
	sess    session
	secrets []string // tokens issued to this connector, kept out of errors

	renewMu sync.Mutex // one renewal at a time
}

// session is the state of a login.
type session struct {
	did, handle     string
	access, refresh string
}

var _ tresor.Connector = (*Connector)(nil)

// New logs in to the service and returns the connector of the account.
func New(ctx context.Context, c Credentials, opt Options) (*Connector, error) {
	c, err := c.normalized()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: DefaultTimeout}
	if opt.HTTPClient != nil {
		cp := *opt.HTTPClient
		hc = &cp
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &limitTransport{base: base, max: MaxResponseBytes}
	interval := opt.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	window := opt.InboxWindow
	if window <= 0 {
		window = DefaultInboxWindow
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn := &Connector{creds: c, http: hc, interval: interval, window: window, langs: append([]string(nil), opt.Langs...), log: log}
	if err := conn.login(ctx); err != nil {
		return nil, conn.fail("login", err)
	}
	return conn, nil
}

// Network returns "bluesky".
func (c *Connector) Network() string { return Network }

// Kind returns tresor.KindMixed.
func (c *Connector) Kind() tresor.NetworkKind { return tresor.KindMixed }

// Account returns the handle of the logged-in account, as "@handle".
func (c *Connector) Account(ctx context.Context) (string, error) {
	s := c.current()
	return "@" + strings.ToLower(s.handle), nil
}

// Profile reads the public profile of a handle ("@alice.bsky.social",
// "alice.bsky.social", "bluesky:alice.bsky.social" or a DID).
func (c *Connector) Profile(ctx context.Context, handle string) (*tresor.SocialProfile, error) {
	id, err := syntax.ParseAtIdentifier(bareHandle(handle))
	if err != nil {
		return nil, fmt.Errorf("bluesky: %q is neither a handle nor a DID", handle)
	}
	p, err := bsky.ActorGetProfile(ctx, c.api(), id.String())
	if err != nil {
		return nil, c.fail("profile", err)
	}
	if p.Did == "" || p.Handle == "" {
		return nil, c.fail("profile", errors.New("the answer has no account"))
	}
	sp := &tresor.SocialProfile{
		Network: Network,
		Handle:  "@" + strings.ToLower(p.Handle),
		URL:     profileURL(p.Handle, p.Did),
	}
	if p.DisplayName != nil {
		sp.DisplayName = *p.DisplayName
	}
	if p.Description != nil {
		sp.Bio = *p.Description
	}
	for _, l := range p.Labels {
		if l != nil && l.Val == "bot" && (l.Neg == nil || !*l.Neg) {
			sp.Bot = true
		}
	}
	return sp, nil
}

// bareHandle removes a "bluesky:" prefix (as tresor.NormalizeHandle writes
// it), leading "@" and surrounding space, and lower-cases a handle.
func bareHandle(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > len(Network)+1 && strings.EqualFold(h[:len(Network)+1], Network+":") {
		h = h[len(Network)+1:]
	}
	h = strings.TrimLeft(h, "@")
	if strings.HasPrefix(h, "did:") {
		return h
	}
	return strings.ToLower(h)
}

// profileURL is the web address of a profile: by handle, or by DID where
// the handle does not resolve.
func profileURL(handle, did string) string {
	h, err := syntax.ParseHandle(handle)
	if err != nil || h.IsInvalidHandle() {
		return WebURL + "/profile/" + url.PathEscape(did)
	}
	return WebURL + "/profile/" + strings.ToLower(handle)
}

// postURL is the web address of a post of the account handle (or did).
func postURL(handle, did, uri string) string {
	u, err := syntax.ParseATURI(uri)
	if err != nil {
		return ""
	}
	rkey := u.RecordKey().String()
	if rkey == "" {
		return ""
	}
	return profileURL(handle, did) + "/post/" + url.PathEscape(rkey)
}
