package mastodon

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
)

func TestNew(t *testing.T) {
	for _, server := range []string{"", "ftp://x.example", "https://", "https://x.example/?a=b", "https://user:pw@x.example", "https://x y.example"} {
		if _, err := New(Credentials{Server: server, AccessToken: "t"}, Options{}); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
			t.Errorf("New(server %q) = %v, want %s", server, err, tresor.ECInvalidParameter)
		}
	}
	if _, err := New(Credentials{Server: "https://social.example"}, Options{}); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
		t.Errorf("New without a token = %v, want %s", err, tresor.ECInvalidParameter)
	}
	c, err := New(Credentials{Server: "Social.Example/", AccessToken: "t"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "social.example" || c.client.Config.Server != "https://Social.Example" || c.poll != 30*time.Second ||
		c.client.Client.Timeout != 15*time.Second {
		t.Errorf("New: host %q, server %q, poll %s, timeout %s", c.host, c.client.Config.Server, c.poll, c.client.Client.Timeout)
	}
	if c.Network() != "mastodon" || c.Kind() != tresor.KindMixed {
		t.Errorf("Network, Kind = %q, %q", c.Network(), c.Kind())
	}
	// The caller's client is copied, not changed.
	mine := &http.Client{Timeout: time.Second}
	c, _ = New(Credentials{Server: "https://social.example", AccessToken: "t"}, Options{HTTPClient: mine, PollInterval: time.Minute})
	if mine.Transport != nil || c.client.Client.Timeout != time.Second || c.poll != time.Minute {
		t.Errorf("Options not applied or the caller's client changed")
	}
}

func TestAccount(t *testing.T) {
	f := newFake(t)
	c := f.connector(Options{})
	h, err := c.Account(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := "@acme@" + f.host(); h != want {
		t.Errorf("Account = %q, want %q", h, want)
	}
	f.mu.Lock()
	f.me = f.account("ACME@Other.Example", "ACME", "")
	f.mu.Unlock()
	if h, err := c.Account(t.Context()); err != nil || h != "@acme@other.example" {
		t.Errorf("Account = %q, %v; want @acme@other.example", h, err)
	}
	// Without the token: the server's 401 is a connector error.
	bad, _ := New(Credentials{Server: f.srv.URL, AccessToken: "wrong-token"}, Options{})
	_, err = bad.Account(t.Context())
	var se *StatusError
	if !isConnectorError(err, "account") || !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("Account with a wrong token = %v, want a connector error with status 401", err)
	}
}

func TestProfile(t *testing.T) {
	f := newFake(t)
	erika := f.account("erika", "Erika Mustermann", `<p>Baker &amp; <a href="https://x.example/tag/bread" class="mention hashtag">#<span>bread</span></a><br>in Köln</p><p>Second&nbsp;paragraph &lt;3</p>`)
	erika["locked"], erika["bot"] = true, false
	erika["fields"] = []any{
		map[string]any{"name": "Web &amp; more", "value": `<a href="https://erika.example" rel="me"><span class="invisible">https://</span><span class="">erika.example</span></a>`, "verified_at": nil},
		map[string]any{"name": "Pronouns", "value": "she/her", "verified_at": "2024-01-01T00:00:00.000Z"},
	}
	bob := f.account("Bob@Remote.Example", "Bob", "")
	bob["bot"] = true
	f.accounts["erika"] = erika
	f.accounts["Bob@Remote.Example"] = bob
	c := f.connector(Options{})

	want := &tresor.SocialProfile{
		Network: "mastodon", Handle: "@erika@" + f.host(), DisplayName: "Erika Mustermann",
		Bio: "Baker & #bread\nin Köln\n\nSecond paragraph <3", URL: "https://" + f.host() + "/@erika",
		Fields: []tresor.ProfileField{{Name: "Web & more", Value: "https://erika.example"}, {Name: "Pronouns", Value: "she/her"}},
		Locked: true,
	}
	for _, handle := range []string{"@erika@" + f.host(), "erika@" + strings.ToUpper(f.host()), "@Erika", "erika"} {
		p, err := c.Profile(t.Context(), handle)
		if err != nil {
			t.Fatalf("Profile(%q): %v", handle, err)
		}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("Profile(%q) =\n%+v, want\n%+v", handle, p, want)
		}
		// A local account is looked up by its username.
		if got := f.lastRequest("/api/v1/accounts/lookup").URL.Query().Get("acct"); got != "erika" {
			t.Errorf("lookup acct = %q, want erika", got)
		}
	}
	f.accounts["bob@remote.example"] = bob // the server matches case-insensitively
	p, err := c.Profile(t.Context(), "@BOB@remote.example")
	if err != nil {
		t.Fatal(err)
	}
	if p.Handle != "@bob@remote.example" || !p.Bot || p.Locked || p.Fields != nil || p.Bio != "" {
		t.Errorf("Profile(bob) = %+v", p)
	}
	if got := f.lastRequest("/api/v1/accounts/lookup").URL.Query().Get("acct"); got != "bob@remote.example" {
		t.Errorf("lookup acct = %q, want bob@remote.example", got)
	}

	// Unknown: not found (after trying the search).
	if _, err := c.Profile(t.Context(), "@nobody@remote.example"); tresor.ErrorCode(err) != tresor.ECNotFound {
		t.Errorf("Profile(unknown) = %v, want %s", err, tresor.ECNotFound)
	}
	// Invalid handles never reach the server.
	n := f.requestsTo("/api/v1/accounts")
	for _, h := range []string{"", "@", "a b@x.example", "erika@x.example/path", "@erika@x.example @other@y.example", "erika@", "erika@x..example"} {
		if _, err := c.Profile(t.Context(), h); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
			t.Errorf("Profile(%q) = %v, want %s", h, err, tresor.ECInvalidParameter)
		}
	}
	if f.requestsTo("/api/v1/accounts") != n {
		t.Error("an invalid handle reached the server")
	}

	// A server without accounts/lookup: the search, without resolving.
	f.noLookup = true
	p, err = c.Profile(t.Context(), "@erika@"+f.host())
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("Profile by search = %+v, %v", p, err)
	}
	q := f.lastRequest("/api/v1/accounts/search").URL.Query()
	if q.Get("q") != "erika" || q.Get("resolve") != "false" {
		t.Errorf("search query = %v", q)
	}
	if _, err := c.Profile(t.Context(), "@erik@"+f.host()); tresor.ErrorCode(err) != tresor.ECNotFound {
		t.Errorf("Profile(similar name) by search = %v, want %s", err, tresor.ECNotFound)
	}
}

