package gate

import (
	"context"
	"fmt"
	"strings"

	"tresor"
)

var _ tresor.BreachNotifier = (*Gate)(nil)

// NotifyBreachPeople mails the notice of a breach (Art. 34 GDPR) to the
// first e-mail address of each contact named. Like the answer to a
// data-subject request it is a legal duty, not an approach: no consent is
// asked and the suppression list and objections do not block it (Art. 34
// owes the notice to everyone concerned). Restricted contacts are told too:
// only the DPO, under data_protection, sends it. What was done is recorded
// in the breach's log (sealed) and audited as breach.notify_people with the
// contacts mailed; contacts without an e-mail address are listed so the
// DPO tells them another way.
func (g *Gate) NotifyBreachPeople(ctx context.Context, id string, n tresor.BreachPeopleNotice) (*tresor.BreachPeopleNotified, error) {
	n.Subject, n.Body = strings.TrimSpace(n.Subject), strings.TrimSpace(n.Body)
	if n.Lang == "" {
		n.Lang = "de"
	}
	if err := n.Validate(); err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "breach.notify_people", "breach", []string{id}, nil, err))
		return nil, err
	}
	if g.mailer == nil {
		return nil, &tresor.Error{Code: tresor.ECMailUnavailable,
			Message:   "No mail server is configured, so the notice cannot go by e-mail. Configure TRESOR_SMTP_ADDR, or tell the people another way and note it in the breach's log.",
			MessageDE: "Es ist kein Mailserver eingerichtet, daher kann die Benachrichtigung nicht per E-Mail gehen. TRESOR_SMTP_ADDR einrichten oder die Personen auf anderem Weg benachrichtigen und dies im Protokoll der Datenpanne vermerken."}
	}
	out := &tresor.BreachPeopleNotified{NoAddress: []string{}, Failed: []string{}}
	var mailed []string
	b, err := g.changeBreach(ctx, "breach.notify_people", id, 0, func(req *request, b *tresor.Breach) error {
		r := g.store.Read()
		// Every contact is checked before the first mail goes.
		var cs []*tresor.Contact
		for _, cid := range n.ContactIDs {
			c, err := g.contactFor(ctx, r, req, cid)
			if err != nil {
				return fmt.Errorf("contact_ids: %s: %w", cid, err)
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			if len(c.Emails) == 0 {
				out.NoAddress = append(out.NoAddress, c.ID)
				continue
			}
			if err := g.mailer.Send(ctx, &tresor.Mail{To: c.Emails[0], Subject: n.Subject, Text: n.Body,
				Headers: map[string]string{"Content-Language": n.Lang}}); err != nil {
				g.log.Warn("a breach notice did not go out", "breach", id, "error", err)
				out.Failed = append(out.Failed, c.ID)
				continue
			}
			mailed = append(mailed, c.ID)
		}
		if len(mailed) == 0 && len(out.Failed) > 0 {
			return &tresor.Error{Code: tresor.ECUnavailable, Message: "The mail server took none of the notices; nothing was recorded. Try again later.",
				MessageDE: "Der Mailserver hat keine der Benachrichtigungen angenommen; nichts wurde festgehalten. Bitte später erneut versuchen."}
		}
		out.Sent = len(mailed)
		b.Actions = append(b.Actions, tresor.BreachAction{At: req.now, Actor: req.actor.String(),
			Text: fmt.Sprintf("Benachrichtigung der betroffenen Personen (Art. 34) per E-Mail / people notified by e-mail: %d gesendet/sent, %d ohne E-Mail-Adresse/without an e-mail address, %d fehlgeschlagen/failed",
				out.Sent, len(out.NoAddress), len(out.Failed))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Breach = b
	if len(mailed) > 0 {
		e := g.entry(ctx, "breach.notify_people", "contact", mailed, []tresor.Category{tresor.CatContactEmail}, nil)
		e.Detail = fmt.Sprintf("breach=%s sent=%d no_address=%d failed=%d", id, out.Sent, len(out.NoAddress), len(out.Failed))
		g.recordBestEffort(ctx, e)
	}
	return out, nil
}
