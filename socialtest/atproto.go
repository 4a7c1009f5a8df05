package socialtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create the AppView's database
)

// The AT Protocol (Bluesky) servers for the Bluesky connector's tests: a
// PDS that holds the accounts and their posts, the PLC directory their DIDs
// live in, and an AppView that indexes the PDS's firehose and answers the
// app.bsky.* reads (profiles, notifications, search) the PDS hands on to it.
// A bare PDS is not enough: without an AppView every app.bsky.* read fails.
//
// They are the npm packages @atproto/pds, @did-plc/server and
// @atproto/dev-env (for its AppView), started by the scripts in atproto/
// with Node.js, each on a free loopback port. The AppView keeps its index
// in a PostgreSQL database of its own, created for the run and dropped
// after it. A start takes about ten seconds: a package starts them once
// (SharedATProto) where several tests need them.

// ATProtoEnv names the variable with the folder the npm packages were
// installed into (the one holding node_modules; .ci/run installs them from
// .ci/tools/atproto).
const ATProtoEnv = "TRESOR_TEST_ATPROTO"

// RequireATProtoEnv, when "1", turns a missing ATProtoEnv into a test
// failure instead of a skip: CI sets it so the Bluesky tests against real
// servers cannot be skipped silently.
const RequireATProtoEnv = "TRESOR_TEST_REQUIRE_ATPROTO"

// postgresEnv names the variable with the URL of a PostgreSQL database for
// tests (storetest's); the AppView's database is created on its server.
// Without it, the server on 127.0.0.1:5432 as user postgres serves.
const postgresEnv = "TRESOR_TEST_POSTGRES"

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const (
	atpStartTimeout = 90 * time.Second // three Node.js servers and the AppView's migrations
	atpWaitTimeout  = 30 * time.Second // the AppView indexing a write
)

//go:embed atproto/*.js
var atprotoScripts embed.FS

// ATP is a running PDS with its PLC directory and AppView.
type ATP struct {
	URL        string // the PDS, e.g. http://localhost:40123: what the connector logs in to
	AppViewURL string
	PLCURL     string
	Startup    time.Duration // from the first process started to the PDS's first answer

	dir       string // scripts, the PDS's data and the logs
	jwtSecret string // the PDS signs its session tokens with it
	client    *http.Client
	procs     []*nodeProc // in start order
	dropDB    func()
	seq       int // accounts made, for unique e-mail addresses
	mu        sync.Mutex
}

// ATAccount is an account on the PDS, logged in with its main password.
type ATAccount struct {
	Handle, DID, Email, Password string
	AccessJwt, RefreshJwt        string
}

// ATProto starts the servers for the calling test and stops them when the
// test ends. Without ATProtoEnv it skips the test, or fails it where
// RequireATProtoEnv is set.
func ATProto(tb testing.TB) *ATP {
	tb.Helper()
	dir := atprotoPackages(tb)
	a, err := startATProto(dir, tb.TempDir())
	if a != nil {
		tb.Cleanup(func() {
			if tb.Failed() {
				tb.Log(a.logTails(30))
			}
			a.Close()
		})
	}
	if err != nil {
		tb.Fatalf("AT Protocol servers did not start: %v", err)
	}
	tb.Logf("PDS, PLC directory and AppView answer at %s after %s", a.URL, a.Startup)
	return a
}

// SharedATProto starts the servers once for all tests of a package that
// ask for them; TestMain closes them after m.Run. Every test makes its own
// accounts, so the tests share nothing but the servers.
type SharedATProto struct {
	once    sync.Once
	atp     *ATP
	err     error
	scratch string
}

// Get returns the running servers, starting them at the first call. Without
// ATProtoEnv it skips the test, or fails it where RequireATProtoEnv is set.
func (s *SharedATProto) Get(tb testing.TB) *ATP {
	tb.Helper()
	dir := atprotoPackages(tb)
	started := false
	s.once.Do(func() {
		started = true
		s.scratch, s.err = os.MkdirTemp("", "tresor-atproto-")
		if s.err == nil {
			s.atp, s.err = startATProto(dir, s.scratch)
		}
	})
	if started && s.err == nil {
		tb.Logf("PDS, PLC directory and AppView answer at %s after %s", s.atp.URL, s.atp.Startup)
	}
	if s.atp != nil {
		tb.Cleanup(func() {
			if tb.Failed() {
				tb.Log(s.atp.logTails(30))
			}
		})
	}
	if s.err != nil {
		tb.Fatalf("AT Protocol servers did not start: %v", s.err)
	}
	return s.atp
}

// Close stops the servers, if they were started, and removes their files.
func (s *SharedATProto) Close() {
	if s.atp != nil {
		s.atp.Close()
	}
	if s.scratch != "" {
		os.RemoveAll(s.scratch)
	}
}

