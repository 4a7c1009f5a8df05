package mail_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"tresor"
	tmail "tresor/mail"
	"tresor/mailtest"
)

func TestParseInboxURL(t *testing.T) {
	for _, c := range []struct {
		url      string
		insecure bool
		addr     string
		sec      tmail.Security
	}{
		{"pop3s://crm@mail.example.org", false, "mail.example.org:995", tmail.ImplicitTLS},
		{"pop3s://crm@mail.example.org:1995", false, "mail.example.org:1995", tmail.ImplicitTLS},
		{"pop3://crm@mail.example.org", false, "mail.example.org:110", tmail.StartTLS},
		{"pop3://crm@127.0.0.1:1110", true, "127.0.0.1:1110", tmail.Insecure},
	} {
		p, err := tmail.ParseInboxURL(c.url, "pw", c.insecure)
		if err != nil || p.Addr != c.addr || p.Security != c.sec || p.User != "crm" {
			t.Errorf("%s: %+v, %v", c.url, p, err)
		}
	}
	for _, bad := range []string{"imap://crm@mail.example.org", "pop3s://mail.example.org", "pop3s://crm:secret@mail.example.org", "::"} {
		if _, err := tmail.ParseInboxURL(bad, "pw", false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestPOP3AgainstARealServer sends a mail into Mailpit over SMTP and reads
// it back over POP3: UIDL, RETR, the parse, DELE and QUIT.
func TestPOP3AgainstARealServer(t *testing.T) {
	smtpAddr, _ := mailtest.Mailpit(t)
	addr, user, password := mailtest.POP3(t)
	ctx := context.Background()
	tag := fmt.Sprintf("pop3-%d", rand.Uint64())
	s := &tmail.SMTP{Addr: smtpAddr, From: "Erika Muster <erika." + tag + "@example.de>"}
	if err := s.Send(ctx, &tresor.Mail{To: "service@example.org", Subject: "Frage " + tag, Text: "Grüße aus Köln\n.\nZeile mit Punkt",
		Headers: map[string]string{"In-Reply-To": "<earlier@example.org>"}}); err != nil {
		t.Fatal(err)
	}
	box := &tmail.POP3{Addr: addr, User: user, Password: password, Security: tmail.Insecure}
	find := func() (tresor.MailboxSession, string, *tresor.InboundMail) {
		sess, err := box.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		items, err := sess.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			m, err := sess.Retrieve(ctx, it.UID)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.Subject, tag) {
				return sess, it.UID, m
			}
		}
		return sess, "", nil
	}
	sess, uid, m := find()
	if m == nil {
		sess.Close()
		t.Fatal("the mail is not in the POP3 box")
	}
	if m.From != "erika."+tag+"@example.de" || m.Text != "Grüße aus Köln\n.\nZeile mit Punkt" || len(m.InReplyTo) != 1 || m.InReplyTo[0] != "earlier@example.org" || m.MessageID == "" {
		t.Errorf("parsed %+v", m)
	}
	if err := sess.Delete(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	sess, uid, _ = find()
	sess.Close()
	if uid != "" {
		t.Fatal("DELE and QUIT did not remove the mail")
	}
	if _, err := (&tmail.POP3{Addr: addr, User: user, Password: "wrong", Security: tmail.Insecure}).Open(ctx); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if _, err := (&tmail.POP3{Addr: addr, User: user, Password: password, Security: tmail.StartTLS}).Open(ctx); err == nil {
		t.Fatal("a server without STLS was used without TLS")
	}
}
