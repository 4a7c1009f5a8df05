package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/smtp"
	"strings"
	"testing"

	"tresor/mailtest"
)

// TestInboxRefusesUnsafeSettings: the mailbox's password is never in the
// URL or sent in the clear over a network.
func TestInboxRefusesUnsafeSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"no password", map[string]string{"TRESOR_INBOX_URL": "pop3s://crm@mail.example.org"}},
		{"password in the URL", map[string]string{"TRESOR_INBOX_URL": "pop3s://crm:pw@mail.example.org", "TRESOR_INBOX_PASSWORD": "pw"}},
		{"plain text over a network", map[string]string{"TRESOR_INBOX_URL": "pop3://crm@mail.example.org", "TRESOR_INBOX_PASSWORD": "pw", "TRESOR_INBOX_INSECURE": "true"}},
		{"IMAP", map[string]string{"TRESOR_INBOX_URL": "imaps://crm@mail.example.org", "TRESOR_INBOX_PASSWORD": "pw"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.env["TRESOR_DATA_DIR"] = t.TempDir()
			if _, msg, code := run(t, c.env, "serve", "--addr", "127.0.0.1:0"); code == 0 || !strings.Contains(msg, "inbox") {
				t.Fatalf("serve started (%d): %s", code, msg)
			}
		})
	}
}

// TestInboxOverRealPOP3 runs inbound mail end to end: a customer's mail
// arrives in the mailbox (Mailpit's POP3 side), a manual poll makes it a
// case of their contact, and the reply goes out threaded to it.
func TestInboxOverRealPOP3(t *testing.T) {
	smtpAddr, api := mailtest.Mailpit(t)
	popAddr, popUser, popPassword := mailtest.POP3(t)
	tag := fmt.Sprintf("e2e%d", rand.Uint64())
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_SMTP_ADDR": smtpAddr, "TRESOR_SMTP_FROM": "Service <service-" + tag + "@example.org>",
		"TRESOR_INBOX_URL": "pop3://" + popUser + "@" + popAddr, "TRESOR_INBOX_INSECURE": "true", "TRESOR_INBOX_PASSWORD": popPassword,
		"TRESOR_INBOX_INTERVAL": "0", "TRESOR_INBOX_KEEP": "true"}
	base, _ := serveForTest(t, env, io.Discard)
	call := staffAPI(t, env, base, "agent@example.org", "service", "service")
	customer := "kundin-" + tag + "@example.de"
	status, c := call("POST", "/api/v1/contacts", `{"given_name":"Karla","family_name":"Kundin","emails":["`+customer+`"],"legal_basis":"contract"}`)
	if status != 201 {
		t.Fatalf("create contact: %d %v", status, c)
	}
	contact := c["id"].(string)
	status, refused := call("POST", "/api/v1/contacts/"+contact+"/emails", `{"kind":"reply","subject":"Hallo","body":"Hallo"}`)
	if status != 403 || refused["code"] != "reply_without_conversation" {
		t.Fatalf("a reply before any mail: %d %v", status, refused)
	}
	msgID := "frage." + tag + "@example.de"
	if err := smtp.SendMail(smtpAddr, nil, customer, []string{"service-" + tag + "@example.org"}, []byte("From: "+customer+"\r\nTo: service-"+tag+
		"@example.org\r\nSubject: Frage "+tag+"\r\nMessage-ID: <"+msgID+">\r\n\r\nWann kommt die Lieferung?\r\n")); err != nil {
		t.Fatal(err)
	}
	status, rep := call("POST", "/api/v1/mailbox/poll", "")
	if status != 200 || rep["linked"].(float64) < 1 {
		t.Fatalf("poll: %d %v", status, rep)
	}
	status, cases := call("GET", "/api/v1/cases?contact_id="+contact, "")
	items, _ := cases["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("cases of the contact: %d %v", status, cases)
	}
	k := items[0].(map[string]any)
	if k["subject"] != "Frage "+tag || k["channel"] != "email" {
		t.Fatalf("case %v", k)
	}
	status, sent := call("POST", "/api/v1/cases/"+k["id"].(string)+"/replies", `{"body":"Morgen."}`)
	if status != 201 {
		t.Fatalf("reply: %d %v", status, sent)
	}
	_, headers := mailtest.Message(t, api, customer, "Re: Frage "+tag)
	if got := headers["In-Reply-To"]; len(got) != 1 || got[0] != "<"+msgID+">" {
		t.Fatalf("In-Reply-To = %v", got)
	}
	// A second poll takes nothing again.
	if status, rep := call("POST", "/api/v1/mailbox/poll", ""); status != 200 || rep["cases"].(float64) != 0 {
		t.Fatalf("second poll: %d %v", status, rep)
	}
}
