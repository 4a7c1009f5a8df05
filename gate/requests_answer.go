package gate

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"tresor"
)

var _ tresor.RequestAnswerService = (*Gate)(nil)

// Answers to requests of data subjects (Art. 12(3)–(5) GDPR). The answer is
// a legal duty towards the person who asked, not an approach of theirs:
//
//   - It goes to the address the request came with, not to a contact's
//     address, and it is not advertising, so no consent is asked for
//     (§7 UWG does not reach it).
//   - The suppression list and objections are NOT consulted: they keep a
//     person from being approached (advertising, Art. 21(2)); they cannot
//     keep the controller from the answer Art. 12(3)/(4) owes the person —
//     an erasure or objection is itself confirmed by such an answer, and
//     a restricted person is owed it too (Art. 18(3)). Suppressing it
//     would breach the duty the person invoked.
//   - Only the DPO (data_protection purpose) gives it, it is kept sealed
//     with the request, and the audit trail records request.answer with
//     the outcome and the way it went, never the text or the address.
//
// An address that is not an e-mail (a postal address, a telephone number)
// gets no mail: the DPO answers by letter or telephone, and Tresor records
// the answer as given that way.

// requestAnswerOutcome is the outcome the request's state suggests.
func requestAnswerOutcome(r *tresor.Request) tresor.RequestOutcome {
	switch {
	case r.State == tresor.RequestRefused:
		return tresor.OutcomeRefused
	case r.State == tresor.RequestExtended && !extensionNoticeGiven(r):
		return tresor.OutcomeExtended
	}
	return tresor.OutcomeAnswered
}

func extensionNoticeGiven(r *tresor.Request) bool {
	for _, a := range r.Answers {
		if a.Outcome == tresor.OutcomeExtended {
			return true
		}
	}
	return false
}

func answerLang(lang string) (string, error) {
	switch lang {
	case "":
		return "de", nil
	case "de", "en":
		return lang, nil
	}
	return "", tresor.Errorf(tresor.ECInvalidParameter, "lang must be de or en, not %q.", lang)
}

// RequestAnswerDraft writes the answer of an outcome from the request: its
// kind, the day it arrived, the deadlines and the reason. The audit trail
// records request.read.
func (g *Gate) RequestAnswerDraft(ctx context.Context, id, lang string, outcome tresor.RequestOutcome) (*tresor.RequestAnswerDraft, error) {
	lang, err := answerLang(lang)
	if err != nil {
		return nil, err
	}
	if outcome != "" && !validOutcome(outcome) {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "outcome must be answered, refused or extended, not %q.", outcome)
	}
	req, err := g.requestRegister(ctx, "request.read")
	if err != nil {
		return nil, err
	}
	r, err := g.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Damaged {
		return nil, tresor.Errorf(tresor.ECConflict, "The request does not open; no answer can be written from it.")
	}
	if outcome == "" {
		outcome = requestAnswerOutcome(r)
	}
	reason := r.Reason
	if outcome == tresor.OutcomeExtended {
		reason = r.ExtensionReason
	}
	subject, body := writeRequestAnswer(r, lang, outcome, reason, req.actor.Email, req.now)
	via := tresor.AnswerByLetterOrPhone
	if _, ok := tresor.EmailAddress(r.Address); ok {
		via = tresor.AnswerByEmail
	}
	return &tresor.RequestAnswerDraft{Lang: lang, Outcome: outcome, Via: via, Subject: subject, Body: body}, nil
}

func validOutcome(o tresor.RequestOutcome) bool {
	for _, v := range tresor.RequestOutcomes() {
		if o == v {
			return true
		}
	}
	return false
}

