package gate_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	tmail "tresor/mail"
	"tresor/mailtest"
	"tresor/storetest"
)

// TestRequestIntakeRules proves the rules of requests from the public form
// and of verifying the requester's address (issue [2.4] §1).
func TestRequestIntakeRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		dpo, sales := e.ctx["data_protection"], e.ctx["sales"]
		known := erika()
		must(t, e.g.CreateContact(sales, known))
		client := 0
		submit := func(email, message string) (*tresor.RequestReceipt, string, error) {
			t.Helper()
			client++ // a client of its own, so the per-client limit stays out of the way
			n := len(e.mail.all())
			r, err := e.g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestAccess, Email: email, Message: message,
				Language: "en", Client: fmt.Sprintf("192.0.2.%d:4711", client)})
			if err != nil || len(e.mail.all()) == n {
				return r, "", err
			}
			return r, link(t, e.mail.last(t).Text, "/requests/verify"), nil
		}
		// requestOf finds the request a link belongs to in the register.
		requestOf := func(t *testing.T, email string) *tresor.Request {
			t.Helper()
			l, err := e.g.DataRequests(dpo, tresor.RequestFilter{Page: tresor.Page{Limit: 200}})
			must(t, err)
			var found *tresor.Request
			for _, r := range l.Items {
				if r.Address == email {
					found = r
				}
			}
			if found == nil {
				t.Fatalf("no request of %s in the register", email)
			}
			return found
		}

		t.Run("a known and an unknown address get the same answer, the same mail and the same thanks", func(t *testing.T) {
			rk, tokK, err := submit("erika.mustermann@example.de", "Please tell me what you keep about me.")
			must(t, err)
			mailK := *e.mail.last(t)
			ru, tokU, err := submit("nobody-known@example.net", "Please tell me what you keep about me.")
			must(t, err)
			mailU := *e.mail.last(t)
			if *rk != *ru {
				t.Errorf("receipts differ: %+v vs %+v", rk, ru)
			}
			strip := func(m tresor.Mail, tok string) string { return strings.ReplaceAll(m.Text, tok, "TOKEN") }
			if mailK.Subject != mailU.Subject || strip(mailK, tokK) != strip(mailU, tokU) {
				t.Errorf("the mails differ beyond the link:\n%s\n---\n%s", mailK.Text, mailU.Text)
			}
			vk, err := e.g.VerifyRequest(bg, tokK, "192.0.2.200")
			must(t, err)
			vu, err := e.g.VerifyRequest(bg, tokU, "192.0.2.201")
			must(t, err)
			if *vk != *vu || vk.Due != rk.Due {
				t.Errorf("thanks differ: %+v vs %+v", vk, vu)
			}
			if got := requestOf(t, "erika.mustermann@example.de").Candidates; !slices.Equal(got, []string{known.ID}) {
				t.Errorf("known address: candidates %v, want %v", got, []string{known.ID})
			}
			if got := requestOf(t, "nobody-known@example.net").Candidates; len(got) != 0 {
				t.Errorf("unknown address: candidates %v, want none", got)
			}
		})

		t.Run("a request from the form is received today by web form, sealed, with its message", func(t *testing.T) {
			_, _, err := submit("Form.Sender@Example.org", "Bitte Auskunft.")
			must(t, err)
			r := requestOf(t, "form.sender@example.org")
			today := tresor.Date(e.clock.now().Format(time.DateOnly))
			if r.Channel != tresor.ArrivedByWebForm || r.State != tresor.RequestReceived || r.ReceivedAt != today ||
				r.Due != tresor.RequestDue(today) || r.Message != "Bitte Auskunft." || r.Language != "en" ||
				len(r.History) != 1 || r.History[0].By != "requester" {
				t.Fatalf("request = %+v", r)
			}
			if a := auditActions(t, e.g, r.ID); len(a) == 0 || a[0] != "request.submit" {
				t.Errorf("audit = %v, want request.submit first", a)
			}
		})

		t.Run("opening the link (GET) does not verify", func(t *testing.T) {
			_, tok, err := submit("looker@example.org", "")
			must(t, err)
			for range 3 {
				if _, err := e.g.RequestVerification(bg, tok); err != nil {
					t.Fatal(err)
				}
			}
			if r := requestOf(t, "looker@example.org"); r.State != tresor.RequestReceived || len(r.Candidates) != 0 {
				t.Fatalf("after looking: %s %v", r.State, r.Candidates)
			}
		})

		t.Run("the link verifies once, recorded as by the requester", func(t *testing.T) {
			_, tok, err := submit("once@example.org", "")
			must(t, err)
			_, err = e.g.VerifyRequest(bg, tok, "192.0.2.9")
			must(t, err)
			r := requestOf(t, "once@example.org")
			last := r.History[len(r.History)-1]
			if r.State != tresor.RequestIdentityVerified || last.State != tresor.RequestIdentityVerified || last.By != "requester" {
				t.Fatalf("after verifying: %+v", r)
			}
			_, err = e.g.VerifyRequest(bg, tok, "192.0.2.9")
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = e.g.RequestVerification(bg, tok)
			wantCode(t, err, tresor.ECLinkInvalid)
			l, err := e.g.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{ContactID: r.ID, Page: tresor.Page{Limit: 100}})
			must(t, err)
			actors := map[string]string{}
			for _, en := range l.Items {
				actors[en.Action] = en.Actor
			}
			if actors["request.submit"] != "public:web_form" || actors["request.verify"] != "requester" {
				t.Errorf("audit actors = %v, want the public form to submit and the requester to verify", actors)
			}
		})

		t.Run("a changed link is refused", func(t *testing.T) {
			_, tok, err := submit("forger@example.org", "")
			must(t, err)
			forged := tok[:len(tok)-2] + "AA"
			if forged == tok {
				forged = tok[:len(tok)-2] + "BB"
			}
			_, err = e.g.VerifyRequest(bg, forged, "192.0.2.9")
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = e.g.VerifyRequest(bg, "r1.bm9uZQ.AAAA", "192.0.2.9")
			wantCode(t, err, tresor.ECLinkInvalid)
		})

		t.Run("a special category in the message is refused and nothing is stored", func(t *testing.T) {
			n := len(e.mail.all())
			_, _, err := submit("patient@example.org", "I have diabetes and my doctor said I should ask.")
			wantCode(t, err, tresor.ECSpecialCategory)
			if len(e.mail.all()) != n {
				t.Error("a mail was sent for a refused request")
			}
			l, err := e.g.DataRequests(dpo, tresor.RequestFilter{Page: tresor.Page{Limit: 200}})
			must(t, err)
			for _, r := range l.Items {
				if r.Address == "patient@example.org" {
					t.Fatal("the refused request was stored")
				}
			}
		})

		t.Run("the form refuses more than three requests per address an hour", func(t *testing.T) {
			for i := range 3 {
				_, _, err := submit("flooded@example.org", "")
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			_, _, err := submit("Flooded@Example.org", "")
			wantCode(t, err, tresor.ECThrottled)
			if e := tresor.AsError(err); e.RetryAfter <= 0 || e.MessageDE == "" {
				t.Errorf("refusal = %+v, want a wait and both languages", e)
			}
		})

		t.Run("the form refuses more than five requests per client an hour", func(t *testing.T) {
			for i := range 5 {
				_, err := e.g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestErasure,
					Email: fmt.Sprintf("victim-%d@example.org", i), Client: "[2001:db8:1:2::7]:4711"})
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			// Another address of the same /64 is the same client.
			_, err := e.g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestErasure,
				Email: "victim-6@example.org", Client: "[2001:db8:1:2::99]:4711"})
			wantCode(t, err, tresor.ECThrottled)
			e.clock.advance(61 * time.Minute)
			_, err = e.g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestErasure,
				Email: "victim-6@example.org", Client: "[2001:db8:1:2::99]:4711"})
			must(t, err)
		})

		t.Run("an expired link is refused", func(t *testing.T) {
			_, tok, err := submit("late@example.org", "")
			must(t, err)
			e.clock.advance(7*24*time.Hour + time.Minute)
			_, err = e.g.RequestVerification(bg, tok)
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = e.g.VerifyRequest(bg, tok, "192.0.2.9")
			wantCode(t, err, tresor.ECLinkInvalid)
			if r := requestOf(t, "late@example.org"); r.State != tresor.RequestReceived {
				t.Fatalf("state = %s", r.State)
			}
		})

		t.Run("staff send the link for an e-mail request they recorded; the link matches", func(t *testing.T) {
			r, err := e.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestErasure, Channel: tresor.ArrivedByEmail,
				Address: "Erika.Mustermann@example.de", ReceivedAt: tresor.Date(e.clock.now().Format(time.DateOnly))})
			must(t, err)
			_, err = e.g.SendRequestVerification(sales, r.ID)
			wantCode(t, err, tresor.ECForbidden)
			_, err = e.g.SendRequestVerification(dpo, r.ID)
			must(t, err)
			m := e.mail.last(t)
			if m.To != "Erika.Mustermann@example.de" || !strings.Contains(m.Subject, "Antrag") {
				t.Fatalf("mail = %+v, want German mail to the request's address", m)
			}
			_, err = e.g.VerifyRequest(bg, link(t, m.Text, "/requests/verify"), "192.0.2.9")
			must(t, err)
			got, err := e.g.DataRequest(dpo, r.ID)
			must(t, err)
			if got.State != tresor.RequestIdentityVerified || !slices.Equal(got.Candidates, []string{known.ID}) {
				t.Fatalf("after verifying: %s %v", got.State, got.Candidates)
			}
			_, err = e.g.SendRequestVerification(dpo, r.ID)
			wantCode(t, err, tresor.ECConflict)
		})

		t.Run("a request by phone is matched when the DPO verifies it by hand; no link can be sent", func(t *testing.T) {
			r, err := e.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByPhone,
				Address: "+49 30 1234567", ReceivedAt: tresor.Date(e.clock.now().Format(time.DateOnly))})
			must(t, err)
			_, err = e.g.SendRequestVerification(dpo, r.ID)
			wantCode(t, err, tresor.ECConflict)
			got, err := e.g.RequestState(dpo, r.ID, tresor.RequestIdentityVerified, "")
			must(t, err)
			if !slices.Equal(got.Candidates, []string{known.ID}) {
				t.Fatalf("candidates = %v", got.Candidates)
			}
		})

		t.Run("a request naming a handle as network:handle is matched by the handle", func(t *testing.T) {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Handle",
				SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@hanna@social.example"}}},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, e.g.CreateContact(sales, c))
			r, err := e.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
				Address: "Mastodon:@Hanna@social.example", ReceivedAt: tresor.Date(e.clock.now().Format(time.DateOnly))})
			must(t, err)
			got, err := e.g.RequestState(dpo, r.ID, tresor.RequestIdentityVerified, "")
			must(t, err)
			if !slices.Equal(got.Candidates, []string{c.ID}) {
				t.Fatalf("candidates = %v, want %s", got.Candidates, c.ID)
			}
		})

		t.Run("the DPO links and unlinks contacts; a missing contact is refused", func(t *testing.T) {
			r, err := e.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
				Address: "Musterweg 1, Berlin", ReceivedAt: tresor.Date(e.clock.now().Format(time.DateOnly))})
			must(t, err)
			_, err = e.g.LinkRequestContact(sales, r.ID, known.ID)
			wantCode(t, err, tresor.ECForbidden)
			_, err = e.g.LinkRequestContact(dpo, r.ID, "0190e0e0-0000-7000-8000-000000000000")
			wantCode(t, err, tresor.ECInvalidReference)
			got, err := e.g.LinkRequestContact(dpo, r.ID, known.ID)
			must(t, err)
			if !slices.Equal(got.ContactIDs, []string{known.ID}) {
				t.Fatalf("linked = %v", got.ContactIDs)
			}
			_, err = e.g.LinkRequestContact(dpo, r.ID, known.ID)
			wantCode(t, err, tresor.ECConflict)
			got, err = e.g.UnlinkRequestContact(dpo, r.ID, known.ID)
			must(t, err)
			if len(got.ContactIDs) != 0 {
				t.Fatalf("after unlinking = %v", got.ContactIDs)
			}
			_, err = e.g.UnlinkRequestContact(dpo, r.ID, known.ID)
			wantCode(t, err, tresor.ECNotFound)
			if a := auditActions(t, e.g, r.ID); !slices.Contains(a, "request.link") || !slices.Contains(a, "request.unlink") {
				t.Errorf("audit = %v", a)
			}
		})
	})
}

