package bluesky

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bluesky-social/indigo/api/bsky"
	"github.com/bluesky-social/indigo/xrpc"

	"tresor"
)

// Stream paging.
const (
	searchPageSize = 50    // posts asked for per keyword and poll
	maxSeen        = 10000 // post URIs remembered against repeats
)

// Stream searches the public posts for each keyword (app.bsky.feed.search
// Posts, newest first) every PollInterval and calls fn with the posts it has
// not seen before, oldest first, each once even where several keywords
// match. The first search of a keyword only records what is there: fn sees
// the posts that appear after the stream started. The account's own posts
// are left out. A failed search is skipped and tried again at the next
// poll, except when every keyword fails at the first poll or the service
// refuses the credentials (401, 403, also after a new login): then Stream
// returns that error. Otherwise it returns ctx.Err() when ctx ends.
func (c *Connector) Stream(ctx context.Context, keywords []string, fn func(tresor.SocialPost)) error {
	return c.StreamSince(ctx, keywords, time.Time{}, fn)
}

// StreamSince is Stream, except that the first search of each keyword
// delivers the posts made after since (its newest page of them) instead of
// only recording what is there.
func (c *Connector) StreamSince(ctx context.Context, keywords []string, since time.Time, fn func(tresor.SocialPost)) error {
	var kws []string
	for _, k := range keywords {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(kws, k) {
			kws = append(kws, k)
		}
	}
	if len(kws) == 0 {
		return errors.New("bluesky: Stream needs a keyword")
	}
	if fn == nil {
		return errors.New("bluesky: Stream needs a function to call")
	}
	st := &streamState{seen: newSeenSet(maxSeen), primed: map[string]bool{}, since: since}
	first := true
	for {
		failed, err := c.poll(ctx, kws, st, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if first && failed == len(kws) || isRefused(err) {
				return c.fail("stream", err)
			}
			c.log.Warn("bluesky: a search of the stream failed", "failed", failed, "error", c.fail("stream", err))
		}
		first = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.interval):
		}
	}
}

// isRefused tells an answer that refuses the credentials.
func isRefused(err error) bool {
	var xe *xrpc.Error
	return errors.As(err, &xe) && (xe.StatusCode == http.StatusUnauthorized || xe.StatusCode == http.StatusForbidden)
}

// streamState is what a stream remembers between polls.
type streamState struct {
	seen   *seenSet
	primed map[string]bool // keywords searched once
	since  time.Time       // the first search delivers what is newer (zero: nothing)
}

// poll searches every keyword once and calls fn with the new posts. It
// returns how many searches failed and the first failure.
func (c *Connector) poll(ctx context.Context, kws []string, st *streamState, fn func(tresor.SocialPost)) (int, error) {
	s := c.current()
	var fresh []tresor.SocialPost
	failed := 0
	var firstErr error
	for _, kw := range kws {
		priming := !st.primed[kw]
		since := ""
		if priming && !st.since.IsZero() {
			since = st.since.UTC().Format(time.RFC3339)
		}
		out, err := bsky.FeedSearchPosts(ctx, c.api(), "", "", "", "", searchPageSize, "", kw, since, "latest", nil, "", "")
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				return failed, firstErr
			}
			continue
		}
		st.primed[kw] = true
		for _, pv := range out.Posts {
			if pv == nil || pv.Author == nil || pv.Record == nil || st.seen.has(pv.Uri) {
				continue
			}
			st.seen.add(pv.Uri)
			if priming && st.since.IsZero() || pv.Author.Did == s.did {
				continue
			}
			fp, ok := pv.Record.Val.(*bsky.FeedPost)
			if !ok || fp == nil {
				continue
			}
			if p, ok := mapPost(pv.Uri, pv.Author.Did, pv.Author.Handle, fp, pv.IndexedAt, s.did, s.handle); ok && (!priming || p.CreatedAt.After(st.since)) {
				fresh = append(fresh, p)
			}
		}
	}
	slices.SortStableFunc(fresh, func(a, b tresor.SocialPost) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, p := range fresh {
		if ctx.Err() != nil {
			break
		}
		fn(p)
	}
	return failed, firstErr
}

// seenSet remembers the most recent URIs: at least max, at most twice as
// many.
type seenSet struct {
	set   map[string]bool
	order []string
	max   int
}

func newSeenSet(max int) *seenSet { return &seenSet{set: map[string]bool{}, max: max} }

func (s *seenSet) has(k string) bool { return s.set[k] }

func (s *seenSet) add(k string) {
	if s.set[k] {
		return
	}
	s.set[k] = true
	s.order = append(s.order, k)
	if len(s.order) >= 2*s.max {
		drop := len(s.order) - s.max
		for _, old := range s.order[:drop] {
			delete(s.set, old)
		}
		s.order = append([]string(nil), s.order[drop:]...)
	}
}