func TestInbox(t *testing.T) {
	f := newFake(t)
	f.ignoreExclude = true // the connector filters itself too
	erika := f.account("erika", "Erika", "")
	bob := f.account("bob@remote.example", "Bob", "")
	c := f.connector(Options{})
	ctx := t.Context()

	posts, cursor, err := c.Inbox(ctx, "")
	if err != nil || len(posts) != 0 || cursor != "" {
		t.Fatalf("empty Inbox = %v, %q, %v", posts, cursor, err)
	}

	pub := f.status(erika, `<p><span class="h-card"><a href="https://x/@acme" class="u-url mention">@<span>acme</span></a></span> Hello &amp; welcome<br>line two</p>`, "public", f.me, bob)
	pub["in_reply_to_id"] = "12345"
	n1 := f.notify("mention", erika, pub)
	f.notify("favourite", bob, f.status(f.me, "mine", "public"))
	dm := f.status(bob, `<p>@acme secret</p>`, "direct", f.me)
	dm["spoiler_text"] = "CW here"
	n3 := f.notify("mention", bob, dm)

	posts, cursor, err = c.Inbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 2 || cursor != n3 {
		t.Fatalf("Inbox = %d posts, cursor %q; want 2, %q", len(posts), cursor, n3)
	}
	created, _ := time.Parse(time.RFC3339, "2025-03-04T05:06:07Z")
	want0 := tresor.SocialPost{
		ID: pub["id"].(string), Network: "mastodon", Author: "@erika@" + f.host(), Text: "@acme Hello & welcome\nline two",
		Visibility: tresor.PostPublic, Language: "en", URL: pub["url"].(string), CreatedAt: created, InReplyTo: "12345",
		Mentions: []string{"@acme@" + f.host(), "@bob@remote.example"}, ToCompany: true,
	}
	if !reflect.DeepEqual(posts[0], want0) {
		t.Errorf("post 0 =\n%+v, want\n%+v", posts[0], want0)
	}
	want1 := tresor.SocialPost{
		ID: dm["id"].(string), Network: "mastodon", Author: "@bob@remote.example", Text: "CW here\n\n@acme secret",
		Visibility: tresor.PostDirect, Language: "en", URL: dm["url"].(string), CreatedAt: created,
		Mentions: []string{"@acme@" + f.host()}, ToCompany: true,
	}
	if !reflect.DeepEqual(posts[1], want1) {
		t.Errorf("post 1 =\n%+v, want\n%+v", posts[1], want1)
	}
	q := f.lastRequest("/api/v1/notifications").URL.Query()
	if q.Get("min_id") != "" || !strings.Contains(strings.Join(q["exclude_types[]"], ","), "favourite") {
		t.Errorf("first notifications query = %v", q)
	}

	// The cursor: nothing new, then only what came after it.
	posts, cursor2, err := c.Inbox(ctx, cursor)
	if err != nil || len(posts) != 0 || cursor2 != cursor {
		t.Errorf("Inbox(cursor) = %v, %q, %v; want nothing and the same cursor", posts, cursor2, err)
	}
	if got := f.lastRequest("/api/v1/notifications").URL.Query().Get("min_id"); got != cursor {
		t.Errorf("min_id = %q, want %q", got, cursor)
	}
	unlisted := f.status(bob, "<p>later</p>", "unlisted", f.me)
	f.notify("reblog", erika, f.status(f.me, "x", "public")) // not a mention: moves the cursor
	n5 := f.notify("mention", bob, unlisted)
	posts, cursor3, err := c.Inbox(ctx, cursor)
	if err != nil || len(posts) != 1 || posts[0].ID != unlisted["id"] || posts[0].Visibility != tresor.PostUnlisted || cursor3 != n5 {
		t.Errorf("Inbox(cursor) after a new mention = %+v, %q, %v", posts, cursor3, err)
	}
	_ = n1

	// Many: one page, oldest first; the cursor continues.
	var ids []string
	for range 45 {
		f.notify("mention", erika, f.status(erika, "<p>n</p>", "public", f.me))
	}
	cur := cursor3
	for {
		posts, next, err := c.Inbox(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(posts) == 0 {
			if next != cur {
				t.Errorf("empty page moved the cursor")
			}
			break
		}
		for _, p := range posts {
			ids = append(ids, p.ID)
		}
		cur = next
	}
	if len(ids) != 45 {
		t.Fatalf("paged through %d posts, want 45", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if len(ids[i]) < len(ids[i-1]) || (len(ids[i]) == len(ids[i-1]) && ids[i] <= ids[i-1]) {
			t.Fatalf("not oldest first: %v", ids)
		}
	}
}

// TestInboxIDOrder: ids are compared as numbers (shorter is older), as
// Mastodon's are.
func TestInboxIDOrder(t *testing.T) {
	f := newFake(t)
	erika := f.account("erika", "Erika", "")
	f.nextID = 97
	f.notify("mention", erika, f.status(erika, "a", "public")) // status 98, notification 99
	f.notify("mention", erika, f.status(erika, "b", "public")) // 100, 101
	posts, cursor, err := f.connector(Options{}).Inbox(t.Context(), "")
	if err != nil || len(posts) != 2 || posts[0].Text != "a" || posts[1].Text != "b" || cursor != "101" {
		t.Errorf("Inbox = %+v, %q, %v", posts, cursor, err)
	}
}

func TestPublishAndSend(t *testing.T) {
	f := newFake(t)
	c := f.connector(Options{})
	ctx := t.Context()
	p, err := c.Publish(ctx, tresor.PublishRequest{Key: "3kabcdefghij2", Text: "Hello <world> & all"})
	if err != nil {
		t.Fatal(err)
	}
	form := f.posted[len(f.posted)-1]
	if form.Get("status") != "Hello <world> & all" || form.Get("visibility") != "public" || form.Has("in_reply_to_id") {
		t.Errorf("Publish form = %v", form)
	}
	if p.Author != "@acme@"+f.host() || p.Visibility != tresor.PostPublic || p.Text != "Hello & all" || p.ID == "" || p.ToCompany {
		t.Errorf("Publish = %+v", p) // the fake echoes the text as HTML, in which <world> is a tag
	}

	for _, tc := range []struct {
		to        string
		direct    bool
		inReplyTo string
		status    string
		vis       string
	}{
		{"@Erika@Social.Example", true, "", "@erika@social.example Thanks!", "direct"},
		{"erika", false, "777", "@erika@" + f.host() + " Thanks!", "public"},
		{"bob@remote.example", true, "778", "@bob@remote.example Thanks!", "direct"},
	} {
		p, err := c.Send(ctx, tc.to, "Thanks!", tc.direct, tc.inReplyTo)
		if err != nil {
			t.Fatalf("Send(%q): %v", tc.to, err)
		}
		form := f.posted[len(f.posted)-1]
		if form.Get("status") != tc.status || form.Get("visibility") != tc.vis || form.Get("in_reply_to_id") != tc.inReplyTo {
			t.Errorf("Send(%q, direct %v, %q) form = %v", tc.to, tc.direct, tc.inReplyTo, form)
		}
		if p.Text != tc.status || string(p.Visibility) != tc.vis || p.InReplyTo != tc.inReplyTo {
			t.Errorf("Send(%q) = %+v", tc.to, p)
		}
	}
	n := len(f.posted)
	for _, to := range []string{"", "erika hello @other@x.example", "erika@x.example\n@other"} {
		if _, err := c.Send(ctx, to, "x", true, ""); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
			t.Errorf("Send(to %q) = %v, want %s", to, err, tresor.ECInvalidParameter)
		}
	}
	if _, err := c.Send(ctx, "erika", "  ", true, ""); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
		t.Errorf("Send(empty text) = %v", err)
	}
	if _, err := c.Publish(ctx, tresor.PublishRequest{}); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
		t.Errorf("Publish(empty text) = %v", err)
	}
	if len(f.posted) != n {
		t.Error("an invalid message reached the server")
	}
}

