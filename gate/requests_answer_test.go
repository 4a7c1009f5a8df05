package gate_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	tmail "tresor/mail"
	"tresor/mailtest"
	"tresor/storetest"
)

// answerEnv is a gate on one backend that mails through the real Mailpit,
// at a clock the test moves.
type answerEnv struct {
	g     *gate.Gate
	clock *clock
	api   string
	tag   uint64
	dpo   context.Context
}

func answerBackends(t *testing.T, fn func(t *testing.T, e *answerEnv)) {
	addr, api := mailtest.Mailpit(t)
	open := func(t *testing.T, cfg datadir.Config) *answerEnv {
		e := &answerEnv{clock: newClock(), api: api, tag: rand.Uint64()}
		smtp := &tmail.SMTP{Addr: addr, From: "Datenschutz <privacy@example.org>", Timeout: 10 * time.Second}
		cfg.Migrate = true
		e.g = openGate(t, cfg, gate.WithClock(e.clock.now), gate.WithMailer(smtp), gate.WithPublicURL("https://crm.example.org"))
		e.dpo = as(t, e.g, fmt.Sprintf("dpo-%d@example.org", e.tag), "data_protection", tresor.RoleDPO)
		return e
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, datadir.Config{DataDir: t.TempDir()})) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, open(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()}))
	})
}

// addr is an address unique to the run, so that Mailpit's box shared by
// the backends tells the mails apart.
func (e *answerEnv) addr(name string) string { return fmt.Sprintf("%s-%d@example.org", name, e.tag) }

func (e *answerEnv) today() tresor.Date { return tresor.Date(e.clock.now().Format(time.DateOnly)) }

func (e *answerEnv) request(t *testing.T, kind tresor.RequestKind, address string, received tresor.Date) *tresor.Request {
	t.Helper()
	r, err := e.g.CreateRequest(e.dpo, tresor.NewRequest{Kind: kind, Channel: tresor.ArrivedByEmail, Address: address, ReceivedAt: received})
	must(t, err)
	return verified(t, e.g, e.dpo, r)
}

// verified moves a request on to identity_verified: only then is it
// answered.
func verified(t *testing.T, g *gate.Gate, dpo context.Context, r *tresor.Request) *tresor.Request {
	t.Helper()
	r, err := g.RequestState(dpo, r.ID, tresor.RequestIdentityVerified, "")
	must(t, err)
	return r
}

