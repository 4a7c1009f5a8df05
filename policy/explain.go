package policy

import (
	"fmt"

	"tresor"
)

// The reason codes. Codes that are also error codes are tresor.Code values.
const (
	RPurposeMissing     = string(tresor.ECPurposeMissing)
	RPurposeUnknown     = string(tresor.ECPurposeUnknown)
	RTokenPurpose       = string(tresor.ECPurposeNotAllowed) + ":token"
	RRolePurpose        = string(tresor.ECPurposeNotAllowed) + ":role"
	RNoPurposeRoles     = string(tresor.ECPurposeNotAllowed) + ":none"
	RAggregatesOnly     = string(tresor.ECAggregatesOnly)
	RListening          = string(tresor.ECPurposeNotAllowed) + ":listening"
	RBasisMissing       = string(tresor.ECBasisMissing)
	RBasisUnknown       = string(tresor.ECBasisUnknown)
	RBasisNotAllowed    = string(tresor.ECBasisNotAllowed)
	RBalancingNote      = string(tresor.ECBalancingNote)
	RCategoryNotAllowed = string(tresor.ECCategoryNotAllowed)
	RSpecialCategory    = string(tresor.ECSpecialCategory)
	RRestricted         = string(tresor.ECRestricted)
	RSuppressed         = string(tresor.ECSuppressed)
	RNotPublic          = string(tresor.ECNotPublic)
	RDamaged            = string(tresor.ECDamaged)
	RErased             = string(tresor.ECErased)
	RLegalHold          = string(tresor.ECLegalHold)
	RArchived           = string(tresor.ECArchived)
	RReasonUnsafe       = string(tresor.ECReasonUnsafe)
	RDataProtectionOnly = string(tresor.ECForbidden) + ":data_protection"
	RPublishing         = string(tresor.ECForbidden) + ":publishing"
	RServiceOnly        = string(tresor.ECForbidden) + ":service"
	RDeleteWithheld     = string(tresor.ECForbidden) + ":withheld"

	// Answers of the outbound gate and reasons of audience exclusion.
	RConsentGranted     = "consent_granted"
	RConsentMissing     = "consent_missing"
	RConsentPending     = "consent_pending"
	RConsentWithdrawn   = "consent_withdrawn"
	RConsentExpired     = "consent_expired"
	RObjected           = "objected"
	RNoAddress          = "no_address"
	RNoOutbound         = "purpose_no_outbound"
	RReplyInbound       = "reply_in_conversation"
	RReplyContract      = "reply_under_contract"
	RNoConversation     = "no_conversation"
	RAdvertisingInReply = "advertising_in_reply"
	// One-off e-mail (issue [2.3]): the kind the sender chose has no ground.
	RReplyWithoutConversation = string(tresor.ECReplyWithoutConversation)
	RNoContract               = string(tresor.ECNoContract)
	// Social listening under differential privacy (R10).
	RPrivacyBudget = string(tresor.ECPrivacyBudget)
)

