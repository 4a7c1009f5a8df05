package mastodon

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"tresor"
)

// NormalizeHandle returns the handle in the connector's form,
// "@user@host" in lower case. It accepts "@user@host", "user@host" and,
// with defaultHost (the server's host), "user" or "@user" for a local
// account. It refuses anything else, so a handle cannot smuggle further
// text (or further mentions) into a post.
func NormalizeHandle(s, defaultHost string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "@")
	user, host, found := strings.Cut(s, "@")
	if !found {
		host = defaultHost
	}
	user, host = strings.ToLower(user), strings.ToLower(host)
	if !validUser(user) || !validHost(host) {
		return "", tresor.Errorf(tresor.ECInvalidParameter, "A Mastodon handle has the form @user@host, such as @erika@social.example.")
	}
	return "@" + user + "@" + host, nil
}

// validUser: letters, digits, '_', '.' and '-' (remote servers allow more
// than Mastodon's own [a-z0-9_]).
func validUser(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) && r != '_' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

// validHost: a domain name or IPv4 address, optionally with a port.
func validHost(s string) bool {
	name, port, hasPort := strings.Cut(s, ":")
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) && r != '-' {
				return false
			}
		}
	}
	if hasPort {
		if port == "" || len(port) > 5 {
			return false
		}
		for _, r := range port {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

// handleOf turns an acct from a server's answer into a handle: a local
// account (no @host) gets the server's host. Unlike NormalizeHandle it
// accepts whatever the server sent.
func handleOf(acct, serverHost string) string {
	acct = strings.TrimPrefix(strings.TrimSpace(acct), "@")
	if acct == "" {
		return ""
	}
	if !strings.Contains(acct, "@") {
		acct += "@" + serverHost
	}
	return "@" + strings.ToLower(acct)
}

// Block elements whose start and end break the text; the number is the
// line breaks they stand for.
var blockBreaks = map[string]int{
	"p": 2, "blockquote": 2, "pre": 2, "ul": 2, "ol": 2,
	"h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2,
	"div": 1, "li": 1, "tr": 1, "dt": 1, "dd": 1, "hr": 1,
}

// htmlText turns the HTML that Mastodon servers send (a status's content,
// a profile's note, a field's value) into plain text: tags are removed,
// entities decoded, whitespace collapsed; <br> becomes a line break and
// paragraphs are separated by an empty line. The content of script and
// style elements is dropped.
func htmlText(s string) string {
	var t textBuilder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			t.text(s)
			break
		}
		t.text(s[:i])
		s = s[i:]
		if len(s) < 2 || !isTagStart(s[1]) {
			t.text("<") // a literal '<', as a browser shows it
			s = s[1:]
			continue
		}
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s[4:], "-->")
			if end < 0 {
				break
			}
			s = s[4+end+3:]
			continue
		}
		end := tagEnd(s)
		if end < 0 {
			break // an unclosed tag runs to the end
		}
		name, closing := tagName(s[1:end])
		s = s[end+1:]
		switch name {
		case "br":
			t.lineBreak()
		case "script", "style", "template":
			if !closing {
				// Skip to the end tag, or to the end.
				j := strings.Index(strings.ToLower(s), "</"+name)
				if j < 0 {
					s = ""
				} else {
					s = s[j:]
				}
			}
		default:
			if n, ok := blockBreaks[name]; ok {
				t.block(n)
			}
		}
	}
	return t.b.String()
}

// isTagStart: what may follow '<' in a tag, comment or declaration.
func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// tagEnd returns the index of the '>' that ends the tag at the start of s,
// skipping quoted attribute values, or -1.
func tagEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// tagName returns the lower-case name of a tag's inside ("/p", "a href=…").
func tagName(inside string) (name string, closing bool) {
	if strings.HasPrefix(inside, "/") {
		closing, inside = true, inside[1:]
	}
	end := strings.IndexFunc(inside, func(r rune) bool { return unicode.IsSpace(r) || r == '/' })
	if end >= 0 {
		inside = inside[:end]
	}
	return strings.ToLower(inside), closing
}

// textBuilder writes text, collapsing whitespace and keeping line breaks
// from the start and the end out.
type textBuilder struct {
	b        strings.Builder
	space    bool // a space is due before the next character
	newlines int  // line breaks due before the next character
}

func (t *textBuilder) text(raw string) {
	s := html.UnescapeString(raw)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		if unicode.IsSpace(r) {
			t.space = t.b.Len() > 0
			continue
		}
		if t.newlines > 0 {
			t.b.WriteString(strings.Repeat("\n", t.newlines))
			t.newlines, t.space = 0, false
		} else if t.space {
			t.b.WriteByte(' ')
			t.space = false
		}
		if r == 0 {
			r = utf8.RuneError
		}
		t.b.WriteRune(r)
	}
}

func (t *textBuilder) lineBreak() {
	if t.b.Len() > 0 {
		t.newlines++
		t.space = false
	}
}

func (t *textBuilder) block(n int) {
	if t.b.Len() > 0 && t.newlines < n {
		t.newlines = n
		t.space = false
	}
}
