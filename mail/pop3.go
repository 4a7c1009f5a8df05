package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// Security is how a POP3 connection is protected.
type Security string

// The kinds of POP3 connections.
const (
	// ImplicitTLS (pop3s, usually port 995): TLS from the first byte.
	ImplicitTLS Security = "pop3s"
	// StartTLS (pop3, port 110): the session is upgraded with STLS before
	// the password is sent; a server without STLS is refused.
	StartTLS Security = "stls"
	// Insecure: plain text, the password in the clear. Only for tests and
	// a server on the loopback interface, and only when asked for.
	Insecure Security = "insecure"
)

// POP3 is a mailbox on a POP3 server (RFC 1939, STLS from RFC 2595).
type POP3 struct {
	Addr      string // host:port
	User      string
	Password  string
	Security  Security
	TLSConfig *tls.Config // nil: the system's roots, the host's name
	Timeout   time.Duration
}

var _ tresor.Mailbox = (*POP3)(nil)

// ParseInboxURL reads pop3s://user@host[:port] or pop3://user@host[:port].
// pop3:// needs the server to offer STLS, unless insecure is set.
func ParseInboxURL(raw, password string, insecure bool) (*POP3, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	if u.User == nil || u.User.Username() == "" || u.Hostname() == "" {
		return nil, errors.New("inbox: write the mailbox as pop3s://user@host:port")
	}
	if _, set := u.User.Password(); set {
		return nil, errors.New("inbox: the password does not belong in the URL; set TRESOR_INBOX_PASSWORD or TRESOR_INBOX_PASSWORD_FILE")
	}
	p := &POP3{User: u.User.Username(), Password: password}
	port := u.Port()
	switch u.Scheme {
	case "pop3s":
		p.Security = ImplicitTLS
		if port == "" {
			port = "995"
		}
	case "pop3":
		p.Security = StartTLS
		if insecure {
			p.Security = Insecure
		}
		if port == "" {
			port = "110"
		}
	default:
		return nil, fmt.Errorf("inbox: %q is not pop3s:// or pop3://", u.Scheme)
	}
	p.Addr = net.JoinHostPort(u.Hostname(), port)
	return p, nil
}

// Name names the mailbox: user@host:port.
func (p *POP3) Name() string { return p.User + "@" + p.Addr }

// Open connects and signs in with USER and PASS.
func (p *POP3) Open(ctx context.Context) (tresor.MailboxSession, error) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	host, _, _ := net.SplitHostPort(p.Addr)
	cfg := p.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("pop3: connect to %s: %w", p.Addr, err)
	}
	if p.Security == ImplicitTLS {
		conn = tls.Client(conn, cfg)
	}
	s := &popSession{conn: conn, tp: textproto.NewConn(conn), timeout: timeout}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	s.deadline(ctx)
	if _, err := s.status(); err != nil {
		return nil, fmt.Errorf("pop3: greeting: %w", err)
	}
	if p.Security == StartTLS {
		if _, err := s.cmd("STLS"); err != nil {
			return nil, fmt.Errorf("pop3: the server does not offer STLS, and a plain connection would show the password: %w", err)
		}
		s.conn = tls.Client(conn, cfg)
		s.tp = textproto.NewConn(s.conn)
		s.deadline(ctx)
	}
	if p.Security == "" {
		return nil, errors.New("pop3: no security chosen")
	}
	if _, err := s.cmd("USER %s", p.User); err != nil {
		return nil, fmt.Errorf("pop3: sign in: %w", err)
	}
	if _, err := s.cmd("PASS %s", p.Password); err != nil {
		return nil, fmt.Errorf("pop3: sign in: %w", err)
	}
	ok = true
	return s, nil
}

type popSession struct {
	conn    net.Conn
	tp      *textproto.Conn
	timeout time.Duration
	numbers map[string]int // uid → message number, from UIDL
}

// errServer is a -ERR answer.
type errServer struct{ text string }

func (e *errServer) Error() string { return "the server answered -ERR " + e.text }

func (s *popSession) deadline(ctx context.Context) {
	if d, ok := ctx.Deadline(); ok {
		_ = s.conn.SetDeadline(d)
	} else {
		_ = s.conn.SetDeadline(time.Now().Add(s.timeout))
	}
}

