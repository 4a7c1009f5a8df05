package mastodon

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tresor"
	"tresor/socialtest"
)

// countingTransport counts the answers to hashtag-timeline requests.
type countingTransport struct {
	next http.RoundTripper
	tags atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.Path, "/timelines/tag/") {
		c.tags.Add(1)
	}
	return resp, err
}

// TestOnGoToSocial runs the connector against a real Mastodon-API server:
// registration and the out-of-band authorization, the account, profiles,
// publishing, the inbox with its cursor, a direct message, the keyword
// stream, and a refused token.
func TestOnGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	bob := gts.Account(t, "bob")
	host := strings.ToLower(gts.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Register, authorize as the operator would, exchange the code.
	app, err := Register(ctx, gts.URL, "Tresor test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(app.AuthorizeURL, "client_id="+url.QueryEscape(app.ClientID)) {
		t.Fatalf("authorize URL %q does not name the application", app.AuthorizeURL)
	}
	code := gts.AuthorizationCode(t, acme, app.ClientID, Scopes)
	creds, err := app.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Exchange(ctx, code); err == nil {
		t.Error("a code was exchanged twice")
	}
	counter := &countingTransport{next: http.DefaultTransport}
	c, err := New(creds, Options{
		HTTPClient:   &http.Client{Transport: counter, Timeout: 15 * time.Second},
		PollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me != "@acme@"+host {
		t.Fatalf("Account = %q, want @acme@%s", me, host)
	}

	// Profiles: a public one, an unknown one.
	if err := gts.Do("PATCH", "/api/v1/accounts/update_credentials", bob.Token,
		url.Values{"note": {"Einkauf bei der Beispiel GmbH"}, "display_name": {"Bob B."}}, 200, nil); err != nil {
		t.Fatal(err)
	}
	p, err := c.Profile(ctx, "bob@"+host)
	if err != nil {
		t.Fatal(err)
	}
	if p.Handle != "@bob@"+host || p.DisplayName != "Bob B." || !strings.Contains(p.Bio, "Beispiel GmbH") || !p.Locked {
		t.Errorf("profile of bob = %+v", p)
	}
	if _, err := c.Profile(ctx, "@nobody@"+host); tresor.ErrorCode(err) != tresor.ECNotFound {
		t.Errorf("profile of an unknown handle: %v, want not_found", err)
	}

	// Publishing: public, on the company account.
	post, err := c.Publish(ctx, tresor.PublishRequest{Key: tresor.NewPostKey(time.Now(), 1), Text: "Neu: der Winterkatalog"})
	if err != nil {
		t.Fatal(err)
	}
	if post.Author != me || post.Visibility != tresor.PostPublic || post.ID == "" {
		t.Errorf("published %+v", post)
	}

	// The inbox: bob's direct message, once.
	var dm struct{ ID string }
	if err := gts.Do("POST", "/api/v1/statuses", bob.Token, url.Values{
		"status": {"@acme Wo bleibt meine Bestellung?"}, "visibility": {"direct"},
	}, 200, &dm); err != nil {
		t.Fatal(err)
	}
	var inbox []tresor.SocialPost
	cursor := ""
	for range 20 { // federation inside one server is asynchronous
		posts, next, err := c.Inbox(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		inbox, cursor = append(inbox, posts...), next
		if len(inbox) > 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(inbox) != 1 {
		t.Fatalf("inbox = %+v, want bob's message", inbox)
	}
	in := inbox[0]
	if in.ID != dm.ID || in.Author != "@bob@"+host || in.Visibility != tresor.PostDirect || !in.ToCompany ||
		!strings.Contains(in.Text, "Bestellung") {
		t.Errorf("inbox post = %+v", in)
	}
	if again, _, err := c.Inbox(ctx, cursor); err != nil || len(again) != 0 {
		t.Errorf("inbox after the cursor = %+v, %v; want nothing", again, err)
	}

	// The answer: direct, in reply, seen by bob.
	reply, err := c.Send(ctx, "@bob@"+host, "Sie ist unterwegs.", true, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Visibility != tresor.PostDirect || reply.InReplyTo != in.ID {
		t.Errorf("reply = %+v", reply)
	}
	waitFor(t, "bob's notification of the reply", func() bool { // notifications are made asynchronously
		var got []struct {
			Type   string
			Status struct{ ID string }
		}
		if err := gts.Do("GET", "/api/v1/notifications", bob.Token, nil, 200, &got); err != nil {
			t.Fatal(err)
		}
		for _, n := range got {
			if n.Type == "mention" && n.Status.ID == reply.ID {
				return true
			}
		}
		return false
	})

	// The stream: a tagged post after the first poll arrives, one before does not.
	beforeAlt := time.Now().Add(-2 * time.Second)
	if err := gts.Do("POST", "/api/v1/statuses", bob.Token, url.Values{
		"status": {"Alt #tresortest"}, "visibility": {"public"},
	}, 200, nil); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		streamed []tresor.SocialPost
	)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(sctx, []string{"#TresorTest"}, func(p tresor.SocialPost) {
			mu.Lock()
			streamed = append(streamed, p)
			mu.Unlock()
		})
	}()
	waitFor(t, "the first poll", func() bool { return counter.tags.Load() > 0 })
	if err := gts.Do("POST", "/api/v1/statuses", bob.Token, url.Values{
		"status": {"Neu #tresortest"}, "visibility": {"public"},
	}, 200, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the streamed post", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(streamed) > 0
	})
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Stream returned %v, want context.Canceled", err)
	}
	mu.Lock()
	if len(streamed) != 1 || !strings.Contains(streamed[0].Text, "Neu") || streamed[0].Author != "@bob@"+host {
		t.Errorf("streamed %+v, want only the new post", streamed)
	}
	mu.Unlock()

	// A stream started again from a time before both posts catches up on
	// both at its first poll, oldest first.
	var caught []tresor.SocialPost
	cctx, stopCatchUp := context.WithCancel(ctx)
	caughtUp := make(chan error, 1)
	go func() {
		caughtUp <- c.StreamSince(cctx, []string{"#TresorTest"}, beforeAlt, func(p tresor.SocialPost) {
			mu.Lock()
			caught = append(caught, p)
			mu.Unlock()
		})
	}()
	waitFor(t, "the posts caught up on", func() bool { mu.Lock(); defer mu.Unlock(); return len(caught) >= 2 })
	stopCatchUp()
	<-caughtUp
	mu.Lock()
	if len(caught) != 2 || !strings.Contains(caught[0].Text, "Alt") || !strings.Contains(caught[1].Text, "Neu") {
		t.Errorf("caught up on %+v, want the posts Alt and Neu", caught)
	}
	mu.Unlock()

	// A refused token: a connector error with the status, no token in it.
	bad, err := New(Credentials{Server: gts.URL, AccessToken: "wrong-token-123"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Account(ctx)
	var ce *tresor.ErrConnector
	var se *StatusError
	if !errors.As(err, &ce) || !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Account with a wrong token: %v, want a connector error with 401", err)
	}
	if strings.Contains(err.Error(), "wrong-token-123") {
		t.Errorf("the error names the token: %v", err)
	}
}
