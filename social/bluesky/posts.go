package bluesky

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluesky-social/indigo/api/atproto"
	"github.com/bluesky-social/indigo/api/bsky"
	"github.com/bluesky-social/indigo/atproto/syntax"
	lexutil "github.com/bluesky-social/indigo/lex/util"
	"github.com/bluesky-social/indigo/xrpc"

	"tresor"
)

// postCollection is the collection of posts.
const postCollection = "app.bsky.feed.post"

// ErrDirect is why Send refuses a direct message.
var ErrDirect = fmt.Errorf("direct messages are not supported on Bluesky by this connector; write a public mention instead (%w)", tresor.ErrNotSupported)

// Publish posts r.Text publicly on the account, as the record whose key
// is r.Key (a timestamp id): a second attempt with the same key cannot
// create a second post. The service refuses to create a record whose key
// exists (older PDS releases answer 500), so after any error Publish reads
// the record back and takes it if it holds the same text.
func (c *Connector) Publish(ctx context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	if strings.TrimSpace(r.Text) == "" {
		return nil, errors.New("bluesky: the post is empty")
	}
	rkey, err := recordKey(r.Key)
	if err != nil {
		return nil, err
	}
	return c.post(ctx, "publish", &bsky.FeedPost{Text: r.Text}, "", nil, rkey)
}

// Published reads the record of r.Key (com.atproto.repo.getRecord); nil
// when there is none.
func (c *Connector) Published(ctx context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	rkey, err := recordKey(r.Key)
	if err != nil {
		return nil, err
	}
	p, err := c.record(ctx, rkey)
	if err != nil {
		return nil, c.failUnknown("published", err)
	}
	return p, nil
}

// recordKey checks a post's key; "" gets a new one.
func recordKey(key string) (string, error) {
	if key == "" {
		return syntax.NewTIDNow(0).String(), nil
	}
	if _, err := syntax.ParseTID(key); err != nil {
		return "", fmt.Errorf("bluesky: the post's key %q is not a timestamp id", key)
	}
	return key, nil
}

// record reads the post of the account with the record key; nil when there
// is none.
func (c *Connector) record(ctx context.Context, rkey string) (*tresor.SocialPost, error) {
	s := c.current()
	out, err := atproto.RepoGetRecord(ctx, c.api(), "", postCollection, s.did, rkey)
	var re *xrpc.XRPCError
	if errors.As(err, &re) && re.ErrStr == "RecordNotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec *bsky.FeedPost
	if out.Value != nil {
		rec, _ = out.Value.Val.(*bsky.FeedPost)
	}
	if rec == nil {
		return nil, errors.New("the record is not a post")
	}
	if _, err := syntax.ParseATURI(out.Uri); err != nil {
		return nil, errors.New("the answer has no valid URI of the post")
	}
	created, _ := syntax.ParseDatetimeLenient(rec.CreatedAt)
	s = c.current()
	return &tresor.SocialPost{
		ID:         out.Uri,
		Network:    Network,
		Author:     "@" + strings.ToLower(s.handle),
		Text:       rec.Text,
		Visibility: tresor.PostPublic,
		URL:        postURL(s.handle, s.did, out.Uri),
		CreatedAt:  created.Time(),
	}, nil
}

// failUnknown is fail for a request whose outcome is unknown unless the
// service refused it (4xx): the error then wraps tresor.ErrOutcomeUnknown.
func (c *Connector) failUnknown(op string, err error) error {
	var xe *xrpc.Error
	if errors.As(err, &xe) && xe.StatusCode >= 400 && xe.StatusCode < 500 {
		return c.fail(op, err)
	}
	var te *tresor.Error
	if errors.As(err, &te) {
		return err
	}
	return c.fail(op, &unknownOutcome{c.sanitize(err)})
}

// unknownOutcome is an error after which it is not known whether the
// request took effect.
type unknownOutcome struct{ err error }

func (e *unknownOutcome) Error() string   { return e.err.Error() }
func (e *unknownOutcome) Unwrap() []error { return []error{tresor.ErrOutcomeUnknown, e.err} }

// Send writes to one person. Bluesky has no direct messages here: direct
// is refused with an *tresor.ErrConnector wrapping ErrDirect. Otherwise it
// posts a public mention of to (a handle, with or without "@" or
// "bluesky:"): text keeps an "@handle" it already has, or gets one in front,
// and the mention is marked with a facet that names the person's DID. With
// inReplyTo (the at:// URI of a post) the mention answers that post in its
// thread.
func (c *Connector) Send(ctx context.Context, to, text string, direct bool, inReplyTo string) (*tresor.SocialPost, error) {
	if direct {
		return nil, &tresor.ErrConnector{Network: Network, Op: "send", Err: ErrDirect}
	}
	h, err := syntax.ParseHandle(bareHandle(to))
	if err != nil {
		return nil, fmt.Errorf("bluesky: %q is not a handle", to)
	}
	handle := h.Normalize().String()
	var parent syntax.ATURI
	if inReplyTo != "" {
		parent, err = syntax.ParseATURI(inReplyTo)
		if err != nil || parent.Collection().String() != postCollection || parent.RecordKey() == "" {
			return nil, fmt.Errorf("bluesky: %q is not the at:// URI of a post", inReplyTo)
		}
	}
	res, err := atproto.IdentityResolveHandle(ctx, c.api(), handle)
	if err != nil {
		return nil, c.fail("send", err)
	}
	if _, err := syntax.ParseDID(res.Did); err != nil {
		return nil, c.fail("send", fmt.Errorf("the handle resolved to %q, which is not a DID", res.Did))
	}
	var reply *bsky.FeedPost_ReplyRef
	if parent != "" {
		if reply, err = c.replyRef(ctx, parent); err != nil {
			return nil, c.fail("send", err)
		}
	}
	text, start, end := withMention(text, handle)
	rec := &bsky.FeedPost{
		Text: text,
		Facets: []*bsky.RichtextFacet{{
			Index:    &bsky.RichtextFacet_ByteSlice{ByteStart: int64(start), ByteEnd: int64(end)},
			Features: []*bsky.RichtextFacet_Features_Elem{{RichtextFacet_Mention: &bsky.RichtextFacet_Mention{Did: res.Did}}},
		}},
		Reply: reply,
	}
	return c.post(ctx, "send", rec, inReplyTo, []string{"@" + handle}, "")
}