// atprotoPackages returns the folder of the npm packages, or ends the test.
func atprotoPackages(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(ATProtoEnv)
	if dir == "" {
		if os.Getenv(RequireATProtoEnv) == "1" {
			tb.Fatalf("%s is not set, but %s=1 requires the AT Protocol tests", ATProtoEnv, RequireATProtoEnv)
		}
		tb.Skipf("AT Protocol tests skipped: set %s to the folder the packages of .ci/tools/atproto were installed into", ATProtoEnv)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@atproto", "pds", "package.json")); err != nil {
		tb.Fatalf("%s=%s holds no node_modules/@atproto/pds: %v", ATProtoEnv, dir, err)
	}
	return dir
}

// startATProto starts PLC directory, AppView and PDS in that order (the
// AppView registers its DID with the directory, the PDS needs that DID).
// It returns the servers started so far with an error, for Close.
func startATProto(pkgDir, dir string) (*ATP, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("Node.js is needed: %w", err)
	}
	scripts := filepath.Join(dir, "scripts")
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		return nil, err
	}
	for _, name := range []string{"loopback.js", "plc.js", "appview.js", "pds.js"} {
		b, err := atprotoScripts.ReadFile("atproto/" + name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(scripts, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
	}
	plcPort, appviewPort, pdsPort := strconv.Itoa(ports[0]), strconv.Itoa(ports[1]), strconv.Itoa(ports[2])
	a := &ATP{
		// The PDS and the AppView name themselves "localhost" in the DID
		// documents they publish; the PDS is reached the same way.
		URL:        "http://localhost:" + pdsPort,
		AppViewURL: "http://localhost:" + appviewPort,
		PLCURL:     "http://127.0.0.1:" + plcPort,
		dir:        dir,
		jwtSecret:  randomHex(16),
		client:     &http.Client{Timeout: requestTimeout},
	}
	began := time.Now()
	dbURL, drop, err := appviewDatabase()
	if err != nil {
		return nil, err
	}
	a.dropDB = drop
	base := append(os.Environ(), "NODE_PATH="+filepath.Join(pkgDir, "node_modules"), "NODE_NO_WARNINGS=1")

	plc, err := a.start(node, filepath.Join(scripts, "plc.js"), append(base, "PLC_PORT="+plcPort))
	if err != nil {
		return a, err
	}
	if err := a.waitHTTP(plc, a.PLCURL+"/_health"); err != nil {
		return a, err
	}
	appview, err := a.start(node, filepath.Join(scripts, "appview.js"), append(base,
		"APPVIEW_PORT="+appviewPort, "PDS_PORT="+pdsPort, "APPVIEW_DB_URL="+dbURL, "PLC_URL="+a.PLCURL))
	if err != nil {
		return a, err
	}
	did, err := a.waitLine(appview, "APPVIEW_DID ")
	if err != nil {
		return a, err
	}
	data := filepath.Join(dir, "pds")
	if err := os.MkdirAll(filepath.Join(data, "blobs"), 0o700); err != nil {
		return a, err
	}
	pds, err := a.start(node, filepath.Join(scripts, "pds.js"), append(base,
		"PDS_HOSTNAME=localhost",
		"PDS_PORT="+pdsPort,
		"PDS_DEV_MODE=true",
		"PDS_DATA_DIRECTORY="+data,
		"PDS_BLOBSTORE_DISK_LOCATION="+filepath.Join(data, "blobs"),
		"PDS_JWT_SECRET="+a.jwtSecret,
		"PDS_ADMIN_PASSWORD="+randomHex(16),
		"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="+randomHex(32),
		"PDS_DID_PLC_URL="+a.PLCURL,
		"PDS_INVITE_REQUIRED=false",
		"PDS_SERVICE_HANDLE_DOMAINS=.test",
		"PDS_CRAWLERS=",
		"PDS_BSKY_APP_VIEW_URL="+a.AppViewURL,
		"PDS_BSKY_APP_VIEW_DID="+did,
		// Tests write faster than people: no rate limits.
		"PDS_RATE_LIMITS_ENABLED=false",
		// Warnings and errors only: a test's failure shows the log's tail.
		"LOG_ENABLED=true",
		"LOG_LEVEL=warn",
	))
	if err != nil {
		return a, err
	}
	if err := a.waitHTTP(pds, a.URL+"/xrpc/_health"); err != nil {
		return a, err
	}
	a.Startup = time.Since(began).Round(100 * time.Millisecond)
	return a, nil
}

// appviewDatabase creates a database for the AppView on the test
// PostgreSQL server and returns its URL and how to drop it.
func appviewDatabase() (string, func(), error) {
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		admin = defaultPostgres
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", postgresEnv, err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	name := "tresor_appview_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create the AppView's database on %s: %w", u.Redacted(), err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// nodeProc is a server process and its log.
type nodeProc struct {
	name    string
	cmd     *exec.Cmd
	log     string
	exited  chan struct{} // closed once the process has exited, after err is set
	waitErr error
}

func (a *ATP) start(node, script string, env []string) (*nodeProc, error) {
	name := strings.TrimSuffix(filepath.Base(script), ".js")
	p := &nodeProc{name: name, log: filepath.Join(a.dir, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(node, script)
	p.cmd.Dir = a.dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	setProcAttr(p.cmd)
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	a.procs = append(a.procs, p)
	go func() { p.waitErr = p.cmd.Wait(); logFile.Close(); close(p.exited) }()
	return p, nil
}

// waitHTTP polls u until it answers 200.
func (a *ATP) waitHTTP(p *nodeProc, u string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(atpStartTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v):\n%s", p.name, p.waitErr, p.tail(20))
		default:
		}
		resp, err := client.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		last = err
	}
	return fmt.Errorf("%s: no answer within %s (last: %v)", p.name, atpStartTimeout, last)
}

// waitLine waits for a line of the log that begins with prefix and
// returns the rest of it.
func (a *ATP) waitLine(p *nodeProc, prefix string) (string, error) {
	for deadline := time.Now().Add(atpStartTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		exited := false
		select {
		case <-p.exited:
			exited = true
		default:
		}
		b, _ := os.ReadFile(p.log)
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok && strings.TrimSpace(rest) != "" {
				return strings.TrimSpace(rest), nil
			}
		}
		if exited {
			return "", fmt.Errorf("%s exited (%v):\n%s", p.name, p.waitErr, p.tail(20))
		}
	}
	return "", fmt.Errorf("%s: no %q within %s:\n%s", p.name, prefix, atpStartTimeout, p.tail(20))
}

func (p *nodeProc) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return tailLines(string(b), n)
}