func (e *answerEnv) mailsTo(t *testing.T, to string) int {
	t.Helper()
	var found struct{ Messages []struct{ ID string } }
	mailtest.GetJSON(t, e.api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
	return len(found.Messages)
}

func TestRequestAnswerRules(t *testing.T) {
	answerBackends(t, func(t *testing.T, e *answerEnv) {
		g, dpo := e.g, e.dpo
		received := tresor.Date("2026-11-20") // the clock stands at 2026-11-28

		t.Run("the draft is written from the request: kind, day received, deadline, in German and English", func(t *testing.T) {
			r := e.request(t, tresor.RequestErasure, e.addr("draft"), received)
			de, err := g.RequestAnswerDraft(dpo, r.ID, "de", "")
			must(t, err)
			if de.Outcome != tresor.OutcomeAnswered || de.Via != tresor.AnswerByEmail ||
				!strings.Contains(de.Subject, "Löschung (Art. 17 DSGVO)") || !strings.Contains(de.Body, "20.11.2026") ||
				!strings.Contains(de.Body, "gelöscht") || !strings.Contains(de.Body, r.ID) {
				t.Fatalf("German draft = %+v", de)
			}
			en, err := g.RequestAnswerDraft(dpo, r.ID, "en", tresor.OutcomeExtended)
			must(t, err)
			if !strings.Contains(en.Body, "20 November 2026") || !strings.Contains(en.Body, "20 February 2027") ||
				!strings.Contains(en.Body, "Art. 12(3)") {
				t.Fatalf("English extension draft = %+v", en)
			}
			_, err = g.RequestAnswerDraft(dpo, r.ID, "fr", "")
			wantCode(t, err, tresor.ECInvalidParameter)
		})

		t.Run("a refusal names the reason, Art. 12(5) when manifestly unfounded, and the rights to complain and to a judicial remedy", func(t *testing.T) {
			r := e.request(t, tresor.RequestAccess, e.addr("refuse-draft"), received)
			_, err := g.RequestState(dpo, r.ID, tresor.RequestRefused, "offenkundig unbegründet, Art. 12 Abs. 5: zehnter gleicher Antrag")
			must(t, err)
			de, err := g.RequestAnswerDraft(dpo, r.ID, "de", "")
			must(t, err)
			for _, want := range []string{"zehnter gleicher Antrag", "Art. 12 Abs. 5 DSGVO", "Art. 77 DSGVO", "Art. 79 DSGVO", "Aufsichtsbehörde"} {
				if de.Outcome != tresor.OutcomeRefused || !strings.Contains(de.Body, want) {
					t.Errorf("German refusal lacks %q:\n%s", want, de.Body)
				}
			}
			en, err := g.RequestAnswerDraft(dpo, r.ID, "en", "")
			must(t, err)
			for _, want := range []string{"supervisory authority", "Art. 77 GDPR", "judicial remedy (Art. 79 GDPR)", "Art. 12(5)"} {
				if !strings.Contains(en.Body, want) {
					t.Errorf("English refusal lacks %q:\n%s", want, en.Body)
				}
			}
		})

		t.Run("the answer goes by e-mail to the request's address, closes it, and is kept sealed with it", func(t *testing.T) {
			to := e.addr("erika")
			r := e.request(t, tresor.RequestAccess, to, received)
			out, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Ihre Auskunft " + r.ID, Body: "Hier ist Ihre Auskunft."})
			must(t, err)
			if out.State != tresor.RequestAnswered || out.ClosedAt == nil || len(out.Answers) != 1 || out.Answers[0].Via != tresor.AnswerByEmail {
				t.Fatalf("answered request = %+v", out)
			}
			text, _ := mailtest.Message(t, e.api, to, "Ihre Auskunft "+r.ID)
			if !strings.Contains(text, "Hier ist Ihre Auskunft.") {
				t.Errorf("mail text = %q", text)
			}
			got, err := g.DataRequest(dpo, r.ID)
			must(t, err)
			last := got.History[len(got.History)-1]
			if len(got.Answers) != 1 || got.Answers[0].Body != "Hier ist Ihre Auskunft." || !strings.Contains(last.Reason, "e-mail") {
				t.Errorf("kept = %+v", got)
			}
			l, err := g.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{ContactID: r.ID, Action: "request.answer", Page: tresor.Page{Limit: 5}})
			must(t, err)
			if len(l.Items) != 1 || !strings.Contains(l.Items[0].Detail, "via=email") || strings.Contains(l.Items[0].Detail, to) {
				t.Errorf("audit = %+v", l.Items)
			}
		})

		t.Run("the suppression list does not block the answer the law requires", func(t *testing.T) {
			to := e.addr("suppressed")
			sales := as(t, g, e.addr("sales"), "sales", tresor.RoleSales)
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Susi", FamilyName: "Sperr", Emails: []string{to}},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateContact(sales, c))
			_, err := g.Object(sales, c.ID)
			must(t, err)
			_, err = g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "Antrag auf Löschung"})
			must(t, err)
			marketing := as(t, g, e.addr("marketing"), "marketing", tresor.RoleMarketing)
			again := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Susi", FamilyName: "Sperr", Emails: []string{to}},
				Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "Messekontakt, erwartet Informationen"}}
			if err := g.CreateContact(marketing, again); tresor.ErrorCode(err) != tresor.ECSuppressed {
				t.Fatal("the erased address is not on the suppression list; the rule is not tested")
			}
			r := e.request(t, tresor.RequestErasure, to, received)
			_, err = g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Löschung bestätigt " + r.ID, Body: "Wir haben gelöscht."})
			must(t, err)
			mailtest.Message(t, e.api, to, "Löschung bestätigt "+r.ID)
		})

		t.Run("an extension within the first month sends its notice and moves the deadline", func(t *testing.T) {
			to := e.addr("extend")
			r := e.request(t, tresor.RequestAccess, to, received)
			_, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "en", Outcome: tresor.OutcomeExtended, Subject: "Extension " + r.ID, Body: "We need two more months."})
			wantCode(t, err, tresor.ECValidation) // the reason is required
			out, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "en", Outcome: tresor.OutcomeExtended, Reason: "many systems to search",
				Subject: "Extension " + r.ID, Body: "We need two more months."})
			must(t, err)
			if out.State != tresor.RequestExtended || out.Due != "2027-02-20" || out.ExtensionReason != "many systems to search" || out.ClosedAt != nil {
				t.Fatalf("extended = %+v", out)
			}
			mailtest.Message(t, e.api, to, "Extension "+r.ID)
		})

		t.Run("an extension after the first month is refused: Art. 12(3) requires the notice within it", func(t *testing.T) {
			r := e.request(t, tresor.RequestAccess, e.addr("late"), "2026-10-20")
			_, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Outcome: tresor.OutcomeExtended, Reason: "zu spät",
				Subject: "Verlängerung", Body: "Text"})
			wantCode(t, err, tresor.ECConflict)
		})

		t.Run("an address that is no e-mail gets no mail; the answer is recorded as by letter or telephone", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
				Address: "Musterstraße 1, 12345 Berlin", ReceivedAt: received})
			must(t, err)
			verified(t, g, dpo, r)
			d, err := g.RequestAnswerDraft(dpo, r.ID, "de", "")
			must(t, err)
			if d.Via != tresor.AnswerByLetterOrPhone {
				t.Errorf("draft via = %s", d.Via)
			}
			out, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Auskunft", Body: "per Brief"})
			must(t, err)
			if out.State != tresor.RequestAnswered || out.Answers[0].Via != tresor.AnswerByLetterOrPhone {
				t.Errorf("recorded = %+v", out)
			}
		})

		t.Run("an answer still holding the draft's placeholder for the reason is not given", func(t *testing.T) {
			r := e.request(t, tresor.RequestAccess, e.addr("placeholder"), received)
			d, err := g.RequestAnswerDraft(dpo, r.ID, "en", tresor.OutcomeRefused)
			must(t, err)
			_, err = g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "en", Outcome: tresor.OutcomeRefused, Reason: "no proof of identity",
				Subject: d.Subject, Body: d.Body})
			wantCode(t, err, tresor.ECValidation)
			if n := e.mailsTo(t, e.addr("placeholder")); n != 0 {
				t.Errorf("%d mails went out", n)
			}
		})

		t.Run("only the DPO answers", func(t *testing.T) {
			r := e.request(t, tresor.RequestAccess, e.addr("nodpo"), received)
			sales := as(t, g, e.addr("sales2"), "sales", tresor.RoleSales)
			_, err := g.AnswerRequest(sales, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "x", Body: "y"})
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.RequestAnswerDraft(sales, r.ID, "de", "")
			wantCode(t, err, tresor.ECForbidden)
			if n := e.mailsTo(t, e.addr("nodpo")); n != 0 {
				t.Errorf("%d mails went out", n)
			}
		})

		t.Run("a request whose requester's identity is not verified is not answered", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
				Address: e.addr("unverified"), ReceivedAt: received})
			must(t, err)
			_, err = g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Auskunft", Body: "Daten"})
			wantCode(t, err, tresor.ECConflict)
			if n := e.mailsTo(t, e.addr("unverified")); n != 0 {
				t.Errorf("%d mails went to an unverified requester", n)
			}
		})

		t.Run("a closed request answered already is refused another outcome", func(t *testing.T) {
			r := e.request(t, tresor.RequestAccess, e.addr("closed"), received)
			_, err := g.RequestState(dpo, r.ID, tresor.RequestRefused, "kein Identitätsnachweis")
			must(t, err)
			_, err = g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "x", Body: "y"})
			wantCode(t, err, tresor.ECConflict)
		})
	})
}

