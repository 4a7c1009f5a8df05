package bluesky

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bluesky-social/indigo/atproto/syntax"

	"tresor"
)

// FuzzDecodeNotifications feeds answers of listNotifications to the
// decoder: it must not panic, and what it returns must be well formed.
// The seeds are in testdata/fuzz/FuzzDecodeNotifications.
func FuzzDecodeNotifications(f *testing.F) {
	f.Add([]byte(`{"notifications":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, _, err := decodeNotifications(data, fakeDID, fakeHandle)
		if err != nil {
			if items != nil {
				t.Fatalf("items with an error: %v", items)
			}
			return
		}
		for _, it := range items {
			p := it.post
			if _, err := syntax.ParseATURI(p.ID); err != nil {
				t.Errorf("ID %q: %v", p.ID, err)
			}
			if p.Network != Network || p.Visibility != tresor.PostPublic || !p.ToCompany {
				t.Errorf("post %+v", p)
			}
			if !strings.HasPrefix(p.Author, "@") || strings.ToLower(p.Author) != p.Author || p.Author == "@" {
				t.Errorf("author %q", p.Author)
			}
			if !utf8.ValidString(p.Text) {
				t.Errorf("text %q is not UTF-8", p.Text)
			}
			if p.CreatedAt.IsZero() && it.at.IsZero() {
				t.Errorf("no time in %+v", p)
			}
			for _, m := range p.Mentions {
				if !strings.HasPrefix(m, "@") || !utf8.ValidString(m) {
					t.Errorf("mention %q", m)
				}
			}
			if p.URL != "" && !strings.HasPrefix(p.URL, WebURL+"/profile/") {
				t.Errorf("URL %q", p.URL)
			}
		}
	})
}

// FuzzParseCursor feeds stored cursors to the parser: it must not panic,
// and a cursor it reads must come out of String as one it reads alike.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{
		"",
		"at://did:plc:bob/app.bsky.feed.post/3kpost",
		"2026-03-01T12:00:00Z at://did:plc:bob/app.bsky.feed.post/3kpost",
		`{"at":"2026-03-01T12:00:00Z","seen":{"abcdefghijklmnop":1772366400000}}`,
		`{"at":"2026-03-01T12:00:00Z","from":"2026-03-01T11:00:00Z","seen":{}}`,
		`{"at":"nope"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := parseCursor(s)
		if c.kind != cursorWindow {
			return
		}
		again := parseCursor(c.String())
		if again.kind != cursorWindow || !again.at.Equal(c.at) || !again.from.Equal(c.from) || len(again.seen) != len(c.seen) {
			t.Errorf("%q reads as %+v, its String %q as %+v", s, c, c.String(), again)
		}
	})
}
