// Package mastodon is the connector to Mastodon and to servers that speak
// its client API (GoToSocial, Akkoma, Pleroma, …), built on
// github.com/mattn/go-mastodon.
//
// Handles are "@user@host" in lower case; a local account in a server's
// answer (an acct without "@host") gets the host of the server's URL.
// Every failure of the network is a *tresor.ErrConnector whose message
// holds no credentials; invalid input is a *tresor.Error.
package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	mstdn "github.com/mattn/go-mastodon"

	"tresor"
)

// Network is the network's id.
const Network = "mastodon"

const (
	defaultPollInterval = 30 * time.Second
	pageSize            = 40 // notifications and statuses per request
	maxStreamPages      = 10 // pages per tag and poll, when many posts arrived
	recentIDs           = 4096
)

// Credentials reach the company account. The gate stores them sealed.
type Credentials struct {
	Server       string `json:"server"` // base URL, e.g. https://social.example
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	AccessToken  string `json:"access_token"`
}

// Options tune the connector.
type Options struct {
	// HTTPClient sends the requests (nil: a client with a 15 s timeout).
	// The connector uses a copy whose transport bounds every answer.
	HTTPClient *http.Client
	// PollInterval is how often Stream polls (0: 30 s).
	PollInterval time.Duration
}

// Connector is the tresor.Connector for one Mastodon account.
type Connector struct {
	client  *mstdn.Client
	host    string // the server's host[:port], for local accounts
	secrets []string
	poll    time.Duration
}

var _ tresor.Connector = (*Connector)(nil)

// New returns the connector for the account the credentials reach. It
// sends no request.
func New(c Credentials, opt Options) (*Connector, error) {
	server, host, err := parseServer(c.Server)
	if err != nil {
		return nil, err
	}
	if c.AccessToken == "" {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "The Mastodon credentials have no access token; register the application and authorize it first.")
	}
	poll := opt.PollInterval
	if poll <= 0 {
		poll = defaultPollInterval
	}
	client := mstdn.NewClient(&mstdn.Config{
		Server: server, ClientID: c.ClientID, ClientSecret: c.ClientSecret, AccessToken: c.AccessToken,
	})
	client.Client = *newHTTPClient(opt.HTTPClient)
	client.UserAgent = "tresor"
	return &Connector{
		client:  client,
		host:    host,
		secrets: []string{c.AccessToken, c.ClientSecret},
		poll:    poll,
	}, nil
}

// parseServer checks a server's base URL and returns it without a trailing
// slash, and its host. A URL without a scheme gets https.
func parseServer(s string) (server, host string, err error) {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, perr := url.Parse(s)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || !validHost(strings.ToLower(u.Host)) {
		return "", "", tresor.Errorf(tresor.ECInvalidParameter, "The Mastodon server must be a URL such as https://social.example.")
	}
	return strings.TrimRight(u.String(), "/"), strings.ToLower(u.Host), nil
}

// Network returns "mastodon".
func (c *Connector) Network() string { return Network }

// Kind returns tresor.KindMixed: people use Mastodon for work and privately.
func (c *Connector) Kind() tresor.NetworkKind { return tresor.KindMixed }

func (c *Connector) fail(op string, err error) error {
	return connectorError(op, err, c.secrets...)
}

// Account returns the company account's handle (verify_credentials).
func (c *Connector) Account(ctx context.Context) (string, error) {
	a, err := c.client.GetAccountCurrentUser(ctx)
	if err != nil {
		return "", c.fail("account", err)
	}
	h := handleOf(a.Acct, c.host)
	if h == "" {
		return "", c.fail("account", errors.New("verify_credentials answered without an acct"))
	}
	return h, nil
}

// Profile reads the public profile of a handle: GET
// /api/v1/accounts/lookup, or, where the server lacks it (404), an account
// search without resolving remote accounts. An unknown handle is a
// tresor.ECNotFound error.
func (c *Connector) Profile(ctx context.Context, handle string) (*tresor.SocialProfile, error) {
	h, err := NormalizeHandle(handle, c.host)
	if err != nil {
		return nil, err
	}
	user, host, _ := strings.Cut(h[1:], "@")
	acct := user + "@" + host
	if host == c.host {
		acct = user // servers know their local accounts by username
	}
	a, err := c.client.AccountLookup(ctx, acct)
	if statusCode(err) == http.StatusNotFound {
		a, err = c.search(ctx, acct, h)
	}
	if err != nil {
		if sc := statusCode(err); sc == http.StatusNotFound || sc == http.StatusGone {
			return nil, tresor.Errorf(tresor.ECNotFound, "The Mastodon server knows no account with this handle.")
		}
		return nil, c.fail("profile", err)
	}
	if got := handleOf(a.Acct, c.host); got != h {
		return nil, c.fail("profile", errors.New("the server answered with another account than the one asked for"))
	}
	p := &tresor.SocialProfile{
		Network:     Network,
		Handle:      h,
		DisplayName: strings.TrimSpace(a.DisplayName),
		Bio:         htmlText(a.Note),
		URL:         a.URL,
		Locked:      a.Locked,
		Bot:         a.Bot,
	}
	for _, f := range a.Fields {
		p.Fields = append(p.Fields, tresor.ProfileField{Name: htmlText(f.Name), Value: htmlText(f.Value)})
	}
	return p, nil
}