// TestRequestVerificationMailArrivesAndMatches sends the form's mail
// through the real Mailpit on each backend: the mail arrives at the address
// given, its link verifies the request, and the contact with that address
// is found by blind index.
func TestRequestVerificationMailArrivesAndMatches(t *testing.T) {
	addr, api := mailtest.Mailpit(t)
	run := func(t *testing.T, cfg datadir.Config) {
		smtp := &tmail.SMTP{Addr: addr, From: "Tresor <crm@example.org>", Timeout: 10 * time.Second}
		g := openGate(t, cfg, gate.WithMailer(smtp), gate.WithPublicURL("https://crm.example.org"))
		sales := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		to := fmt.Sprintf("requester-%d@example.org", rand.Uint64())
		c := erika()
		c.Emails = []string{strings.ToUpper(to[:1]) + to[1:]}
		must(t, g.CreateContact(sales, c))
		receipt, err := g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestErasure, Email: to, Language: "de", Client: "198.51.100.7:5000"})
		must(t, err)
		text, _ := mailtest.Message(t, api, to, "Bitte bestätigen Sie Ihren Antrag zum Datenschutz")
		if !strings.Contains(text, "https://crm.example.org/requests/verify?token=") {
			t.Fatalf("the mail has no verification link: %q", text)
		}
		tok := link(t, strings.ReplaceAll(text, "\r\n", "\n"), "/requests/verify")
		got, err := g.VerifyRequest(bg, tok, "198.51.100.7")
		must(t, err)
		if got.Due != receipt.Due {
			t.Errorf("thanks say due %s, the form said %s", got.Due, receipt.Due)
		}
		l, err := g.DataRequests(dpo, tresor.RequestFilter{States: []tresor.RequestState{tresor.RequestIdentityVerified}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Address != to || !slices.Equal(l.Items[0].Candidates, []string{c.ID}) {
			t.Fatalf("verified requests = %+v, want the one of %s with candidate %s", l.Items, to, c.ID)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}) })
	t.Run("postgres", func(t *testing.T) {
		run(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true})
	})
}

// TestRequestFormNeedsAMailServer: without a mail server no address can be
// verified, so the form refuses (unavailable) and records nothing.
func TestRequestFormNeedsAMailServer(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		_, err := g.SubmitRequest(bg, tresor.RequestSubmission{Kind: tresor.RequestAccess, Email: "someone@example.org", Client: "192.0.2.1:1"})
		wantCode(t, err, tresor.ECUnavailable)
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		l, err := g.DataRequests(dpo, tresor.RequestFilter{})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatalf("recorded without a mail server: %v", l.Items)
		}
	})
}
