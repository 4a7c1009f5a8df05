package bluesky

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"tresor"
)

func connect(t *testing.T, f *fakeXRPC, opt Options) *Connector {
	t.Helper()
	c, err := New(context.Background(), f.creds(), opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// connErr checks that err is an *tresor.ErrConnector of op that names
// no secret.
func connErr(t *testing.T, f *fakeXRPC, err error, op string) *tresor.ErrConnector {
	t.Helper()
	var ce *tresor.ErrConnector
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is no *tresor.ErrConnector", err, err)
	}
	if ce.Network != "bluesky" || ce.Op != op {
		t.Errorf("error is of %s/%s, want bluesky/%s", ce.Network, ce.Op, op)
	}
	access, refresh := f.tokens()
	msg := err.Error()
	for _, s := range []string{fakePassword, access, refresh, "eyJ."} {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q shows the secret %q", msg, s)
		}
	}
	return ce
}

func TestLoginAndAccount(t *testing.T) {
	f := newFake(t)
	c := connect(t, f, Options{})
	if logins, _ := f.counts(); logins != 1 {
		t.Errorf("%d logins, want 1", logins)
	}
	if c.Network() != "bluesky" || c.Kind() != tresor.KindMixed {
		t.Errorf("Network, Kind = %q, %q", c.Network(), c.Kind())
	}
	acc, err := c.Account(context.Background())
	if err != nil || acc != "@tresor.example" {
		t.Errorf("Account = %q, %v; want @tresor.example", acc, err)
	}
	if c.http.Timeout != DefaultTimeout || c.interval != DefaultPollInterval {
		t.Errorf("defaults: timeout %v, interval %v", c.http.Timeout, c.interval)
	}

	bad := f.creds()
	bad.AppPassword = "wrong-pass-word-xxxx"
	_, err = New(context.Background(), bad, Options{})
	connErr(t, f, err, "login")
	if strings.Contains(err.Error(), bad.AppPassword) {
		t.Errorf("error %q shows the password", err)
	}
}

func TestCredentials(t *testing.T) {
	c, err := ParseCredentials([]byte(`{"service":"https://pds.example/","handle":"@alice.example","app_password":"` + fakePassword + `"}`))
	if err != nil || c.Service != "https://pds.example/" || c.Handle != "@alice.example" || c.AppPassword != fakePassword {
		t.Fatalf("ParseCredentials = %+v, %v", c, err)
	}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, fakePassword) {
			t.Errorf("%q shows the password", s)
		}
	}
	for _, in := range []string{
		`{"handle":"alice.example"}`,
		`{"app_password":"x"}`,
		`{"service":"ftp://x","handle":"a.example","app_password":"x"}`,
		`{"handle":"a.example","app_password":"x","password":"y"}`,
		`not json`,
	} {
		if _, err := ParseCredentials([]byte(in)); err == nil {
			t.Errorf("ParseCredentials(%s) accepted", in)
		}
	}
	if _, err := New(context.Background(), Credentials{Handle: "a.example"}, Options{}); err == nil {
		t.Error("New without a password accepted")
	}
	n, err := Credentials{Handle: "a.example", AppPassword: "x"}.normalized()
	if err != nil || n.Service != DefaultService {
		t.Errorf("default service = %q, %v", n.Service, err)
	}
}