// AnswerRequest gives the answer and moves the request to the outcome:
// answered closes it, refused closes it with the reason, extended extends
// the deadline by two months (once, within the first month, Art. 12(3))
// with the reason. A request already in the outcome's state keeps it (the
// DPO changed the state first and now gives the answer). By e-mail the
// mail is queued in the transaction that records the answer and sent
// right after it; while the mail server is away it waits in the outbox
// (the answer's Mail says "queued") and is sent when the server is back.
// The audit trail records request.answer.
func (g *Gate) AnswerRequest(ctx context.Context, id string, a tresor.RequestAnswerSend) (*tresor.Request, error) {
	a.Subject, a.Body, a.Reason = strings.TrimSpace(a.Subject), strings.TrimSpace(a.Body), strings.TrimSpace(a.Reason)
	if a.Outcome == "" {
		a.Outcome = tresor.OutcomeAnswered
	}
	if a.Lang == "" {
		a.Lang = "de"
	}
	if err := a.Validate(); err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "request.answer", "request", []string{id}, nil, err))
		return nil, err
	}
	for _, p := range reasonPlaceholder {
		if strings.Contains(a.Body, p) {
			return nil, fieldError("answer", "body", "still holds the placeholder %s: write the reason into the text", p)
		}
	}
	var detail, mailID string
	out, err := g.changeRequestTx(ctx, "request.answer", id, &detail, func(tx tresor.Tx, req *request, r *tresor.Request) error {
		if err := answerMoves(req, r, a); err != nil {
			return err
		}
		to, byMail := tresor.EmailAddress(r.Address)
		via := tresor.AnswerByLetterOrPhone
		if byMail {
			via = tresor.AnswerByEmail
		}
		r.Answers = append(r.Answers, tresor.RequestAnswer{At: req.now, Outcome: a.Outcome, Lang: a.Lang, Via: via,
			Subject: a.Subject, Body: a.Body, By: req.ownerID()})
		note := "answer given by letter or telephone / Antwort per Brief oder Telefon gegeben"
		if byMail {
			note = "answer given by e-mail / Antwort per E-Mail gegeben"
		}
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: r.State, Reason: note, By: req.ownerID()})
		// Checked before the mail goes out: what is sent must be what is kept.
		if err := r.Validate(); err != nil {
			return err
		}
		detail = fmt.Sprintf("outcome=%s via=%s state=%s", a.Outcome, via, r.State)
		if !byMail {
			return nil
		}
		if g.mailer == nil {
			return &tresor.Error{Code: tresor.ECMailUnavailable,
				Message:   "No mail server is configured, so the answer cannot go by e-mail. Configure TRESOR_SMTP_ADDR, or answer by letter and record it.",
				MessageDE: "Es ist kein Mailserver eingerichtet, daher kann die Antwort nicht per E-Mail gehen. TRESOR_SMTP_ADDR einrichten oder per Brief antworten und dies festhalten."}
		}
		// The answer goes to the request's address, not to a contact: it is
		// sealed under its own key, so that the erasure it may confirm does
		// not take it along.
		m := &tresor.Mail{To: to, Subject: a.Subject, Text: a.Body,
			Headers: map[string]string{"Content-Language": a.Lang}}
		var err error
		mailID, err = g.queueMail(ctx, tx, mailRequestAnswer, "", m)
		return err
	})
	if err != nil {
		return nil, err
	}
	if mailID != "" {
		out.Mail = g.sendQueued(ctx, mailID)
	}
	return out, nil
}

// answerMoves applies the outcome to the request's state.
func answerMoves(req *request, r *tresor.Request, a tresor.RequestAnswerSend) error {
	closeAs := func(to tresor.RequestState, reason string) error {
		if r.State == to {
			return nil
		}
		if r.State == tresor.RequestReceived && to == tresor.RequestAnswered {
			return &tresor.Error{Code: tresor.ECConflict,
				Message:   "The requester's identity is not verified yet: the answer could reach someone else (Art. 12(6) GDPR). Verify it first, or refuse the request with the reason.",
				MessageDE: "Die Identität der anfragenden Person ist noch nicht geprüft: Die Antwort könnte eine andere Person erreichen (Art. 12 Abs. 6 DSGVO). Zuerst prüfen oder den Antrag mit Begründung ablehnen."}
		}
		if !tresor.RequestMoveAllowed(r.State, to) {
			return tresor.Errorf(tresor.ECConflict, "A request that is %s cannot be %s.", r.State, to)
		}
		at := req.now
		r.State, r.Reason, r.ClosedAt = to, reason, &at
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: to, Reason: reason, By: req.ownerID()})
		return nil
	}
	switch a.Outcome {
	case tresor.OutcomeAnswered:
		return closeAs(tresor.RequestAnswered, "")
	case tresor.OutcomeRefused:
		if r.State == tresor.RequestRefused {
			return nil
		}
		reason, err := requestReason("reason", a.Reason)
		if err != nil {
			return err
		}
		return closeAs(tresor.RequestRefused, reason)
	case tresor.OutcomeExtended:
		if r.Extended {
			if !r.State.Open() {
				return tresor.Errorf(tresor.ECConflict, "The request is %s; an extension notice no longer applies.", r.State)
			}
			return nil // extended through /extend: this is its notice
		}
		if !r.State.Open() {
			return tresor.Errorf(tresor.ECConflict, "The request is %s; only an open request is extended.", r.State)
		}
		today := tresor.Date(req.now.Format(time.DateOnly))
		if first := tresor.RequestDue(r.ReceivedAt); today > first {
			return &tresor.Error{Code: tresor.ECConflict,
				Message:   fmt.Sprintf("The first month ended on %s: Art. 12(3) GDPR requires the extension to be notified within one month of receipt, so it can no longer be extended. Answer, or refuse with the reason.", first),
				MessageDE: fmt.Sprintf("Der erste Monat endete am %s: Nach Art. 12 Abs. 3 DSGVO muss eine Verlängerung innerhalb eines Monats nach Eingang mitgeteilt werden, sie ist daher nicht mehr möglich. Beantworten oder mit Begründung ablehnen.", first)}
		}
		reason, err := requestReason("reason", a.Reason)
		if err != nil {
			return err
		}
		r.State, r.Extended, r.ExtensionReason, r.Reason = tresor.RequestExtended, true, reason, reason
		r.Due = tresor.RequestExtendedDue(r.ReceivedAt)
		r.History = append(r.History, tresor.RequestEvent{At: req.now, State: tresor.RequestExtended, Reason: reason, By: req.ownerID()})
	}
	return nil
}