func TestStream(t *testing.T) {
	f := newFake(t)
	erika := f.account("erika", "Erika", "")
	bob := f.account("bob@remote.example", "Bob", "")
	old := f.status(erika, "<p>old #acme post</p>", "public")
	f.tags["acme"] = []map[string]any{old}
	// "tresor" is not known to the server yet: 404 until the first post.
	c := f.connector(Options{PollInterval: 10 * time.Millisecond})

	var mu sync.Mutex
	var got []tresor.SocialPost
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(ctx, []string{"#Acme", "tresor", "acme"}, func(p tresor.SocialPost) {
			mu.Lock()
			got = append(got, p)
			mu.Unlock()
		})
	}()
	// The second round has begun: the first has recorded where the timelines stand.
	waitFor(t, "the first polls", func() bool { return f.requestsTo("/api/v1/timelines/tag/tresor") >= 2 })
	if q := f.lastRequest("/api/v1/timelines/tag/acme").URL.Query(); q.Get("min_id") != old["id"] {
		t.Errorf("second poll of acme: %v, want min_id %s", q, old["id"])
	}

	f.mu.Lock()
	p1 := f.status(bob, "<p>new #acme and #tresor</p>", "public")
	p2 := f.status(erika, "<p>unlisted #acme</p>", "unlisted")
	p3 := f.status(erika, "<p>only #tresor</p>", "public")
	f.tags["acme"] = append(f.tags["acme"], p1, p2)
	f.tags["tresor"] = []map[string]any{p1, p3}
	f.mu.Unlock()

	waitFor(t, "the new posts", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 })
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing is delivered twice
	mu.Lock()
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	mu.Unlock()
	if want := []string{p1["id"].(string), p3["id"].(string)}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Stream delivered %v, want %v (old %s, unlisted %s)", ids, want, old["id"], p2["id"])
	}
	mu.Lock()
	if g := got[0]; g.Author != "@bob@remote.example" || g.Text != "new #acme and #tresor" || g.Visibility != tresor.PostPublic || g.ToCompany {
		t.Errorf("streamed post = %+v", g)
	}
	mu.Unlock()
	if q := f.lastRequest("/api/v1/timelines/tag/acme").URL.Query(); q.Get("min_id") != p2["id"] {
		t.Errorf("later poll of acme: %v, want min_id %s", q, p2["id"])
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stream = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stream did not end with its context")
	}
}