func TestProfile(t *testing.T) {
	f := newFake(t)
	f.addProfile(map[string]any{"did": "did:plc:alice", "handle": "Alice.Example", "displayName": "Alice Müller",
		"description": "Gärtnerin in Köln", "labels": []any{}})
	f.addProfile(map[string]any{"did": "did:plc:robot", "handle": "robot.example",
		"labels": []any{map[string]any{"src": "did:plc:robot", "uri": "at://did:plc:robot/app.bsky.actor.profile/self", "val": "bot", "cts": "2024-01-01T00:00:00Z"}}})
	c := connect(t, f, Options{})
	ctx := context.Background()
	for _, h := range []string{"@alice.example", "alice.example", "bluesky:Alice.Example", "did:plc:alice"} {
		p, err := c.Profile(ctx, h)
		if err != nil {
			t.Fatalf("Profile(%q): %v", h, err)
		}
		want := tresor.SocialProfile{Network: "bluesky", Handle: "@alice.example", DisplayName: "Alice Müller",
			Bio: "Gärtnerin in Köln", URL: "https://bsky.app/profile/alice.example"}
		if p.Network != want.Network || p.Handle != want.Handle || p.DisplayName != want.DisplayName || p.Bio != want.Bio ||
			p.URL != want.URL || p.Fields != nil || p.Locked || p.Bot {
			t.Errorf("Profile(%q) = %+v, want %+v", h, *p, want)
		}
	}
	p, err := c.Profile(ctx, "robot.example")
	if err != nil || !p.Bot || p.DisplayName != "" || p.Bio != "" {
		t.Errorf("Profile(robot) = %+v, %v; want a bot without name", p, err)
	}
	_, err = c.Profile(ctx, "nobody.example")
	connErr(t, f, err, "profile")
	if _, err := c.Profile(ctx, "not a handle"); err == nil {
		t.Error("Profile of a malformed handle accepted")
	}
}

func TestPublish(t *testing.T) {
	f := newFake(t)
	c := connect(t, f, Options{Langs: []string{"de"}})
	before := time.Now().Add(-time.Second)
	p, err := c.Publish(context.Background(), tresor.PublishRequest{Text: "Neue Öffnungszeiten ab Montag"})
	if err != nil {
		t.Fatal(err)
	}
	body := f.lastRecord()
	if body["repo"] != fakeDID || body["collection"] != "app.bsky.feed.post" {
		t.Errorf("createRecord body %v", body)
	}
	rec := body["record"].(map[string]any)
	if rec["$type"] != "app.bsky.feed.post" || rec["text"] != "Neue Öffnungszeiten ab Montag" {
		t.Errorf("record %v", rec)
	}
	created, err := time.Parse(time.RFC3339Nano, rec["createdAt"].(string))
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Second)) || !strings.HasSuffix(rec["createdAt"].(string), "Z") {
		t.Errorf("createdAt %v (%v)", rec["createdAt"], err)
	}
	if langs, _ := rec["langs"].([]any); len(langs) != 1 || langs[0] != "de" {
		t.Errorf("langs %v", rec["langs"])
	}
	if _, ok := rec["facets"]; ok {
		t.Errorf("a post without mentions has facets: %v", rec["facets"])
	}
	if !strings.HasPrefix(p.ID, "at://"+fakeDID+"/app.bsky.feed.post/") || p.Network != "bluesky" || p.Author != "@tresor.example" ||
		p.Visibility != tresor.PostPublic || p.Text != "Neue Öffnungszeiten ab Montag" || p.CreatedAt.IsZero() {
		t.Errorf("post %+v", p)
	}
	rkey := p.ID[strings.LastIndex(p.ID, "/")+1:]
	if p.URL != "https://bsky.app/profile/tresor.example/post/"+rkey {
		t.Errorf("URL %q", p.URL)
	}
	if _, err := c.Publish(context.Background(), tresor.PublishRequest{Text: "  "}); err == nil {
		t.Error("empty post accepted")
	}
}

func TestSessionRefresh(t *testing.T) {
	f := newFake(t)
	c := connect(t, f, Options{})
	ctx := context.Background()
	f.expireAccess()
	if _, err := c.Publish(ctx, tresor.PublishRequest{Text: "eins"}); err != nil {
		t.Fatalf("Publish after the access token expired: %v", err)
	}
	if logins, refreshes := f.counts(); logins != 1 || refreshes != 1 {
		t.Errorf("logins, refreshes = %d, %d; want 1, 1", logins, refreshes)
	}

	// Many calls at once with an expired token: one refresh.
	f.addProfile(map[string]any{"did": "did:plc:alice", "handle": "alice.example"})
	f.expireAccess()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Profile(ctx, "alice.example")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Profile: %v", err)
		}
	}
	if logins, refreshes := f.counts(); logins != 1 || refreshes != 2 {
		t.Errorf("logins, refreshes = %d, %d; want 1, 2", logins, refreshes)
	}

	// Refresh token expired as well: a new login with the app password.
	f.expireAll()
	if _, err := c.Profile(ctx, "alice.example"); err != nil {
		t.Fatalf("Profile after both tokens expired: %v", err)
	}
	if logins, refreshes := f.counts(); logins != 2 || refreshes != 2 {
		t.Errorf("logins, refreshes = %d, %d; want 2, 2", logins, refreshes)
	}

	// The refresh fails on the network: an ErrConnector, and then it works.
	f.expireAccess()
	f.fail("com.atproto.server.refreshSession", fault500)
	_, err := c.Profile(ctx, "alice.example")
	connErr(t, f, err, "profile")
	if _, err := c.Profile(ctx, "alice.example"); err != nil {
		t.Fatalf("Profile after a failed refresh: %v", err)
	}
}

