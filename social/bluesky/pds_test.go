package bluesky

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/socialtest"
)

// The connector against a real PDS with its AppView (socialtest.ATProto),
// started once for the package: what the fake answers by hand, here the
// servers people's accounts live on answer.

var realPDS socialtest.SharedATProto

func TestMain(m *testing.M) {
	code := m.Run()
	realPDS.Close()
	os.Exit(code)
}

// xrpcCounter counts the XRPC calls a connector makes, by method.
type xrpcCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *xrpcCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[strings.TrimPrefix(r.URL.Path, "/xrpc/")]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *xrpcCounter) count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method]
}

// company is an account of the PDS and a connector logged in to it with an
// app password, as a channel holds it.
type company struct {
	acc   *socialtest.ATAccount
	creds Credentials
	conn  *Connector
	calls *xrpcCounter
}

func newCompany(t *testing.T, a *socialtest.ATP, name string, opt Options) *company {
	t.Helper()
	acc := a.Account(t, name)
	co := &company{acc: acc, calls: &xrpcCounter{}}
	co.creds = Credentials{Service: a.URL, Handle: "@" + acc.Handle, AppPassword: a.AppPassword(t, acc)}
	opt.HTTPClient = &http.Client{Transport: co.calls, Timeout: 15 * time.Second}
	c, err := New(context.Background(), co.creds, opt)
	if err != nil {
		t.Fatalf("New for %s: %v", acc.Handle, err)
	}
	co.conn = c
	return co
}

// realConnErr checks that err is an *tresor.ErrConnector of op whose
// message shows no secret of the connector.
func realConnErr(t *testing.T, c *Connector, err error, op string) {
	t.Helper()
	var ce *tresor.ErrConnector
	if !errors.As(err, &ce) || ce.Network != "bluesky" || ce.Op != op {
		t.Fatalf("error %v (%T), want a *tresor.ErrConnector of bluesky/%s", err, err, op)
	}
	c.mu.Lock()
	secrets := append([]string{c.creds.AppPassword}, c.secrets...)
	c.mu.Unlock()
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a secret", err)
		}
	}
}

func TestRealPDSLogin(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-login", Options{})
	ctx := context.Background()

	t.Run("an app password logs in and the account is its handle", func(t *testing.T) {
		acc, err := co.conn.Account(ctx)
		if err != nil || acc != "@acme-login.test" {
			t.Errorf("Account = %q, %v; want @acme-login.test", acc, err)
		}
		if s := co.conn.current(); s.did != co.acc.DID {
			t.Errorf("session DID %s, want %s", s.did, co.acc.DID)
		}
	})

	t.Run("a wrong app password is a connector error that shows no secret", func(t *testing.T) {
		bad := co.creds
		bad.AppPassword = "wxyz-wxyz-wxyz-wxyz"
		_, err := New(ctx, bad, Options{})
		var ce *tresor.ErrConnector
		if !errors.As(err, &ce) || ce.Op != "login" || strings.Contains(err.Error(), bad.AppPassword) {
			t.Fatalf("New with a wrong app password = %v, want a login error without the password", err)
		}
	})
}