func TestStreamErrors(t *testing.T) {
	f := newFake(t)
	c := f.connector(Options{PollInterval: 10 * time.Millisecond})
	for _, kw := range [][]string{nil, {""}, {"#"}, {"two words"}, {"a/b"}} {
		if err := c.Stream(t.Context(), kw, func(tresor.SocialPost) {}); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
			t.Errorf("Stream(%q) = %v, want %s", kw, err, tresor.ECInvalidParameter)
		}
	}
	// A failing poll is tried again; a refused token ends the stream.
	var fails int
	f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		fails++
		if fails <= 2 {
			writeJSON(w, 500, map[string]any{"error": "oops"})
			return true
		}
		writeJSON(w, 401, map[string]any{"error": "The access token was revoked"})
		return true
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := c.Stream(ctx, []string{"acme"}, func(tresor.SocialPost) {})
	var se *StatusError
	if !isConnectorError(err, "stream") || !errors.As(err, &se) || se.StatusCode != 401 || fails != 3 {
		t.Errorf("Stream = %v after %d requests; want the 401 after 3", err, fails)
	}
}

func TestRegisterExchange(t *testing.T) {
	f := newFake(t)
	ctx := t.Context()
	app, err := Register(ctx, f.srv.URL+"/", " Tresor CRM ")
	if err != nil {
		t.Fatal(err)
	}
	form := f.posted[len(f.posted)-1]
	if form.Get("client_name") != "Tresor CRM" || form.Get("scopes") != "read write follow" || form.Get("redirect_uris") != "urn:ietf:wg:oauth:2.0:oob" {
		t.Errorf("apps form = %v", form)
	}
	if app.Server != f.srv.URL || app.ClientID != "cid-123" || app.ClientSecret != "csecret-456" {
		t.Errorf("App = %+v", app)
	}
	u, err := url.Parse(app.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host != f.srv.URL || u.Path != "/oauth/authorize" || q.Get("client_id") != "cid-123" || q.Get("response_type") != "code" ||
		q.Get("redirect_uri") != RedirectURI || q.Get("scope") != Scopes {
		t.Errorf("AuthorizeURL = %s", app.AuthorizeURL)
	}
	creds, err := app.Exchange(ctx, " the-code\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Credentials{Server: f.srv.URL, ClientID: "cid-123", ClientSecret: "csecret-456", AccessToken: fakeToken}); creds != want {
		t.Errorf("Exchange = %+v, want %+v", creds, want)
	}
	c, err := New(creds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Account(ctx); err != nil {
		t.Errorf("Account with the exchanged credentials: %v", err)
	}
	_, err = app.Exchange(ctx, "wrong-code")
	var se *StatusError
	if !isConnectorError(err, "exchange") || !errors.As(err, &se) || se.StatusCode != 400 || strings.Contains(err.Error(), "csecret-456") {
		t.Errorf("Exchange(wrong code) = %v", err)
	}
	if _, err := app.Exchange(ctx, ""); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
		t.Errorf("Exchange(\"\") = %v", err)
	}
	if _, err := Register(ctx, "ftp://x", "Tresor"); tresor.ErrorCode(err) != tresor.ECInvalidParameter {
		t.Errorf("Register(ftp) = %v", err)
	}
	f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, 500, map[string]any{"error": "down"})
		return true
	}
	if _, err := Register(ctx, f.srv.URL, "Tresor"); !isConnectorError(err, "register") {
		t.Errorf("Register on a failing server = %v", err)
	}
}