// writeRequestAnswer writes subject and body of an answer.
func writeRequestAnswer(r *tresor.Request, lang string, outcome tresor.RequestOutcome, reason, dpo string, now time.Time) (string, string) {
	day := func(d tresor.Date) string {
		t, err := time.Parse(time.DateOnly, string(d))
		if err != nil {
			return string(d)
		}
		if lang == "de" {
			return t.Format("02.01.2006")
		}
		return t.Format("2 January 2006")
	}
	if reason == "" {
		reason = reasonPlaceholder[lang]
	}
	data := map[string]any{
		"ID": r.ID, "Kind": requestKindNames[lang][r.Kind], "Received": day(r.ReceivedAt),
		"Due": day(r.Due), "ExtendedDue": day(tresor.RequestExtendedDue(r.ReceivedAt)),
		"Reason": reason, "DPO": dpo, "Done": requestDoneTexts[lang][r.Kind],
		"Unfounded": strings.Contains(strings.ToLower(reason), "12(5)") || strings.Contains(strings.ToLower(reason), "12 abs. 5"),
		"Today":     day(tresor.Date(now.Format(time.DateOnly))),
	}
	name := "answer_" + string(outcome) + "_" + lang
	var subject, body bytes.Buffer
	if err := answerTemplates.ExecuteTemplate(&subject, name+"_subject", data); err != nil {
		panic("gate: answer template " + name + ": " + err.Error()) // the templates are fixed; a failure is a bug
	}
	if err := answerTemplates.ExecuteTemplate(&body, name, data); err != nil {
		panic("gate: answer template " + name + ": " + err.Error())
	}
	return strings.TrimSpace(subject.String()), strings.TrimSpace(body.String()) + "\n"
}

// reasonPlaceholder marks in a draft the reason still to be written; an
// answer that still holds it is not given.
var reasonPlaceholder = map[string]string{"de": "[Grund bitte ergänzen]", "en": "[please state the reason]"}

var requestKindNames = map[string]map[tresor.RequestKind]string{
	"de": {
		tresor.RequestAccess: "Auskunft (Art. 15 DSGVO)", tresor.RequestRectification: "Berichtigung (Art. 16 DSGVO)",
		tresor.RequestErasure: "Löschung (Art. 17 DSGVO)", tresor.RequestRestriction: "Einschränkung der Verarbeitung (Art. 18 DSGVO)",
		tresor.RequestPortability: "Datenübertragbarkeit (Art. 20 DSGVO)", tresor.RequestObjection: "Widerspruch (Art. 21 Abs. 1 DSGVO)",
		tresor.RequestObjectionDirect: "Widerspruch gegen Direktwerbung (Art. 21 Abs. 2 DSGVO)",
		tresor.RequestWithdrawal:      "Widerruf Ihrer Einwilligung (Art. 7 Abs. 3 DSGVO)",
	},
	"en": {
		tresor.RequestAccess: "access (Art. 15 GDPR)", tresor.RequestRectification: "rectification (Art. 16 GDPR)",
		tresor.RequestErasure: "erasure (Art. 17 GDPR)", tresor.RequestRestriction: "restriction of processing (Art. 18 GDPR)",
		tresor.RequestPortability: "data portability (Art. 20 GDPR)", tresor.RequestObjection: "objection (Art. 21(1) GDPR)",
		tresor.RequestObjectionDirect: "objection to direct marketing (Art. 21(2) GDPR)",
		tresor.RequestWithdrawal:      "withdrawal of your consent (Art. 7(3) GDPR)",
	},
}