// failingMailer is a mail server that takes nothing.
type failingMailer struct{}

func (failingMailer) Send(context.Context, *tresor.Mail) error {
	return errors.New("connection refused")
}

// TestRequestAnswerNotTakenByTheMailServerIsQueued: the answer is recorded
// with its mail queued in the same transaction; the answer says so.
func TestRequestAnswerNotTakenByTheMailServerIsQueued(t *testing.T) {
	g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithMailer(failingMailer{}))
	dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
	r, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
		Address: "erika@example.org", ReceivedAt: dayOffset(-2)})
	must(t, err)
	verified(t, g, dpo, r)
	out, err := g.AnswerRequest(dpo, r.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Auskunft", Body: "Text"})
	must(t, err)
	if out.Mail != tresor.MailQueued {
		t.Errorf("the answer says its mail is %q, want %q", out.Mail, tresor.MailQueued)
	}
	got, err := g.DataRequest(dpo, r.ID)
	must(t, err)
	if got.State != tresor.RequestAnswered || len(got.Answers) != 1 {
		t.Errorf("after a queued mail: %+v", got)
	}
	n, err := g.OutboxCounts(dpo)
	must(t, err)
	if n[tresor.OutboxQueued] != 1 {
		t.Errorf("outbox = %v, want one queued mail", n)
	}
}

