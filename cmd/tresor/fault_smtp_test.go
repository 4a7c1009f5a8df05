package main

import (
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor/datadir"
	"tresor/mailtest"
	"tresor/storetest"
)

// smtpSwitch is an SMTP server that can be taken away: a loopback port
// where nothing listens while it is down, and that forwards to the real
// Mailpit while it is up.
type smtpSwitch struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newSMTPSwitch(t *testing.T, target string) *smtpSwitch {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSwitch{addr: ln.Addr().String(), target: target}
	ln.Close() // down: nothing listens on the port
	t.Cleanup(s.down)
	return s
}

// up starts listening on the same port and forwarding to Mailpit.
func (s *smtpSwitch) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.forward(c)
		}
	}()
}

func (s *smtpSwitch) forward(c net.Conn) {
	u, err := net.Dial("tcp", s.target)
	if err != nil {
		c.Close()
		return
	}
	s.mu.Lock()
	s.conns = append(s.conns, c, u)
	s.mu.Unlock()
	go func() { _, _ = io.Copy(u, c); u.Close() }()
	_, _ = io.Copy(c, u)
	c.Close()
}

// down closes the port and every connection through it.
func (s *smtpSwitch) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// mailsTo counts the mails to an address in Mailpit.
func mailsTo(t *testing.T, api, to string) int {
	t.Helper()
	var found struct{ Messages []struct{ ID string } }
	mailtest.GetJSON(t, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
	return len(found.Messages)
}

// TestSMTPDown is issue [2.7] §3 "SMTP down": with no mail server
// listening, a double opt-in, an Art. 14 notice of an import and the
// answer to a request are queued durably; the server is restarted while
// the mail server is still away; when it comes back, each mail arrives
// exactly once, and the mail queued to a person erased meanwhile never
// goes and can no longer be read.
func TestSMTPDown(t *testing.T) {
	mailpit, api := mailtest.Mailpit(t)
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		smtpDown(t, mailpit, api, map[string]string{"TRESOR_DATA_DIR": dir}, func() (*sql.DB, error) {
			return sql.Open("sqlite", "file:"+filepath.Join(dir, datadir.DatabaseFile)+"?mode=ro")
		})
	})
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		smtpDown(t, mailpit, api, map[string]string{"TRESOR_DB": u, "TRESOR_DATA_DIR": t.TempDir()}, func() (*sql.DB, error) {
			return sql.Open("pgx", u)
		})
	})
}

