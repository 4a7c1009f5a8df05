package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tresor"
	"tresor/policy"
)

var _ tresor.MailService = (*Gate)(nil)

// mailboxConfig is the mailbox inbound mail is read from.
type mailboxConfig struct {
	box  tresor.Mailbox
	keep bool // leave taken mails on the server (the claims remember them)
}

// WithMailbox sets the mailbox PollMailbox reads. With keep, mails stay on
// the server after they are taken in; otherwise they are deleted (DELE).
func WithMailbox(m tresor.Mailbox, keep bool) Option {
	return func(g *Gate) { g.mailbox = mailboxConfig{box: m, keep: keep} }
}

// claimStale is how long a claim on a mail may stay unfinished before
// another server takes the mail over (the first one died meanwhile).
const claimStale = 15 * time.Minute

// balancingMail is the balancing note of mails people exchange with the company.
const balancingMail = "Mails people send to the company's service address, and its answers; kept to answer them and for the customer relation; they chose to write."

// messageHash is the keyed hash under which a Message-ID is found.
func (g *Gate) messageHash(id string) string {
	return g.blind(tresor.LookupKey{Kind: "message_id", Value: id}).Value
}

// SendEmail sends a one-off e-mail to a contact. The outbound gate decides
// by the kind the sender names: advertising needs the person's consent to
// advertising by e-mail (§7(2) no. 2 UWG); a reply needs a conversation the
// person started (they wrote to the company by mail); a mail needed for a
// contract needs a contract recorded with the person. Restriction,
// objection, suppression and a missing address refuse as on every path.
// The mail is sent through the mail server, kept as a sealed interaction
// with the person, and audited — refused attempts too.
func (g *Gate) SendEmail(ctx context.Context, e tresor.EmailSend) (*tresor.EmailSent, error) {
	return g.sendEmail(ctx, e, nil)
}

// ReplyToCase answers a case by e-mail: to the case's contact, with
// In-Reply-To naming the last mail of the case and References all of them,
// so that the person's mail program threads it and their answer returns to
// the case.
func (g *Gate) ReplyToCase(ctx context.Context, caseID string, e tresor.EmailSend) (*tresor.EmailSent, error) {
	k, err := g.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if k.ContactID == "" {
		return nil, &tresor.Error{Code: tresor.ECConflict,
			Message:   "This case belongs to no contact yet, so Tresor has no address to answer: link the case to the person's contact first.",
			MessageDE: "Dieser Fall gehört noch zu keinem Kontakt, daher hat Tresor keine Adresse für die Antwort: Verknüpfen Sie den Fall zuerst mit dem Kontakt der Person."}
	}
	e.ContactID = k.ContactID
	if e.Kind == "" {
		e.Kind = tresor.EmailReply
	}
	if strings.TrimSpace(e.Subject) == "" {
		e.Subject = clipRunes("Re: "+strings.TrimPrefix(k.Subject, "Re: "), 200)
	}
	return g.sendEmail(ctx, e, k)
}