// requestDoneTexts say what was done, per kind; the DPO completes them.
var requestDoneTexts = map[string]map[tresor.RequestKind]string{
	"de": {
		tresor.RequestAccess:          "Nachstehend bzw. in der Anlage erhalten Sie eine Kopie der personenbezogenen Daten, die wir zu Ihrer Person verarbeiten, mit den Angaben nach Art. 15 Abs. 1 DSGVO: Verarbeitungszwecke, Kategorien der Daten, Empfänger, geplante Speicherdauer, Herkunft der Daten sowie Ihre Rechte auf Berichtigung, Löschung, Einschränkung, Widerspruch und Beschwerde.",
		tresor.RequestRectification:   "Wir haben die unrichtigen Daten berichtigt bzw. unvollständige Daten vervollständigt (Art. 16 DSGVO). Empfänger, denen wir die Daten offengelegt hatten, haben wir unterrichtet (Art. 19 DSGVO).",
		tresor.RequestErasure:         "Wir haben Ihre personenbezogenen Daten gelöscht (Art. 17 DSGVO). Soweit gesetzliche Aufbewahrungspflichten bestehen, sind die betroffenen Unterlagen gesperrt und werden nach Ablauf der Frist gelöscht. Empfänger, denen wir die Daten offengelegt hatten, haben wir unterrichtet (Art. 19 DSGVO).",
		tresor.RequestRestriction:     "Wir haben die Verarbeitung Ihrer Daten eingeschränkt (Art. 18 DSGVO): Sie werden nur noch gespeichert. Bevor die Einschränkung aufgehoben wird, unterrichten wir Sie (Art. 18 Abs. 3 DSGVO).",
		tresor.RequestPortability:     "In der Anlage erhalten Sie die Daten, die Sie uns bereitgestellt haben, in einem strukturierten, gängigen und maschinenlesbaren Format (Art. 20 DSGVO).",
		tresor.RequestObjection:       "Wir verarbeiten Ihre Daten für die Zwecke, denen Sie widersprochen haben, nicht mehr (Art. 21 Abs. 1 DSGVO).",
		tresor.RequestObjectionDirect: "Wir verarbeiten Ihre Daten nicht mehr für Zwecke der Direktwerbung (Art. 21 Abs. 2 und 3 DSGVO). Damit Sie keine Werbung mehr von uns erhalten, bleibt ein Sperrvermerk gespeichert.",
		tresor.RequestWithdrawal:      "Wir haben den Widerruf Ihrer Einwilligung vermerkt und verarbeiten Ihre Daten auf dieser Grundlage nicht mehr. Die Rechtmäßigkeit der Verarbeitung bis zum Widerruf bleibt unberührt (Art. 7 Abs. 3 DSGVO).",
	},
	"en": {
		tresor.RequestAccess:          "Below, or enclosed, you find a copy of the personal data we process about you, with the information of Art. 15(1) GDPR: the purposes, the categories of data, the recipients, the envisaged storage period, the source of the data, and your rights to rectification, erasure, restriction, objection and to lodge a complaint.",
		tresor.RequestRectification:   "We have rectified the inaccurate data, or completed the incomplete data (Art. 16 GDPR), and told the recipients we had disclosed them to (Art. 19 GDPR).",
		tresor.RequestErasure:         "We have erased your personal data (Art. 17 GDPR). Where the law obliges us to keep records, they are blocked and will be erased when the period ends. We told the recipients we had disclosed the data to (Art. 19 GDPR).",
		tresor.RequestRestriction:     "We have restricted the processing of your data (Art. 18 GDPR): they are only stored. We will tell you before the restriction is lifted (Art. 18(3) GDPR).",
		tresor.RequestPortability:     "Enclosed you find the data you provided to us, in a structured, commonly used and machine-readable format (Art. 20 GDPR).",
		tresor.RequestObjection:       "We no longer process your data for the purposes you objected to (Art. 21(1) GDPR).",
		tresor.RequestObjectionDirect: "We no longer process your data for direct marketing (Art. 21(2) and (3) GDPR). A blocking note is kept so that you receive no more advertising from us.",
		tresor.RequestWithdrawal:      "We have recorded the withdrawal of your consent and no longer process your data on that basis. Processing before the withdrawal remains lawful (Art. 7(3) GDPR).",
	},
}