// facetOf returns the only facet of a record.
func facetOf(t *testing.T, rec map[string]any) (start, end int, typ, did string) {
	t.Helper()
	facets, _ := rec["facets"].([]any)
	if len(facets) != 1 {
		t.Fatalf("facets %v, want one", rec["facets"])
	}
	fc := facets[0].(map[string]any)
	idx := fc["index"].(map[string]any)
	feats := fc["features"].([]any)
	if len(feats) != 1 {
		t.Fatalf("features %v", feats)
	}
	ft := feats[0].(map[string]any)
	return int(idx["byteStart"].(float64)), int(idx["byteEnd"].(float64)), ft["$type"].(string), ft["did"].(string)
}

func TestSendMention(t *testing.T) {
	f := newFake(t)
	f.addProfile(map[string]any{"did": "did:plc:alice", "handle": "alice.example"})
	c := connect(t, f, Options{})
	ctx := context.Background()

	text := "Grüße aus Köln, @Alice.Example! Schöne Woche, @alice.examples und mail@alice.example."
	p, err := c.Send(ctx, "bluesky:alice.example", text, false, "")
	if err != nil {
		t.Fatal(err)
	}
	rec := f.lastRecord()["record"].(map[string]any)
	if rec["text"] != text || rec["$type"] != "app.bsky.feed.post" {
		t.Errorf("record %v", rec)
	}
	start, end, typ, did := facetOf(t, rec)
	wantStart := len("Grüße aus Köln, ") // bytes: ü, ß and ö take two each
	if wantStart != 19 || utf8.RuneCountInString("Grüße aus Köln, ") != 16 {
		t.Fatalf("test text: %d", wantStart)
	}
	if start != wantStart || end != wantStart+len("@Alice.Example") || text[start:end] != "@Alice.Example" {
		t.Errorf("facet bytes %d..%d (%q), want %d..%d", start, end, text[start:end], wantStart, wantStart+14)
	}
	if typ != "app.bsky.richtext.facet#mention" || did != "did:plc:alice" {
		t.Errorf("feature %s %s", typ, did)
	}
	if p.Author != "@tresor.example" || p.Visibility != tresor.PostPublic || p.Text != text ||
		len(p.Mentions) != 1 || p.Mentions[0] != "@alice.example" || p.InReplyTo != "" || !strings.HasPrefix(p.ID, "at://") {
		t.Errorf("post %+v", p)
	}
	if _, ok := rec["reply"]; ok {
		t.Errorf("reply without inReplyTo: %v", rec["reply"])
	}

	// No mention in the text: one is put in front.
	if _, err := c.Send(ctx, "@alice.example", "Danke für Ihre Nachricht – wir melden uns.", false, ""); err != nil {
		t.Fatal(err)
	}
	rec = f.lastRecord()["record"].(map[string]any)
	if rec["text"] != "@alice.example Danke für Ihre Nachricht – wir melden uns." {
		t.Errorf("text %q", rec["text"])
	}
	if start, end, _, did := facetOf(t, rec); start != 0 || end != len("@alice.example") || did != "did:plc:alice" {
		t.Errorf("facet %d..%d %s", start, end, did)
	}

	// A handle that does not resolve.
	_, err = c.Send(ctx, "nobody.example", "Hallo", false, "")
	connErr(t, f, err, "send")
	if _, err := c.Send(ctx, "not a handle", "Hallo", false, ""); err == nil {
		t.Error("malformed handle accepted")
	}
}

