package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"tresor/datadir"
	"tresor/gate"
	"tresor/server"
	"tresor/storetest"
)

// behind serves the api's gate again as a server that trusts the proxies
// (the test's peer is 127.0.0.1).
func behind(t *testing.T, a *api, proxies string) string {
	t.Helper()
	p, err := server.ParseTrustedProxies(proxies)
	if err != nil {
		t.Fatal(err)
	}
	g := a.g
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g, Mail: g}, server.Options{Purposes: g.PurposesOf, Catalogue: g.Catalogue(), TrustedProxies: p})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestTrustedProxyRules: the request form and sign-in limit each client;
// X-Forwarded-For names the client only when a trusted proxy sends it.
func TestTrustedProxyRules(t *testing.T) {
	throttle := gate.WithThrottle(gate.Throttle{AccountFree: 100, AddressFree: 2, Base: time.Hour, Max: time.Hour, Reset: 24 * time.Hour})
	run := func(t *testing.T, a *api) {
		submit := func(t *testing.T, base string, i int, xff string) int {
			t.Helper()
			b := newBrowser(t, base)
			form := b.get("/requests/new")
			return b.post("/requests/new", url.Values{"form_token": {form.field(t, "form_token")}, "kind": {"access"},
				"email": {fmt.Sprintf("proxy-%d@example.org", i)}, "language": {"en"}}, map[string]string{"X-Forwarded-For": xff}).status
		}
		signIn := func(t *testing.T, base string, i int, xff string) int {
			t.Helper()
			b := newBrowser(t, base)
			form := b.get("/login")
			return b.post("/login", url.Values{"form_token": {form.field(t, "form_token")}, "email": {fmt.Sprintf("nobody-%d@example.org", i)},
				"password": {"not the password"}}, map[string]string{"X-Forwarded-For": xff}).status
		}
		n := 0
		untrusted := behind(t, a, "192.0.2.0/24") // the peer 127.0.0.1 is no proxy of these
		trusted := behind(t, a, "127.0.0.1/32, 10.0.0.0/8")

		t.Run("a spoofed X-Forwarded-For from a peer that is not trusted is ignored by the request form's limit", func(t *testing.T) {
			var last int
			for i := range 6 {
				n++
				last = submit(t, untrusted, n, fmt.Sprintf("198.51.100.%d", i+1))
			}
			if last != http.StatusTooManyRequests {
				t.Fatalf("the sixth request from one peer with six spoofed addresses: %d, want 429", last)
			}
		})
		t.Run("a spoofed X-Forwarded-For from a peer that is not trusted is ignored by the sign-in throttle", func(t *testing.T) {
			var last int
			for i := range 4 {
				n++
				last = signIn(t, untrusted, n, fmt.Sprintf("198.51.100.%d", i+1))
			}
			if last != http.StatusTooManyRequests {
				t.Fatalf("the fourth failed sign-in from one peer with spoofed addresses: %d, want 429", last)
			}
		})
		t.Run("behind a trusted proxy each forwarded client has its own request-form limit", func(t *testing.T) {
			for i := range 6 {
				n++
				// The client wrote the left entry; the proxy 10.1.2.3 appended
				// the address it was reached from.
				if s := submit(t, trusted, n, fmt.Sprintf("192.0.2.99, 203.0.113.%d, 10.1.2.3", i+1)); s == http.StatusTooManyRequests {
					t.Fatalf("client %d behind the proxy is limited by the others: %d", i+1, s)
				}
			}
			var last int
			for range 6 {
				n++
				last = submit(t, trusted, n, fmt.Sprintf("%d.0.0.1, 203.0.113.200", n)) // one client, the left part forged
			}
			if last != http.StatusTooManyRequests {
				t.Fatalf("one forwarded client with forged left entries: %d, want 429", last)
			}
		})
		t.Run("behind a trusted proxy each forwarded client has its own sign-in throttle", func(t *testing.T) {
			for i := range 4 {
				n++
				if s := signIn(t, trusted, n, fmt.Sprintf("203.0.113.%d", 100+i)); s == http.StatusTooManyRequests {
					t.Fatalf("client %d behind the proxy is throttled by the others: %d", i+1, s)
				}
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, throttle)) })
	t.Run("postgres", func(t *testing.T) {
		run(t, newAPI(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true}, throttle))
	})
}

// TestTrustedProxyList: the flag's list is CIDRs or single addresses; anything
// else is refused with the form it should have.
func TestTrustedProxyList(t *testing.T) {
	t.Run("ranges and single addresses are accepted", func(t *testing.T) {
		p, err := server.ParseTrustedProxies(" 10.0.0.0/8, fd00::/8,192.0.2.7 ,")
		if err != nil {
			t.Fatal(err)
		}
		want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("192.0.2.7/32")}
		if len(p) != len(want) {
			t.Fatalf("proxies = %v", p)
		}
		for i := range want {
			if p[i] != want[i] {
				t.Errorf("proxy %d = %v, want %v", i, p[i], want[i])
			}
		}
	})
	t.Run("something that is no address is refused", func(t *testing.T) {
		if _, err := server.ParseTrustedProxies("proxy.example.org"); err == nil {
			t.Error("a host name was accepted")
		}
	})
}
