package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy every request comes from the proxy's address, so
// the limits keyed on the client address (the public request form, the
// sign-in throttle) would be shared by everyone. With trusted proxies
// configured (--trusted-proxy, TRESOR_TRUSTED_PROXIES), a request whose
// peer is a trusted proxy is taken to come from the right-most address in
// X-Forwarded-For that is not a trusted proxy: each proxy appends the
// address it was reached from, so everything left of the first untrusted
// entry may have been written by the client and is ignored. A request from
// a peer that is not trusted keeps its peer address, whatever headers it
// sends. The address found replaces the request's RemoteAddr before any
// handler runs, so the limits, the consent proofs and the audit trail all
// see the same client.

// ParseTrustedProxies parses "CIDR[,CIDR…]"; a bare address is a range of
// one. An empty string is no proxy.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: give an address range such as 10.0.0.0/8 or fd00::/8, or one address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// hostAddr parses an address with or without a port.
func hostAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the client's address of a request: its peer, unless the
// peer is a trusted proxy; then the right-most untrusted address of
// X-Forwarded-For (port 0), or the peer when the header has none or holds
// something that is no address (a chain that cannot be read is not
// believed).
func clientAddr(r *http.Request, proxies []netip.Prefix) string {
	peer, ok := hostAddr(r.RemoteAddr)
	if !ok || !trusted(peer, proxies) {
		return r.RemoteAddr
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := hostAddr(hops[i])
		if !ok {
			return r.RemoteAddr
		}
		client = a
		if !trusted(a, proxies) {
			break
		}
	}
	if client == peer {
		return r.RemoteAddr
	}
	return net.JoinHostPort(client.String(), "0")
}
