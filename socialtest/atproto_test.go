package socialtest

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

type atNotification struct {
	URI       string `json:"uri"`
	Reason    string `json:"reason"`
	IndexedAt string `json:"indexedAt"`
	Author    struct {
		DID    string `json:"did"`
		Handle string `json:"handle"`
	} `json:"author"`
}

// TestATProto checks the harness against the real servers, one rule per
// subtest; the last two are the AppView's behaviour the Bluesky connector
// has to live with.
func TestATProto(t *testing.T) {
	a := ATProto(t)
	alice := a.Account(t, "alice")
	bob := a.Account(t, "bob")
	mentions := func() []atNotification {
		var out struct{ Notifications []atNotification }
		must(t, a.XRPC("GET", "app.bsky.notification.listNotifications?reasons=mention", alice.AccessJwt, nil, &out))
		return out.Notifications
	}

	t.Run("an account logs in with its app password", func(t *testing.T) {
		pw := a.AppPassword(t, alice)
		var s struct{ DID, Handle, AccessJwt string }
		must(t, a.XRPC("POST", "com.atproto.server.createSession", "", map[string]any{"identifier": alice.Handle, "password": pw}, &s))
		if s.DID != alice.DID || s.Handle != "alice.test" || s.AccessJwt == "" {
			t.Fatalf("session = %+v, want alice's", s)
		}
	})

	t.Run("the AppView shows a profile", func(t *testing.T) {
		var p struct{ DID, Handle string }
		a.Wait(t, "bob's profile", func() (bool, error) {
			err := a.XRPC("GET", "app.bsky.actor.getProfile?actor=bob.test", alice.AccessJwt, nil, &p)
			return p.DID == bob.DID, err
		})
		if p.Handle != "bob.test" {
			t.Errorf("profile = %+v", p)
		}
	})

	first := a.Post(t, bob, ATPost{Text: "Hallo @alice.test", Mention: alice})
	t.Run("a mention reaches the notifications", func(t *testing.T) {
		a.WaitPost(t, bob, first)
		a.Wait(t, "the mention", func() (bool, error) { n := mentions(); return len(n) == 1 && n[0].URI == first, nil })
		if n := mentions()[0]; n.Author.DID != bob.DID || n.Reason != "mention" {
			t.Errorf("notification = %+v", n)
		}
	})

	t.Run("a backdated mention sorts below the ones already there", func(t *testing.T) {
		late := a.Post(t, bob, ATPost{Text: "Nachtrag @alice.test", Mention: alice, CreatedAt: time.Now().Add(-2 * time.Hour)})
		a.Wait(t, "the backdated mention", func() (bool, error) { return len(mentions()) == 2, nil })
		n := mentions()
		if n[0].URI != first || n[1].URI != late {
			t.Fatalf("notifications %s, %s; want the backdated %s last", n[0].URI, n[1].URI, late)
		}
		at, err := time.Parse(time.RFC3339, n[1].IndexedAt)
		if err != nil || time.Since(at) < time.Hour {
			t.Errorf("the backdated mention's indexedAt = %s (%v), want its createdAt two hours ago", n[1].IndexedAt, err)
		}
	})

	t.Run("an expired access token is refused with ExpiredToken", func(t *testing.T) {
		err := a.XRPC("GET", "app.bsky.actor.getProfile?actor="+url.QueryEscape(bob.Handle), a.Expired(t, alice.AccessJwt), nil, nil)
		var xe *XRPCError
		if !errors.As(err, &xe) || xe.Status != 400 || xe.Name != "ExpiredToken" {
			t.Fatalf("answer to an expired token = %v, want 400 ExpiredToken", err)
		}
		err = a.XRPC("POST", "com.atproto.server.refreshSession", a.Expired(t, alice.RefreshJwt), nil, nil)
		if !errors.As(err, &xe) || xe.Status != 400 || xe.Name != "ExpiredToken" {
			t.Fatalf("refreshSession with an expired refresh token = %v, want 400 ExpiredToken", err)
		}
	})
}
