package mastodon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeToken is the access token the fake server accepts.
const fakeToken = "tok-5ecret-access-token"

// fake is an in-process Mastodon server with exactly the endpoints the
// connector uses. Its state is JSON-shaped maps, as a server sends them.
type fake struct {
	t   testing.TB
	srv *httptest.Server

	mu            sync.Mutex
	me            map[string]any            // verify_credentials
	accounts      map[string]map[string]any // by acct as the server knows it ("erika", "bob@remote.example")
	noLookup      bool                      // answer 404 to accounts/lookup, as servers before Mastodon 3.4
	ignoreExclude bool                      // ignore exclude_types[] of notifications
	notifications []map[string]any          // any order
	tags          map[string][]map[string]any
	posted        []url.Values              // POST /api/v1/statuses forms
	own           []map[string]any          // the statuses of the company account
	byKey         map[string]map[string]any // statuses by Idempotency-Key
	ignoreKey     bool                      // ignore Idempotency-Key, as GoToSocial does
	loseAnswers   int                       // the next statuses are created, but the client gets no answer
	requests      []*http.Request
	nextID        int
	// intercept, if set, may answer a request itself (returning true).
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func newFake(t testing.TB) *fake {
	f := &fake{
		t:        t,
		accounts: map[string]map[string]any{},
		tags:     map[string][]map[string]any{},
		nextID:   1000,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/accounts/verify_credentials", f.authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, f.me)
	}))
	mux.HandleFunc("GET /api/v1/accounts/lookup", f.authed(func(w http.ResponseWriter, r *http.Request) {
		a, ok := f.accounts[r.URL.Query().Get("acct")]
		if f.noLookup || !ok {
			writeJSON(w, 404, map[string]any{"error": "Record not found"})
			return
		}
		writeJSON(w, 200, a)
	}))
	mux.HandleFunc("GET /api/v1/accounts/search", f.authed(func(w http.ResponseWriter, r *http.Request) {
		q := strings.ToLower(r.URL.Query().Get("q"))
		found := []map[string]any{}
		for acct, a := range f.accounts {
			if strings.Contains(strings.ToLower(acct), strings.SplitN(q, "@", 2)[0]) {
				found = append(found, a)
			}
		}
		writeJSON(w, 200, found)
	}))
	mux.HandleFunc("GET /api/v1/notifications", f.authed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, page(f.notifications, r.URL.Query(), !f.ignoreExclude))
	}))
	mux.HandleFunc("GET /api/v1/timelines/tag/{tag}", f.authed(func(w http.ResponseWriter, r *http.Request) {
		list, ok := f.tags[r.PathValue("tag")]
		if !ok {
			writeJSON(w, 404, map[string]any{"error": "Not Found"})
			return
		}
		writeJSON(w, 200, page(list, r.URL.Query(), true))
	}))
	mux.HandleFunc("POST /api/v1/statuses", f.authed(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, 400, map[string]any{"error": err.Error()})
			return
		}
		f.posted = append(f.posted, r.PostForm)
		key := r.Header.Get("Idempotency-Key")
		s, seen := f.byKey[key]
		if !seen || f.ignoreKey || key == "" {
			s = f.status(f.me, r.PostForm.Get("status"), r.PostForm.Get("visibility"))
			s["created_at"] = time.Now().UTC().Format(time.RFC3339Nano)
			if id := r.PostForm.Get("in_reply_to_id"); id != "" {
				s["in_reply_to_id"] = id
			}
			f.own = append(f.own, s)
			if key != "" {
				if f.byKey == nil {
					f.byKey = map[string]map[string]any{}
				}
				f.byKey[key] = s
			}
		}
		if f.loseAnswers > 0 {
			f.loseAnswers--
			f.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			f.mu.Lock()
			return
		}
		writeJSON(w, 200, s)
	}))
	mux.HandleFunc("GET /api/v1/accounts/{id}/statuses", f.authed(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != f.me["id"] {
			writeJSON(w, 404, map[string]any{"error": "Record not found"})
			return
		}
		writeJSON(w, 200, page(f.own, r.URL.Query(), true))
	}))
	mux.HandleFunc("POST /api/v1/apps", f.locked(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.posted = append(f.posted, r.PostForm)
		writeJSON(w, 200, map[string]any{
			"id": "1", "name": r.PostForm.Get("client_name"), "redirect_uri": r.PostForm.Get("redirect_uris"),
			"client_id": "cid-123", "client_secret": "csecret-456",
		})
	}))
	mux.HandleFunc("POST /oauth/token", f.locked(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.posted = append(f.posted, r.PostForm)
		p := r.PostForm
		if p.Get("grant_type") != "authorization_code" || p.Get("code") != "the-code" ||
			p.Get("client_id") != "cid-123" || p.Get("client_secret") != "csecret-456" || p.Get("redirect_uri") != RedirectURI {
			writeJSON(w, 400, map[string]any{"error": "invalid_grant"})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": fakeToken, "token_type": "Bearer", "scope": Scopes, "created_at": 1})
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.me = f.account("acme", "ACME GmbH", "<p>We make things.</p>")
	return f
}

// locked serialises the handlers and runs intercept.
func (f *fake) locked(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r)
		icpt := f.intercept
		f.mu.Unlock()
		if icpt != nil && icpt(w, r) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		h(w, r)
	}
}

