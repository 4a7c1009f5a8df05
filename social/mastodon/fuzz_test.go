package mastodon

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// FuzzStatusJSON feeds random bytes as the notifications answer through a
// fake server: Inbox must not panic, must answer with a connector error or
// with posts that keep the connector's promises, and the transport's limits
// keep memory bounded.
func FuzzStatusJSON(f *testing.F) {
	f.Add([]byte(`[{"id":"5","type":"mention","created_at":"2025-01-02T03:04:05Z","account":{"acct":"erika"},"status":{"id":"6","account":{"acct":"Bob@Remote.Example"},"content":"<p>hi &amp; <br>bye</p>","visibility":"direct","created_at":"2025-01-02T03:04:05Z","in_reply_to_id":"4","mentions":[{"acct":"acme"}]}}]`))
	f.Add([]byte(`[{"id":5,"type":"mention","status":{"id":6,"in_reply_to_id":3.5e3,"visibility":"mutuals_only"}}]`))
	f.Add([]byte(`[{"id":"1","type":"follow"},null,{"id":"2","type":"mention","status":null}]`))
	f.Add([]byte(`{"error":"nope"}`))
	f.Add([]byte(`[[[[[[[[`))
	f.Add([]byte{0xff, 0xfe, '[', '"', 0x80})

	// One server for all inputs; the access token says which input to send.
	var bodies sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if !ok || r.URL.Path != "/api/v1/notifications" {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.([]byte))
	}))
	defer srv.Close()
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, body []byte) {
		token := "fuzz-token-" + strconv.FormatInt(n.Add(1), 10)
		bodies.Store(token, body)
		defer bodies.Delete(token)
		c, err := New(Credentials{Server: srv.URL, AccessToken: token}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		posts, cursor, err := c.Inbox(t.Context(), "")
		if err != nil {
			if !isConnectorError(err, "inbox") {
				t.Fatalf("Inbox = %v (%T), want a connector error", err, err)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error holds the token: %v", err)
			}
			return
		}
		for i, p := range posts {
			if p.ID == "" || !p.ToCompany || p.Network != "mastodon" {
				t.Fatalf("post %d = %+v", i, p)
			}
			if i > 0 && posts[i-1].ID == p.ID {
				continue
			}
			if !utf8.ValidString(p.Text) {
				t.Fatalf("post %d text %q", i, p.Text)
			}
			switch p.Visibility {
			case "public", "unlisted", "followers", "direct":
			default:
				t.Fatalf("post %d visibility %q", i, p.Visibility)
			}
		}
		if len(posts) > 0 && cursor == "" {
			t.Fatalf("posts without a cursor")
		}
	})
}