func (g *Gate) sendEmail(ctx context.Context, e tresor.EmailSend, k *tresor.Case) (*tresor.EmailSent, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	e.Subject, e.Body = strings.TrimSpace(e.Subject), strings.TrimSpace(e.Body)
	if err := e.Validate(); err != nil {
		return nil, err
	}
	// A mail that cannot be kept with the person is not sent from the CRM.
	if !req.pu.Allows(tresor.CatInteraction) {
		return nil, req.pu.RefuseCategory(tresor.CatInteraction)
	}
	if g.mailer == nil {
		return nil, errNoMailer
	}
	r := g.store.Read()
	c, err := g.contactFor(ctx, r, req, e.ContactID)
	if err != nil {
		return nil, err
	}
	f, err := g.reachFacts(ctx, req, c, tresor.ChannelEmailMsg, e.Kind == tresor.EmailAdvertising)
	if err != nil {
		return nil, err
	}
	ids := []string{c.ID}
	if k != nil {
		ids = append(ids, k.ID)
	}
	audit := g.entry(ctx, "contact.email_send", "contact", ids, []tresor.Category{tresor.CatContactEmail, tresor.CatInteraction}, nil)
	audit.Detail = "kind=" + string(e.Kind)
	refuse := func(code string, args ...any) (*tresor.EmailSent, error) {
		audit.Decision, audit.Reason = tresor.Refused, code
		g.recordBestEffort(ctx, audit)
		r := policy.Explain(code, args...)
		ec := tresor.ECForbidden
		if code == policy.RReplyWithoutConversation || code == policy.RNoContract {
			ec = tresor.Code(code)
		}
		return nil, &tresor.Error{Code: ec, Message: r.Message, MessageDE: r.MessageDE}
	}
	// What is sent is recorded as an interaction: text typed by hand that
	// reveals a special category is refused before it goes out (Art. 9).
	if err := screenTyped(req, &tresor.Collection{}, typed{field: "subject", text: e.Subject}, typed{field: "body", text: e.Body}); err != nil {
		audit.Decision, audit.Reason = tresor.Refused, string(tresor.ECSpecialCategory)
		g.recordBestEffort(ctx, audit)
		return nil, err
	}
	switch e.Kind {
	case tresor.EmailReply:
		// The person started a conversation: they wrote by mail, or asked
		// for service (a case of theirs, such as the one answered).
		started := f.InboundConversation || k != nil
		if !started {
			if started, err = r.MailFrom(ctx, c.ID); err != nil {
				return nil, err
			}
		}
		if !started {
			ks, err := r.Cases(ctx, tresor.CaseFilter{ContactID: c.ID, Page: tresor.Page{Limit: 1}})
			if err != nil {
				return nil, err
			}
			started = len(ks) > 0
		}
		if !started {
			return refuse(policy.RReplyWithoutConversation)
		}
		f.InboundConversation, f.Contract = true, false
	case tresor.EmailContract:
		if !f.Contract {
			return refuse(policy.RNoContract)
		}
		f.InboundConversation = false
	}
	d := g.policy.DecideReach(f)
	if !d.Allowed {
		rs := d.Reasons[0]
		audit.Decision, audit.Reason = tresor.Refused, rs.Code
		g.recordBestEffort(ctx, audit)
		return nil, &tresor.Error{Code: tresor.ECForbidden, Message: rs.Message, MessageDE: rs.MessageDE}
	}
	if len(c.Emails) == 0 {
		return refuse(policy.RNoAddress, "e-mail")
	}
	if err := g.noticesAtFirstContact(ctx, req, c); err != nil {
		return nil, err
	}
	m := &tresor.Mail{To: c.Emails[0], Subject: e.Subject, Text: e.Body, Headers: map[string]string{}}
	caseID := ""
	if k != nil {
		caseID = k.ID
		msgs, err := r.MailMessages(ctx, k.ID)
		if err != nil {
			return nil, err
		}
		if refs := threadOf(msgs); len(refs) > 0 {
			m.Headers["In-Reply-To"] = "<" + refs[len(refs)-1] + ">"
			m.Headers["References"] = "<" + strings.Join(refs, "> <") + ">"
		}
	}
	if err := g.mailer.Send(ctx, m); err != nil {
		g.log.Error("send an e-mail", "error", err)
		return nil, &tresor.Error{Code: tresor.ECUnavailable, Message: "The mail server did not take the mail; try again later.",
			MessageDE: "Der Mailserver hat die E-Mail nicht angenommen; bitte später erneut versuchen.", Err: err}
	}
	basis := g.basisFor(req.pu)
	if e.Kind == tresor.EmailContract && slices.Contains(req.pu.LegalBases, tresor.BasisContract) {
		basis = tresor.BasisContract
	}
	in := &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionOutbound, ContactID: c.ID, CaseID: caseID,
		OccurredAt:         tresor.Truncate(g.now()),
		InteractionContent: tresor.InteractionContent{Subject: e.Subject, Body: e.Body},
		Collection:         tresor.Collection{LegalBasis: basis, BalancingNote: balancingMail, Source: tresor.SourceManual}}
	out := &tresor.EmailSent{CaseID: caseID, Reasons: d.Reasons}
	if err := g.CreateInteraction(ctx, in); err != nil {
		// The mail went out: say so in the log, and still answer that it did.
		g.log.Error("record a sent e-mail", "error", err)
	} else {
		out.InteractionID = in.ID
	}
	if m.MessageID != "" {
		if err := g.store.Update(ctx, func(tx tresor.Tx) error {
			return tx.InsertMailMessage(ctx, &tresor.MailMessage{Hash: g.messageHash(m.MessageID), MessageID: m.MessageID, CaseID: caseID,
				ContactID: c.ID, Direction: tresor.DirectionOutbound, CreatedAt: tresor.Truncate(g.now())})
		}); err != nil {
			g.log.Error("record a sent e-mail's Message-ID", "error", err)
		}
	}
	audit.Detail += fmt.Sprintf(" interaction=%s reason=%s", out.InteractionID, d.Reasons[0].Code)
	g.recordBestEffort(ctx, audit)
	return out, nil
}

// threadOf lists the Message-IDs of a case's mails for References, the
// last (newest) at the end, at most 20.
func threadOf(msgs []*tresor.MailMessage) []string {
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	if len(ids) > 20 {
		ids = append(ids[:1], ids[len(ids)-19:]...)
	}
	return ids
}

