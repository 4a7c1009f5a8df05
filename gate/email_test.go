package gate_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	tmail "tresor/mail"
	"tresor/mailtest"
)

// taggedMailbox is Mailpit's POP3 box as one test sees it: only the mails
// whose subject carries the test's tag, so that the mails of tests running
// beside it are left alone (and never deleted: the gate keeps mails).
type taggedMailbox struct {
	*tmail.POP3
	tag string
}

func (b *taggedMailbox) Open(ctx context.Context) (tresor.MailboxSession, error) {
	s, err := b.POP3.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &taggedSession{MailboxSession: s, tag: b.tag}, nil
}

type taggedSession struct {
	tresor.MailboxSession
	tag string
}

func (s *taggedSession) List(ctx context.Context) ([]tresor.MailboxItem, error) {
	items, err := s.MailboxSession.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []tresor.MailboxItem
	for _, it := range items {
		m, err := s.Retrieve(ctx, it.UID)
		if err == nil && strings.Contains(m.Subject, s.tag) {
			out = append(out, it)
		}
	}
	return out, nil
}

// rawMail sends a message as written into Mailpit's SMTP side.
func rawMail(t *testing.T, addr, from, to, msg string) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, from, []string{to}, []byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
}

// TestEmailInAndOut proves the rules of e-mail in and out (issue [2.3]
// section 3) against a real mail server: Mailpit's SMTP and POP3 sides.
func TestEmailInAndOut(t *testing.T) {
	smtpAddr, api := mailtest.Mailpit(t)
	popAddr, popUser, popPassword := mailtest.POP3(t)
	sharedDatabase(t, func(t *testing.T, cfg func() datadir.Config) {
		tag := fmt.Sprintf("t%d", rand.Uint64())
		service := "service-" + tag + "@example.org"
		mailer := &tmail.SMTP{Addr: smtpAddr, From: "Acme Service <" + service + ">"}
		box := &taggedMailbox{POP3: &tmail.POP3{Addr: popAddr, User: popUser, Password: popPassword, Security: tmail.Insecure}, tag: tag}
		open := func() *gate.Gate { return openGate(t, cfg(), gate.WithMailer(mailer), gate.WithMailbox(box, true)) }
		g := open()
		sales := as(t, g, "sales-"+tag+"@example.org", "sales", tresor.RoleSales)
		svc := as(t, g, "service-agent-"+tag+"@example.org", "service", tresor.RoleService)

		// A prospect on legitimate interest (no contract, no consent) and a
		// customer under contract.
		prospectAddr, customerAddr := "prospect-"+tag+"@example.de", "kunde-"+tag+"@example.de"
		prospect := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Paula", FamilyName: "Probe", Emails: []string{prospectAddr}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "Met at a fair; asked for a call."}}
		must(t, g.CreateContact(sales, prospect))
		customer := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Karl", FamilyName: "Kunde", Emails: []string{customerAddr}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateContact(sales, customer))

		t.Run("advertising mail without consent is refused", func(t *testing.T) {
			_, err := g.SendEmail(sales, tresor.EmailSend{ContactID: prospect.ID, Kind: tresor.EmailAdvertising, Subject: "Angebot " + tag, Body: "Jetzt kaufen"})
			wantCode(t, err, tresor.ECForbidden)
			if e := tresor.AsError(err); e.MessageDE == "" || !strings.Contains(e.Message, "consent") {
				t.Errorf("the refusal does not explain itself in both languages: %+v", e)
			}
		})
		t.Run("reply without conversation is refused", func(t *testing.T) {
			_, err := g.SendEmail(svc, tresor.EmailSend{ContactID: prospect.ID, Kind: tresor.EmailReply, Subject: "Antwort " + tag, Body: "Hallo"})
			wantCode(t, err, tresor.ECReplyWithoutConversation)
		})
		t.Run("contract mail without a contract is refused", func(t *testing.T) {
			_, err := g.SendEmail(svc, tresor.EmailSend{ContactID: prospect.ID, Kind: tresor.EmailContract, Subject: "Vertrag " + tag, Body: "Hallo"})
			wantCode(t, err, tresor.ECNoContract)
		})
		secret := "Lieferung am Dienstag " + tag
		t.Run("sent mail is stored as a sealed interaction", func(t *testing.T) {
			sent, err := g.SendEmail(svc, tresor.EmailSend{ContactID: customer.ID, Kind: tresor.EmailContract, Subject: "Ihre Bestellung " + tag, Body: secret})
			must(t, err)
			text, _ := mailtest.Message(t, api, customerAddr, "Ihre Bestellung "+tag)
			if !strings.Contains(text, secret) {
				t.Fatalf("Mailpit got %q", text)
			}
			in, err := g.Interaction(svc, sent.InteractionID)
			must(t, err)
			if in.Kind != tresor.KindEmail || in.Direction != tresor.DirectionOutbound || in.ContactID != customer.ID || in.Body != secret {
				t.Fatalf("interaction %+v", in)
			}
			if cfg().DB == "" {
				for _, f := range []string{datadir.DatabaseFile, datadir.DatabaseFile + "-wal"} {
					b, _ := os.ReadFile(filepath.Join(cfg().DataDir, f))
					if bytes.Contains(b, []byte(secret)) {
						t.Fatalf("the mail's text is in %s in the clear", f)
					}
				}
			}
		})

		contactsBefore := countContacts(t, g, svc)
		var knownCase *tresor.Case
		t.Run("inbound mail from a known address becomes a case linked to that contact", func(t *testing.T) {
			rawMail(t, smtpAddr, customerAddr, service, "From: Karl Kunde <"+customerAddr+">\nTo: "+service+"\nSubject: Reklamation "+tag+
				"\nMessage-ID: <reklamation."+tag+"@example.de>\n\nDie Lieferung ist beschädigt.\n")
			rep, err := g.PollMailbox(svc)
			must(t, err)
			if rep.Cases != 1 || rep.Linked != 1 {
				t.Fatalf("report %+v", rep)
			}
			knownCase = caseWith(t, g, svc, "Reklamation "+tag)
			if knownCase.ContactID != customer.ID || knownCase.Channel != tresor.ChannelEmail || !strings.Contains(knownCase.Description, "beschädigt") {
				t.Fatalf("case %+v", knownCase)
			}
		})
		t.Run("inbound mail from an unknown sender becomes an unlinked case and no contact", func(t *testing.T) {
			rawMail(t, smtpAddr, "fremd-"+tag+"@example.com", service, "From: fremd-"+tag+"@example.com\nTo: "+service+"\nSubject: Anfrage "+tag+"\n\nWas kostet das?\n")
			_, err := g.PollMailbox(svc)
			must(t, err)
			k := caseWith(t, g, svc, "Anfrage "+tag)
			if k.ContactID != "" {
				t.Fatalf("linked to %s", k.ContactID)
			}
			if n := countContacts(t, g, svc); n != contactsBefore {
				t.Fatalf("%d contacts, before %d", n, contactsBefore)
			}
		})
		t.Run("special-category mail is screened", func(t *testing.T) {
			rawMail(t, smtpAddr, customerAddr, service, "From: "+customerAddr+"\nTo: "+service+"\nSubject: Termin "+tag+
				"\n\nIch kann wegen meiner Krebserkrankung nicht kommen.\n")
			rep, err := g.PollMailbox(svc)
			must(t, err)
			if rep.Dropped["special:special.health"] != 1 {
				t.Fatalf("report %+v", rep)
			}
			ks, err := g.Cases(svc, tresor.CaseFilter{ContactID: customer.ID})
			must(t, err)
			for _, k := range ks.Items {
				if strings.Contains(k.Description+k.Subject, "Krebs") {
					t.Fatalf("the health datum was stored: %+v", k)
				}
			}
		})
		t.Run("attachments are not stored", func(t *testing.T) {
			rawMail(t, smtpAddr, customerAddr, service, "From: "+customerAddr+"\nTo: "+service+"\nSubject: Foto "+tag+
				"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\nSiehe Anhang.\n"+
				"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=geheim.bin\nContent-Transfer-Encoding: base64\n\nQU5IQU5HLUlOSEFMVA==\n--b--\n")
			rep, err := g.PollMailbox(svc)
			must(t, err)
			k := caseWith(t, g, svc, "Foto "+tag)
			if rep.Attachments != 1 || !strings.Contains(k.Description, "1 attachments not stored") || strings.Contains(k.Description, "ANHANG-INHALT") {
				t.Fatalf("report %+v, case %q", rep, k.Description)
			}
		})
		t.Run("each mail is taken once across polls, restarts and servers", func(t *testing.T) {
			rep, err := g.PollMailbox(svc)
			must(t, err)
			if rep.Read != 0 || rep.Cases != 0 || rep.Skipped < 4 {
				t.Fatalf("second poll %+v", rep)
			}
			rawMail(t, smtpAddr, customerAddr, service, "From: "+customerAddr+"\nTo: "+service+"\nSubject: Nachtrag "+tag+"\n\nNoch etwas.\n")
			// Two servers (as after a restart, or behind a load balancer) poll at once.
			g2, g3 := open(), open()
			var wg sync.WaitGroup
			cases := make([]int, 2)
			for i, gg := range []*gate.Gate{g2, g3} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := gg.PollMailbox(tresor.WithPurpose(system(), "service"))
					if err != nil {
						t.Error(err)
						return
					}
					cases[i] = rep.Cases
				}()
			}
			wg.Wait()
			if cases[0]+cases[1] != 1 {
				t.Fatalf("the new mail became %d cases", cases[0]+cases[1])
			}
		})
		t.Run("a reply to a case carries In-Reply-To and References, and the answer returns to the case", func(t *testing.T) {
			sent, err := g.ReplyToCase(svc, knownCase.ID, tresor.EmailSend{Body: "Wir senden Ersatz."})
			must(t, err)
			if sent.CaseID != knownCase.ID {
				t.Fatalf("sent %+v", sent)
			}
			_, headers := mailtest.Message(t, api, customerAddr, "Re: Reklamation "+tag)
			if got := headers["In-Reply-To"]; len(got) != 1 || got[0] != "<reklamation."+tag+"@example.de>" {
				t.Fatalf("In-Reply-To = %v", got)
			}
			ours := headers["Message-Id"]
			if len(ours) != 1 || !strings.Contains(headers["References"][0], "<reklamation."+tag+"@example.de>") {
				t.Fatalf("headers %v", headers)
			}
			rawMail(t, smtpAddr, customerAddr, service, "From: "+customerAddr+"\nTo: "+service+"\nSubject: Re: Re: Reklamation "+tag+
				"\nIn-Reply-To: "+ours[0]+"\nReferences: <reklamation."+tag+"@example.de> "+ours[0]+"\n\nDanke!\n")
			rep, err := g.PollMailbox(svc)
			must(t, err)
			if rep.Replies != 1 || rep.Cases != 0 {
				t.Fatalf("report %+v", rep)
			}
			ins, err := g.Interactions(svc, tresor.InteractionFilter{CaseID: knownCase.ID})
			must(t, err)
			inbound := 0
			for _, in := range ins.Items {
				if in.Direction == tresor.DirectionInbound && strings.Contains(in.Body, "Danke") {
					inbound++
				}
			}
			if inbound != 1 {
				t.Fatalf("the answer is not in the case: %+v", ins.Items)
			}
			// Now the person has written: a reply outside a case passes too.
			_, err = g.SendEmail(svc, tresor.EmailSend{ContactID: customer.ID, Kind: tresor.EmailReply, Subject: "Nachfrage " + tag, Body: "Alles gut?"})
			must(t, err)
		})
	})
}

func countContacts(t *testing.T, g *gate.Gate, ctx context.Context) int {
	t.Helper()
	n := 0
	f := tresor.ContactFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}}
	for {
		l, err := g.Contacts(ctx, f)
		must(t, err)
		n += len(l.Items)
		if l.Next == "" {
			return n
		}
		f.After = l.Next
	}
}

func caseWith(t *testing.T, g *gate.Gate, ctx context.Context, subject string) *tresor.Case {
	t.Helper()
	l, err := g.Cases(ctx, tresor.CaseFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}})
	must(t, err)
	for _, k := range l.Items {
		if k.Subject == subject {
			return k
		}
	}
	t.Fatalf("no case %q", subject)
	return nil
}