// search finds the account with exactly the handle h among the server's
// known accounts (GET /api/v1/accounts/search, resolve=false). No match
// is an error with status 404.
func (c *Connector) search(ctx context.Context, acct, h string) (*mstdn.Account, error) {
	as, err := c.client.AccountsSearchResolve(ctx, acct, 5, false)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a != nil && handleOf(a.Acct, c.host) == h {
			return a, nil
		}
	}
	return nil, &mstdn.APIError{StatusCode: http.StatusNotFound}
}

// statusCode returns the HTTP status of a non-2xx answer, or 0.
func statusCode(err error) int {
	var ae *mstdn.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// otherNotifications are the notification types other than "mention"
// (Mastodon's and GoToSocial's); Inbox filters what a server sends anyway.
var otherNotifications = []string{
	"follow", "follow_request", "favourite", "reblog", "poll", "status", "update",
	"admin.sign_up", "admin.report", "severed_relationships", "moderation_warning",
	"pending.favourite", "pending.reply", "pending.reblog",
}

// Inbox lists the mentions of the company account after the cursor, the
// id of the last notification seen ("" for the newest page): notifications
// of type "mention", which include direct messages (visibility direct).
// It returns one page (up to 40), oldest first, and the highest
// notification id seen (the old cursor if there is none); call again with
// it until no posts come back.
func (c *Connector) Inbox(ctx context.Context, cursor string) ([]tresor.SocialPost, string, error) {
	pg := &mstdn.Pagination{Limit: pageSize}
	if cursor != "" {
		pg.MinID = mstdn.ID(cursor) // the page right after the cursor
	}
	// go-mastodon sends types[] only through an iterator that pages on
	// into older notifications; exclude_types[] is older and more widely
	// supported anyway.
	ns, err := c.client.GetNotificationsExclude(ctx, &otherNotifications, pg)
	if err != nil {
		return nil, cursor, c.fail("inbox", err)
	}
	next := mstdn.ID(cursor)
	for _, n := range ns {
		if n != nil && n.ID.Compare(next) > 0 {
			next = n.ID
		}
	}
	ns = slices.DeleteFunc(ns, func(n *mstdn.Notification) bool {
		// A server may ignore types[]; the cursor moves past what it skips.
		return n == nil || n.ID == "" || n.Type != "mention" || n.Status == nil || n.Status.ID == "" ||
			(cursor != "" && n.ID.Compare(mstdn.ID(cursor)) <= 0)
	})
	slices.SortFunc(ns, func(a, b *mstdn.Notification) int { return a.ID.Compare(b.ID) })
	posts := make([]tresor.SocialPost, 0, len(ns))
	for _, n := range ns {
		p := c.post(n.Status)
		p.ToCompany = true
		posts = append(posts, p)
	}
	return posts, string(next), nil
}

// Publish posts r.Text publicly on the company account. The request
// carries r.Key as its Idempotency-Key, so that Mastodon answers a retry
// with the post of the first attempt instead of posting twice. Servers that
// ignore the header (GoToSocial does) post again: call Published first.
func (c *Connector) Publish(ctx context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	if strings.TrimSpace(r.Text) == "" {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "A post needs text.")
	}
	s, err := c.client.PostStatus(withIdempotencyKey(ctx, r.Key), &mstdn.Toot{Status: r.Text, Visibility: mstdn.VisibilityPublic})
	if err != nil {
		return nil, c.fail("publish", err)
	}
	p := c.post(s)
	return &p, nil
}

// publishedSlack is how much earlier than the first attempt a post may
// carry its time: the server's clock may be behind ours.
const publishedSlack = 5 * time.Minute