// texts holds English and German templates; fmt verbs take the arguments of Explain.
var texts = map[string][2]string{
	RPurposeMissing: {"Declare the purpose of this request in the header Tresor-Purpose (one of %s).",
		"Geben Sie den Zweck dieser Anfrage im Header Tresor-Purpose an (einer von %s)."},
	RPurposeUnknown: {"The purpose %q is not defined; the purposes are %s.",
		"Den Zweck %q gibt es nicht; die Zwecke sind %s."},
	RTokenPurpose: {"This API token was not given the purpose %q; it may declare only %s.",
		"Dieses API-Token wurde nicht für den Zweck %q ausgestellt; es darf nur %s angeben."},
	RRolePurpose: {"Your roles do not allow the purpose %q; they allow %s.",
		"Ihre Rollen erlauben den Zweck %q nicht; sie erlauben %s."},
	RNoPurposeRoles: {"Your roles allow no purpose that reaches personal data (separation of duties).",
		"Ihre Rollen erlauben keinen Zweck, der personenbezogene Daten erreicht (Funktionstrennung)."},
	RListening: {"The purpose %q may not listen to social networks; the policy allows listening for: %s (R10).",
		"Der Zweck %q darf soziale Netzwerke nicht beobachten; die Richtlinie erlaubt Social Listening für: %s (R10)."},
	RPrivacyBudget: {"The privacy budget of this listening topic is spent: ε %s of %s is used, and a read spends %s. " +
		"Under differential privacy every published answer reveals a little about the people counted, so each read spends part of " +
		"the topic's budget, and no figures are published once it is spent (R10). The budget may be raised up to ε %s (policy listening.dp_epsilon_budget_max).",
		"Das Datenschutzbudget dieses Listening-Themas ist verbraucht: ε %s von %s sind verbraucht, und eine Abfrage verbraucht %s. " +
			"Mit Differential Privacy verrät jede veröffentlichte Antwort ein wenig über die gezählten Personen; darum verbraucht jede Abfrage " +
			"einen Teil des Budgets des Themas, und ist es verbraucht, werden keine Zahlen mehr veröffentlicht (R10). Das Budget kann bis ε %s erhöht werden (Richtlinie listening.dp_epsilon_budget_max)."},
	RAggregatesOnly: {"The purpose %q sees only aggregates over groups, never a single person's record (R10).",
		"Der Zweck %q sieht nur Auswertungen über Gruppen, nie den Datensatz einer einzelnen Person (R10)."},
	RBasisMissing: {"Personal data for the purpose %q needs a legal basis (Art. 6(1) GDPR); allowed are: %s.",
		"Personenbezogene Daten für den Zweck %q brauchen eine Rechtsgrundlage (Art. 6 Abs. 1 DSGVO); zulässig sind: %s."},
	RBasisUnknown: {"%q is not a legal basis; the legal bases are %s.",
		"%q ist keine Rechtsgrundlage; die Rechtsgrundlagen sind %s."},
	RBasisNotAllowed: {"The legal basis %q is not allowed for the purpose %q; allowed are: %s.",
		"Die Rechtsgrundlage %q ist für den Zweck %q nicht zulässig; zulässig sind: %s."},
	RBalancingNote: {"Legitimate interest (Art. 6(1)(f) GDPR) needs a recorded balancing of interests: send a balancing_note.",
		"Berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO) braucht eine dokumentierte Interessenabwägung: senden Sie eine balancing_note."},
	RCategoryNotAllowed: {"The purpose %[2]q may not store %[1]s (data minimisation, Art. 5(1)(c) GDPR); it may store: %[3]s.",
		"Der Zweck %[2]q darf %[1]s nicht speichern (Datenminimierung, Art. 5 Abs. 1 lit. c DSGVO); er darf speichern: %[3]s."},
	RSpecialCategory: {"%s is a special category of personal data (Art. 9 GDPR); the purpose %q names no Art. 9(2) exception, so it is never stored.",
		"%s ist eine besondere Kategorie personenbezogener Daten (Art. 9 DSGVO); der Zweck %q nennt keine Ausnahme nach Art. 9 Abs. 2, daher wird sie nie gespeichert."},
	RRestricted: {"The processing of this person's data is restricted (Art. 18 GDPR); only the data-protection officer may see it.",
		"Die Verarbeitung der Daten dieser Person ist eingeschränkt (Art. 18 DSGVO); nur die oder der Datenschutzbeauftragte darf sie sehen."},
	RNotPublic: {"Only publicly visible data is taken from social networks (R9); data visible to %s is refused.",
		"Aus sozialen Netzwerken werden nur öffentlich sichtbare Daten übernommen (R9); für %s sichtbare Daten werden abgelehnt."},
	RDamaged: {"The stored %s %s does not decrypt: its bytes were changed or its key is missing. Restore it from a backup (tresor backup restore).",
		"Der gespeicherte Datensatz (%s %s) lässt sich nicht entschlüsseln: Seine Bytes wurden verändert oder sein Schlüssel fehlt. Stellen Sie ihn aus einer Sicherung wieder her (tresor backup restore)."},
	RErased: {"The contact %s was erased on %s (Art. 17 GDPR); only a tombstone without personal data is left.",
		"Der Kontakt %s wurde am %s gelöscht (Art. 17 DSGVO); nur ein Grabstein ohne personenbezogene Daten ist geblieben."},
	RLegalHold: {"A legal hold keeps this contact (Art. 17(3)(e) GDPR: %s); release the hold first.",
		"Eine Aufbewahrungssperre hält diesen Kontakt (Art. 17 Abs. 3 lit. e DSGVO: %s); heben Sie die Sperre zuerst auf."},
	RArchived: {"The customer relation was closed on %s: its records are archived, read-only and visible only under the purpose data_protection until their retention ends.",
		"Die Kundenbeziehung wurde am %s beendet: Ihre Datensätze sind archiviert, schreibgeschützt und nur unter dem Zweck data_protection sichtbar, bis ihre Aufbewahrungsfrist endet."},
	RDataProtectionOnly: {"Erasure requests and legal holds are data-protection duties: declare a purpose that sees restricted contacts (data_protection), not %q.",
		"Löschanträge und Aufbewahrungssperren sind Aufgaben des Datenschutzes: Geben Sie einen Zweck an, der eingeschränkte Kontakte sieht (data_protection), nicht %q."},
	RDeleteWithheld: {"The purpose %q may not see %s in this record, so it may not delete it: a purpose deletes only what it may read; the record belongs to another purpose.",
		"Der Zweck %q darf %s in diesem Datensatz nicht sehen und ihn daher nicht löschen: Ein Zweck löscht nur, was er lesen darf; der Datensatz gehört zu einem anderen Zweck."},
	RPublishing: {"Posts on the company's channels speak for the company to the public: declare a purpose that advertises (marketing, pr, sales), not %q.",
		"Beiträge auf den Kanälen des Unternehmens sprechen öffentlich für das Unternehmen: Geben Sie einen Zweck an, der wirbt (marketing, pr, sales), nicht %q."},
	RServiceOnly: {"Reading the messages people send to the company is service work: declare a purpose that answers people (service), not %q.",
		"Die Nachrichten zu lesen, die Menschen dem Unternehmen schicken, ist Aufgabe des Kundenservice: Geben Sie einen Zweck an, der Menschen antwortet (service), nicht %q."},
	RReasonUnsafe: {"The reason repeats the person's %s; the erasure journal keeps no personal data, so describe the request without it (e.g. a ticket number).",
		"Die Begründung wiederholt %s der Person; das Löschprotokoll enthält keine personenbezogenen Daten, beschreiben Sie den Antrag daher ohne sie (z. B. mit einer Vorgangsnummer)."},
	RSuppressed: {"This person objected to the use of their data for marketing (Art. 21 GDPR); their identifiers are on the suppression list.",
		"Diese Person hat der Nutzung ihrer Daten für Werbung widersprochen (Art. 21 DSGVO); ihre Kennungen stehen auf der Sperrliste."},
	RConsentGranted: {"The person consented to %s on this channel (%s).",
		"Die Person hat in %s über diesen Kanal eingewilligt (%s)."},
	RConsentMissing: {"Advertising by %[1]s needs the person's prior consent (§7 UWG, Art. 6(1)(a) GDPR); there is none for %[2]s.",
		"Werbung über %[1]s braucht eine vorherige Einwilligung der Person (§7 UWG, Art. 6 Abs. 1 lit. a DSGVO); für %[2]s liegt keine vor."},
	RConsentPending: {"The person has not yet confirmed their consent to %s (double opt-in pending).",
		"Die Person hat ihre Einwilligung in %s noch nicht bestätigt (Double-Opt-in ausstehend)."},
	RConsentWithdrawn: {"The person withdrew their consent to %s (Art. 7(3) GDPR).",
		"Die Person hat ihre Einwilligung in %s widerrufen (Art. 7 Abs. 3 DSGVO)."},
	RConsentExpired: {"The consent to %s has lapsed after %d days without any interaction; ask again.",
		"Die Einwilligung in %s ist nach %d Tagen ohne Kontakt erloschen; fragen Sie erneut."},
	RObjected: {"The person objected to processing for marketing (Art. 21(2) GDPR).",
		"Die Person hat der Verarbeitung für Werbung widersprochen (Art. 21 Abs. 2 DSGVO)."},
	RNoAddress: {"Tresor holds no address of this person for %s.",
		"Tresor hat keine Adresse dieser Person für %s."},
	RNoOutbound: {"The purpose %q never contacts people.",
		"Der Zweck %q nimmt nie Kontakt zu Personen auf."},
	RReplyInbound: {"A reply in a conversation the person started on this channel, without advertising (Art. 6(1)(b) or (f) GDPR).",
		"Eine Antwort in einem Gespräch, das die Person über diesen Kanal begonnen hat, ohne Werbung (Art. 6 Abs. 1 lit. b oder f DSGVO)."},
	RReplyContract: {"A message under the person's contract or a legal obligation, without advertising (Art. 6(1)(b) or (c) GDPR).",
		"Eine Nachricht im Rahmen des Vertrags der Person oder einer rechtlichen Pflicht, ohne Werbung (Art. 6 Abs. 1 lit. b oder c DSGVO)."},
	RNoConversation: {"The purpose %q only answers: the person has started no conversation on this channel, and there is no contract with them.",
		"Der Zweck %q antwortet nur: Die Person hat über diesen Kanal kein Gespräch begonnen, und es besteht kein Vertrag mit ihr."},
	RAdvertisingInReply: {"Advertising content turns a reply into advertising, which needs consent (§7 UWG).",
		"Werbliche Inhalte machen aus einer Antwort Werbung, die eine Einwilligung braucht (§7 UWG)."},
	RReplyWithoutConversation: {"A reply needs a conversation the person started: they have not written to the company by e-mail and have no service case. Without it, a mail is advertising (needs consent) or must rest on a contract.",
		"Eine Antwort setzt ein Gespräch voraus, das die Person begonnen hat: Sie hat dem Unternehmen nicht per E-Mail geschrieben und hat keinen Servicefall. Ohne das ist eine E-Mail Werbung (braucht eine Einwilligung) oder muss auf einem Vertrag beruhen."},
	RNoContract: {"No contract with this person is recorded (no field of theirs rests on Art. 6(1)(b) or (c) GDPR), so a mail cannot be sent as needed for a contract.",
		"Mit dieser Person ist kein Vertrag erfasst (keine ihrer Angaben beruht auf Art. 6 Abs. 1 lit. b oder c DSGVO); eine E-Mail kann daher nicht als vertragsnotwendig gesendet werden."},
}

