package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/bluesky-social/indigo/api/bsky"
	"github.com/bluesky-social/indigo/atproto/syntax"
	lexutil "github.com/bluesky-social/indigo/lex/util"

	"tresor"
)

// Inbox paging.
const (
	firstPageSize = 50  // notifications read without a cursor
	pageSize      = 100 // notifications per page after a cursor
	maxPages      = 10  // pages read after a cursor at most
)

// inboxReasons are the notifications the inbox reads.
var inboxReasons = []string{"mention", "reply"}

// Inbox lists the mentions of and replies to the account after cursor,
// oldest first, each once. Without a cursor it reads the newest page.
//
// The service sorts notifications by the earlier of the time a post claims
// to be written and the time it was indexed, so a mention that is indexed
// late or carries a backdated time lands below notifications already read.
// Inbox therefore reads again the window (Options.InboxWindow) before the
// newest notification it has read, and the cursor it returns remembers the
// notifications read within that window (as hashes of their URIs, not the
// URIs) so that none comes twice. A mention placed further back than the
// window is not read. Up to 1,000 notifications are read after a cursor.
//
// Older cursors are still understood: a post's at:// URI (a SocialPost.ID,
// which the gate keeps after a partial failure) reads what sorts above
// that post, and "time URI" reads what sorts above it, as before.
func (c *Connector) Inbox(ctx context.Context, cursor string) ([]tresor.SocialPost, string, error) {
	cur := parseCursor(cursor)
	floor := cur.floor(c.window)
	limit := firstPageSize
	if cur.kind != cursorNone {
		limit = pageSize
	}
	s := c.current()
	var fresh []inboxItem // newest first
	read := map[string]bool{}
	newest, oldest, more := cur.at, time.Time{}, false
	stopped, stopAt := false, time.Time{} // where the cursor ended the read
	apiCursor := ""
pages:
	for page := 0; page < maxPages; page++ {
		params := map[string]any{"limit": limit, "reasons": inboxReasons}
		if apiCursor != "" {
			params["cursor"] = apiCursor
		}
		var body bytes.Buffer
		if err := c.api().LexDo(ctx, lexutil.Query, "", "app.bsky.notification.listNotifications", params, nil, &body); err != nil {
			return nil, "", c.fail("inbox", err)
		}
		items, next, err := decodeNotifications(body.Bytes(), s.did, s.handle)
		if err != nil {
			return nil, "", c.fail("inbox", err)
		}
		for _, it := range items {
			if cur.kind == cursorURI && it.post.ID == cur.uri ||
				cur.kind == cursorTimeURI && (it.post.ID == cur.uri || it.at.Before(cur.at)) ||
				cur.kind == cursorWindow && it.at.Before(floor) {
				stopped, stopAt = true, it.at
				break pages
			}
			if read[it.post.ID] {
				continue
			}
			read[it.post.ID] = true
			if it.at.After(newest) {
				newest = it.at
			}
			oldest = it.at
			if cur.has(it.post.ID) {
				continue
			}
			fresh = append(fresh, it)
		}
		more = next != "" && next != apiCursor
		if cur.kind == cursorNone || !more {
			break
		}
		apiCursor = next
	}
	if len(fresh) == 0 {
		return nil, cursor, nil
	}
	// Below from nothing is read again: what an older cursor read, and what
	// the first read (the newest page) or the page limit left behind.
	from := cur.from
	switch {
	case cur.kind == cursorTimeURI && stopped:
		from = cur.at
	case cur.kind == cursorURI && stopped:
		from = stopAt
		cur.seen = map[string]int64{uriHash(cur.uri): stopAt.UnixMilli()}
	case cur.kind != cursorWindow && more && !stopped:
		from = oldest
	}
	next := cur.advance(newest, from, fresh, c.window)
	slices.Reverse(fresh)
	posts := make([]tresor.SocialPost, len(fresh))
	for i, it := range fresh {
		posts[i] = it.post
	}
	return posts, next.String(), nil
}

// inboxItem is a notification mapped to a post, with the time it was
// indexed.
type inboxItem struct {
	post tresor.SocialPost
	at   time.Time
}

// notificationPage is a page of app.bsky.notification.listNotifications,
// each notification kept raw so that one that does not decode spoils no
// other.
type notificationPage struct {
	Cursor        *string           `json:"cursor"`
	Notifications []json.RawMessage `json:"notifications"`
}