// Published looks for the post of r among the newest statuses of the
// company account: a public status with the same text, created since the
// first attempt (the oldest such). Mastodon's API cannot find a status by
// its Idempotency-Key.
func (c *Connector) Published(ctx context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	a, err := c.client.GetAccountCurrentUser(ctx)
	if err != nil {
		return nil, c.fail("published", err)
	}
	ss, err := c.client.GetAccountStatuses(ctx, a.ID, &mstdn.Pagination{Limit: pageSize})
	if err != nil {
		return nil, c.fail("published", err)
	}
	want := strings.Join(strings.Fields(r.Text), " ")
	var found *tresor.SocialPost
	for _, s := range ss {
		if s == nil || s.ID == "" || s.Reblog != nil || s.Visibility != mstdn.VisibilityPublic ||
			(!r.Since.IsZero() && s.CreatedAt.Before(r.Since.Add(-publishedSlack))) {
			continue
		}
		p := c.post(s)
		if strings.Join(strings.Fields(p.Text), " ") == want && (found == nil || p.CreatedAt.Before(found.CreatedAt)) {
			found = &p
		}
	}
	return found, nil
}

// Send writes to one person: a status that starts with the mention of to
// ("@user@host text"), visible only to the mentioned accounts when direct
// and public otherwise, in reply to the post inReplyTo if it is not "".
func (c *Connector) Send(ctx context.Context, to, text string, direct bool, inReplyTo string) (*tresor.SocialPost, error) {
	h, err := NormalizeHandle(to, c.host)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "A message needs text.")
	}
	toot := &mstdn.Toot{Status: h + " " + text, Visibility: mstdn.VisibilityPublic, InReplyToID: mstdn.ID(inReplyTo)}
	if direct {
		toot.Visibility = mstdn.VisibilityDirectMessage
	}
	s, err := c.client.PostStatus(ctx, toot)
	if err != nil {
		return nil, c.fail("send", err)
	}
	p := c.post(s)
	return &p, nil
}

// Stream polls the hashtag timeline of each keyword (GET
// /api/v1/timelines/tag/:tag, without '#') every PollInterval and calls fn
// once for each new public post. The first poll of a tag only records
// where the timeline stands; posts from before Stream began are not
// replayed. A failed poll is tried again at the next interval, except when
// the server refuses the credentials (401, 403): then Stream returns that
// error. Otherwise it returns ctx.Err() when ctx ends.
func (c *Connector) Stream(ctx context.Context, keywords []string, fn func(tresor.SocialPost)) error {
	return c.StreamSince(ctx, keywords, time.Time{}, fn)
}

// StreamSince is Stream, except that the first poll of each tag delivers
// the public statuses created after since (up to maxStreamPages pages
// back) instead of only recording where the timeline stands.
func (c *Connector) StreamSince(ctx context.Context, keywords []string, since time.Time, fn func(tresor.SocialPost)) error {
	tags, err := hashtags(keywords)
	if err != nil {
		return err
	}
	last := make(map[string]mstdn.ID, len(tags)) // highest id seen per tag
	started := make(map[string]bool, len(tags))  // the first poll succeeded
	seen := newRecent(recentIDs)                 // posts already given to fn (a post may carry several tags)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		for _, tag := range tags {
			var statuses []*mstdn.Status
			var err error
			if !started[tag] && !since.IsZero() {
				var newest mstdn.ID
				statuses, newest, err = c.catchUp(ctx, tag, since)
				if err == nil {
					started[tag] = true // deliver what it found
					last[tag] = newest
				}
			} else {
				statuses, err = c.pollTag(ctx, tag, last[tag], started[tag])
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				if sc := statusCode(err); sc == http.StatusUnauthorized || sc == http.StatusForbidden {
					return c.fail("stream", err)
				}
				continue
			}
			for _, s := range statuses {
				if s.ID.Compare(last[tag]) > 0 {
					last[tag] = s.ID
				}
				if !started[tag] || s.Visibility != mstdn.VisibilityPublic || !seen.add(string(s.ID)) {
					continue
				}
				fn(c.post(s))
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			started[tag] = true
		}
		timer.Reset(c.poll)
	}
}

