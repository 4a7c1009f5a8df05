package bluesky

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultInboxWindow is how far before the newest notification read the
// inbox reads again for mentions that sort in late (Options.InboxWindow).
const DefaultInboxWindow = 24 * time.Hour

// maxCursorSeen bounds the notifications a cursor remembers; past it the
// oldest are forgotten (and would come again only if they sorted in above
// the newest read, which they cannot).
const maxCursorSeen = 2000

// cursorKind is the form of an inbox cursor.
type cursorKind int

const (
	cursorNone    cursorKind = iota // none, or one Inbox does not know: the newest page
	cursorURI                       // a post's at:// URI: what sorts above that post
	cursorTimeURI                   // "time URI", the form before the window: what sorts above it
	cursorWindow                    // JSON: the window before the newest read, less what was read
)

// inboxCursor is where the inbox stopped.
type inboxCursor struct {
	kind cursorKind
	at   time.Time // the newest notification read (its sort time)
	uri  string    // cursorURI, cursorTimeURI: the post read last
	// from, when set, is a time below which nothing is read even inside
	// the window: what the first read or an older cursor left behind.
	from time.Time
	seen map[string]int64 // the notifications read within the window: URI hash → sort time (Unix ms)
}

// cursorJSON is the stored form of a cursorWindow.
type cursorJSON struct {
	At   string           `json:"at"`
	From string           `json:"from,omitempty"`
	Seen map[string]int64 `json:"seen"`
}

// parseCursor reads a cursor of Inbox; a cursor it does not know counts as
// none.
func parseCursor(s string) inboxCursor {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "{"):
		var j cursorJSON
		if err := json.Unmarshal([]byte(s), &j); err != nil {
			return inboxCursor{}
		}
		at, err := time.Parse(time.RFC3339Nano, j.At)
		if err != nil {
			return inboxCursor{}
		}
		c := inboxCursor{kind: cursorWindow, at: at, seen: j.Seen}
		if j.From != "" {
			if c.from, err = time.Parse(time.RFC3339Nano, j.From); err != nil {
				return inboxCursor{}
			}
		}
		if c.seen == nil {
			c.seen = map[string]int64{}
		}
		return c
	case strings.HasPrefix(s, "at://"):
		return inboxCursor{kind: cursorURI, uri: s}
	}
	ts, uri, ok := strings.Cut(s, " ")
	if !ok || !strings.HasPrefix(uri, "at://") {
		return inboxCursor{}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return inboxCursor{}
	}
	return inboxCursor{kind: cursorTimeURI, at: t, uri: uri, seen: map[string]int64{uriHash(uri): t.UnixMilli()}}
}

// floor is the sort time below which a cursorWindow reads nothing.
func (c inboxCursor) floor(window time.Duration) time.Time {
	f := c.at.Add(-window)
	if c.from.After(f) {
		return c.from
	}
	return f
}

// has tells whether the cursor remembers reading the notification of uri.
func (c inboxCursor) has(uri string) bool {
	_, ok := c.seen[uriHash(uri)]
	return ok
}

// advance returns the cursor after a read: newest is the newest sort time
// read, fresh the notifications delivered. It remembers what was read
// within the new window and forgets what fell out of it.
func (c inboxCursor) advance(newest, from time.Time, fresh []inboxItem, window time.Duration) inboxCursor {
	n := inboxCursor{kind: cursorWindow, at: newest, from: from, seen: map[string]int64{}}
	if !n.from.After(n.at.Add(-window)) {
		n.from = time.Time{} // the window has passed it
	}
	floor := n.floor(window).UnixMilli()
	for h, ms := range c.seen {
		if ms >= floor {
			n.seen[h] = ms
		}
	}
	for _, it := range fresh {
		if ms := it.at.UnixMilli(); ms >= floor {
			n.seen[uriHash(it.post.ID)] = ms
		}
	}
	if len(n.seen) > maxCursorSeen {
		keys := slices.SortedFunc(maps.Keys(n.seen), func(a, b string) int {
			return cmp.Or(cmp.Compare(n.seen[a], n.seen[b]), strings.Compare(a, b))
		})
		for _, k := range keys[:len(keys)-maxCursorSeen] {
			delete(n.seen, k)
		}
	}
	return n
}

// String is the cursor's stored form.
func (c inboxCursor) String() string {
	j := cursorJSON{At: c.at.UTC().Format(time.RFC3339Nano), Seen: c.seen}
	if !c.from.IsZero() {
		j.From = c.from.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(j) // strings and numbers only: cannot fail
	return string(b)
}

// uriHash is how a cursor names a notification: a hash of its post's URI,
// so that the cursor (stored as it is, unencrypted) does not list who
// wrote to the account.
func uriHash(uri string) string {
	h := sha256.Sum256([]byte(uri))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}