func TestRealPDSProfile(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-profile", Options{})
	erika := a.Account(t, "erika-profile")
	err := a.XRPC("POST", "com.atproto.repo.putRecord", erika.AccessJwt, map[string]any{
		"repo": erika.DID, "collection": "app.bsky.actor.profile", "rkey": "self",
		"record": map[string]any{"$type": "app.bsky.actor.profile", "displayName": "Erika Muster", "description": "Gärtnerin in Köln"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var p *tresor.SocialProfile
	a.Wait(t, "the AppView showing Erika's display name", func() (bool, error) {
		var err error
		p, err = co.conn.Profile(ctx, "@erika-profile.test")
		return err == nil && p.DisplayName == "Erika Muster", err
	})

	t.Run("the profile is read by handle, by DID and with the network's prefix", func(t *testing.T) {
		for _, h := range []string{"@erika-profile.test", "Erika-Profile.test", "bluesky:erika-profile.test", erika.DID} {
			p, err := co.conn.Profile(ctx, h)
			if err != nil {
				t.Fatalf("Profile(%q): %v", h, err)
			}
			if p.Network != "bluesky" || p.Handle != "@erika-profile.test" || p.DisplayName != "Erika Muster" ||
				p.Bio != "Gärtnerin in Köln" || p.URL != "https://bsky.app/profile/erika-profile.test" || p.Bot || p.Locked {
				t.Errorf("Profile(%q) = %+v", h, *p)
			}
		}
	})

	t.Run("an unknown handle is a connector error", func(t *testing.T) {
		_, err := co.conn.Profile(ctx, "@nobody-here.test")
		realConnErr(t, co.conn, err, "profile")
	})
}

func TestRealPDSPublishAndSend(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-publish", Options{Langs: []string{"de"}})
	alice := a.Account(t, "alice-publish")
	ctx := context.Background()

	t.Run("a published post is on the account, as written", func(t *testing.T) {
		p, err := co.conn.Publish(ctx, tresor.PublishRequest{Text: "Neue Öffnungszeiten ab Montag"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ID, "at://"+co.acc.DID+"/app.bsky.feed.post/") || p.Author != "@acme-publish.test" ||
			p.Visibility != tresor.PostPublic || p.URL != "https://bsky.app/profile/acme-publish.test/post/"+p.ID[strings.LastIndex(p.ID, "/")+1:] {
			t.Errorf("post %+v", p)
		}
		var out struct {
			Posts []struct {
				URI    string
				Author struct{ DID string }
				Record struct {
					Text  string
					Langs []string
				}
			}
		}
		a.Wait(t, "the AppView showing the post", func() (bool, error) {
			err := a.XRPC("GET", "app.bsky.feed.getPosts?uris="+p.ID, alice.AccessJwt, nil, &out)
			return len(out.Posts) == 1, err
		})
		got := out.Posts[0]
		if got.URI != p.ID || got.Author.DID != co.acc.DID || got.Record.Text != "Neue Öffnungszeiten ab Montag" || !slices.Equal(got.Record.Langs, []string{"de"}) {
			t.Errorf("the AppView shows %+v", got)
		}
	})

	t.Run("a retry under the post's key makes one post, and Published finds it", func(t *testing.T) {
		// The PDS refuses a second record under the same key; the
		// connector reads the first one back instead of posting again.
		req := tresor.PublishRequest{Key: tresor.NewPostKey(time.Now(), 7), Text: "Sommerpause vom 1. bis 15. August"}
		p1, err := co.conn.Publish(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		req.Since = time.Now().Add(-time.Minute)
		p2, err := co.conn.Publish(ctx, req)
		if err != nil || p2.ID != p1.ID {
			t.Fatalf("retry = %+v, %v; want the first post %s", p2, err, p1.ID)
		}
		found, err := co.conn.Published(ctx, req)
		if err != nil || found == nil || found.ID != p1.ID || found.Text != req.Text {
			t.Errorf("Published = %+v, %v; want %s", found, err, p1.ID)
		}
		var list struct{ Records []struct{ URI string } }
		if err := a.XRPC("GET", "com.atproto.repo.listRecords?collection=app.bsky.feed.post&repo="+co.acc.DID, "", nil, &list); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range list.Records {
			if r.URI == p1.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the repository holds the post %d times, want once", n)
		}
		none, err := co.conn.Published(ctx, tresor.PublishRequest{Key: tresor.NewPostKey(time.Now(), 8), Text: "nie gesendet"})
		if err != nil || none != nil {
			t.Errorf("Published of a key never sent = %+v, %v; want nothing", none, err)
		}
	})

	t.Run("a mention sent reaches the person's notifications", func(t *testing.T) {
		p, err := co.conn.Send(ctx, "bluesky:alice-publish.test", "Danke für Ihre Nachricht!", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "@alice-publish.test Danke für Ihre Nachricht!" || !slices.Equal(p.Mentions, []string{"@alice-publish.test"}) {
			t.Errorf("post %+v", p)
		}
		a.Wait(t, "alice's notification", func() (bool, error) {
			var out struct {
				Notifications []struct{ URI, Reason string }
			}
			err := a.XRPC("GET", "app.bsky.notification.listNotifications", alice.AccessJwt, nil, &out)
			return len(out.Notifications) == 1 && out.Notifications[0].URI == p.ID && out.Notifications[0].Reason == "mention", err
		})
	})

	t.Run("a direct message is refused", func(t *testing.T) {
		_, err := co.conn.Send(ctx, "alice-publish.test", "privat", true, "")
		if !errors.Is(err, tresor.ErrNotSupported) {
			t.Errorf("Send direct = %v, want ErrNotSupported", err)
		}
	})
}

func TestRealPDSInbox(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-inbox", Options{})
	bob := a.Account(t, "bob-inbox")
	ctx := context.Background()
	mention := func(text string, at time.Time) string {
		return a.Post(t, bob, socialtest.ATPost{Text: text, Mention: co.acc, CreatedAt: at})
	}
	// read reads the inbox once the AppView shows a notification of each
	// of the posts.
	read := func(t *testing.T, cursor string, uris ...string) ([]tresor.SocialPost, string) {
		t.Helper()
		a.Wait(t, "the notifications", func() (bool, error) {
			var out struct{ Notifications []struct{ URI string } }
			err := a.XRPC("GET", "app.bsky.notification.listNotifications?limit=100", co.acc.AccessJwt, nil, &out)
			n := 0
			for _, u := range uris {
				if slices.ContainsFunc(out.Notifications, func(x struct{ URI string }) bool { return x.URI == u }) {
					n++
				}
			}
			return n == len(uris), err
		})
		posts, next, err := co.conn.Inbox(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		return posts, next
	}
	ids := func(posts []tresor.SocialPost) []string {
		var out []string
		for _, p := range posts {
			out = append(out, p.ID)
		}
		return out
	}

	first := mention("Hallo @acme-inbox.test, haben Sie morgen offen?", time.Time{})
	posts, cursor := read(t, "", first)
	t.Run("a mention is read with its author and text", func(t *testing.T) {
		if len(posts) != 1 {
			t.Fatalf("Inbox = %v, want the mention", ids(posts))
		}
		p := posts[0]
		if p.ID != first || p.Author != "@bob-inbox.test" || p.Text != "Hallo @acme-inbox.test, haben Sie morgen offen?" ||
			!p.ToCompany || p.Visibility != tresor.PostPublic || !slices.Equal(p.Mentions, []string{"@acme-inbox.test"}) {
			t.Errorf("mention %+v", p)
		}
	})

	// A mention backdated by two hours sorts below the cursor; one written
	// after it sorts above.
	late := mention("Nachtrag @acme-inbox.test: die Rechnung kam nicht an", time.Now().Add(-2*time.Hour))
	later := mention("Und noch was, @acme-inbox.test", time.Time{})
	posts, next := read(t, cursor, late, later)
	t.Run("a backdated mention below the cursor is read, once", func(t *testing.T) {
		if got := ids(posts); !slices.Equal(got, []string{late, later}) {
			t.Fatalf("Inbox(cursor) = %v, want the backdated %s and then %s", got, late, later)
		}
		again, same, err := co.conn.Inbox(ctx, next)
		if err != nil || len(again) != 0 || same != next {
			t.Errorf("Inbox once more = %v, %v; want nothing and the same cursor", ids(again), err)
		}
	})

	t.Run("without the window the backdated mention is lost (the fault fixed)", func(t *testing.T) {
		// The cursor the connector returned before the window, after the
		// first read, reads only what sorts above the first mention: the
		// AppView's order really does hide the backdated one from it.
		legacy := parseCursor(cursor).at.Format(time.RFC3339Nano) + " " + first
		got, _, err := co.conn.Inbox(ctx, legacy)
		if err != nil || !slices.Equal(ids(got), []string{later}) {
			t.Errorf("Inbox(time URI) = %v, %v; want only %s", ids(got), err, later)
		}
	})
	cursor = next

	t.Run("a reply that also mentions the account is read once", func(t *testing.T) {
		own, err := co.conn.Publish(ctx, tresor.PublishRequest{Text: "Unser Herbstprogramm ist da"})
		if err != nil {
			t.Fatal(err)
		}
		a.WaitPost(t, bob, own.ID)
		bobConn, err := New(ctx, Credentials{Service: a.URL, Handle: bob.Handle, AppPassword: a.AppPassword(t, bob)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := bobConn.Send(ctx, "@acme-inbox.test", "Klingt gut, @acme-inbox.test!", false, own.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The AppView notifies the reply, not also the mention in it; the
		// inbox would take the post once either way.
		posts, next := read(t, cursor, reply.ID)
		if len(posts) != 1 || posts[0].ID != reply.ID || posts[0].InReplyTo != own.ID || !posts[0].ToCompany {
			t.Fatalf("Inbox = %+v, want the reply once", posts)
		}
		if again, _, err := co.conn.Inbox(ctx, next); err != nil || len(again) != 0 {
			t.Errorf("Inbox once more = %v, %v; want nothing", ids(again), err)
		}
	})
}

func TestRealPDSStream(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-stream", Options{PollInterval: 200 * time.Millisecond})
	carl := a.Account(t, "carl-stream")
	dora := a.Account(t, "dora-stream")
	const tag = "#TresorStreamProbe"
	before := a.Post(t, carl, socialtest.ATPost{Text: "Vorher schon da: " + tag})
	a.WaitPost(t, carl, before)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan tresor.SocialPost, 100)
	done := make(chan error, 1)
	searches := func() int { return co.calls.count("app.bsky.feed.searchPosts") }
	go func() {
		done <- co.conn.Stream(ctx, []string{tag, "Probe-Stichwort"}, func(p tresor.SocialPost) { got <- p })
	}()
	a.Wait(t, "the stream's first look", func() (bool, error) { return searches() >= 2, nil })

	one := a.Post(t, carl, socialtest.ATPost{Text: "Der " + tag + " ist gut", Langs: []string{"de"}})
	both := a.Post(t, dora, socialtest.ATPost{Text: "Probe-Stichwort und " + tag})
	own, err := co.conn.Publish(context.Background(), tresor.PublishRequest{Text: "Unser eigener " + tag})
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{one, both, own.ID} {
		a.WaitPost(t, carl, uri)
	}
	var seen []tresor.SocialPost
	a.Wait(t, "the two new posts in the stream", func() (bool, error) {
		for {
			select {
			case p := <-got:
				seen = append(seen, p)
			default:
				return len(seen) >= 2, nil
			}
		}
	})
	calls := searches()
	a.Wait(t, "two more polls", func() (bool, error) { return searches() >= calls+4, nil })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Stream = %v, want context.Canceled", err)
	}
	close(got)
	for p := range got {
		seen = append(seen, p)
	}

	// The AppView indexes the two accounts' posts in either order, so a
	// poll may see one before the other: the order is not checked here.
	t.Run("new public posts with a keyword come once each", func(t *testing.T) {
		var ids []string
		for _, p := range seen {
			ids = append(ids, p.ID)
		}
		want := []string{one, both}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("stream = %v, want %v (the one matching both keywords once)", ids, want)
		}
		p := seen[slices.IndexFunc(seen, func(p tresor.SocialPost) bool { return p.ID == one })]
		if p.Author != "@carl-stream.test" || p.Text != "Der "+tag+" ist gut" || p.Language != "de" ||
			p.Visibility != tresor.PostPublic || p.ToCompany || p.Network != "bluesky" {
			t.Errorf("post %+v", p)
		}
	})
	t.Run("posts from before the stream and the account's own are left out", func(t *testing.T) {
		for _, p := range seen {
			if p.ID == before || p.ID == own.ID {
				t.Errorf("stream delivered %s", p.ID)
			}
		}
	})
}

func TestRealPDSSessionRenewal(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-session", Options{})
	a.Account(t, "erika-session")
	ctx := context.Background()
	c := co.conn
	profile := func() error { _, err := c.Profile(ctx, "@erika-session.test"); return err }
	a.Wait(t, "erika's profile", func() (bool, error) { return profile() == nil, nil })
	setSession := func(access, refresh string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.sess.access, c.sess.refresh = access, refresh
	}

	t.Run("an expired access token is renewed with the refresh token", func(t *testing.T) {
		s := c.current()
		logins, refreshes := co.calls.count("com.atproto.server.createSession"), co.calls.count("com.atproto.server.refreshSession")
		setSession(a.Expired(t, s.access), s.refresh)
		if err := profile(); err != nil {
			t.Fatalf("Profile with an expired access token: %v", err)
		}
		if n := co.calls.count("com.atproto.server.refreshSession"); n != refreshes+1 {
			t.Errorf("%d refreshes, want 1", n-refreshes)
		}
		if n := co.calls.count("com.atproto.server.createSession"); n != logins {
			t.Errorf("%d new logins, want none", n-logins)
		}
	})

	t.Run("with the refresh token expired too, the app password logs in again", func(t *testing.T) {
		s := c.current()
		logins := co.calls.count("com.atproto.server.createSession")
		setSession(a.Expired(t, s.access), a.Expired(t, s.refresh))
		if err := profile(); err != nil {
			t.Fatalf("Profile with both tokens expired: %v", err)
		}
		if n := co.calls.count("com.atproto.server.createSession"); n != logins+1 {
			t.Errorf("%d new logins, want 1", n-logins)
		}
	})

	t.Run("a revoked app password ends in a connector error that shows no secret", func(t *testing.T) {
		// The person revokes Tresor's app password: its refresh token is
		// revoked with it and a new login is refused.
		var list struct{ Passwords []struct{ Name string } }
		if err := a.XRPC("GET", "com.atproto.server.listAppPasswords", co.acc.AccessJwt, nil, &list); err != nil || len(list.Passwords) != 1 {
			t.Fatalf("app passwords %+v, %v", list, err)
		}
		if err := a.XRPC("POST", "com.atproto.server.revokeAppPassword", co.acc.AccessJwt, map[string]any{"name": list.Passwords[0].Name}, nil); err != nil {
			t.Fatal(err)
		}
		s := c.current()
		setSession(a.Expired(t, s.access), s.refresh)
		err := profile()
		realConnErr(t, c, err, "profile")
	})
}

func TestRealPDSStreamSince(t *testing.T) {
	a := realPDS.Get(t)
	co := newCompany(t, a, "acme-since", Options{PollInterval: 200 * time.Millisecond})
	carl := a.Account(t, "carl-since")
	const tag = "#TresorSinceProbe"
	now := time.Now()
	older := a.Post(t, carl, socialtest.ATPost{Text: "Lange her: " + tag, CreatedAt: now.Add(-10 * time.Minute)})
	newer := a.Post(t, carl, socialtest.ATPost{Text: "Eben erst: " + tag, CreatedAt: now.Add(-time.Minute)})
	a.WaitPost(t, carl, older)
	a.WaitPost(t, carl, newer)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan tresor.SocialPost, 100)
	done := make(chan error, 1)
	go func() {
		done <- co.conn.StreamSince(ctx, []string{tag}, now.Add(-5*time.Minute), func(p tresor.SocialPost) { got <- p })
	}()
	a.Wait(t, "the stream's first look", func() (bool, error) { return co.calls.count("app.bsky.feed.searchPosts") >= 1, nil })
	later := a.Post(t, carl, socialtest.ATPost{Text: "Jetzt: " + tag})
	var ids []string
	a.Wait(t, "the stream catching up and going on", func() (bool, error) {
		for {
			select {
			case p := <-got:
				ids = append(ids, p.ID)
			default:
				return len(ids) >= 2, nil
			}
		}
	})
	calls := co.calls.count("app.bsky.feed.searchPosts")
	a.Wait(t, "two more polls", func() (bool, error) { return co.calls.count("app.bsky.feed.searchPosts") >= calls+2, nil })
	cancel()
	<-done
	close(got)
	for p := range got {
		ids = append(ids, p.ID)
	}

	t.Run("a stream started again catches up on the posts after since, then goes on", func(t *testing.T) {
		if !slices.Equal(ids, []string{newer, later}) {
			t.Errorf("stream = %v, want %s (after since) and then %s (new), not %s (before since)", ids, newer, later, older)
		}
	})
}
