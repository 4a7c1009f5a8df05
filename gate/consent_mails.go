package gate

import (
	"bytes"
	"strings"
	"text/template"

	"tresor"
	"tresor/policy"
)

// mailLanguage is the language to write to a person in: German unless their
// preferred language is another one Tresor writes (English).
func mailLanguage(c *tresor.Contact) string {
	if l := strings.ToLower(c.PreferredLanguage); l != "" && !strings.HasPrefix(l, "de") {
		return "en"
	}
	return "de"
}

// mailTemplates are the texts of the mails Tresor writes itself, in German and English.
var mailTemplates = template.Must(template.New("mails").Parse(`
{{define "confirm_subject_de"}}Bitte bestätigen Sie Ihre Einwilligung{{end}}
{{define "confirm_subject_en"}}Please confirm your consent{{end}}
{{define "confirm_de"}}Guten Tag{{if .Name}} {{.Name}}{{end}},

Sie haben eingewilligt, dass wir Sie für den Zweck „{{.Purpose}}“ per E-Mail
kontaktieren. Bitte bestätigen Sie das mit diesem Link (gültig bis {{.Expires}}):

{{.Link}}

Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; ohne Bestätigung
schreiben wir Ihnen nicht. Ihre Einwilligung können Sie jederzeit widerrufen.
{{end}}
{{define "confirm_en"}}Hello{{if .Name}} {{.Name}}{{end}},

You agreed that we may contact you by e-mail for the purpose "{{.Purpose}}".
Please confirm this with the link below (valid until {{.Expires}}):

{{.Link}}

If this was not you, ignore this e-mail; without confirmation we will not write
to you. You can withdraw your consent at any time.
{{end}}
{{define "account_welcome_subject"}}Ihr Zugang zu Tresor / Your Tresor account{{end}}
{{define "account_welcome_de"}}Guten Tag,

für Sie wurde ein Zugang zu Tresor angelegt. Wählen Sie Ihr Passwort mit
diesem Link (einmal gültig, bis {{.Expires}}):

{{.Link}}

Der Link ist nur für Sie bestimmt; niemand sonst hat ihn erhalten.
{{end}}
{{define "account_welcome_en"}}Hello,

an account at Tresor was created for you. Choose your password with this
link (it works once, until {{.Expires}}):

{{.Link}}

The link is meant for you alone; nobody else received it.
{{end}}
{{define "account_reset_subject"}}Neues Passwort für Tresor / New Tresor password{{end}}
{{define "account_reset_de"}}Guten Tag,

für Ihren Zugang zu Tresor wurde ein neues Passwort angefordert. Setzen Sie
es mit diesem Link (einmal gültig, bis {{.Expires}}):

{{.Link}}

Wenn Sie kein neues Passwort brauchen, ignorieren Sie diese E-Mail; Ihr
bisheriges Passwort bleibt gültig.
{{end}}
{{define "account_reset_en"}}Hello,

a new password was requested for your Tresor account. Set it with this link
(it works once, until {{.Expires}}):

{{.Link}}

If you need no new password, ignore this e-mail; your password stays as it is.
{{end}}
{{define "account_password_changed_subject"}}Ihr Tresor-Passwort wurde geändert / Your Tresor password was changed{{end}}
{{define "account_password_changed_de"}}Guten Tag,

das Passwort Ihres Zugangs zu Tresor wurde am {{.At}} geändert; Ihre
anderen Sitzungen wurden beendet.

Wenn Sie das nicht waren, melden Sie es sofort Ihrer Administration und
dem oder der Datenschutzbeauftragten.
{{end}}
{{define "account_password_changed_en"}}Hello,

the password of your Tresor account was changed at {{.At}}; your other
sessions were ended.

If this was not you, tell your administrator and the data-protection
officer at once.
{{end}}
{{define "account_mfa_enabled_subject"}}Zweiter Faktor für Tresor eingerichtet / Second factor set up for Tresor{{end}}
{{define "account_mfa_enabled_de"}}Guten Tag,

für Ihren Zugang zu Tresor wurde am {{.At}} ein zweiter Faktor (TOTP)
eingerichtet.

Wenn Sie das nicht waren, melden Sie es sofort Ihrer Administration und
dem oder der Datenschutzbeauftragten.
{{end}}
{{define "account_mfa_enabled_en"}}Hello,

a second factor (TOTP) was set up for your Tresor account at {{.At}}.

If this was not you, tell your administrator and the data-protection
officer at once.
{{end}}
{{define "footer_de"}}

--
Sie erhalten diese E-Mail, weil Sie eingewilligt haben. Abmelden mit einem Klick:
{{.Link}}
{{end}}
{{define "footer_en"}}

--
You receive this e-mail because you consented. Unsubscribe with one click:
{{.Link}}
{{end}}
`))

func render(name string, data any) string {
	var b bytes.Buffer
	if err := mailTemplates.ExecuteTemplate(&b, name, data); err != nil {
		panic(err) // the templates are fixed and checked by the tests
	}
	return strings.TrimLeft(b.String(), "\n")
}

func displayName(c *tresor.Contact) string {
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// confirmationMail asks a person to confirm a consent (double opt-in).
func (g *Gate) confirmationMail(c *tresor.Contact, purpose, secret string) *tresor.Mail {
	lang := mailLanguage(c)
	name := purpose
	if pu, ok := g.policy.Purpose(purpose); ok {
		name = pu.NameEN
		if lang == "de" {
			name = pu.NameDE
		}
	}
	expires := g.now().AddDate(0, 0, g.policy.Consent.ConfirmationDays).Format("2006-01-02")
	data := map[string]string{"Name": displayName(c), "Purpose": name, "Expires": expires,
		"Link": g.publicURL + "/consent/confirm?token=" + secret}
	return &tresor.Mail{To: c.Emails[0], Subject: render("confirm_subject_"+lang, nil), Text: render("confirm_"+lang, data)}
}

// campaignMail is a campaign's message for one person, with the one-click
// withdrawal link in its text and in its List-Unsubscribe headers (RFC 8058).
func (g *Gate) campaignMail(c *tresor.Contact, m *tresor.Campaign) *tresor.Mail {
	lang := mailLanguage(c)
	subject, body := m.Content.SubjectDE, m.Content.BodyDE
	if (lang == "en" && m.Content.SubjectEN != "") || subject == "" {
		subject, body, lang = m.Content.SubjectEN, m.Content.BodyEN, "en"
	}
	// Consent to advertising is consent to marketing, whichever purpose sends.
	link := g.publicURL + "/consent/withdraw?token=" + g.withdrawSecret(c.ID, policy.AdvertisingConsentPurpose, m.Channel)
	return &tresor.Mail{To: c.Emails[0], Subject: subject,
		Text:    strings.TrimRight(body, "\n") + render("footer_"+lang, map[string]string{"Link": link}),
		Headers: map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
}