// TestRequestRemindersOncePerRequestAndReminder: a week before a deadline
// and on the day, every DPO gets one mail per request naming its id, kind
// and deadline, not the person; two servers send each reminder once.
func TestRequestRemindersOncePerRequestAndReminder(t *testing.T) {
	addr, api := mailtest.Mailpit(t)
	sharedDatabase(t, func(t *testing.T, cfg func() datadir.Config) {
		smtp := &tmail.SMTP{Addr: addr, From: "Tresor <crm@example.org>", Timeout: 10 * time.Second}
		day := tresor.Date("2026-03-16")
		morning := func() time.Time { return time.Date(2026, 3, 16, 7, 0, 0, 0, time.UTC) }
		g1 := openGate(t, cfg(), gate.WithMailer(smtp), gate.WithClock(morning), gate.WithPublicURL("https://crm.example.org"))
		g2 := openGate(t, cfg(), gate.WithMailer(smtp), gate.WithClock(morning), gate.WithPublicURL("https://crm.example.org"))
		tag := rand.Uint64()
		dpoA := as(t, g1, fmt.Sprintf("dpo-a-%d@example.org", tag), "data_protection", tresor.RoleDPO)
		as(t, g1, fmt.Sprintf("dpo-b-%d@example.org", tag), "data_protection", tresor.RoleDPO)
		as(t, g1, fmt.Sprintf("sales-%d@example.org", tag), "sales", tresor.RoleSales)
		mk := func(received tresor.Date, address string) *tresor.Request {
			r, err := g1.CreateRequest(dpoA, tresor.NewRequest{Kind: tresor.RequestErasure, Channel: tresor.ArrivedByEmail,
				Address: address, ReceivedAt: received})
			must(t, err)
			return r
		}
		week := mk("2026-02-23", "week-person@example.org")   // due 2026-03-23
		today := mk("2026-02-16", "today-person@example.org") // due 2026-03-16
		mk("2026-03-10", "later-person@example.org")          // due 2026-04-10: nothing yet
		var wg sync.WaitGroup
		sent := make([]int, 2)
		for i, g := range []*gate.Gate{g1, g2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := g.SendRequestReminders(bg, day)
				if err != nil {
					t.Error(err)
				}
				sent[i] = n
			}()
		}
		wg.Wait()
		count := func(to string) int {
			var found struct{ Messages []struct{ ID string } }
			mailtest.GetJSON(t, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
			return len(found.Messages)
		}
		t.Run("each reminder goes once across servers, to every DPO and to no one else", func(t *testing.T) {
			if sent[0]+sent[1] != 2 {
				t.Errorf("the servers sent %v reminders, want 2 in all", sent)
			}
			for _, who := range []string{"dpo-a", "dpo-b"} {
				if n := count(fmt.Sprintf("%s-%d@example.org", who, tag)); n != 2 {
					t.Errorf("%s got %d mails, want 2", who, n)
				}
			}
			if n := count(fmt.Sprintf("sales-%d@example.org", tag)); n != 0 {
				t.Errorf("a user without the DPO role got %d mails", n)
			}
			n, err := g2.SendRequestReminders(bg, day)
			must(t, err)
			if n != 0 {
				t.Errorf("a second run sent %d more", n)
			}
		})
		t.Run("the mail names the request, its kind and deadline, never the person", func(t *testing.T) {
			to := fmt.Sprintf("dpo-a-%d@example.org", tag)
			text, _ := mailtest.Message(t, api, to, "Frist in einer Woche / Deadline in a week: 2026-03-23 – "+week.ID)
			if !strings.Contains(text, "Löschung (Art. 17 DSGVO)") || !strings.Contains(text, "/dpo/requests#request-"+week.ID) ||
				strings.Contains(text, "week-person") {
				t.Errorf("week reminder = %q", text)
			}
			text, _ = mailtest.Message(t, api, to, "Frist heute / Deadline today: 2026-03-16 – "+today.ID)
			if strings.Contains(text, "today-person") {
				t.Errorf("the day's reminder names the person: %q", text)
			}
		})
		t.Run("each reminder is audited", func(t *testing.T) {
			l, err := g1.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{Action: "request.remind", Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(l.Items) != 2 || l.Items[0].Actor != "system" {
				t.Fatalf("request.remind entries = %+v", l.Items)
			}
		})
	})
}

// TestClosedRequestsDeletedAfterRetention: an answered request is kept for
// the policy's period after closing (default three years), then retention
// deletes it with its key, audited.
func TestClosedRequestsDeletedAfterRetention(t *testing.T) {
	backendsCfg := func(t *testing.T, fn func(t *testing.T, cfg datadir.Config)) {
		t.Run("sqlite", func(t *testing.T) { fn(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}) })
		t.Run("postgres", func(t *testing.T) {
			fn(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true})
		})
	}
	backendsCfg(t, func(t *testing.T, cfg datadir.Config) {
		c := newClock()
		g := openGate(t, cfg, gate.WithClock(c.now))
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		mk := func() *tresor.Request {
			r, err := g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
				Address: "Musterstraße 1, Berlin", ReceivedAt: "2026-11-20"})
			must(t, err)
			return verified(t, g, dpo, r)
		}
		closed, open := mk(), mk()
		_, err := g.AnswerRequest(dpo, closed.ID, tresor.RequestAnswerSend{Lang: "de", Subject: "Auskunft", Body: "per Brief"})
		must(t, err)
		t.Run("a closed request is kept within the period", func(t *testing.T) {
			c.advance(3*365*24*time.Hour - 48*time.Hour)
			rep, err := g.RunRetention(dpo, false)
			must(t, err)
			if rep.RequestsExpired != 0 {
				t.Fatalf("%d requests expired within the period", rep.RequestsExpired)
			}
		})
		t.Run("after the period the closed request is deleted, the open one kept", func(t *testing.T) {
			c.advance(4 * 24 * time.Hour)
			rep, err := g.RunRetention(dpo, true)
			must(t, err)
			if rep.RequestsExpired != 1 {
				t.Fatalf("dry run: %d expired, want 1", rep.RequestsExpired)
			}
			if _, err := g.DataRequest(dpo, closed.ID); err != nil {
				t.Fatalf("a dry run deleted: %v", err)
			}
			rep, err = g.RunRetention(dpo, false)
			must(t, err)
			if rep.RequestsExpired != 1 {
				t.Fatalf("%d expired, want 1", rep.RequestsExpired)
			}
			_, err = g.DataRequest(dpo, closed.ID)
			wantCode(t, err, tresor.ECNotFound)
			_, err = g.DataRequest(dpo, open.ID)
			must(t, err)
		})
		t.Run("the deletion is audited", func(t *testing.T) {
			l, err := g.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{Action: "request.expire", Page: tresor.Page{Limit: 5}})
			must(t, err)
			if len(l.Items) != 1 || len(l.Items[0].ObjectIDs) != 1 || l.Items[0].ObjectIDs[0] != closed.ID {
				t.Fatalf("request.expire = %+v", l.Items)
			}
		})
	})
}

func mailtestMessage(t *testing.T, e *answerEnv, to, subject string) (string, map[string][]string) {
	t.Helper()
	return mailtest.Message(t, e.api, to, subject)
}
