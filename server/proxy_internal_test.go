package server

import (
	"net/http/httptest"
	"testing"
)

// TestClientAddrRules: which address a request is taken to come from.
func TestClientAddrRules(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ rule, peer, xff, want string }{
		{"a peer that is not trusted is the client, whatever it forwards", "198.51.100.7:5000", "203.0.113.1", "198.51.100.7:5000"},
		{"behind a trusted proxy the right-most untrusted entry is the client", "10.0.0.2:443", "192.0.2.1, 203.0.113.5, 10.9.9.9", "203.0.113.5:0"},
		{"a trusted proxy without the header is the client", "10.0.0.2:443", "", "10.0.0.2:443"},
		{"a chain of trusted proxies only: the farthest of them", "10.0.0.2:443", "10.3.3.3, 10.4.4.4", "10.3.3.3:0"},
		{"an unreadable entry makes the chain unbelievable: the peer", "10.0.0.2:443", "203.0.113.5, not-an-ip", "10.0.0.2:443"},
		{"entries with ports and IPv6 are read", "[fd00::1]:443", "[2001:db8::7]:1234", "[2001:db8::7]:0"},
		{"an IPv4-mapped peer is the IPv4 proxy", "[::ffff:10.0.0.2]:443", "203.0.113.9", "203.0.113.9:0"},
	} {
		t.Run(c.rule, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := clientAddr(r, proxies); got != c.want {
				t.Errorf("client = %q, want %q", got, c.want)
			}
		})
	}
}
