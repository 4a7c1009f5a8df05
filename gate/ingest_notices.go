package gate

import (
	"context"
	"slices"
	"strings"
	"text/template"
	"time"

	"tresor"
)

var _ tresor.NoticeService = (*Gate)(nil)

// noticeTemplates are the Art. 14 notices, in German and English.
var noticeTemplates = template.Must(template.New("notices").Parse(`
{{define "subject_de"}}Information nach Art. 14 DSGVO: Wir haben Daten über Sie gespeichert{{end}}
{{define "subject_en"}}Information under Art. 14 GDPR: we hold data about you{{end}}
{{define "de"}}Guten Tag{{if .Name}} {{.Name}}{{end}},

wir haben Daten über Sie gespeichert, die wir nicht bei Ihnen selbst erhoben haben.
Das Gesetz (Art. 14 DSGVO) verlangt, dass wir Sie darüber informieren:

- Quelle: {{.SourceDE}}
- Daten: {{.Categories}}
- Zweck: {{.PurposeDE}}
- Rechtsgrundlage: {{.BasisDE}}
- Speicherdauer: bis {{.RetentionDays}} Tage nach dem letzten Kontakt mit Ihnen

Sie haben das Recht auf Auskunft (Art. 15), Berichtigung (Art. 16), Löschung
(Art. 17), Einschränkung der Verarbeitung (Art. 18) und Datenübertragbarkeit
(Art. 20); Sie können der Verarbeitung widersprechen (Art. 21), insbesondere
jederzeit der Werbung, und sich bei einer Datenschutz-Aufsichtsbehörde
beschweren (Art. 77). Antworten Sie einfach auf diese E-Mail.
{{end}}
{{define "en"}}Hello{{if .Name}} {{.Name}}{{end}},

we hold data about you that we did not collect from you. The law (Art. 14
GDPR) requires us to tell you:

- Source: {{.SourceEN}}
- Data: {{.Categories}}
- Purpose: {{.PurposeEN}}
- Legal basis: {{.BasisEN}}
- Storage: until {{.RetentionDays}} days after our last contact with you

You have the right of access (Art. 15), to rectification (Art. 16), to erasure
(Art. 17), to restriction of processing (Art. 18) and to data portability
(Art. 20); you may object to the processing (Art. 21), to advertising at any
time, and lodge a complaint with a data-protection authority (Art. 77). Just
reply to this e-mail.
{{end}}
`))

var sourceNames = map[string][2]string{
	"linkedin":           {"Ihr öffentliches LinkedIn-Profil (Kontaktexport)", "your public LinkedIn profile (connections export)"},
	"vcard":              {"eine Visitenkarte bzw. ein Adressbuch (vCard)", "a business card or address book (vCard)"},
	"mastodon-following": {"Ihr öffentliches Mastodon-Profil", "your public Mastodon profile"},
	"csv":                {"eine Liste (CSV-Import)", "a list (CSV import)"},
	"connector":          {"Ihr öffentliches Profil in einem sozialen Netzwerk", "your public social network profile"},
}

var basisNames = map[tresor.LegalBasis][2]string{
	tresor.BasisConsent:            {"Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)", "your consent (Art. 6(1)(a) GDPR)"},
	tresor.BasisContract:           {"die Anbahnung oder Erfüllung eines Vertrags (Art. 6 Abs. 1 lit. b DSGVO)", "preparing or performing a contract (Art. 6(1)(b) GDPR)"},
	tresor.BasisLegalObligation:    {"eine rechtliche Pflicht (Art. 6 Abs. 1 lit. c DSGVO)", "a legal obligation (Art. 6(1)(c) GDPR)"},
	tresor.BasisLegitimateInterest: {"unser berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO)", "our legitimate interest (Art. 6(1)(f) GDPR)"},
}

// Notices lists information duties (the data-protection officer's purpose).
func (g *Gate) Notices(ctx context.Context, q tresor.NoticeQuery) (*tresor.List[*tresor.Notice], error) {
	if _, err := g.dataProtection(ctx); err != nil {
		return nil, err
	}
	if err := q.Page.Normalize(); err != nil {
		return nil, err
	}
	limit := q.Limit
	q.Limit++
	rows, err := g.store.Read().Notices(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.Notice]{Items: nonNil(rows)}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.Next = tresor.EncodeCursor(rows[limit-1].ID)
	}
	return out, nil
}

// SendNotices sends the open notices due by a time (zero: every open one)
// to people with an e-mail address the notice's purpose may use. Each
// notice's mail is queued in the transaction that marks it sent, and sent
// at once where the mail server takes it; while the server is away the
// rest wait in the outbox and the sender delivers them when it is back.
// sent counts the notices mailed or queued.
func (g *Gate) SendNotices(ctx context.Context, due time.Time) (sent, other int, err error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return 0, 0, err
	}
	if g.mailer == nil {
		return 0, 0, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured (TRESOR_SMTP_ADDR).")
	}
	page := tresor.Page{Limit: 500}
	down := false // the mail server did not take a mail: queue the rest without trying
	for {
		ns, err := g.store.Read().Notices(ctx, tresor.NoticeQuery{Open: true, DueBefore: due, Page: page})
		if err != nil {
			return sent, other, err
		}
		for _, n := range ns {
			mailID, ok, err := g.queueNotice(ctx, req, n)
			if err != nil {
				return sent, other, err
			}
			if !ok {
				other++
				continue
			}
			sent++
			if mailID == "" {
				continue
			}
			if down {
				g.wakeOutbox()
			} else if g.sendQueued(ctx, mailID) == tresor.MailQueued {
				down = true
			}
		}
		if len(ns) < page.Limit {
			return sent, other, nil
		}
		page.After = ns[len(ns)-1].ID
	}
}

