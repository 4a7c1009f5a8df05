package mail_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"tresor"
	tmail "tresor/mail"
	"tresor/mailtest"
)

func TestCompose(t *testing.T) {
	from := &mail.Address{Name: "Tresor", Address: "crm@example.org"}
	msg, err := tmail.Compose(from, &tresor.Mail{To: "erika@example.de", Subject: "Bitte bestätigen", Text: "Grüße\nund Dank",
		Headers: map[string]string{"List-Unsubscribe": "<https://crm.example.org/x>"}}, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s := string(msg)
	for _, want := range []string{"Subject: =?utf-8?q?Bitte_best=C3=A4tigen?=\r\n", "Content-Type: text/plain; charset=utf-8\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n", "List-Unsubscribe: <https://crm.example.org/x>\r\n", "Gr=C3=BC=C3=9Fe\r\nund Dank"} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []*tresor.Mail{
		{To: "a@example.org", Subject: "Hi\r\nBcc: victim@example.org"},
		{To: "a@example.org", Subject: "x", Headers: map[string]string{"X-Evil": "1\r\nBcc: victim@example.org"}},
	} {
		if _, err := tmail.Compose(from, bad, time.Now()); err == nil {
			t.Errorf("header injection %q accepted", bad.Subject)
		}
	}
}

func TestSendThroughARealSMTPServer(t *testing.T) {
	addr, api := mailtest.Mailpit(t)
	to := fmt.Sprintf("mailtest-%d@example.org", rand.Uint64())
	s := &tmail.SMTP{Addr: addr, From: "Tresor <crm@example.org>"}
	err := s.Send(context.Background(), &tresor.Mail{To: to, Subject: "Grüße aus dem Test", Text: "Eine Zeile mit Umlauten: äöü ß\n",
		Headers: map[string]string{"List-Unsubscribe": "<https://crm.example.org/u>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	var found struct {
		Messages []struct {
			ID      string
			Subject string
		}
	}
	mailtest.GetJSON(t, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
	if len(found.Messages) != 1 || found.Messages[0].Subject != "Grüße aus dem Test" {
		t.Fatalf("Mailpit has %+v", found)
	}
	var msg struct{ Text string }
	mailtest.GetJSON(t, api+"/api/v1/message/"+found.Messages[0].ID, &msg)
	if !strings.Contains(msg.Text, "äöü ß") {
		t.Fatalf("text = %q", msg.Text)
	}
	var headers map[string][]string
	mailtest.GetJSON(t, api+"/api/v1/message/"+found.Messages[0].ID+"/headers", &headers)
	if headers["List-Unsubscribe-Post"][0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers = %v", headers)
	}
	if err := (&tmail.SMTP{Addr: addr, From: "not an address"}).Send(context.Background(), &tresor.Mail{To: to}); err == nil {
		t.Fatal("a bad sender was accepted")
	}
}
