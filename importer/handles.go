package importer

import (
	"net/url"
	"strings"
	"unicode"
)

// networkAliases maps what files call a network (a vCard TYPE or
// X-SERVICE-TYPE, an IMPP scheme) to the names of Handle.Network.
var networkAliases = map[string]string{
	"mastodon":  "mastodon",
	"fediverse": "mastodon",
	"bluesky":   "bluesky",
	"bsky":      "bluesky",
	"linkedin":  "linkedin",
	"xing":      "xing",
	"twitter":   "twitter",
	"x":         "twitter",
	"github":    "github",
	"instagram": "instagram",
	"facebook":  "facebook",
	"threads":   "threads",
	"telegram":  "telegram",
	"xmpp":      "xmpp",
	"jabber":    "xmpp",
	"skype":     "skype",
}

// networkHosts maps the domains of profile URLs to networks.
var networkHosts = map[string]string{
	"linkedin.com":  "linkedin",
	"xing.com":      "xing",
	"twitter.com":   "twitter",
	"x.com":         "twitter",
	"bsky.app":      "bluesky",
	"github.com":    "github",
	"instagram.com": "instagram",
	"facebook.com":  "facebook",
	"threads.net":   "threads",
	"t.me":          "telegram",
}

// networkName returns the network a label names, or "".
func networkName(label string) string {
	label = strings.ToLower(strings.TrimSpace(label))
	if n, ok := networkAliases[label]; ok {
		return n
	}
	return networkAliases[strings.TrimPrefix(label, "x-")]
}

// hostNetwork returns the network whose profiles live on host, or "".
func hostNetwork(host string) string {
	for {
		if n, ok := networkHosts[host]; ok {
			return n
		}
		_, rest, ok := strings.Cut(host, ".")
		if !ok {
			return ""
		}
		host = rest
	}
}

// handleFromURL recognises a profile URL. hint is the network the file says
// the URL belongs to, or ""; it is what makes a Mastodon profile on any
// instance recognisable (or a host with "mastodon" in its name).
func handleFromURL(raw, hint string) (Handle, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Handle{}, false
	}
	host := strings.ToLower(u.Hostname())
	network := hostNetwork(host)
	if network == "" && (hint == "mastodon" || strings.Contains(host, "mastodon")) {
		network = "mastodon"
	}
	var segs []string
	for s := range strings.SplitSeq(u.Path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return Handle{}, false
	}
	var h string
	switch network {
	case "linkedin":
		if len(segs) >= 2 && segs[0] == "in" {
			h = segs[1]
		}
	case "xing", "bluesky":
		if len(segs) >= 2 && segs[0] == "profile" {
			h = segs[1]
		}
	case "twitter", "github", "instagram", "facebook", "threads", "telegram":
		if !strings.Contains(segs[0], ".php") {
			h = strings.TrimPrefix(segs[0], "@")
		}
	case "mastodon":
		switch {
		case strings.HasPrefix(segs[0], "@"):
			h, _ = mastodonAccount(segs[0], host)
		case segs[0] == "users" && len(segs) >= 2:
			h, _ = mastodonAccount(segs[1], host)
		}
	}
	if network == "" || !plainHandle(h) {
		return Handle{}, false
	}
	return Handle{Network: network, Handle: h}, true
}

// normalizeHandle reads a handle given for a network: a profile URL, a
// "scheme:" URI, "@name" or "name". For networks it does not know it keeps
// the value as it is (trimmed).
func normalizeHandle(network, value string) (Handle, bool) {
	v := strings.TrimSpace(value)
	if v == "" || network == "" {
		return Handle{}, false
	}
	if lv := strings.ToLower(v); strings.HasPrefix(lv, "http://") || strings.HasPrefix(lv, "https://") {
		h, ok := handleFromURL(v, network)
		if ok && h.Network != network && networkName(network) != h.Network {
			return Handle{}, false
		}
		return h, ok
	}
	if scheme, rest, ok := strings.Cut(v, ":"); ok && networkName(scheme) != "" {
		v = strings.TrimPrefix(rest, "//")
		v, _, _ = strings.Cut(v, "?")
	}
	switch network {
	case "mastodon":
		h, domain := mastodonAccount(v, "")
		if domain == "" {
			return Handle{}, false
		}
		v = h
	case "xmpp":
		if !strings.Contains(v, "@") {
			return Handle{}, false
		}
	case "linkedin", "xing":
	default:
		v = strings.TrimPrefix(v, "@")
	}
	if !plainHandle(v) {
		return Handle{}, false
	}
	return Handle{Network: network, Handle: v}, true
}

// plainHandle reports whether h can be a handle: not empty, no spaces, no
// slashes, not absurdly long.
func plainHandle(h string) bool {
	if h == "" || len(h) > 512 {
		return false
	}
	for _, r := range h {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' {
			return false
		}
	}
	return true
}

// mastodonAccount reads a Mastodon account address: "@user@instance",
// "user@instance" or, with defaultDomain, "user". It returns the account as
// "@user@instance" with the instance in lower case, and the instance; ""
// and "" if s is not an account address, and "@user" and "" if it has no
// instance and there is no default.
func mastodonAccount(s, defaultDomain string) (acct, domain string) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "@")
	user, domain, hasDomain := strings.Cut(s, "@")
	if !hasDomain {
		domain = defaultDomain
	}
	if !mastodonUser(user) {
		return "", ""
	}
	if domain == "" {
		if hasDomain {
			return "", ""
		}
		return "@" + user, ""
	}
	domain = strings.ToLower(domain)
	if !validDomain(domain) {
		return "", ""
	}
	return "@" + user + "@" + domain, domain
}

// mastodonUser reports whether s can be the user part of a fediverse account.
func mastodonUser(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// validDomain reports whether s looks like a (lower-case) domain name, IDNs
// allowed.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || unicode.IsDigit(r) || unicode.IsLower(r) || (r > unicode.MaxASCII && unicode.IsLetter(r))) {
				return false
			}
		}
	}
	return true
}