// Close stops the servers (the PDS first) and drops the AppView's
// database.
func (a *ATP) Close() {
	var wg sync.WaitGroup
	for i := len(a.procs) - 1; i >= 0; i-- {
		p := a.procs[i]
		wg.Go(func() { stop(p.cmd, p.exited) })
	}
	wg.Wait()
	a.procs = nil
	if a.dropDB != nil {
		a.dropDB()
		a.dropDB = nil
	}
}

func (a *ATP) logTails(n int) string {
	var b strings.Builder
	for _, p := range a.procs {
		fmt.Fprintf(&b, "%s log (%s), last lines:\n%s\n", p.name, p.log, p.tail(n))
	}
	return b.String()
}

// Account creates an account with the handle name.test and a random
// password, logged in.
func (a *ATP) Account(tb testing.TB, name string) *ATAccount {
	tb.Helper()
	a.mu.Lock()
	a.seq++
	n := a.seq
	a.mu.Unlock()
	acc := &ATAccount{Handle: name + ".test", Email: fmt.Sprintf("%s-%d@example.org", name, n), Password: "Tresor-" + randomHex(12)}
	var out struct{ Did, Handle, AccessJwt, RefreshJwt string }
	err := a.XRPC("POST", "com.atproto.server.createAccount", "", map[string]any{
		"email": acc.Email, "handle": acc.Handle, "password": acc.Password,
	}, &out)
	if err != nil {
		tb.Fatalf("create the account %s: %v", acc.Handle, err)
	}
	if out.Did == "" || out.AccessJwt == "" || out.RefreshJwt == "" || out.Handle != acc.Handle {
		tb.Fatalf("create the account %s: the answer %+v has no DID, tokens or handle", acc.Handle, out)
	}
	acc.DID, acc.AccessJwt, acc.RefreshJwt = out.Did, out.AccessJwt, out.RefreshJwt
	return acc
}

// AppPassword creates an app password of the account, as a person does
// for a client like Tresor.
func (a *ATP) AppPassword(tb testing.TB, acc *ATAccount) string {
	tb.Helper()
	var out struct{ Password string }
	if err := a.XRPC("POST", "com.atproto.server.createAppPassword", acc.AccessJwt,
		map[string]any{"name": "tresor-" + randomHex(4)}, &out); err != nil {
		tb.Fatalf("app password for %s: %v", acc.Handle, err)
	}
	if out.Password == "" {
		tb.Fatalf("app password for %s: none in the answer", acc.Handle)
	}
	return out.Password
}