// PollMailbox takes in the new mails of the company's mailbox. Each mail
// is claimed first (one row per mailbox and UIDL), so that it is taken once
// across restarts and servers. A mail that answers a mail of a case (its
// In-Reply-To or References names one) joins that case; any other opens a
// new case, linked to the contact whose address the sender's is (by the
// blind index, as ?email= finds people), or unlinked: Tresor never creates
// a contact. Text that reveals a special category (Art. 9) is not stored;
// attachments are never stored, and the case says how many there were. It
// runs under a purpose that answers people (service).
func (g *Gate) PollMailbox(ctx context.Context) (*tresor.MailboxReport, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if req.pu.Outbound != policy.OutboundReply {
		return nil, policy.Refuse(policy.RServiceOnly, req.pu.ID)
	}
	box := g.mailbox.box
	if box == nil {
		return nil, &tresor.Error{Code: tresor.ECUnavailable, Message: "This server reads no mailbox: start it with --inbox-url.",
			MessageDE: "Dieser Server liest kein Postfach: Starten Sie ihn mit --inbox-url."}
	}
	sess, err := box.Open(ctx)
	if err != nil {
		g.log.Warn("open the mailbox", "mailbox", box.Name(), "error", err)
		return nil, &tresor.Error{Code: tresor.ECUnavailable, Message: "The mailbox did not answer as expected; see the server log.",
			MessageDE: "Das Postfach hat nicht wie erwartet geantwortet; siehe Server-Protokoll.", Err: err}
	}
	items, err := sess.List(ctx)
	if err != nil {
		sess.Close()
		return nil, &tresor.Error{Code: tresor.ECUnavailable, Message: "The mailbox could not be listed; see the server log.", Err: err}
	}
	rep := &tresor.MailboxReport{Dropped: map[string]int{}}
	var taken []string
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		claim := &tresor.MailClaim{Mailbox: box.Name(), UID: it.UID, By: g.origin, At: tresor.Truncate(g.now())}
		claim.StaleFrom = claim.At.Add(-claimStale)
		var ok bool
		if err := g.store.Update(ctx, func(tx tresor.Tx) (err error) {
			ok, err = tx.ClaimMail(ctx, claim)
			return err
		}); err != nil {
			sess.Close()
			return rep, err
		}
		if !ok {
			rep.Skipped++
			continue
		}
		rep.Read++
		ids, err := g.takeMail(ctx, req, sess, it, rep)
		if err != nil {
			rep.Failed++
			g.log.Warn("take in a mail", "mailbox", box.Name(), "error", err)
			if err := g.store.Update(context.WithoutCancel(ctx), func(tx tresor.Tx) error { return tx.ReleaseMail(ctx, box.Name(), it.UID, g.origin) }); err != nil {
				g.log.Error("release a mail's claim", "error", err)
			}
			continue
		}
		taken = append(taken, ids...)
		if err := g.store.Update(context.WithoutCancel(ctx), func(tx tresor.Tx) error { return tx.MailDone(ctx, box.Name(), it.UID, tresor.Truncate(g.now())) }); err != nil {
			g.log.Error("mark a mail taken", "error", err)
		}
		if !g.mailbox.keep {
			if err := sess.Delete(ctx, it.UID); err != nil {
				g.log.Warn("delete a taken mail from the mailbox", "error", err)
			}
		}
	}
	if err := sess.Close(); err != nil {
		g.log.Warn("close the mailbox", "error", err)
	}
	e := g.entry(ctx, "mailbox.polled", "mailbox", taken, nil, nil)
	e.Detail = fmt.Sprintf("read=%d skipped=%d cases=%d replies=%d linked=%d attachments_not_stored=%d failed=%d dropped=%v",
		rep.Read, rep.Skipped, rep.Cases, rep.Replies, rep.Linked, rep.Attachments, rep.Failed, rep.Dropped)
	if rep.Read > 0 || rep.Failed > 0 {
		if err := g.record(ctx, e); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// takeMail stores one mail: as a new case, or as an interaction of the case
// it answers. It returns the ids it wrote.
func (g *Gate) takeMail(ctx context.Context, req *request, sess tresor.MailboxSession, it tresor.MailboxItem, rep *tresor.MailboxReport) ([]string, error) {
	m, err := sess.Retrieve(ctx, it.UID)
	if err != nil {
		return nil, err
	}
	r := g.store.Read()
	// A mail Tresor sent itself (a copy to the company's own box) or took
	// in already (the same mail delivered twice) is not taken again.
	if m.MessageID != "" {
		if known, err := r.MailKnown(ctx, g.messageHash(m.MessageID)); err != nil {
			return nil, err
		} else if known {
			rep.Dropped["known"]++
			return nil, nil
		}
	}
	from, err := tresor.NormalizeEmail(m.From)
	if err != nil {
		from = ""
	}
	contactID := ""
	if from != "" {
		key := g.blind(tresor.LookupKey{Kind: tresor.LookupEmail, Value: from})
		known, err := r.LookupContacts(ctx, []tresor.LookupKey{key})
		if err != nil {
			return nil, err
		}
		contactID = known[key]
	}
	// The case it answers, by the Message-IDs it names.
	var hashes []string
	for _, id := range append(slices.Clone(m.InReplyTo), m.References...) {
		hashes = append(hashes, g.messageHash(id))
	}
	caseID, err := r.MailThread(ctx, hashes)
	if err != nil {
		return nil, err
	}
	sctx := tresor.WithPurpose(ctx, req.pu.ID)
	var k *tresor.Case
	if caseID != "" {
		if k, err = g.Case(sctx, caseID); tresor.ErrorCode(err) == tresor.ECNotFound {
			k, caseID = nil, "" // the case is gone: a new one
		} else if err != nil {
			return nil, err
		}
	}
	if k != nil && k.ContactID != "" {
		contactID = k.ContactID
	}
	if !req.pu.SeesRestricted {
		if err := personUnrestricted(ctx, r, contactID); tresor.ErrorCode(err) == tresor.ECRestricted {
			rep.Dropped["restricted"]++
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	subject, text := cleanText(m.Subject, 200, false), cleanText(m.Text, 19000, true)
	if cat, ok := policy.SpecialCategory(subject + "\n" + text); ok {
		rep.Dropped["special:"+string(cat)]++
		subject, text = "E-Mail (Inhalt nicht gespeichert: besondere Kategorie, Art. 9 DSGVO)", ""
	}
	if subject == "" {
		subject = "E-Mail ohne Betreff"
	}
	var notes []string
	if contactID == "" && from != "" {
		notes = append(notes, "Absender / sender: "+from)
	}
	if m.Attachments > 0 {
		rep.Attachments += m.Attachments
		notes = append(notes, fmt.Sprintf("%d Anhänge nicht gespeichert / %d attachments not stored", m.Attachments, m.Attachments))
	}
	if len(notes) > 0 {
		text = strings.TrimSpace(text + "\n\n— " + strings.Join(notes, "\n— "))
	}
	coll := tresor.Collection{LegalBasis: g.basisFor(req.pu), BalancingNote: balancingMail, Source: tresor.SourceConnector}
	at := tresor.Truncate(g.now())
	var ids []string
	if k != nil {
		in := &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionInbound, ContactID: contactID, CaseID: k.ID,
			OccurredAt: at, InteractionContent: tresor.InteractionContent{Subject: subject, Body: text}, Collection: coll}
		if err := g.CreateInteraction(sctx, in); err != nil {
			return nil, err
		}
		rep.Replies++
		ids = append(ids, in.ID, k.ID)
	} else {
		k = &tresor.Case{Channel: tresor.ChannelEmail, ContactID: contactID,
			CaseContent: tresor.CaseContent{Subject: subject, Description: text}, Collection: coll}
		if err := g.CreateCase(sctx, k); err != nil {
			return nil, err
		}
		rep.Cases++
		ids = append(ids, k.ID)
	}
	if contactID != "" {
		rep.Linked++
	}
	msgID := m.MessageID
	if msgID == "" {
		msgID = "inbound." + newID() + "@tresor.invalid" // threads nothing, but marks the conversation
	}
	if err := g.store.Update(ctx, func(tx tresor.Tx) error {
		return tx.InsertMailMessage(ctx, &tresor.MailMessage{Hash: g.messageHash(msgID), MessageID: msgID, CaseID: k.ID, ContactID: contactID,
			Direction: tresor.DirectionInbound, CreatedAt: at})
	}); err != nil {
		return ids, err
	}
	return ids, nil
}

// cleanText keeps printable text (and line breaks where multiline), at most
// n characters.
func cleanText(s string, n int, multiline bool) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			if multiline {
				return r
			}
			return ' '
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ReplaceAll(s, "\r\n", "\n"))
	return clipRunes(strings.TrimSpace(s), n)
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// WatchMailbox reads the mailbox every interval, as Tresor itself under the
// purpose (one that answers people), until ctx ends.
func (g *Gate) WatchMailbox(ctx context.Context, interval time.Duration, purpose string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sys := tresor.WithPurpose(asSystem(ctx), purpose)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !g.turn(ctx, "mailbox") {
			continue
		}
		rep, err := g.PollMailbox(sys)
		switch {
		case err != nil:
			g.log.Error("reading the mailbox failed", "error", err)
		case rep.Read > 0:
			g.log.Info("mailbox read", "read", rep.Read, "cases", rep.Cases, "replies", rep.Replies, "failed", rep.Failed)
		}
	}
}
