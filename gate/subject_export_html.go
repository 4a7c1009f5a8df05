package gate

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"tresor"
)

// The readable rendering of the export: one self-contained HTML document in
// the person's language (German or English), with its styles inline and no
// external resource, laid out to print to PDF.

// subjectExportValues name the codes the document shows, by language; a
// code without a name here is shown as it is.
var subjectExportValues = map[string]map[string]string{
	"de": {
		"access": "Auskunft (Art. 15)", "portability": "Datenübertragbarkeit (Art. 20)",
		"consent": "Einwilligung (Art. 6(1)(a))", "contract": "Vertrag (Art. 6(1)(b))",
		"legal_obligation": "rechtliche Pflicht (Art. 6(1)(c))", "legitimate_interest": "berechtigtes Interesse (Art. 6(1)(f))",
		"manual": "von uns erfasst", "web_form": "Webformular", "import": "Import einer Datei", "connector": "soziales Netzwerk",
		"third_party": "von Dritten mitgeteilt",
		"note":        "Notiz", "email": "E-Mail", "call": "Anruf", "meeting": "Treffen", "social_message": "Nachricht in sozialem Netzwerk",
		"inbound": "von Ihnen", "outbound": "an Sie", "internal": "intern",
		"open": "offen", "done": "erledigt", "new": "neu", "pending": "wartet", "resolved": "gelöst", "closed": "geschlossen",
		"grant": "erteilt", "withdraw": "widerrufen", "granted": "erteilt", "withdrawn": "widerrufen",
		"allow": "erlaubt", "refuse": "verweigert", "error": "Fehler",
		"staff": "Mitarbeitende", "system": "System", "link": "Sie selbst (Link)",
	},
	"en": {
		"access": "access (Art. 15)", "portability": "portability (Art. 20)",
		"consent": "consent (Art. 6(1)(a))", "contract": "contract (Art. 6(1)(b))",
		"legal_obligation": "legal obligation (Art. 6(1)(c))", "legitimate_interest": "legitimate interest (Art. 6(1)(f))",
		"manual": "entered by us", "web_form": "web form", "import": "file import", "connector": "social network",
		"third_party": "told by a third party",
		"note":        "note", "email": "e-mail", "call": "call", "meeting": "meeting", "social_message": "social network message",
		"inbound": "from you", "outbound": "to you", "internal": "internal",
		"allow": "allowed", "refuse": "refused",
		"staff": "staff", "link": "you (by a link)",
	},
}

