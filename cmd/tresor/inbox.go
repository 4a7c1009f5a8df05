package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"tresor/mail"
)

// inboxConfig is the mailbox serve reads inbound mail from.
type inboxConfig struct {
	url      string
	insecure bool
	every    time.Duration
	keep     bool
}

func (m *Main) inboxFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.inbox.url, "inbox-url", m.env("TRESOR_INBOX_URL", ""), "the mailbox whose mail becomes service cases: pop3s://user@host:995, or pop3://user@host:110 with STLS (TRESOR_INBOX_URL; the password from TRESOR_INBOX_PASSWORD or TRESOR_INBOX_PASSWORD_FILE)")
	fs.BoolVar(&cfg.inbox.insecure, "inbox-insecure", m.env("TRESOR_INBOX_INSECURE", "") == "true", "read a pop3:// mailbox without TLS, the password in the clear; only for a server on the loopback interface, such as a test server (TRESOR_INBOX_INSECURE=true)")
	fs.DurationVar(&cfg.inbox.every, "inbox-interval", m.envDuration("TRESOR_INBOX_INTERVAL", time.Minute), "how often the mailbox is read, under the purpose of --social-purpose; 0 reads it only when asked (POST /api/v1/mailbox/poll) (TRESOR_INBOX_INTERVAL)")
	fs.BoolVar(&cfg.inbox.keep, "inbox-keep", m.env("TRESOR_INBOX_KEEP", "") == "true", "leave mails on the server once they are cases (Tresor remembers each by its UIDL); by default they are deleted (TRESOR_INBOX_KEEP=true)")
}

// inbox is the POP3 mailbox of serve.
func (m *Main) inbox(cfg *config) (*mail.POP3, error) {
	password, err := m.secret("TRESOR_INBOX_PASSWORD", func(s string) string { return strings.TrimRight(s, "\r\n") })
	if err != nil {
		return nil, err
	}
	if password == "" {
		return nil, errors.New("--inbox-url needs the mailbox's password in TRESOR_INBOX_PASSWORD or TRESOR_INBOX_PASSWORD_FILE")
	}
	box, err := mail.ParseInboxURL(cfg.inbox.url, password, cfg.inbox.insecure)
	if err != nil {
		return nil, err
	}
	if box.Security == mail.Insecure {
		host, _, _ := net.SplitHostPort(box.Addr)
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("--inbox-insecure: %s is not on the loopback interface; a password is never sent in the clear over a network (use pop3s:// or a server with STLS)", host)
		}
	}
	return box, nil
}