func TestSendReply(t *testing.T) {
	f := newFake(t)
	f.addProfile(map[string]any{"did": "did:plc:alice", "handle": "alice.example"})
	now := time.Now()
	root := "at://did:plc:alice/app.bsky.feed.post/3kroot"
	f.addPost(postView(root, "bafyroot", "did:plc:alice", "alice.example", "Wer kennt einen guten Tresor?", now, nil))
	child := "at://did:plc:alice/app.bsky.feed.post/3kchild"
	f.addPost(postView(child, "bafychild", "did:plc:alice", "alice.example", "@tresor.example ihr vielleicht?", now,
		map[string]any{"root": map[string]any{"uri": root, "cid": "bafyroot"}, "parent": map[string]any{"uri": root, "cid": "bafyroot"}}))
	c := connect(t, f, Options{})
	ctx := context.Background()

	check := func(inReplyTo, wantParent, wantParentCid, wantRoot, wantRootCid string) {
		t.Helper()
		p, err := c.Send(ctx, "alice.example", "Gern, schreiben Sie uns.", false, inReplyTo)
		if err != nil {
			t.Fatal(err)
		}
		if p.InReplyTo != inReplyTo {
			t.Errorf("InReplyTo %q", p.InReplyTo)
		}
		rec := f.lastRecord()["record"].(map[string]any)
		reply, _ := rec["reply"].(map[string]any)
		if reply == nil {
			t.Fatalf("no reply in %v", rec)
		}
		par, rt := reply["parent"].(map[string]any), reply["root"].(map[string]any)
		if par["uri"] != wantParent || par["cid"] != wantParentCid || rt["uri"] != wantRoot || rt["cid"] != wantRootCid {
			t.Errorf("reply %v", reply)
		}
	}
	check(root, root, "bafyroot", root, "bafyroot")    // a post that starts a thread
	check(child, child, "bafychild", root, "bafyroot") // a reply: the root is its root

	_, err := c.Send(ctx, "alice.example", "Hallo", false, "at://did:plc:alice/app.bsky.feed.post/3kgone")
	connErr(t, f, err, "send")
	if _, err := c.Send(ctx, "alice.example", "Hallo", false, "https://bsky.app/profile/alice.example/post/3kroot"); err == nil {
		t.Error("a reply to a web URL accepted")
	}
}

func TestSendDirectRefused(t *testing.T) {
	f := newFake(t)
	c := connect(t, f, Options{})
	before := f.count("com.atproto.repo.createRecord") + f.count("com.atproto.identity.resolveHandle")
	p, err := c.Send(context.Background(), "alice.example", "Vertraulich", true, "")
	if p != nil {
		t.Errorf("post %+v", p)
	}
	ce := connErr(t, f, err, "send")
	if !errors.Is(err, ErrDirect) || !strings.Contains(ce.Error(), "direct messages are not supported") {
		t.Errorf("error %v", err)
	}
	if after := f.count("com.atproto.repo.createRecord") + f.count("com.atproto.identity.resolveHandle"); after != before {
		t.Error("a direct message reached the network")
	}
}