// TestErrors: failures of the network are connector errors without the
// token, and the connector keeps working after them.
func TestErrors(t *testing.T) {
	f := newFake(t)
	f.accounts["erika"] = f.account("erika", "Erika", "")
	// Only the hanging server meets the short timeout; the others get
	// time enough for 8 MiB on a busy machine.
	quick := f.connector(Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	patient := f.connector(Options{HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	ctx := t.Context()
	calls := map[string]func(c *Connector) error{
		"account": func(c *Connector) error { _, err := c.Account(ctx); return err },
		"profile": func(c *Connector) error { _, err := c.Profile(ctx, "erika"); return err },
		"inbox":   func(c *Connector) error { _, _, err := c.Inbox(ctx, ""); return err },
		"publish": func(c *Connector) error { _, err := c.Publish(ctx, tresor.PublishRequest{Text: "x"}); return err },
		"send":    func(c *Connector) error { _, err := c.Send(ctx, "erika", "x", true, ""); return err },
	}
	answers := map[string]struct {
		answer func(w http.ResponseWriter, r *http.Request)
		check  func(err error) bool
	}{
		"500": {func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 500, map[string]any{"error": "Internal error " + fakeToken})
		}, func(err error) bool { var se *StatusError; return errors.As(err, &se) && se.StatusCode == 500 }},
		"garbage": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>not json" + fakeToken))
		}, func(err error) bool { return true }},
		"wrong shape": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"id": {"x": 1}, "acct": 7, "created_at": "yesterday", "0": [1,2]}`))
		}, func(err error) bool { return true }},
		"truncated": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[{"id": "1", "type": "mention", "status": {"id": "2", "content": "<p>hi`))
		}, func(err error) bool { return true }},
		"429": {func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(429)
		}, func(err error) bool { return errors.Is(err, ErrRateLimited) }},
		"too large": {func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`"`))
			w.Write([]byte(strings.Repeat("x", MaxResponseBytes)))
			w.Write([]byte(`"`))
		}, func(err error) bool { return errors.Is(err, ErrTooLarge) }},
		"hang": {func(w http.ResponseWriter, r *http.Request) {
			// A POST's unread body keeps the server from noticing that the
			// client gave up; the handler gives up too, after a while.
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, func(err error) bool {
			var te interface{ Timeout() bool }
			return errors.As(err, &te) && te.Timeout() && errors.Is(err, context.DeadlineExceeded)
		}},
	}
	for name, a := range answers {
		c := patient
		if name == "hang" {
			c = quick
		}
		for op, call := range calls {
			f.mu.Lock()
			f.intercept = func(w http.ResponseWriter, r *http.Request) bool { a.answer(w, r); return true }
			f.mu.Unlock()
			began := time.Now()
			err := call(c)
			if !isConnectorError(err, op) || !a.check(err) {
				t.Errorf("%s: %s = %v (%T)", name, op, err, err)
			} else if strings.Contains(err.Error(), fakeToken) || strings.Contains(err.Error(), "csecret-456") {
				t.Errorf("%s: %s: the message holds the token: %v", name, op, err)
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("%s: %s took %s", name, op, d)
			}
			f.mu.Lock()
			f.intercept = nil
			f.mu.Unlock()
			if err := call(c); err != nil {
				t.Errorf("%s: %s afterwards: %v", name, op, err)
			}
		}
	}
}

// TestErrorMessageHasNoQuery: a failed request names its URL without the
// query, which may hold a handle.
func TestErrorMessageHasNoQuery(t *testing.T) {
	f := newFake(t)
	c := f.connector(Options{})
	f.srv.Close()
	_, err := c.Profile(t.Context(), "@erika@social.example")
	if !isConnectorError(err, "profile") || strings.Contains(err.Error(), "erika") || !strings.Contains(err.Error(), "/api/v1/accounts/lookup") {
		t.Errorf("Profile on a closed server = %v", err)
	}
}

func isConnectorError(err error, op string) bool {
	var ce *tresor.ErrConnector
	return errors.As(err, &ce) && ce.Network == "mastodon" && ce.Op == op
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a real server under load too
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
