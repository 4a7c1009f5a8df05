package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"tresor"
)

// MaxMessage is the largest message Parse reads, and MaxText the longest
// text it keeps: a mail is a case, not an archive.
const (
	MaxMessage = 25 << 20
	MaxText    = 100_000
	maxDepth   = 8  // nested multiparts
	maxParts   = 64 // parts looked at in all
)

// Parse reads one message in RFC 5322 form: its sender, subject, the
// Message-IDs that thread it, and its text. Attachments are counted and
// skipped; their content is never read into memory beyond the part
// boundaries. Text is decoded from quoted-printable or base64 and from
// UTF-8 or ISO-8859-1 (anything else is kept where it is valid UTF-8).
func Parse(raw []byte) (*tresor.InboundMail, error) {
	if len(raw) > MaxMessage {
		return nil, fmt.Errorf("mail: the message is larger than %d bytes", MaxMessage)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	h := msg.Header
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	m := &tresor.InboundMail{
		MessageID:  firstID(h.Get("Message-ID")),
		InReplyTo:  ids(h.Get("In-Reply-To")),
		References: ids(h.Get("References")),
	}
	if s, err := dec.DecodeHeader(h.Get("Subject")); err == nil {
		m.Subject = cleanLine(s)
	} else {
		m.Subject = cleanLine(h.Get("Subject"))
	}
	ap := mail.AddressParser{WordDecoder: dec}
	if a, err := ap.Parse(h.Get("From")); err == nil {
		m.From = strings.ToLower(a.Address)
	}
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	p := &partWalker{}
	p.walk(h, msg.Body, 0)
	m.Attachments = p.attachments
	text := p.plain
	if text == "" {
		text = htmlToText(p.html)
	}
	m.Text = clip(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")), MaxText)
	return m, nil
}

// header is what the part walker needs of a header.
type header interface{ Get(string) string }

type partWalker struct {
	plain, html string
	attachments int
	parts       int
}

func (p *partWalker) walk(h header, body io.Reader, depth int) {
	p.parts++
	if p.parts > maxParts {
		return
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "application/octet-stream", nil
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	if strings.HasPrefix(mt, "multipart/") && depth < maxDepth && params["boundary"] != "" {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart()
			if err != nil {
				return
			}
			p.walk(part.Header, part, depth+1)
		}
	}
	if disp == "attachment" || dparams["filename"] != "" || params["name"] != "" ||
		(mt != "text/plain" && mt != "text/html") || (mt == "text/plain" && p.plain != "") || (mt == "text/html" && p.html != "") {
		if mt != "multipart/alternative" {
			p.attachments++
		}
		return
	}
	b, err := io.ReadAll(io.LimitReader(decodeTransfer(h.Get("Content-Transfer-Encoding"), body), 4*MaxText))
	if err != nil && len(b) == 0 {
		return
	}
	s := toUTF8(b, params["charset"])
	if mt == "text/plain" {
		p.plain = s
	} else {
		p.html = s
	}
}

func decodeTransfer(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Clean{r: r})
	}
	return r
}

// base64Clean drops what is not base64 (spaces, stray characters), as mail
// programs do.
type base64Clean struct{ r io.Reader }

func (b *base64Clean) Read(p []byte) (int, error) {
	for {
		n, err := b.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// toUTF8 decodes text in its charset: UTF-8 and US-ASCII as they are,
// ISO-8859-1 (and its superset windows-1252, read as Latin-1) byte by byte.
func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "iso-8859-1", "latin1", "iso_8859-1", "windows-1252", "cp1252", "l1":
		return latin1(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		return input, nil
	case "iso-8859-1", "latin1", "windows-1252":
		b, err := io.ReadAll(io.LimitReader(input, 64<<10))
		if err != nil {
			return nil, err
		}
		return strings.NewReader(latin1(b)), nil
	}
	return nil, errors.New("mail: unknown charset " + charset)
}

var idPattern = regexp.MustCompile(`<([^<>\s]{1,250})>`)

// ids lists the message ids of a header (In-Reply-To, References).
func ids(v string) []string {
	var out []string
	for _, m := range idPattern.FindAllStringSubmatch(v, 50) {
		out = append(out, m[1])
	}
	return out
}

func firstID(v string) string {
	if l := ids(v); len(l) > 0 {
		return l[0]
	}
	return ""
}

var (
	tagPattern   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	blankPattern = regexp.MustCompile(`\n[ \t]*\n(\s*\n)+`)
)

// htmlToText keeps the words of an HTML-only mail, without markup.
func htmlToText(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n\n", "</div>", "\n").Replace(s)
	s = html.UnescapeString(tagPattern.ReplaceAllString(s, ""))
	return blankPattern.ReplaceAllString(s, "\n\n")
}

func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, 500)
}

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
