package mastodon

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mstdn "github.com/mattn/go-mastodon"

	"tresor"
	"tresor/socialtest"
)

// TestPublishWithoutAnswer proves, on the fake server, that a post carries
// its key as the Idempotency-Key, that an attempt without an answer is an
// unknown outcome, and that the post of such an attempt is found among the
// account's statuses.
func TestPublishWithoutAnswer(t *testing.T) {
	ctx := t.Context()
	key := tresor.NewPostKey(time.Now(), 3)

	t.Run("the post's key travels as the Idempotency-Key", func(t *testing.T) {
		f := newFake(t)
		c := f.connector(Options{})
		if _, err := c.Publish(ctx, tresor.PublishRequest{Key: key, Text: "Neu im Laden"}); err != nil {
			t.Fatal(err)
		}
		if got := f.lastRequest("/api/v1/statuses").Header.Get("Idempotency-Key"); got != key {
			t.Errorf("Idempotency-Key %q, want %q", got, key)
		}
		if _, err := c.Send(ctx, "erika", "Danke", true, ""); err != nil {
			t.Fatal(err)
		}
		if got := f.lastRequest("/api/v1/statuses").Header.Get("Idempotency-Key"); got != "" {
			t.Errorf("a message has the Idempotency-Key %q", got)
		}
	})

	t.Run("on a server that honours the key, the retry of a lost answer is the first post", func(t *testing.T) {
		f := newFake(t)
		f.loseAnswers = 1
		c := f.connector(Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
		_, err := c.Publish(ctx, tresor.PublishRequest{Key: key, Text: "Neu im Laden"})
		if !isConnectorError(err, "publish") || !errors.Is(err, tresor.ErrOutcomeUnknown) {
			t.Fatalf("lost answer: %v, want an unknown outcome", err)
		}
		p, err := c.Publish(ctx, tresor.PublishRequest{Key: key, Text: "Neu im Laden"})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.own) != 1 || p.ID != f.own[0]["id"] {
			t.Errorf("statuses %d, retry %+v", len(f.own), p)
		}
	})

	t.Run("on a server that ignores the key, Published finds the post of a lost answer", func(t *testing.T) {
		f := newFake(t)
		f.ignoreKey, f.loseAnswers = true, 1
		c := f.connector(Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
		since := time.Now()
		req := tresor.PublishRequest{Key: key, Text: "Neu im Laden", Since: since}
		if _, err := c.Publish(ctx, req); !errors.Is(err, tresor.ErrOutcomeUnknown) {
			t.Fatalf("lost answer: %v", err)
		}
		p, err := c.Published(ctx, req)
		if err != nil || p == nil || p.ID != f.own[0]["id"] || p.URL == "" {
			t.Fatalf("Published = %+v, %v", p, err)
		}
		other := req
		other.Text = "Etwas anderes"
		if p, err := c.Published(ctx, other); err != nil || p != nil {
			t.Errorf("Published of another text = %+v, %v", p, err)
		}
		later := req
		later.Since = since.Add(time.Hour)
		if p, err := c.Published(ctx, later); err != nil || p != nil {
			t.Errorf("Published of a post first tried later = %+v, %v", p, err)
		}
	})

	t.Run("a refusal is not an unknown outcome, a server error is", func(t *testing.T) {
		f := newFake(t)
		c := f.connector(Options{})
		for status, unknown := range map[int]bool{422: false, 429: false, 500: true, 502: true, 503: true} {
			f.mu.Lock()
			f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
				writeJSON(w, status, map[string]any{"error": "no"})
				return true
			}
			f.mu.Unlock()
			_, err := c.Publish(ctx, tresor.PublishRequest{Key: key, Text: "x"})
			if !isConnectorError(err, "publish") || errors.Is(err, tresor.ErrOutcomeUnknown) != unknown {
				t.Errorf("%d: %v; unknown outcome %v, want %v", status, err, errors.Is(err, tresor.ErrOutcomeUnknown), unknown)
			}
		}
	})
}