// pollTag returns the statuses of a tag's timeline after the id since,
// oldest first: on the first poll the newest page, later every page after
// since (up to maxStreamPages). A tag the server does not know yet (404)
// has no statuses.
func (c *Connector) pollTag(ctx context.Context, tag string, since mstdn.ID, started bool) ([]*mstdn.Status, error) {
	var all []*mstdn.Status
	for range maxStreamPages {
		pg := &mstdn.Pagination{Limit: pageSize, MinID: since}
		page, err := c.client.GetTimelineHashtag(ctx, tag, false, pg)
		if statusCode(err) == http.StatusNotFound {
			break
		}
		if err != nil {
			return nil, err
		}
		page = slices.DeleteFunc(page, func(s *mstdn.Status) bool {
			return s == nil || s.ID == "" || (since != "" && s.ID.Compare(since) <= 0)
		})
		slices.SortFunc(page, func(a, b *mstdn.Status) int { return a.ID.Compare(b.ID) })
		all = append(all, page...)
		if !started || since == "" || len(page) < pageSize {
			break
		}
		since = page[len(page)-1].ID
	}
	return all, nil
}

// catchUp returns the statuses of a tag's timeline created after since,
// oldest first, paging back from the newest (up to maxStreamPages), and
// the newest id of the timeline.
func (c *Connector) catchUp(ctx context.Context, tag string, since time.Time) ([]*mstdn.Status, mstdn.ID, error) {
	var all []*mstdn.Status
	var maxID, newest mstdn.ID
	for range maxStreamPages {
		page, err := c.client.GetTimelineHashtag(ctx, tag, false, &mstdn.Pagination{Limit: pageSize, MaxID: maxID})
		if statusCode(err) == http.StatusNotFound {
			break
		}
		if err != nil {
			return nil, "", err
		}
		older := false
		for _, s := range page {
			if s == nil || s.ID == "" {
				continue
			}
			if maxID == "" || s.ID.Compare(maxID) < 0 {
				maxID = s.ID
			}
			if s.ID.Compare(newest) > 0 {
				newest = s.ID
			}
			if s.CreatedAt.After(since) {
				all = append(all, s)
			} else {
				older = true
			}
		}
		if older || len(page) < pageSize {
			break
		}
	}
	slices.SortFunc(all, func(a, b *mstdn.Status) int { return a.ID.Compare(b.ID) })
	return all, newest, nil
}

// hashtags turns keywords into distinct tag names: without '#', in lower
// case, letters, digits and '_' only.
func hashtags(keywords []string) ([]string, error) {
	var tags []string
	for _, k := range keywords {
		k = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), "#"))
		if k == "" || len(k) > 100 || strings.IndexFunc(k, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) && r != '_'
		}) >= 0 {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "A Mastodon keyword is a hashtag: letters, digits and _ only, such as #acme.")
		}
		if !slices.Contains(tags, k) {
			tags = append(tags, k)
		}
	}
	if len(tags) == 0 {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "Streaming needs at least one keyword.")
	}
	return tags, nil
}

// post maps a status. A content warning comes before the text, separated
// by an empty line.
func (c *Connector) post(s *mstdn.Status) tresor.SocialPost {
	text := htmlText(s.Content)
	if cw := strings.TrimSpace(s.SpoilerText); cw != "" {
		text = strings.TrimSpace(cw + "\n\n" + text)
	}
	p := tresor.SocialPost{
		ID:         string(s.ID),
		Network:    Network,
		Author:     handleOf(s.Account.Acct, c.host),
		Text:       text,
		Visibility: visibility(s.Visibility),
		Language:   s.Language,
		URL:        s.URL,
		CreatedAt:  s.CreatedAt,
		InReplyTo:  idString(s.InReplyToID),
	}
	if p.URL == "" {
		p.URL = s.URI
	}
	for _, m := range s.Mentions {
		if h := handleOf(m.Acct, c.host); h != "" && !slices.Contains(p.Mentions, h) {
			p.Mentions = append(p.Mentions, h)
		}
	}
	return p
}

// visibility maps Mastodon's visibility; one it does not know (such as
// GoToSocial's mutuals_only) counts as followers-only, never as public.
func visibility(v string) tresor.PostVisibility {
	switch v {
	case mstdn.VisibilityPublic:
		return tresor.PostPublic
	case mstdn.VisibilityUnlisted:
		return tresor.PostUnlisted
	case mstdn.VisibilityDirectMessage:
		return tresor.PostDirect
	default:
		return tresor.PostFollowers
	}
}

// idString turns an id that go-mastodon leaves untyped (a string or a
// number in JSON) into a string.
func idString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// recent is a bounded set of ids, forgetting the oldest.
type recent struct {
	set  map[string]bool
	ring []string
	next int
}

func newRecent(n int) *recent { return &recent{set: make(map[string]bool, n), ring: make([]string, n)} }

// add reports whether id is new, and remembers it.
func (r *recent) add(id string) bool {
	if r.set[id] {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.set[id] = true
	return true
}