// subjectExportLabels are the texts of the document, by language.
var subjectExportLabels = map[string]map[string]string{
	"de": {
		"title":   "Auskunft über Ihre personenbezogenen Daten",
		"intro":   "Diese Auskunft beantwortet Ihren Antrag nach Art. 15 und Art. 20 DSGVO. Sie enthält alle Daten, die wir in unserem Kundenbeziehungssystem über Sie speichern, woher sie stammen, wofür und auf welcher Rechtsgrundlage wir sie verarbeiten, wie lange wir sie aufbewahren und wann welche Rollen in unserem Haus sie gelesen oder geändert haben. Die gleichen Daten liegen maschinenlesbar als JSON bei.",
		"request": "Antrag", "kind": "Art", "received": "Eingegangen am", "generated": "Erstellt am",
		"contacts": "Stammdaten", "name": "Name", "emails": "E-Mail-Adressen", "phones": "Telefonnummern",
		"postal": "Postanschrift", "handles": "Profile in sozialen Netzwerken", "organization": "Organisation",
		"position": "Position", "language": "Bevorzugte Sprache", "tags": "Schlagwörter", "created": "Angelegt am",
		"updated": "Zuletzt geändert", "restricted": "Verarbeitung eingeschränkt seit", "objected": "Widerspruch gegen Werbung seit",
		"archived": "Archiviert seit", "last": "Letzter Kontakt",
		"provenance": "Herkunft, Zwecke und Rechtsgrundlagen", "fields": "Felder", "purpose": "Zweck", "basis": "Rechtsgrundlage",
		"source": "Quelle", "collected": "Erhoben am", "note": "Abwägung",
		"interactions": "Kontakte und Nachrichten", "when": "Zeitpunkt", "what": "Art", "direction": "Richtung",
		"subject": "Betreff", "body": "Inhalt",
		"cases": "Serviceanfragen", "status": "Status", "description": "Beschreibung",
		"deals": "Geschäfte", "title_": "Titel", "stage": "Phase", "value": "Wert", "closed": "Abgeschlossen am",
		"tasks": "Aufgaben", "due": "Fällig", "state": "Stand",
		"consents": "Einwilligungen", "channel": "Kanal", "action": "Vorgang", "method": "Verfahren", "by": "Erfasst durch",
		"consent_states": "Aktueller Stand der Einwilligungen", "since": "Seit",
		"notices": "Informationen nach Art. 14 DSGVO", "sent": "Versandt am",
		"recipients": "Empfänger und Kanäle", "channels": "Kanäle, über die wir Sie erreicht haben", "mails": "An Sie gesandte E-Mails",
		"retention": "Speicherdauer", "category": "Kategorie", "period": "Dauer", "until": "Voraussichtlich bis",
		"days": "Tage nach dem letzten Kontakt", "statutory": "gesetzliche Aufbewahrung",
		"access": "Zugriffe auf Ihre Daten", "access_intro": "Wer in unserem Haus Ihre Daten gelesen oder geändert hat, nach Rolle und Zweck (nicht nach Namen der Mitarbeitenden).",
		"roles": "Rollen", "decision": "Entscheidung", "none": "Keine Einträge.",
		"footer": "Bei Fragen wenden Sie sich an unseren Datenschutz. Sie haben das Recht, sich bei einer Aufsichtsbehörde zu beschweren (Art. 77 DSGVO).",
	},
	"en": {
		"title":   "Your personal data: access",
		"intro":   "This document answers your request under Art. 15 and Art. 20 GDPR. It holds all data our customer relationship system stores about you, where it came from, for which purposes and on which legal basis we process it, how long we keep it, and when which roles in our company read or changed it. The same data comes as machine-readable JSON alongside.",
		"request": "Request", "kind": "Kind", "received": "Received on", "generated": "Made on",
		"contacts": "Your details", "name": "Name", "emails": "E-mail addresses", "phones": "Phone numbers",
		"postal": "Postal address", "handles": "Social network profiles", "organization": "Organization",
		"position": "Position", "language": "Preferred language", "tags": "Tags", "created": "Created on",
		"updated": "Last changed", "restricted": "Processing restricted since", "objected": "Objected to marketing since",
		"archived": "Archived since", "last": "Last interaction",
		"provenance": "Source, purposes and legal bases", "fields": "Fields", "purpose": "Purpose", "basis": "Legal basis",
		"source": "Source", "collected": "Collected on", "note": "Balancing of interests",
		"interactions": "Interactions and messages", "when": "When", "what": "Kind", "direction": "Direction",
		"subject": "Subject", "body": "Content",
		"cases": "Service cases", "status": "Status", "description": "Description",
		"deals": "Deals", "title_": "Title", "stage": "Stage", "value": "Value", "closed": "Closed on",
		"tasks": "Tasks", "due": "Due", "state": "State",
		"consents": "Consents", "channel": "Channel", "action": "Action", "method": "Method", "by": "Recorded by",
		"consent_states": "Consent as it stands", "since": "Since",
		"notices": "Information under Art. 14 GDPR", "sent": "Sent on",
		"recipients": "Recipients and channels", "channels": "Channels we reached you through", "mails": "E-mails sent to you",
		"retention": "How long we keep your data", "category": "Category", "period": "Period", "until": "Expected until",
		"days": "days after the last interaction", "statutory": "kept by law",
		"access": "Access to your data", "access_intro": "Who in our company read or changed your data, by role and purpose (not by the names of staff).",
		"roles": "Roles", "decision": "Decision", "none": "No entries.",
		"footer": "If you have questions, contact our data protection officer. You have the right to lodge a complaint with a supervisory authority (Art. 77 GDPR).",
	},
}