// both is an argument worded differently in English and German.
type both struct{ EN, DE string }

func pick(args []any, german bool) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.(both); ok {
			if german {
				a = b.DE
			} else {
				a = b.EN
			}
		}
		out[i] = a
	}
	return out
}

// Explain returns the reason with its English and German texts filled in:
// every refusal, every exclusion from an audience and every answer of the
// outbound gate names the rule it follows (R13).
func Explain(code string, args ...any) tresor.Reason {
	t, ok := texts[code]
	if !ok {
		return tresor.Reason{Code: code, Message: code, MessageDE: code}
	}
	return tresor.Reason{Code: code, Message: fmt.Sprintf(t[0], pick(args, false)...), MessageDE: fmt.Sprintf(t[1], pick(args, true)...)}
}

// Refuse returns the error of a refusal: its code is the part of the reason
// before any ":", and it carries both texts.
func Refuse(code string, args ...any) error {
	r := Explain(code, args...)
	c := code
	for i := range c {
		if c[i] == ':' {
			c = c[:i]
			break
		}
	}
	return &tresor.Error{Code: tresor.Code(c), Message: r.Message, MessageDE: r.MessageDE}
}

// Codes lists every reason code, for tests that every one is explained.
func Codes() []string {
	out := make([]string, 0, len(texts))
	for c := range texts {
		out = append(out, c)
	}
	return out
}