var answerTemplates = template.Must(template.New("answer").Parse(`
{{define "answer_answered_de_subject"}}Ihr Antrag auf {{.Kind}} vom {{.Received}}{{end}}
{{define "answer_answered_de"}}
Guten Tag,

Sie haben am {{.Received}} {{.Kind}} beantragt. {{.Done}}

Wenn Sie Fragen haben, antworten Sie gern auf diese Nachricht. Sie haben zudem das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren (Art. 77 DSGVO).

Mit freundlichen Grüßen
Datenschutz{{if .DPO}} ({{.DPO}}){{end}}

Vorgang: {{.ID}}
{{end}}
{{define "answer_answered_en_subject"}}Your request for {{.Kind}} of {{.Received}}{{end}}
{{define "answer_answered_en"}}
Hello,

On {{.Received}} you asked for {{.Kind}}. {{.Done}}

If you have questions, just reply to this message. You also have the right to lodge a complaint with a data-protection supervisory authority (Art. 77 GDPR).

Kind regards
Data protection{{if .DPO}} ({{.DPO}}){{end}}

Reference: {{.ID}}
{{end}}
{{define "answer_refused_de_subject"}}Ihr Antrag auf {{.Kind}} vom {{.Received}}: Ablehnung{{end}}
{{define "answer_refused_de"}}
Guten Tag,

Sie haben am {{.Received}} {{.Kind}} beantragt. Wir werden diesem Antrag nicht nachkommen (Art. 12 Abs. 4 DSGVO).

Grund: {{.Reason}}
{{if .Unfounded}}
Bei offenkundig unbegründeten oder – insbesondere im Fall häufiger Wiederholung – exzessiven Anträgen kann der Verantwortliche sich weigern, tätig zu werden (Art. 12 Abs. 5 DSGVO).
{{end}}
Sie haben das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren (Art. 77 DSGVO), insbesondere in dem Mitgliedstaat Ihres Aufenthaltsorts, Ihres Arbeitsplatzes oder des Orts des mutmaßlichen Verstoßes, und einen gerichtlichen Rechtsbehelf einzulegen (Art. 79 DSGVO).

Mit freundlichen Grüßen
Datenschutz{{if .DPO}} ({{.DPO}}){{end}}

Vorgang: {{.ID}}
{{end}}
{{define "answer_refused_en_subject"}}Your request for {{.Kind}} of {{.Received}}: refused{{end}}
{{define "answer_refused_en"}}
Hello,

On {{.Received}} you asked for {{.Kind}}. We will not act on this request (Art. 12(4) GDPR).

Reason: {{.Reason}}
{{if .Unfounded}}
Where requests are manifestly unfounded or excessive, in particular because of their repetitive character, the controller may refuse to act on them (Art. 12(5) GDPR).
{{end}}
You have the right to lodge a complaint with a data-protection supervisory authority (Art. 77 GDPR), in particular in the Member State of your habitual residence, place of work or of the alleged infringement, and to seek a judicial remedy (Art. 79 GDPR).

Kind regards
Data protection{{if .DPO}} ({{.DPO}}){{end}}

Reference: {{.ID}}
{{end}}
{{define "answer_extended_de_subject"}}Ihr Antrag auf {{.Kind}} vom {{.Received}}: Verlängerung der Frist{{end}}
{{define "answer_extended_de"}}
Guten Tag,

Sie haben am {{.Received}} {{.Kind}} beantragt. Wir können den Antrag nicht innerhalb eines Monats vollständig beantworten und verlängern die Frist daher um zwei Monate bis zum {{.ExtendedDue}} (Art. 12 Abs. 3 Satz 2 und 3 DSGVO).

Grund der Verzögerung: {{.Reason}}

Sie haben das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren (Art. 77 DSGVO) und einen gerichtlichen Rechtsbehelf einzulegen (Art. 79 DSGVO).

Mit freundlichen Grüßen
Datenschutz{{if .DPO}} ({{.DPO}}){{end}}

Vorgang: {{.ID}}
{{end}}
{{define "answer_extended_en_subject"}}Your request for {{.Kind}} of {{.Received}}: deadline extended{{end}}
{{define "answer_extended_en"}}
Hello,

On {{.Received}} you asked for {{.Kind}}. We cannot answer it fully within one month and therefore extend the deadline by two months, to {{.ExtendedDue}} (Art. 12(3), second and third sentences, GDPR).

Reason for the delay: {{.Reason}}

You have the right to lodge a complaint with a data-protection supervisory authority (Art. 77 GDPR) and to seek a judicial remedy (Art. 79 GDPR).

Kind regards
Data protection{{if .DPO}} ({{.DPO}}){{end}}

Reference: {{.ID}}
{{end}}
`))