var subjectExportTemplate = template.Must(template.New("export").Funcs(template.FuncMap{
	"day": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.Format("2006-01-02")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.Format("2006-01-02")
		}
		return ""
	},
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"join":  strings.Join,
}).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #333;padding-bottom:.2rem}
h3{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #999;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}td.text{white-space:pre-wrap}
dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.meta{color:#444}.none{color:#555;font-style:italic}
footer{margin-top:2rem;border-top:1px solid #999;padding-top:.5rem;font-size:.9rem}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}tr,dl{break-inside:avoid}@page{size:A4;margin:18mm}}
</style>
</head>
<body>
<header>
<h1>{{.L.title}}</h1>
<p class="meta">{{.L.request}} {{.X.Request.ID}} · {{.L.kind}}: {{$.V .X.Request.Kind}} · {{.L.received}} {{.X.Request.ReceivedAt}} · {{.L.generated}} {{stamp .X.GeneratedAt}}</p>
<p>{{.L.intro}}</p>
</header>
<main>
<section><h2>{{.L.contacts}}</h2>
{{range .X.Contacts}}<dl>
<dt>{{$.L.name}}</dt><dd>{{.GivenName}} {{.FamilyName}}</dd>
<dt>{{$.L.emails}}</dt><dd>{{join .Emails ", "}}</dd>
<dt>{{$.L.phones}}</dt><dd>{{join .Phones ", "}}</dd>
{{with .PostalAddress}}<dt>{{$.L.postal}}</dt><dd>{{.Street}}, {{.PostalCode}} {{.City}}{{if .Region}}, {{.Region}}{{end}}, {{.Country}}</dd>{{end}}
{{if .SocialHandles}}<dt>{{$.L.handles}}</dt><dd>{{range $i, $h := .SocialHandles}}{{if $i}}, {{end}}{{$h.Network}}: {{$h.Handle}}{{end}}</dd>{{end}}
{{if .Organization}}<dt>{{$.L.organization}}</dt><dd>{{.Organization}}</dd>{{end}}
{{if .Position}}<dt>{{$.L.position}}</dt><dd>{{.Position}}</dd>{{end}}
{{if .PreferredLanguage}}<dt>{{$.L.language}}</dt><dd>{{.PreferredLanguage}}</dd>{{end}}
{{if .Tags}}<dt>{{$.L.tags}}</dt><dd>{{join .Tags ", "}}</dd>{{end}}
<dt>{{$.L.created}}</dt><dd>{{day .CreatedAt}}</dd>
<dt>{{$.L.updated}}</dt><dd>{{day .UpdatedAt}}</dd>
{{if .LastInteractionAt}}<dt>{{$.L.last}}</dt><dd>{{day .LastInteractionAt}}</dd>{{end}}
{{if .RestrictedAt}}<dt>{{$.L.restricted}}</dt><dd>{{day .RestrictedAt}}</dd>{{end}}
{{if .ObjectedAt}}<dt>{{$.L.objected}}</dt><dd>{{day .ObjectedAt}}</dd>{{end}}
{{if .ArchivedAt}}<dt>{{$.L.archived}}</dt><dd>{{day .ArchivedAt}}</dd>{{end}}
</dl>
<h3>{{$.L.provenance}}</h3>
{{if .Provenance}}<table><thead><tr><th>{{$.L.fields}}</th><th>{{$.L.purpose}}</th><th>{{$.L.basis}}</th><th>{{$.L.source}}</th><th>{{$.L.collected}}</th></tr></thead><tbody>
{{range .Provenance}}<tr><td>{{join .Fields ", "}}</td><td>{{$.Purpose .Purpose}}</td><td>{{$.V .LegalBasis}}{{if .BalancingNote}}<br>{{$.L.note}}: {{.BalancingNote}}{{end}}</td><td>{{$.V .Source}}{{if .Network}} ({{.Network}}){{end}}</td><td>{{day .CollectedAt}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{$.L.none}}</p>{{end}}
{{end}}</section>

<section><h2>{{.L.interactions}}</h2>
{{if .X.Interactions}}<table><thead><tr><th>{{.L.when}}</th><th>{{.L.what}}</th><th>{{.L.direction}}</th><th>{{.L.subject}}</th><th>{{.L.body}}</th><th>{{.L.purpose}}</th></tr></thead><tbody>
{{range .X.Interactions}}<tr><td>{{stamp .OccurredAt}}</td><td>{{$.V .Kind}}{{if .Network}} ({{.Network}}){{end}}</td><td>{{$.V .Direction}}</td><td>{{.Subject}}</td><td class="text">{{.Body}}</td><td>{{$.Purpose .Purpose}}{{if .LegalBasis}}<br>{{$.V .LegalBasis}}{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.cases}}</h2>
{{if .X.Cases}}<table><thead><tr><th>{{.L.created}}</th><th>{{.L.subject}}</th><th>{{.L.status}}</th><th>{{.L.channel}}</th><th>{{.L.description}}</th></tr></thead><tbody>
{{range .X.Cases}}<tr><td>{{day .CreatedAt}}</td><td>{{.Subject}}</td><td>{{$.V .Status}}</td><td>{{$.V .Channel}}{{if .Sender}} ({{.Sender}}){{end}}</td><td class="text">{{.Description}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.deals}}</h2>
{{if .X.Deals}}<table><thead><tr><th>{{.L.created}}</th><th>{{.L.title_}}</th><th>{{.L.stage}}</th><th>{{.L.value}}</th><th>{{.L.closed}}</th></tr></thead><tbody>
{{range .X.Deals}}<tr><td>{{day .CreatedAt}}</td><td>{{.Title}}</td><td>{{.Stage}}</td><td>{{.Value}} {{.Currency}}</td><td>{{day .ClosedAt}}{{if .OutcomeReason}} — {{.OutcomeReason}}{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.tasks}}</h2>
{{if .X.Tasks}}<table><thead><tr><th>{{.L.due}}</th><th>{{.L.title_}}</th><th>{{.L.state}}</th><th>{{.L.body}}</th></tr></thead><tbody>
{{range .X.Tasks}}<tr><td>{{.Due}}</td><td>{{.Title}}</td><td>{{$.V .State}}</td><td class="text">{{.Note}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.consents}}</h2>
{{if .X.ConsentState}}<h3>{{.L.consent_states}}</h3><table><thead><tr><th>{{.L.purpose}}</th><th>{{.L.channel}}</th><th>{{.L.state}}</th><th>{{.L.since}}</th></tr></thead><tbody>
{{range .X.ConsentState}}<tr><td>{{$.Purpose .Purpose}}</td><td>{{.Channel}}</td><td>{{$.V .State}}</td><td>{{day .Since}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .X.Consents}}<table><thead><tr><th>{{.L.when}}</th><th>{{.L.purpose}}</th><th>{{.L.channel}}</th><th>{{.L.action}}</th><th>{{.L.method}}</th><th>{{.L.by}}</th></tr></thead><tbody>
{{range .X.Consents}}<tr><td>{{stamp .At}}</td><td>{{$.Purpose .Purpose}}</td><td>{{.Channel}}</td><td>{{$.V .Action}}</td><td>{{.Method}}{{if .IP}} ({{.IP}}){{end}}</td><td>{{$.V .RecordedBy}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.notices}}</h2>
{{if .X.Notices}}<table><thead><tr><th>{{.L.source}}</th><th>{{.L.purpose}}</th><th>{{.L.created}}</th><th>{{.L.due}}</th><th>{{.L.sent}}</th></tr></thead><tbody>
{{range .X.Notices}}<tr><td>{{.Source}}{{if .Network}} ({{.Network}}){{end}}</td><td>{{$.Purpose .Purpose}}</td><td>{{day .CreatedAt}}</td><td>{{day .DueAt}}</td><td>{{day .SentAt}}{{if .Channel}} ({{.Channel}}){{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.recipients}}</h2>
<h3>{{.L.channels}}</h3>{{if .X.Recipients.Channels}}<p>{{join .X.Recipients.Channels ", "}}</p>{{else}}<p class="none">{{.L.none}}</p>{{end}}
<h3>{{.L.mails}}</h3>{{if .X.Recipients.MailsSent}}<table><thead><tr><th>{{.L.when}}</th><th>{{.L.subject}}</th></tr></thead><tbody>
{{range .X.Recipients.MailsSent}}<tr><td>{{stamp .At}}</td><td>{{.Subject}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.retention}}</h2>
{{if .X.Retention}}<table><thead><tr><th>{{.L.category}}</th><th>{{.L.purpose}}</th><th>{{.L.period}}</th><th>{{.L.until}}</th></tr></thead><tbody>
{{range .X.Retention}}<tr><td>{{$.Category .Category}}</td><td>{{$.Purpose .Purpose}}</td><td>{{if eq .Rule "statutory"}}{{$.L.statutory}} ({{.Law}}){{else}}{{.Days}} {{$.L.days}}{{end}}</td><td>{{day .Until}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>

<section><h2>{{.L.access}}</h2>
<p>{{.L.access_intro}}</p>
{{if .X.AccessLog}}<table><thead><tr><th>{{.L.when}}</th><th>{{.L.action}}</th><th>{{.L.purpose}}</th><th>{{.L.roles}}</th><th>{{.L.decision}}</th></tr></thead><tbody>
{{range .X.AccessLog}}<tr><td>{{stamp .At}}</td><td>{{.Action}}</td><td>{{$.Purpose .Purpose}}</td><td>{{if .Roles}}{{join .Roles ", "}}{{else}}{{$.V .ActorKind}}{{end}}</td><td>{{$.V .Decision}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="none">{{.L.none}}</p>{{end}}
</section>
</main>
<footer><p>{{.L.footer}}</p></footer>
</body>
</html>
`))

// subjectExportPage is what the template renders.
type subjectExportPage struct {
	Lang     string
	L        map[string]string
	X        *tresor.SubjectExport
	purposes map[string]string
	cats     map[tresor.Category]string
}

// Purpose names a purpose in the document's language.
func (p *subjectExportPage) Purpose(id string) string {
	if n, ok := p.purposes[id]; ok {
		return n
	}
	return id
}

// V names a code in the document's language.
func (p *subjectExportPage) V(code any) string {
	c := fmt.Sprint(code)
	if n, ok := subjectExportValues[p.Lang][c]; ok {
		return n
	}
	return c
}

// Category names a category in the document's language.
func (p *subjectExportPage) Category(c tresor.Category) string {
	if n, ok := p.cats[c]; ok {
		return n
	}
	return string(c)
}

// subjectExportHTML renders the readable document.
func (g *Gate) subjectExportHTML(x *tresor.SubjectExport) ([]byte, error) {
	lang := x.Language
	if _, ok := subjectExportLabels[lang]; !ok {
		lang = "de"
	}
	page := &subjectExportPage{Lang: lang, L: subjectExportLabels[lang], X: x, purposes: map[string]string{},
		cats: map[tresor.Category]string{}}
	for _, pu := range g.policy.Purposes {
		page.purposes[pu.ID] = pu.NameEN
		if lang == "de" {
			page.purposes[pu.ID] = pu.NameDE
		}
	}
	for _, c := range g.policy.Categories {
		page.cats[c.ID] = c.EN
		if lang == "de" {
			page.cats[c.ID] = c.DE
		}
	}
	var b bytes.Buffer
	if err := subjectExportTemplate.Execute(&b, page); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
