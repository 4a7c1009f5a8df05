package gate_test

import (
	"strings"
	"testing"
	"time"

	"tresor"
)

// TestBreachNoticeToPeople: the notice of a breach goes by mail to the
// affected contacts as a legal duty — an objected (suppressed) person is
// told too — is recorded in the breach's log and audited with the contacts
// mailed; a contact without an e-mail address is listed for another way.
func TestBreachNoticeToPeople(t *testing.T) {
	answerBackends(t, func(t *testing.T, e *answerEnv) {
		g, dpo := e.g, e.dpo
		sales := as(t, g, e.addr("breach-sales"), "sales", tresor.RoleSales)
		mk := func(name string, emails []string, phones []string) *tresor.Contact {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: name, FamilyName: "Betroffen", Emails: emails, Phones: phones},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateContact(sales, c))
			return c
		}
		plain := mk("Paula", []string{e.addr("paula")}, nil)
		objected := mk("Olaf", []string{e.addr("olaf")}, nil)
		_, err := g.Object(sales, objected.ID)
		must(t, err)
		phoneOnly := mk("Fritz", nil, []string{"+49 30 1234567"})
		b := &tresor.Breach{Title: "Fehlversand", AwareAt: e.clock.now().Add(-2 * time.Hour), Risk: tresor.BreachRiskHigh,
			BreachContent: tresor.BreachContent{Description: "Kundenliste an falschen Empfänger"}}
		must(t, g.CreateBreach(dpo, b))
		notice := tresor.BreachPeopleNotice{Lang: "de", Subject: "Hinweis zu Ihren Daten " + b.ID, Body: "Wir informieren Sie nach Art. 34 DSGVO.",
			ContactIDs: []string{plain.ID, objected.ID, phoneOnly.ID}}

		t.Run("only the DPO sends the notice", func(t *testing.T) {
			_, err := g.NotifyBreachPeople(sales, b.ID, notice)
			wantCode(t, err, tresor.ECForbidden)
		})
		t.Run("an unknown contact refuses the call before any mail goes", func(t *testing.T) {
			bad := notice
			bad.ContactIDs = []string{plain.ID, "0190e0e0-0000-7000-8000-000000000000"}
			_, err := g.NotifyBreachPeople(dpo, b.ID, bad)
			wantCode(t, err, tresor.ECNotFound)
			if n := e.mailsTo(t, e.addr("paula")); n != 0 {
				t.Errorf("%d mails went out", n)
			}
		})
		t.Run("the notice reaches every contact with an e-mail address, the objected one too", func(t *testing.T) {
			out, err := g.NotifyBreachPeople(dpo, b.ID, notice)
			must(t, err)
			if out.Sent != 2 || len(out.NoAddress) != 1 || out.NoAddress[0] != phoneOnly.ID || len(out.Failed) != 0 {
				t.Fatalf("notified = %+v", out)
			}
			for _, who := range []string{"paula", "olaf"} {
				text, _ := mailtestMessage(t, e, e.addr(who), notice.Subject)
				if !strings.Contains(text, "Art. 34 DSGVO") {
					t.Errorf("%s got %q", who, text)
				}
			}
			last := out.Breach.Actions[len(out.Breach.Actions)-1]
			if !strings.Contains(last.Text, "2 gesendet/sent") || !strings.Contains(last.Text, "1 ohne E-Mail-Adresse") {
				t.Errorf("log entry = %q", last.Text)
			}
		})
		t.Run("the notice is audited with the contacts mailed", func(t *testing.T) {
			l, err := g.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{Action: "breach.notify_people", ContactID: objected.ID, Page: tresor.Page{Limit: 5}})
			must(t, err)
			if len(l.Items) != 1 || !strings.Contains(l.Items[0].Detail, "breach="+b.ID) {
				t.Fatalf("audit = %+v", l.Items)
			}
		})
	})
}
