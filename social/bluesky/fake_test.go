package bluesky

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake's account.
const (
	fakeDID      = "did:plc:tresorcompany"
	fakeHandle   = "Tresor.Example" // as the service spells it; Account lower-cases
	fakePassword = "abcd-efgh-ijkl-mnop"
)

// fault is an answer the fake gives instead of the right one.
type fault string

const (
	faultNone    fault = ""
	fault500     fault = "500"     // 500 with an XRPC error
	faultGarbage fault = "garbage" // 200 with a body that is not JSON
	faultSlow    fault = "slow"    // no answer until the client gives up
	faultHuge    fault = "huge"    // 200 with a 9 MiB body, chunked
	faultHugeLen fault = "hugelen" // 200 announcing a 9 MiB body
	faultLeak    fault = "leak"    // 500 whose message echoes the secrets
	faultLost    fault = "lost"    // does the work, then no answer until the client gives up
	fault400     fault = "400"     // 400 InvalidRequest: a refusal
)

// fakeXRPC is an in-process AT Protocol service implementing exactly the
// XRPC methods the connector uses.
type fakeXRPC struct {
	t   *testing.T
	srv *httptest.Server

	mu             sync.Mutex
	seq            int
	access         string
	refresh        string
	accessExpired  bool
	refreshExpired bool
	revoked        bool // the app password no longer logs in
	oldTokens      map[string]bool
	logins         int
	refreshes      int
	calls          map[string]int     // requests begun, per method
	served         map[string]int     // answers given, per method
	faults         map[string][]fault // per method, used up in order
	sticky         map[string]fault   // per method, until cleared

	records      []json.RawMessage         // bodies of createRecord
	byKey        map[string]map[string]any // post records by record key
	dupAnswer    int                       // status of a create whose key exists: 400 (InvalidRequest), or 500 as older PDS releases
	posts        map[string]map[string]any // post views by URI
	handles      map[string]string         // handle → DID
	profiles     map[string]map[string]any // by handle and by DID
	notes        []map[string]any          // notifications, newest first
	notesQueries []map[string][]string
	search       map[string][]map[string]any // post views by query, newest first
}

func newFake(t *testing.T) *fakeXRPC {
	t.Helper()
	f := &fakeXRPC{
		t:         t,
		oldTokens: map[string]bool{},
		calls:     map[string]int{},
		served:    map[string]int{},
		faults:    map[string][]fault{},
		sticky:    map[string]fault{},
		posts:     map[string]map[string]any{},
		byKey:     map[string]map[string]any{},
		dupAnswer: http.StatusBadRequest,
		handles:   map[string]string{"tresor.example": fakeDID},
		profiles:  map[string]map[string]any{},
		search:    map[string][]map[string]any{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeXRPC) creds() Credentials {
	return Credentials{Service: f.srv.URL + "/", Handle: "@" + fakeHandle, AppPassword: fakePassword}
}

// fail makes the next call of method answer with each fault in turn.
func (f *fakeXRPC) fail(method string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], fs...)
}

// failAlways makes every call of method answer with the fault (faultNone
// clears it).
func (f *fakeXRPC) failAlways(method string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sticky[method] = ft
}

func (f *fakeXRPC) expireAccess() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accessExpired = true
}

func (f *fakeXRPC) expireAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accessExpired, f.refreshExpired = true, true
}

func (f *fakeXRPC) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// postCount returns how many posts the account has.
func (f *fakeXRPC) postCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byKey)
}

// answered returns how many answers of method were written.
func (f *fakeXRPC) answered(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[method]
}

func (f *fakeXRPC) counts() (logins, refreshes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.refreshes
}

func (f *fakeXRPC) tokens() (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.access, f.refresh
}