// post creates a post record of the account, under the record key rkey
// ("": the service chooses one).
func (c *Connector) post(ctx context.Context, op string, rec *bsky.FeedPost, inReplyTo string, mentions []string, rkey string) (*tresor.SocialPost, error) {
	now := time.Now().UTC()
	rec.CreatedAt = now.Format(syntax.AtprotoDatetimeLayout)
	if len(c.langs) > 0 {
		rec.Langs = append([]string(nil), c.langs...)
	}
	s := c.current()
	in := &atproto.RepoCreateRecord_Input{
		Repo:       s.did,
		Collection: postCollection,
		Record:     &lexutil.LexiconTypeDecoder{Val: rec},
	}
	if rkey != "" {
		in.Rkey = &rkey
	}
	out, err := atproto.RepoCreateRecord(ctx, c.api(), in)
	if err != nil && rkey != "" {
		// An earlier attempt may have created it; then this one is refused
		// or fails. The record holds the same text if it is ours.
		if p, rerr := c.record(ctx, rkey); rerr == nil && p != nil && p.Text == rec.Text {
			return p, nil
		}
		return nil, c.failUnknown(op, err)
	}
	if err != nil {
		return nil, c.fail(op, err)
	}
	if _, err := syntax.ParseATURI(out.Uri); err != nil {
		return nil, c.fail(op, errors.New("the answer has no valid URI of the post"))
	}
	s = c.current() // a renewal may have brought a new handle
	return &tresor.SocialPost{
		ID:         out.Uri,
		Network:    Network,
		Author:     "@" + strings.ToLower(s.handle),
		Text:       rec.Text,
		Visibility: tresor.PostPublic,
		URL:        postURL(s.handle, s.did, out.Uri),
		CreatedAt:  now.Truncate(time.Millisecond),
		InReplyTo:  inReplyTo,
		Mentions:   mentions,
	}, nil
}

// replyRef reads the post answered and returns the reference to it and to
// the root of its thread.
func (c *Connector) replyRef(ctx context.Context, uri syntax.ATURI) (*bsky.FeedPost_ReplyRef, error) {
	out, err := bsky.FeedGetPosts(ctx, c.api(), []string{uri.String()})
	if err != nil {
		return nil, err
	}
	var pv *bsky.FeedDefs_PostView
	for _, p := range out.Posts {
		if p != nil && p.Uri == uri.String() {
			pv = p
		}
	}
	if pv == nil || pv.Cid == "" {
		return nil, fmt.Errorf("the post %s answered was not found", uri)
	}
	parent := &atproto.RepoStrongRef{Uri: pv.Uri, Cid: pv.Cid}
	root := parent
	if pv.Record != nil {
		if fp, ok := pv.Record.Val.(*bsky.FeedPost); ok && fp.Reply != nil && fp.Reply.Root != nil &&
			fp.Reply.Root.Uri != "" && fp.Reply.Root.Cid != "" {
			root = &atproto.RepoStrongRef{Uri: fp.Reply.Root.Uri, Cid: fp.Reply.Root.Cid}
		}
	}
	return &bsky.FeedPost_ReplyRef{Parent: parent, Root: root}, nil
}

// withMention returns text with "@handle" in it (the first one standing as
// a word, in any case, or a new one in front) and the byte offsets of that
// mention in the UTF-8 text. handle is lower-case ASCII.
func withMention(text, handle string) (string, int, int) {
	m := "@" + handle
	for i := 0; i+len(m) <= len(text); i++ {
		if text[i] != '@' || !equalFoldASCII(text[i:i+len(m)], m) {
			continue
		}
		if i > 0 && isHandleByte(text[i-1]) {
			continue // part of a mail address or of another word
		}
		j := i + len(m)
		if j < len(text) && (isHandleByte(text[j]) && text[j] != '.' || text[j] == '.' && j+1 < len(text) && isHandleByte(text[j+1])) {
			continue // the start of a longer handle
		}
		return text, i, j
	}
	return m + " " + text, 0, len(m)
}

// equalFoldASCII compares a and b ignoring the case of ASCII letters only,
// byte by byte.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isHandleByte tells the bytes a handle is made of (and "@").
func isHandleByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '.' || b == '_' || b == '@'
}
