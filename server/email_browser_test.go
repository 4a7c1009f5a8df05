package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestEmailFromTheContactAndCasePages proves the e-mail forms' rules: the
// contact page's form sends through the outbound gate and explains a
// refusal in the person's language; an e-mail case is answered by e-mail
// from its page.
func TestEmailFromTheContactAndCasePages(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sam@example.org", tresor.RoleService)
	svc := tresor.WithPurpose(sys, "service")
	ct := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Karl", FamilyName: "Kunde", Emails: []string{"karl.kunde@example.de"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(svc, ct))

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")
	b0.choosePurpose("service")
	mailsBefore := len(a.mail.all())

	t.Run("a reply without a conversation is refused with the reason", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+ct.ID), chromedp.WaitVisible(`#email-kind`),
			chromedp.SetValue(`#email-kind`, "reply"), chromedp.SendKeys(`#email-subject`, "Your question"),
			chromedp.SendKeys(`#email-body`, "Here is the answer."), chromedp.Click(`#email-submit`), chromedp.WaitVisible(`#email-error`))
		if got := b.text("#email-error"); !strings.Contains(got, "reply_without_conversation") || !strings.Contains(got, "written") {
			t.Fatalf("refusal = %q", got)
		}
		if len(a.mail.all()) != mailsBefore {
			t.Fatal("a refused mail was sent")
		}
		b.checkAccessibility("contact with the e-mail form")
		b.screenshotBoth("contact-email-refused")
	})
	t.Run("a mail needed for the contract is sent and kept", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+ct.ID), chromedp.WaitVisible(`#email-kind`),
			chromedp.SetValue(`#email-kind`, "contract"), chromedp.SendKeys(`#email-subject`, "Your order 4711"),
			chromedp.SendKeys(`#email-body`, "It ships on Tuesday."), chromedp.Click(`#email-submit`), chromedp.WaitVisible(`main .notice`))
		sent := a.mail.all()[mailsBefore:]
		if len(sent) != 1 || sent[0].To != "karl.kunde@example.de" || sent[0].Subject != "Your order 4711" {
			t.Fatalf("sent %+v", sent)
		}
		if got := b.text(".contacts-timeline"); !strings.Contains(got, "Your order 4711") {
			t.Fatalf("the timeline lacks the mail: %q", got)
		}
	})
	t.Run("an e-mail case is answered by e-mail from its page", func(t *testing.T) {
		b := b0.in(t)
		k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: ct.ID, CaseContent: tresor.CaseContent{Subject: "Parcel damaged", Description: "The box was wet."},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateCase(svc, k))
		b.run(chromedp.Navigate(b.url+"/cases/"+k.ID), chromedp.WaitVisible(`#case-email-text`),
			chromedp.SendKeys(`#case-email-text`, "We send a new one."), chromedp.Click(`#case-email-send`), chromedp.WaitVisible(`#case-reply-sent, main .error`))
		if msg, _ := b.textMaybe("main .error"); msg != "" {
			t.Fatalf("refused: %s", msg)
		}
		sent := a.mail.all()
		if last := sent[len(sent)-1]; last.Subject != "Re: Parcel damaged" || last.Text != "We send a new one." {
			t.Fatalf("sent %+v", last)
		}
		b.checkAccessibility("case with the e-mail reply")
		b.screenshot("case-email-reply-en")
	})
}

// emptyMailbox is a mailbox with no mail, for the API tests' gate.
type emptyMailbox struct{}

func (emptyMailbox) Name() string { return "empty@mail.example.org:995" }
func (emptyMailbox) Open(context.Context) (tresor.MailboxSession, error) {
	return emptyMailbox{}, nil
}
func (emptyMailbox) List(context.Context) ([]tresor.MailboxItem, error) { return nil, nil }
func (emptyMailbox) Retrieve(_ context.Context, uid string) (*tresor.InboundMail, error) {
	return nil, errors.New("no mail " + uid)
}
func (emptyMailbox) Delete(context.Context, string) error { return nil }
func (emptyMailbox) Close() error                         { return nil }
