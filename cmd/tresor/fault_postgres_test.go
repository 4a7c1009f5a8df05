package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor/storetest"
)

// pgProxy forwards loopback connections to PostgreSQL and can be cut (every
// connection closed, new ones refused) and restored on the same port: the
// database going away and coming back, as a restart or a failover looks to
// Tresor, without touching the shared server.
type pgProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	p := &pgProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *pgProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *pgProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// cut closes the listener and every connection.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// restore listens again on the same address.
func (p *pgProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestPostgresGoneAndBack: while PostgreSQL cannot be reached, requests
// fail fast with 503 storage_unavailable (no hang, no 500 with internals),
// and when it is back the server serves again by itself.
func TestPostgresGoneAndBack(t *testing.T) {
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.addr
	env := map[string]string{"TRESOR_DB": u.String(), "TRESOR_DATA_DIR": t.TempDir(), "TRESOR_RETENTION_INTERVAL": "0", "TRESOR_SOCIAL_INTERVAL": "0"}
	if _, msg, code := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", msg)
	}
	if _, msg, code := run(t, env, "user", "create", "--email", "sales@example.org", "--role", "sales"); code != 0 {
		t.Fatalf("user create: %s", msg)
	}
	out, msg, code := run(t, env, "token", "create", "--email", "sales@example.org")
	if code != 0 {
		t.Fatalf("token create: %s", msg)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	base, stop := serveForTest(t, env, io.Discard)
	get := func() (int, string, error) {
		a := callAPI("GET", base+"/api/v1/contacts?limit=5", token, nil)
		return a.Status, a.Code + " " + a.Detail, a.Err
	}
	if code, body, err := get(); err != nil || code != 200 {
		t.Fatalf("before: %d %s %v", code, body, err)
	}

	proxy.cut()
	t.Run("while the database is gone, requests fail with 503 storage_unavailable", func(t *testing.T) {
		for i := range 5 {
			code, body, err := get()
			if err != nil {
				t.Fatalf("request %d: %v (the server did not answer)", i, err)
			}
			if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "storage_unavailable") {
				t.Fatalf("request %d: %d %q, want 503 storage_unavailable", i, code, body)
			}
			for _, internal := range []string{"dial", "127.0.0.1", "connection refused", "EOF", "pgx", "sql:"} {
				if strings.Contains(body, internal) {
					t.Errorf("the problem shows internals (%q): %s", internal, body)
				}
			}
		}
	})
	proxy.restore(t)
	t.Run("when the database is back, the server serves again by itself", func(t *testing.T) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, body, err := get()
			if err == nil && code == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %d %q %v after the database came back", code, body, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	if err := stop(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Logf("stop: %v", err)
	}
}