// ATPost is a post an account writes.
type ATPost struct {
	Text string
	// CreatedAt is the time the post claims (zero: now). Clients may
	// backdate it; the AppView sorts by the earlier of it and the time it
	// indexed the post.
	CreatedAt time.Time
	// Mention, when set, is marked with a mention facet on the first
	// "@handle" of Text (which must hold it).
	Mention *ATAccount
	Langs   []string
}

// Post writes a post of the account on the PDS and returns its at:// URI.
// The AppView shows it a moment later (WaitPost).
func (a *ATP) Post(tb testing.TB, acc *ATAccount, p ATPost) string {
	tb.Helper()
	at := p.CreatedAt
	if at.IsZero() {
		at = time.Now()
	}
	rec := map[string]any{
		"$type":     "app.bsky.feed.post",
		"text":      p.Text,
		"createdAt": at.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if len(p.Langs) > 0 {
		rec["langs"] = p.Langs
	}
	if p.Mention != nil {
		i := strings.Index(p.Text, "@"+p.Mention.Handle)
		if i < 0 {
			tb.Fatalf("post of %s: the text %q does not hold @%s", acc.Handle, p.Text, p.Mention.Handle)
		}
		rec["facets"] = []any{map[string]any{
			"index": map[string]any{"byteStart": i, "byteEnd": i + 1 + len(p.Mention.Handle)},
			"features": []any{map[string]any{
				"$type": "app.bsky.richtext.facet#mention", "did": p.Mention.DID,
			}},
		}}
	}
	var out struct{ URI string }
	if err := a.XRPC("POST", "com.atproto.repo.createRecord", acc.AccessJwt, map[string]any{
		"repo": acc.DID, "collection": "app.bsky.feed.post", "record": rec,
	}, &out); err != nil {
		tb.Fatalf("post of %s: %v", acc.Handle, err)
	}
	if !strings.HasPrefix(out.URI, "at://") {
		tb.Fatalf("post of %s: the answer has no at:// URI", acc.Handle)
	}
	return out.URI
}

// WaitPost waits until the AppView shows the post (app.bsky.feed.getPosts
// through the PDS, as acc).
func (a *ATP) WaitPost(tb testing.TB, acc *ATAccount, uri string) {
	tb.Helper()
	a.Wait(tb, "the AppView showing "+uri, func() (bool, error) {
		var out struct{ Posts []struct{ URI string } }
		if err := a.XRPC("GET", "app.bsky.feed.getPosts?uris="+url.QueryEscape(uri), acc.AccessJwt, nil, &out); err != nil {
			return false, err
		}
		return len(out.Posts) == 1 && out.Posts[0].URI == uri, nil
	})
}

// Wait polls cond until it holds, failing the test after 30 seconds: the
// AppView indexes the PDS's firehose a moment after each write. An error
// of cond is kept as the reason and polled again.
func (a *ATP) Wait(tb testing.TB, what string, cond func() (bool, error)) {
	tb.Helper()
	var last error
	for deadline := time.Now().Add(atpWaitTimeout); ; time.Sleep(100 * time.Millisecond) {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s (last error: %v)", what, last)
		}
	}
}

// Expired returns token (an access or refresh token of the PDS) with the
// same claims, expired an hour ago and signed again with the PDS's key:
// what a client holds after the token's lifetime, without waiting for it.
func (a *ATP) Expired(tb testing.TB, token string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("Expired: not a JWT")
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("Expired: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(claims, &m); err != nil {
		tb.Fatalf("Expired: %v", err)
	}
	past := time.Now().Add(-time.Hour).Unix()
	m["iat"], m["exp"] = past-60, past
	claims, err = json.Marshal(m)
	if err != nil {
		tb.Fatalf("Expired: %v", err)
	}
	signed := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(a.jwtSecret))
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// XRPCError is an answer of the PDS that is not 200.
type XRPCError struct {
	Status  int
	Name    string // the XRPC error name, e.g. ExpiredToken
	Message string
}

func (e *XRPCError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Name, e.Message)
}

// XRPC calls a method of the PDS: a query (GET; parameters in the method
// string after "?") or a procedure (POST with in as a JSON body). token,
// if not empty, is sent as a bearer token. A JSON answer is decoded into
// out if out is not nil; an answer that is not 200 is an *XRPCError.
func (a *ATP) XRPC(method, nsid, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+"/xrpc/"+nsid, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, nsid, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, nsid, err)
	}
	if resp.StatusCode != http.StatusOK {
		var xe struct{ Error, Message string }
		_ = json.Unmarshal(b, &xe)
		return fmt.Errorf("%s %s: %w", method, nsid, &XRPCError{Status: resp.StatusCode, Name: xe.Error, Message: xe.Message})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, nsid, err)
		}
	}
	return nil
}