func (s *popSession) status() (string, error) {
	line, err := s.tp.ReadLine()
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	if rest, ok := strings.CutPrefix(line, "-ERR"); ok {
		return "", &errServer{clip(strings.TrimSpace(rest), 200)}
	}
	return "", fmt.Errorf("pop3: unexpected answer %q", clip(line, 80))
}

func (s *popSession) cmd(format string, args ...any) (string, error) {
	for _, a := range args {
		if strings.ContainsAny(fmt.Sprint(a), "\r\n") {
			return "", errors.New("pop3: a line break in a command")
		}
	}
	if err := s.tp.PrintfLine(format, args...); err != nil {
		return "", err
	}
	return s.status()
}

// lines reads a multi-line answer (dot-stuffed, ending with ".").
func (s *popSession) lines() ([]string, error) { return s.tp.ReadDotLines() }

// Stat returns the number of messages and their size.
func (s *popSession) Stat(ctx context.Context) (int, int, error) {
	s.deadline(ctx)
	st, err := s.cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(st)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("pop3: STAT answered %q", clip(st, 80))
	}
	n, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("pop3: STAT answered %q", clip(st, 80))
	}
	return n, size, nil
}

// List lists the messages by their unique ids (UIDL) with their sizes (LIST).
func (s *popSession) List(ctx context.Context) ([]tresor.MailboxItem, error) {
	if _, _, err := s.Stat(ctx); err != nil {
		return nil, err
	}
	s.deadline(ctx)
	if _, err := s.cmd("UIDL"); err != nil {
		return nil, fmt.Errorf("pop3: UIDL: %w", err)
	}
	uidl, err := s.lines()
	if err != nil {
		return nil, err
	}
	if _, err := s.cmd("LIST"); err != nil {
		return nil, fmt.Errorf("pop3: LIST: %w", err)
	}
	list, err := s.lines()
	if err != nil {
		return nil, err
	}
	sizes := map[int]int{}
	for _, l := range list {
		f := strings.Fields(l)
		if len(f) == 2 {
			n, _ := strconv.Atoi(f[0])
			size, _ := strconv.Atoi(f[1])
			sizes[n] = size
		}
	}
	s.numbers = map[string]int{}
	var out []tresor.MailboxItem
	for _, l := range uidl {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || len(f[1]) > 70 {
			continue
		}
		s.numbers[f[1]] = n
		out = append(out, tresor.MailboxItem{UID: f[1], Size: sizes[n]})
	}
	return out, nil
}

func (s *popSession) number(uid string) (int, error) {
	n, ok := s.numbers[uid]
	if !ok {
		return 0, fmt.Errorf("pop3: no message %q in this session", clip(uid, 70))
	}
	return n, nil
}

// Retrieve reads one message (RETR) and parses it.
func (s *popSession) Retrieve(ctx context.Context, uid string) (*tresor.InboundMail, error) {
	n, err := s.number(uid)
	if err != nil {
		return nil, err
	}
	s.deadline(ctx)
	if _, err := s.cmd("RETR %d", n); err != nil {
		return nil, fmt.Errorf("pop3: RETR: %w", err)
	}
	dr := s.tp.DotReader()
	raw, err := io.ReadAll(io.LimitReader(dr, MaxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("pop3: RETR: %w", err)
	}
	if len(raw) > MaxMessage {
		// Read the rest, so that the session stays in step.
		if _, err := io.Copy(io.Discard, dr); err != nil {
			return nil, err
		}
	}
	return Parse(raw)
}

// Delete marks a message for deletion at QUIT.
func (s *popSession) Delete(ctx context.Context, uid string) error {
	n, err := s.number(uid)
	if err != nil {
		return err
	}
	s.deadline(ctx)
	if _, err := s.cmd("DELE %d", n); err != nil {
		return fmt.Errorf("pop3: DELE: %w", err)
	}
	return nil
}

// Close ends the session with QUIT, which commits deletions.
func (s *popSession) Close() error {
	_ = s.conn.SetDeadline(time.Now().Add(s.timeout))
	_, err := s.cmd("QUIT")
	cerr := s.tp.Close()
	if err != nil {
		return fmt.Errorf("pop3: QUIT: %w", err)
	}
	return cerr
}