func TestInbox(t *testing.T) {
	f := newFake(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	uri := func(i int) string { return fmt.Sprintf("at://did:plc:bob/app.bsky.feed.post/3kpost%04d", i) }
	mention := map[string]any{"facets": []any{map[string]any{
		"index":    map[string]any{"byteStart": 4, "byteEnd": 19},
		"features": []any{map[string]any{"$type": "app.bsky.richtext.facet#mention", "did": fakeDID}},
	}}}
	f.addNote(note("mention", uri(1), "did:plc:bob", "Bob.Example", "Hey @tresor.example, offen?", t0, mention))
	f.addNote(note("like", "at://did:plc:bob/app.bsky.feed.like/3klike", "did:plc:bob", "bob.example", "", t0.Add(time.Minute), nil))
	f.addNote(note("reply", uri(2), "did:plc:bob", "bob.example", "Danke!", t0.Add(2*time.Minute),
		map[string]any{"reply": map[string]any{"root": map[string]any{"uri": "at://" + fakeDID + "/app.bsky.feed.post/3kown", "cid": "bafyown"},
			"parent": map[string]any{"uri": "at://" + fakeDID + "/app.bsky.feed.post/3kown", "cid": "bafyown"}}}))
	f.addNote(map[string]any{"uri": uri(3), "cid": "bafyx", "reason": "mention", "indexedAt": t0.Add(3 * time.Minute).Format(time.RFC3339),
		"author": map[string]any{"did": "did:plc:bob", "handle": "bob.example"}, "record": map[string]any{"$type": "com.example.unknown", "x": 1}})
	f.addNote(note("follow", "at://did:plc:carl/app.bsky.graph.follow/3kf", "did:plc:carl", "carl.example", "", t0.Add(4*time.Minute), nil))
	c := connect(t, f, Options{})
	ctx := context.Background()

	posts, cursor, err := c.Inbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 2 || posts[0].ID != uri(1) || posts[1].ID != uri(2) {
		t.Fatalf("Inbox = %+v, want the mention and the reply, oldest first", posts)
	}
	m := posts[0]
	if m.Network != "bluesky" || m.Author != "@bob.example" || m.Text != "Hey @tresor.example, offen?" || m.Visibility != tresor.PostPublic ||
		!m.ToCompany || m.URL != "https://bsky.app/profile/bob.example/post/3kpost0001" || !m.CreatedAt.Equal(t0.Add(-time.Second)) ||
		len(m.Mentions) != 1 || m.Mentions[0] != "@tresor.example" || m.InReplyTo != "" {
		t.Errorf("mention %+v", m)
	}
	if r := posts[1]; r.InReplyTo != "at://"+fakeDID+"/app.bsky.feed.post/3kown" || !r.ToCompany || r.Text != "Danke!" {
		t.Errorf("reply %+v", r)
	}
	f.mu.Lock()
	reasons := f.notesQueries[len(f.notesQueries)-1]["reasons"]
	f.mu.Unlock()
	if strings.Join(reasons, ",") != "mention,reply" {
		t.Errorf("reasons %v", reasons)
	}

	// Nothing new: nothing, and the same cursor.
	posts, again, err := c.Inbox(ctx, cursor)
	if err != nil || len(posts) != 0 || again != cursor {
		t.Fatalf("Inbox(cursor) = %v, %q, %v; want nothing, %q", posts, again, err, cursor)
	}

	// 150 new ones: two pages, all of them, oldest first.
	for i := 10; i < 160; i++ {
		f.addNote(note("mention", uri(i), "did:plc:bob", "bob.example", fmt.Sprintf("Nr. %d @tresor.example", i), t0.Add(time.Hour+time.Duration(i)*time.Second), nil))
	}
	posts, cursor2, err := c.Inbox(ctx, cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 150 {
		t.Fatalf("%d posts, want 150", len(posts))
	}
	for i, p := range posts {
		if p.ID != uri(i+10) {
			t.Fatalf("posts[%d] = %s, want %s", i, p.ID, uri(i+10))
		}
	}

	// A cursor that is a post's ID (as the gate keeps after a partial
	// failure) reads after that post.
	posts, _, err = c.Inbox(ctx, uri(155))
	if err != nil || len(posts) != 4 || posts[0].ID != uri(156) || posts[3].ID != uri(159) {
		t.Errorf("Inbox(uri 155) = %d posts, %v", len(posts), err)
	}

	// The newest notification is deleted: the cursor's time still holds.
	f.removeNote(uri(159))
	f.addNote(note("reply", uri(200), "did:plc:bob", "bob.example", "Noch was", t0.Add(2*time.Hour), nil))
	posts, cursor3, err := c.Inbox(ctx, cursor2)
	if err != nil || len(posts) != 1 || posts[0].ID != uri(200) {
		t.Fatalf("Inbox after a deletion = %v, %v", posts, err)
	}
	if cursor3 == cursor2 {
		t.Errorf("the cursor did not move: %q", cursor3)
	}
	if posts, _, err := c.Inbox(ctx, cursor3); err != nil || len(posts) != 0 {
		t.Errorf("Inbox(cursor3) = %d posts, %v; want nothing", len(posts), err)
	}
	// The cursor is stored unencrypted: it names no post and no person.
	if strings.Contains(cursor3, "did:plc:bob") || strings.Contains(cursor3, "3kpost") {
		t.Errorf("the cursor %q shows who wrote", cursor3)
	}

	// A cursor Inbox does not know reads the newest page.
	posts, _, err = c.Inbox(ctx, "12345")
	if err != nil || len(posts) == 0 {
		t.Errorf("Inbox(unknown cursor) = %d posts, %v", len(posts), err)
	}
}

func TestStream(t *testing.T) {
	f := newFake(t)
	t0 := time.Now().Add(-time.Hour)
	hit := func(i int, did, handle string) map[string]any {
		return postView(fmt.Sprintf("at://%s/app.bsky.feed.post/3khit%04d", did, i), "bafy", did, handle,
			fmt.Sprintf("Tresor CRM Nr. %d", i), t0.Add(time.Duration(i)*time.Second), nil)
	}
	f.addSearchHit("tresor", hit(1, "did:plc:bob", "bob.example"))
	f.addSearchHit("tresor", hit(2, "did:plc:bob", "bob.example"))
	f.addSearchHit("crm", hit(2, "did:plc:bob", "bob.example"))
	c := connect(t, f, Options{PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan tresor.SocialPost, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(ctx, []string{"tresor", " crm ", "tresor", ""}, func(p tresor.SocialPost) { got <- p })
	}()

	waitFor(t, func() bool { return f.answered("app.bsky.feed.searchPosts") >= 2 }) // the first poll
	f.addSearchHit("tresor", hit(3, "did:plc:carl", "carl.example"))
	f.addSearchHit("crm", hit(3, "did:plc:carl", "carl.example"))
	f.addSearchHit("crm", hit(4, fakeDID, fakeHandle)) // the account's own post
	f.fail("app.bsky.feed.searchPosts", fault500)      // one failed search on the way
	f.addSearchHit("tresor", hit(5, "did:plc:dora", "dora.example"))

	want := []string{"3khit0003", "3khit0005"}
	for _, w := range want {
		select {
		case p := <-got:
			if !strings.HasSuffix(p.ID, w) || p.Visibility != tresor.PostPublic || p.Network != "bluesky" || p.ToCompany {
				t.Errorf("got %+v, want %s", p, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no post %s", w)
		}
	}
	calls := f.count("app.bsky.feed.searchPosts")
	waitFor(t, func() bool { return f.count("app.bsky.feed.searchPosts") >= calls+4 })
	select {
	case p := <-got:
		t.Errorf("unexpected post %s (a repeat, an old one or the account's own)", p.ID)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stream = %v, want context.Canceled when ctx ends", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stream did not end with ctx")
	}

	// The app password was revoked after a poll: Stream says so.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	calls = f.count("app.bsky.feed.searchPosts")
	done2 := make(chan error, 1)
	go func() { done2 <- c.Stream(ctx2, []string{"tresor"}, func(tresor.SocialPost) {}) }()
	waitFor(t, func() bool { return f.answered("app.bsky.feed.searchPosts") > calls })
	f.mu.Lock()
	f.accessExpired, f.refreshExpired, f.revoked = true, true, true
	f.mu.Unlock()
	select {
	case err := <-done2:
		connErr(t, f, err, "stream")
		if ctx2.Err() != nil {
			t.Error("Stream ran until its context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stream went on with refused credentials")
	}
	f.mu.Lock()
	f.revoked = false
	f.mu.Unlock()

	// Every search fails at the first poll: Stream says so.
	f.failAlways("app.bsky.feed.searchPosts", fault500)
	err := c.Stream(context.Background(), []string{"tresor"}, func(tresor.SocialPost) {})
	connErr(t, f, err, "stream")
	if err := c.Stream(context.Background(), nil, func(tresor.SocialPost) {}); err == nil {
		t.Error("Stream without keywords accepted")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestErrors(t *testing.T) {
	f := newFake(t)
	f.addProfile(map[string]any{"did": "did:plc:alice", "handle": "alice.example", "displayName": "Alice"})
	// c gives up after 300 ms; slow reads 9 MiB answers in time.
	c := connect(t, f, Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	slow := connect(t, f, Options{})
	ctx := context.Background()
	for _, ft := range []fault{fault500, faultGarbage, faultSlow, faultHuge, faultHugeLen, faultLeak} {
		t.Run(string(ft), func(t *testing.T) {
			conn := c
			if ft == faultHuge || ft == faultHugeLen {
				conn = slow
			}
			f.fail("app.bsky.actor.getProfile", ft)
			_, err := conn.Profile(ctx, "alice.example")
			connErr(t, f, err, "profile")
			if conn == slow && !strings.Contains(err.Error(), "8 MiB") {
				t.Errorf("error %v does not say the answer is too large", err)
			}
			p, err := conn.Profile(ctx, "alice.example")
			if err != nil || p.DisplayName != "Alice" {
				t.Fatalf("Profile after a failure = %+v, %v", p, err)
			}
		})
	}

	f.fail("app.bsky.notification.listNotifications", faultGarbage)
	_, _, err := c.Inbox(ctx, "")
	connErr(t, f, err, "inbox")
	f.fail("com.atproto.repo.createRecord", fault500)
	_, err = c.Publish(ctx, tresor.PublishRequest{Text: "Hallo"})
	connErr(t, f, err, "publish")
	f.fail("com.atproto.identity.resolveHandle", faultSlow)
	_, err = c.Send(ctx, "alice.example", "Hallo", false, "")
	connErr(t, f, err, "send")
	if _, err := c.Publish(ctx, tresor.PublishRequest{Text: "Hallo"}); err != nil {
		t.Fatalf("Publish after failures: %v", err)
	}

	// A cancelled context is an ErrConnector too, and keeps its cause.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Profile(cctx, "alice.example")
	connErr(t, f, err, "profile")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestWithMention(t *testing.T) {
	for _, tc := range []struct {
		text, want string
		start      int
	}{
		{"@a.example hi", "@a.example hi", 0},
		{"hi @A.EXAMPLE.", "hi @A.EXAMPLE.", 3},
		{"x@a.example and @a.example", "x@a.example and @a.example", 16},
		{"@a.example.org hi", "@a.example @a.example.org hi", 0},
		{"über @a.example", "über @a.example", 6},
		{"", "@a.example ", 0},
	} {
		text, start, end := withMention(tc.text, "a.example")
		if text != tc.want || start != tc.start || end != start+len("@a.example") || !strings.EqualFold(text[start:end], "@a.example") {
			t.Errorf("withMention(%q) = %q, %d, %d; want %q, %d", tc.text, text, start, end, tc.want, tc.start)
		}
	}
}

func TestSanitize(t *testing.T) {
	c := &Connector{creds: Credentials{AppPassword: "secret-pw"}}
	c.setSession(session{access: "tok-a", refresh: "tok-r"})
	err := c.sanitize(fmt.Errorf("got secret-pw and tok-a and tok-r and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln: %w", context.DeadlineExceeded))
	if s := err.Error(); strings.Contains(s, "secret-pw") || strings.Contains(s, "tok-") || strings.Contains(s, "eyJ") {
		t.Errorf("sanitize left a secret: %q", s)
	}
	if errors.Unwrap(err) != nil {
		t.Error("a redacted error keeps its chain")
	}
	long := c.sanitize(fmt.Errorf("%s: %w", strings.Repeat("ä", 500), context.DeadlineExceeded))
	if len(long.Error()) > maxErrLen+len("…") || !errors.Is(long, context.DeadlineExceeded) {
		t.Errorf("long error: %d bytes, chain kept %v", len(long.Error()), errors.Is(long, context.DeadlineExceeded))
	}
	plain := errors.New("plain")
	if c.sanitize(plain) != plain {
		t.Error("a clean error was replaced")
	}
}

// TestInboxLateMentions: the service sorts a mention by the earlier of its
// claimed and its indexed time, so one that is indexed late or backdated
// lands below the cursor. Inbox reads the window before the cursor again
// and returns each mention once.
func TestInboxLateMentions(t *testing.T) {
	f := newFake(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	uri := func(i int) string { return fmt.Sprintf("at://did:plc:bob/app.bsky.feed.post/3klate%04d", i) }
	mention := func(i int, at time.Time) map[string]any {
		return note("mention", uri(i), "did:plc:bob", "bob.example", fmt.Sprintf("Nr. %d @tresor.example", i), at, nil)
	}
	ids := func(posts []tresor.SocialPost) []string {
		var out []string
		for _, p := range posts {
			out = append(out, strings.TrimPrefix(p.ID, "at://did:plc:bob/app.bsky.feed.post/3klate"))
		}
		return out
	}
	f.insertNote(mention(1, now.Add(-3*time.Minute)))
	f.insertNote(mention(2, now.Add(-2*time.Minute)))
	c := connect(t, f, Options{InboxWindow: 6 * time.Hour})
	ctx := context.Background()
	posts, cursor, err := c.Inbox(ctx, "")
	if err != nil || len(posts) != 2 {
		t.Fatalf("first read = %v, %v", ids(posts), err)
	}

	t.Run("a mention sorted below the cursor within the window is read once", func(t *testing.T) {
		f.insertNote(mention(3, now.Add(-2*time.Hour))) // backdated two hours
		f.insertNote(mention(4, now.Add(-time.Minute)))
		posts, next, err := c.Inbox(ctx, cursor)
		if err != nil || strings.Join(ids(posts), ",") != "0003,0004" {
			t.Fatalf("Inbox = %v, %v; want 0003 and 0004, oldest first", ids(posts), err)
		}
		again, same, err := c.Inbox(ctx, next)
		if err != nil || len(again) != 0 || same != next {
			t.Errorf("Inbox again = %v, %v; want nothing and the same cursor", ids(again), err)
		}
		cursor = next
	})

	t.Run("a mention sorted below the window is not read", func(t *testing.T) {
		f.insertNote(mention(5, now.Add(-7*time.Hour)))
		posts, _, err := c.Inbox(ctx, cursor)
		if err != nil || len(posts) != 0 {
			t.Errorf("Inbox = %v, %v; want nothing: 0005 sorts seven hours back", ids(posts), err)
		}
	})

	t.Run("the first read takes the newest page only, also later", func(t *testing.T) {
		g := newFake(t)
		for i := range firstPageSize + 5 {
			g.insertNote(mention(100+i, now.Add(-time.Hour+time.Duration(i)*time.Second)))
		}
		c := connect(t, g, Options{})
		posts, cursor, err := c.Inbox(ctx, "")
		if err != nil || len(posts) != firstPageSize {
			t.Fatalf("first read = %d posts, %v", len(posts), err)
		}
		g.insertNote(mention(200, now))
		posts, _, err = c.Inbox(ctx, cursor)
		if err != nil || strings.Join(ids(posts), ",") != "0200" {
			t.Errorf("second read = %v, %v; want only the new 0200, not the five below the first page", ids(posts), err)
		}
	})

	t.Run("a cursor of the form before the window reads on without repeats", func(t *testing.T) {
		g := newFake(t)
		g.insertNote(mention(300, now.Add(-3*time.Minute)))
		g.insertNote(mention(301, now.Add(-2*time.Minute)))
		old := now.Add(-2*time.Minute).Format(time.RFC3339Nano) + " " + uri(301)
		g.insertNote(mention(302, now.Add(-time.Minute)))
		c := connect(t, g, Options{})
		posts, cursor, err := c.Inbox(ctx, old)
		if err != nil || strings.Join(ids(posts), ",") != "0302" {
			t.Fatalf("Inbox(old cursor) = %v, %v; want 0302", ids(posts), err)
		}
		g.insertNote(mention(303, now.Add(-90*time.Second))) // late, between 0301 and 0302
		posts, _, err = c.Inbox(ctx, cursor)
		if err != nil || strings.Join(ids(posts), ",") != "0303" {
			t.Errorf("Inbox = %v, %v; want the late 0303 only", ids(posts), err)
		}
	})
}