// queueNotice queues the mail of one notice and marks the notice sent, in
// one transaction; false when the person has no e-mail address. A notice
// another server marked meanwhile is left alone (ok, no mail).
func (g *Gate) queueNotice(ctx context.Context, req *request, n *tresor.Notice) (mailID string, ok bool, err error) {
	row, err := g.store.Read().Contact(ctx, n.ContactID)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return "", false, nil // erased meanwhile: its notice went with it
	} else if err != nil {
		return "", false, err
	}
	c, err := contacts.fromRow(ctx, g, row, nil)
	if err != nil || len(c.Emails) == 0 {
		return "", false, nil
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		marked, err := tx.NoticeSent(ctx, n.ID, "email", req.now)
		if err != nil || !marked {
			return err
		}
		if mailID, err = g.queueMail(ctx, tx, mailArt14Notice, c.ID, g.noticeMail(c, n)); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "notice.sent", n.ContactID, "art14; email")
	})
	if err != nil {
		mailID = ""
	}
	return mailID, err == nil, err
}

// MarkNoticeGiven records that a notice was given another way (by post, by
// phone, in person) — for people without an e-mail address.
func (g *Gate) MarkNoticeGiven(ctx context.Context, id, channel string) error {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"postal", "phone", "in_person", "email"}, channel) {
		return fieldError("notice", "channel", "must be postal, phone, in_person or email")
	}
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		ok, err := tx.NoticeSent(ctx, id, channel, req.now)
		if err != nil {
			return err
		}
		if !ok {
			return tresor.Errorf(tresor.ECNotFound, "There is no open notice %s.", id)
		}
		return g.eventIn(ctx, tx, "notice.given", id, "art14; "+channel)
	})
}

// noticeMail writes the Art. 14 notice of a contact.
func (g *Gate) noticeMail(c *tresor.Contact, n *tresor.Notice) *tresor.Mail {
	lang := mailLanguage(c)
	data := struct {
		Name, SourceDE, SourceEN, Categories, PurposeDE, PurposeEN, BasisDE, BasisEN string
		RetentionDays                                                                int
	}{Name: strings.TrimSpace(c.GivenName + " " + c.FamilyName), Categories: strings.Join(g.categoryNames(c, lang), ", ")}
	if s, ok := sourceNames[n.Source]; ok {
		data.SourceDE, data.SourceEN = s[0], s[1]
	} else {
		data.SourceDE, data.SourceEN = n.Source, n.Source
	}
	if pu, ok := g.policy.Purpose(n.Purpose); ok {
		data.PurposeDE, data.PurposeEN, data.RetentionDays = pu.NameDE+" – "+pu.DescriptionDE, pu.NameEN+" — "+pu.DescriptionEN, pu.RetentionDays
	}
	basis := tresor.BasisLegitimateInterest
	if recs, err := c.Provenance.Records(); err == nil && len(recs) > 0 {
		basis = latestCollection(recs).LegalBasis
	}
	b := basisNames[basis]
	data.BasisDE, data.BasisEN = b[0], b[1]
	var subject, body strings.Builder
	noticeTemplates.ExecuteTemplate(&subject, "subject_"+lang, data)
	noticeTemplates.ExecuteTemplate(&body, lang, data)
	return &tresor.Mail{To: c.Emails[0], Subject: subject.String(), Text: body.String()}
}

// categoryNames names the categories of data held about a contact, in the
// policy's words.
func (g *Gate) categoryNames(c *tresor.Contact, lang string) []string {
	var out []string
	for _, cat := range shownCategories(&c.ContactDetails) {
		name := string(cat)
		if info, ok := g.policy.Category(cat); ok {
			name = info.EN
			if lang == "de" {
				name = info.DE
			}
		}
		out = append(out, name)
	}
	return out
}

// noticesAtFirstContact sends a contact's open notices before the first
// message to them (Art. 14(3)(b) GDPR: at the latest at the first contact).
// Each is queued and marked sent in one transaction and sent at once; while
// the mail server is away it waits in the outbox and may arrive after the
// message (which the outbound gate sends regardless).
func (g *Gate) noticesAtFirstContact(ctx context.Context, req *request, c *tresor.Contact) error {
	if g.mailer == nil {
		return nil // no mail server: the notices stay open for the data-protection officer
	}
	ns, err := g.store.Read().Notices(ctx, tresor.NoticeQuery{Open: true, ContactID: c.ID, Page: tresor.Page{Limit: 10}})
	if err != nil {
		return err
	}
	for _, n := range ns {
		mailID, _, err := g.queueNotice(ctx, req, n)
		if err != nil {
			return err
		}
		if mailID != "" {
			g.sendQueued(ctx, mailID)
		}
	}
	return nil
}