// lostAnswer is the error of a request whose answer never came.
type lostAnswer struct{}

func (lostAnswer) Error() string   { return "timeout awaiting response headers" }
func (lostAnswer) Timeout() bool   { return true }
func (lostAnswer) Temporary() bool { return true }

// losingTransport sends each request, but loses the answers to the next
// lose posts of statuses: the server has done the work, the client does
// not know.
type losingTransport struct {
	next http.RoundTripper
	lose atomic.Int32
}

func (l *losingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses" && l.lose.Add(-1) >= 0 {
		resp.Body.Close()
		return nil, lostAnswer{}
	}
	return resp, err
}

// TestPublishWithoutAnswerOnGoToSocial proves on a real GoToSocial that a
// post whose answer was lost is found by Published, so that the retry
// sends nothing; and that GoToSocial, unlike Mastodon, does not honour the
// Idempotency-Key, which is why the gate looks before it sends again.
func TestPublishWithoutAnswerOnGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, err := Register(ctx, gts.URL, "Tresor test")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := app.Exchange(ctx, gts.AuthorizationCode(t, acme, app.ClientID, Scopes))
	if err != nil {
		t.Fatal(err)
	}
	lossy := &losingTransport{next: http.DefaultTransport}
	c, err := New(creds, Options{HTTPClient: &http.Client{Transport: lossy, Timeout: 15 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	// statuses returns the company account's statuses with the text.
	statuses := func(t *testing.T, text string) []*mstdn.Status {
		t.Helper()
		var me struct{ ID string }
		if err := gts.Do("GET", "/api/v1/accounts/verify_credentials", acme.Token, nil, 200, &me); err != nil {
			t.Fatal(err)
		}
		var ss []*mstdn.Status
		if err := gts.Do("GET", "/api/v1/accounts/"+url.PathEscape(me.ID)+"/statuses?limit=40", acme.Token, nil, 200, &ss); err != nil {
			t.Fatal(err)
		}
		var out []*mstdn.Status
		for _, s := range ss {
			if strings.Contains(s.Content, text) {
				out = append(out, s)
			}
		}
		return out
	}

	t.Run("GoToSocial ignores the Idempotency-Key: a second request with the same key is a second post", func(t *testing.T) {
		req := tresor.PublishRequest{Key: tresor.NewPostKey(time.Now(), 1), Text: "Zweimal gesendet"}
		first, err := c.Publish(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Publish(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == second.ID || len(statuses(t, "Zweimal gesendet")) != 2 {
			t.Errorf("GoToSocial honours the Idempotency-Key now (%s, %s): the gate could retry without looking first", first.ID, second.ID)
		}
	})

	t.Run("the post of an attempt whose answer was lost is found, and nothing else is", func(t *testing.T) {
		since := time.Now()
		req := tresor.PublishRequest{Key: tresor.NewPostKey(since, 2), Text: "Neu: der Frühjahrskatalog & mehr <für alle>\n\n#Katalog https://example.com/katalog/2027?seite=1", Since: since}
		lossy.lose.Store(1)
		_, err := c.Publish(ctx, req)
		if !isConnectorError(err, "publish") || !errors.Is(err, tresor.ErrOutcomeUnknown) {
			t.Fatalf("lost answer: %v, want an unknown outcome", err)
		}
		on := statuses(t, "Frühjahrskatalog")
		if len(on) != 1 {
			t.Fatalf("%d statuses on the server after the lost answer, want 1", len(on))
		}
		p, err := c.Published(ctx, req)
		if err != nil || p == nil || p.ID != string(on[0].ID) || p.URL == "" {
			t.Fatalf("Published = %+v, %v; want status %s", p, err, on[0].ID)
		}
		other := tresor.PublishRequest{Key: tresor.NewPostKey(since, 3), Text: "Nie gesendet", Since: since}
		if p, err := c.Published(ctx, other); err != nil || p != nil {
			t.Errorf("Published of a post never sent = %+v, %v", p, err)
		}
	})
}
