package mail_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	tmail "tresor/mail"
)

const multipartMail = "From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <Juergen@Example.DE>\r\n" +
	"To: service@example.org\r\n" +
	"Subject: =?utf-8?b?UsO8Y2tmcmFnZQ==?=\r\n" +
	"Message-ID: <abc.123@example.de>\r\n" +
	"In-Reply-To: <x1@crm.example.org>\r\n" +
	"References: <x0@crm.example.org> <x1@crm.example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n" +
	"--b2\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Gr=FC=DFe, bitte um R=FCckruf.\r\n" +
	"--b2\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n\r\n" +
	"<p>Grüße</p>\r\n" +
	"--b2--\r\n" +
	"--b1\r\n" +
	"Content-Type: application/pdf; name=\"rechnung.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"rechnung.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\n" +
	"JVBERi0xLjQK\r\n" +
	"--b1\r\n" +
	"Content-Type: image/png\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\n" +
	"iVBORw0KGgo=\r\n" +
	"--b1--\r\n"

func TestParse(t *testing.T) {
	t.Run("multipart with attachments, Latin-1 and encoded words", func(t *testing.T) {
		m, err := tmail.Parse([]byte(multipartMail))
		if err != nil {
			t.Fatal(err)
		}
		if m.From != "juergen@example.de" || m.Subject != "Rückfrage" || m.MessageID != "abc.123@example.de" {
			t.Errorf("header: %+v", m)
		}
		if m.Text != "Grüße, bitte um Rückruf." {
			t.Errorf("text = %q", m.Text)
		}
		if m.Attachments != 2 {
			t.Errorf("attachments = %d, want 2", m.Attachments)
		}
		if strings.Join(m.References, " ") != "x0@crm.example.org x1@crm.example.org" || m.InReplyTo[0] != "x1@crm.example.org" {
			t.Errorf("threading: %v %v", m.InReplyTo, m.References)
		}
	})
	t.Run("base64 UTF-8 body", func(t *testing.T) {
		m, err := tmail.Parse([]byte("From: a@example.org\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\nR3LDvMOfZQ==\r\n"))
		if err != nil || m.Text != "Grüße" {
			t.Fatalf("%+v %v", m, err)
		}
	})
	t.Run("HTML only becomes text", func(t *testing.T) {
		m, err := tmail.Parse([]byte("From: a@example.org\r\nContent-Type: text/html\r\n\r\n<html><style>p{}</style><p>Hallo &amp; danke</p></html>"))
		if err != nil || m.Text != "Hallo & danke" {
			t.Fatalf("%+v %v", m, err)
		}
	})
	t.Run("no header is an error", func(t *testing.T) {
		if _, err := tmail.Parse([]byte("no header at all")); err == nil {
			t.Fatal("accepted")
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(multipartMail))
	f.Add([]byte("From: a@example.org\r\nSubject: =?utf-8?q?=C3=BC?=\r\n\r\nHallo"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := tmail.Parse(raw)
		if err != nil {
			return
		}
		if !utf8.ValidString(m.Text) || !utf8.ValidString(m.Subject) || len(m.Text) > tmail.MaxText || m.Attachments < 0 {
			t.Fatalf("bad result %+v", m)
		}
	})
}
