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

	"tresor"
)

// postCollection is the collection of posts.
const postCollection = "app.bsky.feed.post"

// ErrDirect is why Send refuses a direct message.
var ErrDirect = fmt.Errorf("direct messages are not supported on Bluesky by this connector; write a public mention instead (%w)", tresor.ErrNotSupported)

// Publish posts text publicly on the account.
func (c *Connector) Publish(ctx context.Context, text string) (*tresor.SocialPost, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("bluesky: the post is empty")
	}
	return c.post(ctx, "publish", &bsky.FeedPost{Text: text}, "", nil)
}

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
	return c.post(ctx, "send", rec, inReplyTo, []string{"@" + handle})
}

// post creates a post record of the account.
func (c *Connector) post(ctx context.Context, op string, rec *bsky.FeedPost, inReplyTo string, mentions []string) (*tresor.SocialPost, error) {
	now := time.Now().UTC()
	rec.CreatedAt = now.Format(syntax.AtprotoDatetimeLayout)
	if len(c.langs) > 0 {
		rec.Langs = append([]string(nil), c.langs...)
	}
	s := c.current()
	out, err := atproto.RepoCreateRecord(ctx, c.api(), &atproto.RepoCreateRecord_Input{
		Repo:       s.did,
		Collection: postCollection,
		Record:     &lexutil.LexiconTypeDecoder{Val: rec},
	})
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