func smtpDown(t *testing.T, mailpit, api string, env map[string]string, openDB func() (*sql.DB, error)) {
	smtp := newSMTPSwitch(t, mailpit)
	env["TRESOR_SMTP_ADDR"], env["TRESOR_SMTP_FROM"] = smtp.addr, "Tresor CRM <crm@example.org>"
	env["TRESOR_MAIL_RETRY_MAX"] = "1s"
	logs := &lockedBuffer{}
	base, stop := serveForTest(t, env, logs)
	tag := rand.Uint64()
	addr := func(name string) string { return fmt.Sprintf("%s-%d@example.org", name, tag) }
	optIn, noticed, answered, erased := addr("optin"), addr("notice"), addr("answer"), addr("erased")
	marketing := staffAPI(t, env, base, addr("mk"), "marketing", "marketing")
	dpo := staffAPI(t, env, base, addr("dpo"), "dpo", "data_protection")

	doubleOptIn := func(to string) (string, map[string]any) {
		t.Helper()
		status, c := marketing("POST", "/api/v1/contacts", `{"given_name":"Erika","family_name":"Mustermann","emails":["`+to+`"],"legal_basis":"consent"}`)
		if status != 201 {
			t.Fatalf("create contact: %d %v", status, c)
		}
		status, st := marketing("POST", "/api/v1/contacts/"+c["id"].(string)+"/consents",
			`{"purpose":"marketing","channel":"email","action":"grant","method":"double_opt_in","proof":{"text_version":"Newsletter 3"}}`)
		if status != 202 {
			t.Fatalf("double opt-in: %d %v", status, st)
		}
		return c["id"].(string), st
	}
	_, optInAnswer := doubleOptIn(optIn)
	erasedID, _ := doubleOptIn(erased)

	vcf := writeFile(t, "people.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nora Notiz\r\nN:Notiz;Nora;;;\r\nEMAIL:"+noticed+"\r\nEND:VCARD\r\n")
	expect(t, env, 0, "created 1 contacts", "import", "vcard", vcf, "--purpose", "sales", "--legal-basis", "contract")
	status, notices := dpo("POST", "/api/v1/notices/send", "")
	if status != 200 || notices["sent"] != float64(1) {
		t.Fatalf("notices send: %d %v", status, notices)
	}

	today := time.Now().Format(time.DateOnly)
	status, r := dpo("POST", "/api/v1/requests", `{"kind":"access","channel":"email","address":"`+answered+`","received_at":"`+today+`"}`)
	if status != 201 {
		t.Fatalf("create request: %d %v", status, r)
	}
	rid := r["id"].(string)
	if status, r := dpo("POST", "/api/v1/requests/"+rid+"/state", `{"state":"identity_verified"}`); status != 200 {
		t.Fatalf("verify: %d %v", status, r)
	}
	status, answer := dpo("POST", "/api/v1/requests/"+rid+"/answer", `{"lang":"de","subject":"Ihre Auskunft","body":"Hier ist Ihre Auskunft."}`)
	if status != 200 {
		t.Fatalf("answer: %d %v", status, answer)
	}

	t.Run("the answers say the mail is queued, not sent", func(t *testing.T) {
		if optInAnswer["mail"] != "queued" || answer["mail"] != "queued" {
			t.Errorf("double opt-in says mail=%v, the answer mail=%v; want queued", optInAnswer["mail"], answer["mail"])
		}
		if optInAnswer["state"] != "pending" || answer["state"] != "answered" {
			t.Errorf("states: consent %v, request %v", optInAnswer["state"], answer["state"])
		}
	})

	status, e := dpo("POST", "/api/v1/contacts/"+erasedID+"/erasure", `{"reason":"Antrag auf Löschung"}`)
	if status != 200 {
		t.Fatalf("erase: %d %v", status, e)
	}

	// A restart while the mail server is still away: the queue is in the
	// database, not in the process.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, stop = serveForTest(t, env, logs)
	_ = base

	t.Run("the mail queued to an erased person is gone and its key with it", func(t *testing.T) {
		db, err := openDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var rows, keys, queued int
		if err := db.QueryRow("SELECT count(*) FROM mail_outbox WHERE contact_id = $1", erasedID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM data_keys WHERE subject = $1", erasedID).Scan(&keys); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM mail_outbox WHERE state = 'queued'").Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if rows != 0 || keys != 0 {
			t.Errorf("after the erasure: %d queued mails and %d data keys of the person", rows, keys)
		}
		if queued != 3 {
			t.Errorf("%d mails queued while the mail server is away, want 3", queued)
		}
	})

	t.Run("a queued mail holds no address, subject or text in the clear", func(t *testing.T) {
		db, err := openDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query("SELECT id, kind, state, last_error, sealed FROM mail_outbox")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id, kind, state, lastError string
			var sealed []byte
			if err := rows.Scan(&id, &kind, &state, &lastError, &sealed); err != nil {
				t.Fatal(err)
			}
			n++
			row := id + kind + state + lastError + string(sealed)
			for _, clear := range []string{optIn, noticed, answered, "@example.org", "Ihre Auskunft", "Hier ist Ihre Auskunft", "Nora"} {
				if strings.Contains(row, clear) {
					t.Errorf("the queued %s mail holds %q in the clear", kind, clear)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("%d rows in the outbox, want 3", n)
		}
	})

	smtp.up(t)
	upAt := time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for mailsTo(t, api, optIn) == 0 || mailsTo(t, api, noticed) == 0 || mailsTo(t, api, answered) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the queued mail did not arrive: opt-in %d, notice %d, answer %d",
				mailsTo(t, api, optIn), mailsTo(t, api, noticed), mailsTo(t, api, answered))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the queued mails arrived %v after the mail server came back", time.Since(upAt).Round(100*time.Millisecond))
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("each queued mail arrives exactly once when the mail server is back", func(t *testing.T) {
		for _, to := range []string{optIn, noticed, answered} {
			if n := mailsTo(t, api, to); n != 1 {
				t.Errorf("%d mails to %s, want 1", n, to)
			}
		}
	})
	t.Run("the mail queued to an erased person is never sent", func(t *testing.T) {
		if n := mailsTo(t, api, erased); n != 0 {
			t.Errorf("%d mails to the erased person", n)
		}
	})
	t.Run("the queued mails carry a stable Message-ID of the outbox", func(t *testing.T) {
		_, headers := mailtest.Message(t, api, answered, "Ihre Auskunft")
		var id []string
		for k, v := range headers {
			if strings.EqualFold(k, "Message-ID") {
				id = v
			}
		}
		// The host of the public address, after the queued mail's id.
		if len(id) != 1 || !strings.HasSuffix(strings.Trim(id[0], "<>"), "@127.0.0.1") {
			t.Errorf("Message-ID = %v", id)
		}
	})
	t.Run("the outbox keeps no content of a sent mail", func(t *testing.T) {
		db, err := openDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var sent, sealed int
		if err := db.QueryRow("SELECT count(*) FROM mail_outbox WHERE state = 'sent'").Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM mail_outbox WHERE state = 'sent' AND length(sealed) > 0").Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if sent != 3 || sealed != 0 {
			t.Errorf("%d mails sent, %d of them still hold content", sent, sealed)
		}
	})
	t.Run("no log line names an address", func(t *testing.T) {
		for _, to := range []string{optIn, noticed, answered, erased} {
			if strings.Contains(logs.String(), to) {
				t.Errorf("the log names %s", to)
			}
		}
		if !strings.Contains(logs.String(), "queued mail not sent; will retry") {
			t.Error("the log does not say that mail waits for the mail server")
		}
	})
}