// authed is locked, and answers 401 without the token.
func (f *fake) authed(h http.HandlerFunc) http.HandlerFunc {
	return f.locked(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			writeJSON(w, 401, map[string]any{"error": "The access token is invalid"})
			return
		}
		h(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// page selects from items (any order) as Mastodon does: newest first, ids
// above since_id or min_id and below max_id, limit items; with min_id the
// ones right after it, else the newest.
func page(items []map[string]any, q url.Values, honorExclude bool) []map[string]any {
	less := func(a, b string) bool { // Mastodon's numeric ids
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	}
	var sel []map[string]any
	for _, it := range items {
		id := it["id"].(string)
		if typ, _ := it["type"].(string); typ != "" && slices.Contains(q["exclude_types[]"], typ) && honorExclude {
			continue
		}
		if v := q.Get("min_id"); v != "" && !less(v, id) {
			continue
		}
		if v := q.Get("since_id"); v != "" && !less(v, id) {
			continue
		}
		if v := q.Get("max_id"); v != "" && !less(id, v) {
			continue
		}
		sel = append(sel, it)
	}
	limit := 20
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n <= 80 {
		limit = n
	}
	asc := q.Get("min_id") != ""
	slices.SortFunc(sel, func(a, b map[string]any) int {
		x, y := a["id"].(string), b["id"].(string)
		switch {
		case x == y:
			return 0
		case less(x, y) == asc:
			return -1
		default:
			return 1
		}
	})
	if len(sel) > limit {
		sel = sel[:limit]
	}
	// Always newest first in the answer.
	slices.SortFunc(sel, func(a, b map[string]any) int {
		if less(a["id"].(string), b["id"].(string)) {
			return 1
		}
		return -1
	})
	if sel == nil {
		sel = []map[string]any{}
	}
	return sel
}

// account returns an account as the server sends it.
func (f *fake) account(acct, displayName, note string) map[string]any {
	user := strings.SplitN(acct, "@", 2)[0]
	host := f.host()
	if _, h, ok := strings.Cut(acct, "@"); ok {
		host = h
	}
	return map[string]any{
		"id": f.id(), "username": user, "acct": acct, "display_name": displayName, "locked": false, "bot": false,
		"note": note, "url": "https://" + host + "/@" + user, "created_at": "2024-01-02T03:04:05.000Z",
		"followers_count": 1, "following_count": 2, "statuses_count": 3, "fields": []any{}, "emojis": []any{},
	}
}

func (f *fake) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fake) id() string {
	f.nextID++
	return strconv.Itoa(f.nextID)
}

// status returns a status as the server sends it.
func (f *fake) status(author map[string]any, content, visibility string, mentions ...map[string]any) map[string]any {
	id := f.id()
	ms := []any{}
	for _, m := range mentions {
		ms = append(ms, map[string]any{"id": m["id"], "username": m["username"], "acct": m["acct"], "url": m["url"]})
	}
	if visibility == "" {
		visibility = "public"
	}
	return map[string]any{
		"id": id, "uri": "https://" + f.host() + "/users/x/statuses/" + id, "url": "https://" + f.host() + "/@x/" + id,
		"account": author, "in_reply_to_id": nil, "in_reply_to_account_id": nil, "reblog": nil,
		"content": content, "created_at": "2025-03-04T05:06:07.000Z", "emojis": []any{}, "replies_count": 0,
		"reblogs_count": 0, "favourites_count": 0, "sensitive": false, "spoiler_text": "", "visibility": visibility,
		"media_attachments": []any{}, "mentions": ms, "tags": []any{}, "card": nil, "poll": nil, "language": "en",
	}
}

// notify adds a notification of the type about the status.
func (f *fake) notify(typ string, from, status map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.notifications = append(f.notifications, map[string]any{
		"id": id, "type": typ, "created_at": time.Now().UTC().Format(time.RFC3339), "account": from, "status": status,
	})
	return id
}

// connector returns a connector for the fake with opt.
func (f *fake) connector(opt Options) *Connector {
	f.t.Helper()
	c, err := New(Credentials{Server: f.srv.URL, ClientID: "cid-123", ClientSecret: "csecret-456", AccessToken: fakeToken}, opt)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// requestsTo counts the requests whose path starts with prefix.
func (f *fake) requestsTo(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r.URL.Path, prefix) {
			n++
		}
	}
	return n
}

// lastRequest returns the last request whose path starts with prefix.
func (f *fake) lastRequest(prefix string) *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if strings.HasPrefix(f.requests[i].URL.Path, prefix) {
			return f.requests[i]
		}
	}
	panic(fmt.Sprintf("no request to %s", prefix))
}