func (f *fakeXRPC) lastRecord() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.records) == 0 {
		f.t.Fatal("no record was created")
	}
	var m map[string]any
	if err := json.Unmarshal(f.records[len(f.records)-1], &m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// addProfile adds an account with a handle and a profile.
func (f *fakeXRPC) addProfile(p map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, did := p["handle"].(string), p["did"].(string)
	f.handles[strings.ToLower(h)] = did
	f.profiles[strings.ToLower(h)] = p
	f.profiles[did] = p
}

// addPost adds a post view getPosts can return.
func (f *fakeXRPC) addPost(pv map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts[pv["uri"].(string)] = pv
}

// addNote adds a notification as the newest.
func (f *fakeXRPC) addNote(n map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append([]map[string]any{n}, f.notes...)
}

// insertNote adds a notification where the service sorts it: above the
// first one whose indexedAt is not later (a backdated post sorts low).
func (f *fakeXRPC) insertNote(n map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := n["indexedAt"].(string)
	i := slices.IndexFunc(f.notes, func(o map[string]any) bool { return o["indexedAt"].(string) <= at })
	if i < 0 {
		i = len(f.notes)
	}
	f.notes = slices.Insert(f.notes, i, n)
}

// removeNote deletes the notification of a URI (its post was deleted).
func (f *fakeXRPC) removeNote(uri string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = slices.DeleteFunc(f.notes, func(n map[string]any) bool { return n["uri"] == uri })
}

// addSearchHit adds a post view as the newest hit of a query.
func (f *fakeXRPC) addSearchHit(q string, pv map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.search[q] = append([]map[string]any{pv}, f.search[q]...)
}

// postView builds an app.bsky.feed.defs#postView.
func postView(uri, cid, did, handle, text string, at time.Time, reply map[string]any) map[string]any {
	rec := map[string]any{"$type": "app.bsky.feed.post", "text": text, "createdAt": at.UTC().Format("2006-01-02T15:04:05.000Z")}
	if reply != nil {
		rec["reply"] = reply
	}
	return map[string]any{
		"$type":     "app.bsky.feed.defs#postView",
		"uri":       uri,
		"cid":       cid,
		"author":    map[string]any{"did": did, "handle": handle},
		"record":    rec,
		"indexedAt": at.UTC().Add(time.Second).Format("2006-01-02T15:04:05.000Z"),
	}
}

// note builds a notification of a post.
func note(reason, uri, did, handle, text string, indexed time.Time, extra map[string]any) map[string]any {
	rec := map[string]any{"$type": "app.bsky.feed.post", "text": text, "createdAt": indexed.Add(-time.Second).UTC().Format("2006-01-02T15:04:05.000Z")}
	for k, v := range extra {
		rec[k] = v
	}
	return map[string]any{
		"uri":       uri,
		"cid":       "bafy" + strconv.Itoa(len(uri)),
		"author":    map[string]any{"did": did, "handle": handle},
		"reason":    reason,
		"record":    rec,
		"isRead":    false,
		"indexedAt": indexed.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}

func (f *fakeXRPC) newTokens() {
	if f.access != "" {
		f.oldTokens[f.access], f.oldTokens[f.refresh] = true, true
	}
	f.seq++
	f.access = fmt.Sprintf("eyJ.access-%d.sig", f.seq)
	f.refresh = fmt.Sprintf("eyJ.refresh-%d.sig", f.seq)
	f.accessExpired, f.refreshExpired = false, false
}

func (f *fakeXRPC) session() map[string]any {
	return map[string]any{"did": fakeDID, "handle": fakeHandle, "accessJwt": f.access, "refreshJwt": f.refresh, "active": true}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func xrpcError(w http.ResponseWriter, status int, name, msg string) {
	writeJSON(w, status, map[string]string{"error": name, "message": msg})
}

// methods are the XRPC methods the fake knows, with their HTTP method.
var methods = map[string]string{
	"com.atproto.server.createSession":        http.MethodPost,
	"com.atproto.server.refreshSession":       http.MethodPost,
	"com.atproto.repo.createRecord":           http.MethodPost,
	"com.atproto.repo.getRecord":              http.MethodGet,
	"com.atproto.identity.resolveHandle":      http.MethodGet,
	"app.bsky.actor.getProfile":               http.MethodGet,
	"app.bsky.feed.getPosts":                  http.MethodGet,
	"app.bsky.notification.listNotifications": http.MethodGet,
	"app.bsky.feed.searchPosts":               http.MethodGet,
}

func (f *fakeXRPC) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if want, known := methods[method]; !ok || !known {
		xrpcError(w, http.StatusNotImplemented, "MethodNotImplemented", "no method "+r.URL.Path)
		return
	} else if r.Method != want {
		xrpcError(w, http.StatusMethodNotAllowed, "InvalidRequest", "wrong HTTP method")
		return
	}
	defer func() {
		f.mu.Lock()
		f.served[method]++
		f.mu.Unlock()
	}()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "body")
		return
	}
	f.mu.Lock()
	f.calls[method]++
	ft := f.sticky[method]
	if q := f.faults[method]; ft == faultNone && len(q) > 0 {
		ft, f.faults[method] = q[0], q[1:]
	}
	access, refresh := f.access, f.refresh
	f.mu.Unlock()
	lost := ft == faultLost
	switch ft {
	case fault500:
		xrpcError(w, http.StatusInternalServerError, "InternalServerError", "Internal Server Error")
		return
	case fault400:
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid app.bsky.feed.post record")
		return
	case faultGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"did": "did:plc:x", <html>oops`)
		return
	case faultSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	case faultHuge, faultHugeLen:
		w.Header().Set("Content-Type", "application/json")
		big := `{"did":"did:plc:big","handle":"big.example","description":"` + strings.Repeat("x", 9<<20) + `"}`
		if ft == faultHugeLen {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		}
		_, _ = io.WriteString(w, big)
		return
	case faultLeak:
		xrpcError(w, http.StatusInternalServerError, "InternalServerError",
			"password "+fakePassword+" access "+access+" refresh "+refresh)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch method {
	case "com.atproto.server.createSession":
		var in struct{ Identifier, Password string }
		if err := json.Unmarshal(body, &in); err != nil {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "body")
			return
		}
		if !strings.EqualFold(in.Identifier, fakeHandle) || in.Password != fakePassword || f.revoked {
			xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
			return
		}
		f.logins++
		f.newTokens()
		writeJSON(w, http.StatusOK, f.session())
		return
	case "com.atproto.server.refreshSession":
		if bearer != f.refresh || f.refreshExpired {
			xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
			return
		}
		f.refreshes++
		f.newTokens()
		writeJSON(w, http.StatusOK, f.session())
		return
	}
	switch {
	case bearer == f.access && !f.accessExpired:
	case bearer == f.access || f.oldTokens[bearer]:
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return
	default:
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
		return
	}
	q := r.URL.Query()
	switch method {
	case "app.bsky.actor.getProfile":
		p, ok := f.profiles[strings.ToLower(q.Get("actor"))]
		if !ok {
			p, ok = f.profiles[q.Get("actor")]
		}
		if !ok {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Profile not found")
			return
		}
		writeJSON(w, http.StatusOK, p)
	case "com.atproto.identity.resolveHandle":
		did, ok := f.handles[strings.ToLower(q.Get("handle"))]
		if !ok {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Unable to resolve handle")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"did": did})
	case "com.atproto.repo.createRecord":
		var in struct {
			Repo, Collection, Rkey string
			Record                 map[string]any
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Record == nil {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "body")
			return
		}
		if in.Repo != fakeDID || in.Collection != "app.bsky.feed.post" {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "wrong repo or collection")
			return
		}
		f.seq++
		rkey := fmt.Sprintf("3kabc%07d", f.seq)
		if in.Rkey != "" {
			rkey = in.Rkey
		}
		if _, dup := f.byKey[rkey]; dup {
			// As the PDS: a record key names one record; older releases
			// fail with 500 instead.
			if f.dupAnswer == http.StatusInternalServerError {
				xrpcError(w, http.StatusInternalServerError, "InternalServerError", "Internal Server Error")
			} else {
				xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Record already exists: "+rkey)
			}
			return
		}
		f.records = append(f.records, body)
		f.byKey[rkey] = in.Record
		uri := "at://" + fakeDID + "/app.bsky.feed.post/" + rkey
		cid := "bafyrei" + rkey
		pv := map[string]any{"$type": "app.bsky.feed.defs#postView", "uri": uri, "cid": cid,
			"author": map[string]any{"did": fakeDID, "handle": fakeHandle}, "record": in.Record, "indexedAt": time.Now().UTC().Format(time.RFC3339)}
		f.posts[uri] = pv
		if lost {
			f.mu.Unlock()
			<-r.Context().Done()
			f.mu.Lock()
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"uri": uri, "cid": cid, "validationStatus": "valid"})
	case "com.atproto.repo.getRecord":
		rec, ok := f.byKey[q.Get("rkey")]
		if !ok || q.Get("repo") != fakeDID || q.Get("collection") != "app.bsky.feed.post" {
			xrpcError(w, http.StatusBadRequest, "RecordNotFound", "Could not locate record")
			return
		}
		uri := "at://" + fakeDID + "/app.bsky.feed.post/" + q.Get("rkey")
		writeJSON(w, http.StatusOK, map[string]any{"uri": uri, "cid": "bafyrei" + q.Get("rkey"), "value": rec})
	case "app.bsky.feed.getPosts":
		out := []map[string]any{}
		for _, u := range q["uris"] {
			if pv, ok := f.posts[u]; ok {
				out = append(out, pv)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"posts": out})
	case "app.bsky.notification.listNotifications":
		f.notesQueries = append(f.notesQueries, q)
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit < 1 || limit > 100 {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "limit")
			return
		}
		start := 0
		if c := q.Get("cursor"); c != "" {
			if start, err = strconv.Atoi(c); err != nil {
				xrpcError(w, http.StatusBadRequest, "InvalidRequest", "cursor")
				return
			}
		}
		// The fake does not filter by reason, so that the connector's own
		// filter is tested.
		end := min(start+limit, len(f.notes))
		page := []map[string]any{}
		if start < end {
			page = f.notes[start:end]
		}
		out := map[string]any{"notifications": page}
		if end < len(f.notes) {
			out["cursor"] = strconv.Itoa(end)
		}
		writeJSON(w, http.StatusOK, out)
	case "app.bsky.feed.searchPosts":
		hits := f.search[q.Get("q")]
		if q.Get("sort") != "latest" {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", "sort")
			return
		}
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n < len(hits) {
			hits = hits[:n]
		}
		if hits == nil {
			hits = []map[string]any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"posts": hits})
	}
}