// decodeNotifications decodes a page of notifications and maps the
// mentions and replies whose record is a post, in the page's order. It
// returns the API's cursor to the next (older) page. A notification that
// does not decode or map is skipped; a body that is not a page is an error.
func decodeNotifications(data []byte, selfDID, selfHandle string) ([]inboxItem, string, error) {
	var page notificationPage
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, "", errors.New("the notifications do not decode: " + err.Error())
	}
	if page.Notifications == nil {
		return nil, "", errors.New("the answer has no notifications")
	}
	var items []inboxItem
	for _, raw := range page.Notifications {
		var n bsky.NotificationListNotifications_Notification
		if err := json.Unmarshal(raw, &n); err != nil {
			continue
		}
		if it, ok := mapNotification(&n, selfDID, selfHandle); ok {
			items = append(items, it)
		}
	}
	next := ""
	if page.Cursor != nil {
		next = *page.Cursor
	}
	return items, next, nil
}

// mapNotification maps a mention or reply to a post.
func mapNotification(n *bsky.NotificationListNotifications_Notification, selfDID, selfHandle string) (inboxItem, bool) {
	if n.Reason != "mention" && n.Reason != "reply" || n.Author == nil || n.Record == nil {
		return inboxItem{}, false
	}
	fp, ok := n.Record.Val.(*bsky.FeedPost)
	if !ok || fp == nil {
		return inboxItem{}, false
	}
	if n.Author.Did == selfDID {
		return inboxItem{}, false
	}
	p, ok := mapPost(n.Uri, n.Author.Did, n.Author.Handle, fp, n.IndexedAt, selfDID, selfHandle)
	if !ok {
		return inboxItem{}, false
	}
	p.ToCompany = true
	at, err := syntax.ParseDatetimeLenient(n.IndexedAt)
	if err != nil {
		at = syntax.Datetime(p.CreatedAt.Format(time.RFC3339Nano))
	}
	return inboxItem{post: p, at: at.Time()}, true
}

// mapPost maps a post record to a SocialPost. It fails where the URI, the
// author or both times are not valid.
func mapPost(uri, authorDID, authorHandle string, fp *bsky.FeedPost, indexedAt, selfDID, selfHandle string) (tresor.SocialPost, bool) {
	u, err := syntax.ParseATURI(uri)
	if err != nil || u.RecordKey() == "" {
		return tresor.SocialPost{}, false
	}
	if _, err := syntax.ParseDID(authorDID); err != nil {
		return tresor.SocialPost{}, false
	}
	h, err := syntax.ParseHandle(authorHandle)
	if err != nil {
		return tresor.SocialPost{}, false
	}
	handle := h.Normalize().String()
	created, err := syntax.ParseDatetimeLenient(fp.CreatedAt)
	if err != nil {
		if created, err = syntax.ParseDatetimeLenient(indexedAt); err != nil {
			return tresor.SocialPost{}, false
		}
	}
	p := tresor.SocialPost{
		ID:         uri,
		Network:    Network,
		Author:     "@" + handle,
		Text:       fp.Text,
		Visibility: tresor.PostPublic,
		URL:        postURL(handle, authorDID, uri),
		CreatedAt:  created.Time(),
	}
	if len(fp.Langs) > 0 {
		p.Language = fp.Langs[0] // the first declared language (BCP 47)
	}
	if fp.Reply != nil && fp.Reply.Parent != nil {
		p.InReplyTo = fp.Reply.Parent.Uri
	}
	p.Mentions, p.ToCompany = mentions(fp, selfDID, selfHandle)
	return p, true
}

// mentions returns the handles a post mentions (from its mention facets:
// the account's own handle for its DID, otherwise the "@handle" the facet
// marks in the text) and whether the account is among them.
func mentions(fp *bsky.FeedPost, selfDID, selfHandle string) ([]string, bool) {
	var out []string
	self := false
	add := func(h string) {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, f := range fp.Facets {
		if f == nil || f.Index == nil {
			continue
		}
		for _, feat := range f.Features {
			if feat == nil || feat.RichtextFacet_Mention == nil {
				continue
			}
			if did := feat.RichtextFacet_Mention.Did; did != "" && did == selfDID {
				self = true
				add("@" + strings.ToLower(selfHandle))
				continue
			}
			start, end := f.Index.ByteStart, f.Index.ByteEnd
			if start < 0 || end <= start || end > int64(len(fp.Text)) {
				continue
			}
			word := fp.Text[start:end]
			if !strings.HasPrefix(word, "@") {
				continue
			}
			if h, err := syntax.ParseHandle(word[1:]); err == nil {
				add("@" + h.Normalize().String())
			}
		}
	}
	return out, self
}
