package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"tresor"
)

// KEKSource says where the key-encryption key comes from.
type KEKSource string

// The sources of the key-encryption key.
const (
	KEKFile    KEKSource = "file"    // a key file outside the database
	KEKEnv     KEKSource = "env"     // the environment variable TRESOR_KEK
	KEKTransit KEKSource = "transit" // wrapped by a Vault/OpenBao transit engine
)

// Settings are the settings Tresor runs with, as far as the record of
// processing activities states them (Art. 30(1)(g)). The CLI fills them from
// its flags and environment, so the record says what is configured, not
// what could be.
type Settings struct {
	KEK          KEKSource
	TransitKey   string        // the transit key's name, with KEKTransit
	RetentionRun time.Duration // how often the server applies retention; 0: never by itself
	AuditKeep    time.Duration // audit entries kept this long; 0: forever
	AuditClient  string        // client addresses in the audit trail: full, truncated, none
	AuditStream  string        // "", "file" or "syslog"
	Checkpoints  time.Duration // how often a signed checkpoint is written
	BackupTo     []string      // the age recipients backups are encrypted to; none: no backups configured
	TLS          bool          // Tresor serves HTTPS itself
	SSO          bool          // sign-on through an OpenID provider
	SSOTrustsMFA bool          // the provider's second factor counts
	InUse        []Connector   // the connectors configured: channels, the mail server
	GeneratedAt  time.Time
}

// Connector is one connector Tresor is configured to reach.
type Connector struct {
	Kind     string // mastodon, bluesky, mail
	Endpoint string // host name or network
}

// Record builds the record of processing activities in the language (de or
// en) from the policy, the controller's declarations and the settings.
func (p *Policy) Record(c *Controller, s Settings, lang string) *tresor.ProcessingRecord {
	if lang != "en" {
		lang = "de"
	}
	t := func(de, en string) string {
		if lang == "en" {
			return en
		}
		return de
	}
	r := &tresor.ProcessingRecord{Lang: lang, GeneratedAt: s.GeneratedAt,
		Controller: tresor.RecordParty{Name: c.Name, Address: c.Address, Email: c.Email, Phone: c.Phone},
		DPO:        tresor.RecordParty{Name: c.DPO.Name, Address: c.DPO.Address, Email: c.DPO.Email, Phone: c.DPO.Phone}}
	r.Transfers = p.transfers(c, s, t)
	for _, pu := range p.Purposes {
		a := tresor.ProcessingActivity{Purpose: pu.ID, Name: t(pu.NameDE, pu.NameEN), Description: t(pu.DescriptionDE, pu.DescriptionEN),
			RetentionDays: pu.RetentionDays, Art9Exception: pu.Art9Exception, Recipients: []string{}, Transfers: []tresor.RecordTransfer{}}
		for _, b := range pu.LegalBases {
			a.LegalBases = append(a.LegalBases, tresor.RecordLegalBasis{Basis: b, Text: basisText(b, lang)})
		}
		if ds, ok := c.DataSubjects[pu.ID]; ok {
			a.DataSubjects = ds.In(lang)
		} else {
			a.DataSubjects = t("Natürliche Personen, deren Daten für den Zweck „"+pu.NameDE+"“ erhoben werden (Kontakte)",
				"Natural persons whose data is collected for the purpose “"+pu.NameEN+"” (contacts)")
		}
		for _, cat := range pu.Categories {
			info, _ := p.Category(cat)
			a.Categories = append(a.Categories, tresor.RecordCategory{ID: cat, Name: t(info.DE, info.EN), Special: cat.Special(),
				RetentionDays: p.RetentionDays(pu.ID, cat)})
		}
		if roles := p.rolesOf(pu.ID); len(roles) > 0 {
			a.Recipients = append(a.Recipients, t("Intern: Beschäftigte mit der Rolle ", "Internal: staff with the role ")+strings.Join(roles, ", "))
		}
		for _, rc := range c.Recipients {
			if len(rc.Purposes) == 0 || slices.Contains(rc.Purposes, pu.ID) {
				a.Recipients = append(a.Recipients, rc.In(lang))
			}
		}
		for _, tr := range r.Transfers {
			if tr.ThirdCountry && slices.Contains(tr.Purposes, pu.ID) {
				a.Transfers = append(a.Transfers, tr)
			}
		}
		a.Retention = p.retentionText(&pu, lang)
		a.Erasure = p.erasureText(lang)
		r.Activities = append(r.Activities, a)
	}
	r.Measures = p.measures(s, lang)
	r.InformationTexts = p.informationTexts(c, r, lang)
	return r
}

// rolesOf lists the roles that may act for a purpose.
func (p *Policy) rolesOf(purpose string) []string {
	var out []string
	for _, role := range tresor.Roles() {
		if slices.Contains(p.Roles[role], purpose) {
			out = append(out, string(role))
		}
	}
	return out
}

// contacting reports whether a purpose reaches people through connectors.
func (pu *Purpose) contacting() bool { return !pu.AggregatesOnly && pu.Outbound != OutboundNone }

// transfers joins the connectors in use with the declared transfers: a
// connector in use without a declaration is listed as undeclared.
func (p *Policy) transfers(c *Controller, s Settings, t func(de, en string) string) []tresor.RecordTransfer {
	out := []tresor.RecordTransfer{}
	purposesOf := func(ids []string) []string {
		if len(ids) > 0 {
			return ids
		}
		out := []string{}
		for _, pu := range p.Purposes {
			if pu.contacting() {
				out = append(out, pu.ID)
			}
		}
		return out
	}
	used := make([]bool, len(c.Transfers))
	for _, conn := range s.InUse {
		i := slices.IndexFunc(c.Transfers, func(d Transfer) bool { return d.matches(conn) })
		if i < 0 {
			out = append(out, tresor.RecordTransfer{Connector: conn.Kind, Endpoint: conn.Endpoint, InUse: true, Purposes: purposesOf(nil),
				Safeguard: t("Nicht angegeben: Land und Garantie fehlen in der Verantwortlichen-Datei", "Not declared: the controller file names no country and safeguard")})
			continue
		}
		used[i] = true
		out = append(out, c.Transfers[i].record(conn.Endpoint, true, purposesOf(c.Transfers[i].Purposes), t))
	}
	for i, d := range c.Transfers {
		if !used[i] {
			out = append(out, d.record(d.Endpoint, false, purposesOf(d.Purposes), t))
		}
	}
	return out
}

// matches reports whether a declared transfer covers a connector in use:
// same kind, and the same endpoint or a domain above it (mastodon.social
// covers eu.mastodon.social); an empty endpoint covers every one.
func (d Transfer) matches(c Connector) bool {
	if d.Connector != c.Kind {
		return false
	}
	e := strings.ToLower(c.Endpoint)
	return d.Endpoint == "" || e == d.Endpoint || strings.HasSuffix(e, "."+d.Endpoint)
}

func (d Transfer) record(endpoint string, inUse bool, purposes []string, t func(de, en string) string) tresor.RecordTransfer {
	tr := tresor.RecordTransfer{Connector: d.Connector, Endpoint: endpoint, Country: d.Country, ThirdCountry: ThirdCountry(d.Country),
		InUse: inUse, Declared: true, Purposes: purposes}
	if tr.Endpoint == "" {
		tr.Endpoint = t("alle", "all")
	}
	switch d.Safeguard {
	case SafeguardAdequacy:
		tr.Safeguard = t("Angemessenheitsbeschluss (Art. 45 DSGVO)", "Adequacy decision (Art. 45 GDPR)")
	case SafeguardSCC:
		tr.Safeguard = t("Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)", "Standard contractual clauses (Art. 46(2)(c) GDPR)")
	case SafeguardBCR:
		tr.Safeguard = t("Verbindliche interne Datenschutzvorschriften (Art. 47 DSGVO)", "Binding corporate rules (Art. 47 GDPR)")
	case SafeguardArt49:
		tr.Safeguard = t("Ausnahme für bestimmte Fälle (Art. 49 Abs. 1 DSGVO)", "Derogation for specific situations (Art. 49(1) GDPR)")
	default:
		tr.Safeguard = t("Keine Übermittlung in ein Drittland (EU/EWR)", "No transfer to a third country (EU/EEA)")
	}
	if n := d.Note.In(t("de", "en")); n != "" {
		tr.Safeguard += " — " + n
	}
	return tr
}

func basisText(b tresor.LegalBasis, lang string) string {
	de := map[tresor.LegalBasis]string{
		tresor.BasisConsent:            "Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
		tresor.BasisContract:           "Vertrag oder vorvertragliche Maßnahmen (Art. 6 Abs. 1 lit. b DSGVO)",
		tresor.BasisLegalObligation:    "Rechtliche Verpflichtung (Art. 6 Abs. 1 lit. c DSGVO)",
		tresor.BasisLegitimateInterest: "Berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO), mit dokumentierter Abwägung je Datensatz",
	}
	en := map[tresor.LegalBasis]string{
		tresor.BasisConsent:            "Consent (Art. 6(1)(a) GDPR)",
		tresor.BasisContract:           "Contract or steps before one (Art. 6(1)(b) GDPR)",
		tresor.BasisLegalObligation:    "Legal obligation (Art. 6(1)(c) GDPR)",
		tresor.BasisLegitimateInterest: "Legitimate interest (Art. 6(1)(f) GDPR), with a balancing note recorded per record",
	}
	if lang == "en" {
		return en[b]
	}
	return de[b]
}

// retentionText states a purpose's periods, the categories that differ,
// and the statutory floors.
func (p *Policy) retentionText(pu *Purpose, lang string) string {
	var b strings.Builder
	if lang == "en" {
		fmt.Fprintf(&b, "%d days after the last interaction with the person, or after the end of the customer relation", pu.RetentionDays)
	} else {
		fmt.Fprintf(&b, "%d Tage nach dem letzten Kontakt mit der Person bzw. nach Ende der Kundenbeziehung", pu.RetentionDays)
	}
	for _, cr := range p.Retention.Categories {
		if cr.Purpose != pu.ID {
			continue
		}
		info, _ := p.Category(cr.Category)
		if lang == "en" {
			fmt.Fprintf(&b, "; %s: %d days", info.EN, cr.Days)
		} else {
			fmt.Fprintf(&b, "; %s: %d Tage", info.DE, cr.Days)
		}
	}
	if len(p.Retention.Floors) > 0 && pu.Categories != nil && slices.Contains(pu.Categories, tresor.Category("interaction.content")) {
		var fl []string
		for _, f := range p.Retention.Floors {
			if lang == "en" {
				fl = append(fl, fmt.Sprintf("%s %d years (%s)", f.EN, f.Years, f.Law))
			} else {
				fl = append(fl, fmt.Sprintf("%s %d Jahre (%s)", f.DE, f.Years, f.Law))
			}
		}
		if lang == "en" {
			b.WriteString(". Records marked as statutory are kept beyond that: " + strings.Join(fl, "; "))
		} else {
			b.WriteString(". Als gesetzlich aufzubewahren markierte Unterlagen bleiben darüber hinaus: " + strings.Join(fl, "; "))
		}
	}
	return b.String()
}

func (p *Policy) erasureText(lang string) string {
	mode := func(m tresor.ErasureMode) string {
		if m == tresor.AnonymiseRecords {
			if lang == "en" {
				return "anonymised"
			}
			return "anonymisiert"
		}
		if lang == "en" {
			return "erased"
		}
		return "gelöscht"
	}
	if lang == "en" {
		return fmt.Sprintf("Erasure destroys the person's key (crypto-shredding); their interactions are %s, their cases %s; legal holds keep a person until released.",
			mode(p.Retention.Interactions), mode(p.Retention.Cases))
	}
	return fmt.Sprintf("Löschen vernichtet den Schlüssel der Person (Crypto-Shredding); ihre Kontakte werden %s, ihre Fälle %s; eine Aufbewahrungssperre (Legal Hold) hält die Person bis zur Freigabe.",
		mode(p.Retention.Interactions), mode(p.Retention.Cases))
}

// measures states the technical and organisational measures from the
// settings: each text changes when its setting does.
func (p *Policy) measures(s Settings, lang string) []tresor.RecordMeasure {
	en := lang == "en"
	t := func(de, en2 string) string {
		if en {
			return en2
		}
		return de
	}
	dur := func(d time.Duration) string { return duration(d, en) }
	var out []tresor.RecordMeasure
	add := func(id, title, text string) {
		out = append(out, tresor.RecordMeasure{ID: id, Title: title, Text: text})
	}

	add("encryption", t("Verschlüsselung gespeicherter Daten", "Encryption at rest"),
		t("Jedes personenbezogene Feld wird mit AES-256-GCM verschlüsselt, mit einem eigenen Datenschlüssel je Person. Löschen vernichtet diesen Schlüssel (Crypto-Shredding); damit sind die Daten auch in Sicherungen unlesbar.",
			"Every personal field is encrypted with AES-256-GCM under a data key of its own for each person. Erasure destroys that key (crypto-shredding), which makes the data unreadable in backups too."))
	var kek string
	switch s.KEK {
	case KEKTransit:
		kek = t(fmt.Sprintf("Die Datenschlüssel sind mit dem Schlüssel-Verschlüsselungsschlüssel (KEK) umhüllt; der KEK liegt nur umhüllt durch den Transit-Schlüssel „%s“ eines Vault/OpenBao-KMS vor.", s.TransitKey),
			fmt.Sprintf("The data keys are wrapped with the key-encryption key (KEK); the KEK exists only wrapped by the transit key “%s” of a Vault/OpenBao KMS.", s.TransitKey))
	case KEKEnv:
		kek = t("Die Datenschlüssel sind mit dem Schlüssel-Verschlüsselungsschlüssel (KEK) umhüllt; der KEK kommt aus der Umgebung des Servers (TRESOR_KEK), nie aus der Datenbank.",
			"The data keys are wrapped with the key-encryption key (KEK); the KEK comes from the server's environment (TRESOR_KEK), never from the database.")
	default:
		kek = t("Die Datenschlüssel sind mit dem Schlüssel-Verschlüsselungsschlüssel (KEK) umhüllt; der KEK liegt in einer Schlüsseldatei außerhalb der Datenbank und wird getrennt von den Datensicherungen gesichert.",
			"The data keys are wrapped with the key-encryption key (KEK); the KEK lies in a key file outside the database and is backed up apart from the data backups.")
	}
	add("keys", t("Schlüsselverwaltung", "Key management"), kek+t(" Der KEK kann im laufenden Betrieb rotiert werden (tresor keys rotate).", " The KEK can be rotated online (tresor keys rotate)."))

	var roles []string
	for _, r := range tresor.Roles() {
		if ps := p.Roles[r]; len(ps) > 0 {
			roles = append(roles, string(r)+" → "+strings.Join(ps, ", "))
		} else {
			roles = append(roles, string(r)+" → "+t("keine personenbezogenen Daten", "no personal data"))
		}
	}
	var mfa []string
	for _, r := range p.MFARoles {
		mfa = append(mfa, string(r))
	}
	access := t("Jeder Zugriff nennt einen Zweck; was eine Rolle nicht ausdrücklich darf, wird verweigert (deny by default). Rollen und Zwecke: ",
		"Every access declares a purpose; what a role is not expressly allowed is refused (deny by default). Roles and purposes: ") + strings.Join(roles, "; ") + ". "
	if len(mfa) > 0 {
		access += t("Zweiter Faktor (TOTP) ist Pflicht für: ", "A second factor (TOTP) is required for: ") + strings.Join(mfa, ", ") + ". "
	} else {
		access += t("Keine Rolle muss einen zweiten Faktor nutzen. ", "No role is required to use a second factor. ")
	}
	access += t("Passwörter werden mit argon2id gespeichert, API-Tokens nur als Hash; Anmeldeversuche werden gedrosselt.",
		"Passwords are stored with argon2id, API tokens only as hashes; sign-in attempts are throttled.")
	if s.SSO {
		access += t(" Anmeldung auch über einen OpenID-Connect-Anbieter", " Sign-on also through an OpenID Connect provider")
		if s.SSOTrustsMFA {
			access += t(", dessen zweiter Faktor anerkannt wird.", ", whose second factor is accepted.")
		} else {
			access += "."
		}
	}
	add("access", t("Zugriffskontrolle", "Access control"), access)

	audit := t("Jeder Zugriff von Nutzern und Administratoren wird in einem hash-verketteten Protokoll (SHA-256) ohne Klartext-Personendaten festgehalten; ",
		"Every access by users and administrators is recorded in a hash-chained trail (SHA-256) without plaintext personal data; ")
	if s.Checkpoints > 0 {
		audit += t("alle "+dur(s.Checkpoints)+" wird ein mit Ed25519 signierter Merkle-Checkpoint geschrieben. ",
			"a Merkle checkpoint signed with Ed25519 is written every "+dur(s.Checkpoints)+". ")
	} else {
		audit += t("signierte Merkle-Checkpoints (Ed25519) entstehen nur auf Befehl (tresor audit checkpoint). ",
			"signed Merkle checkpoints (Ed25519) are written only on command (tresor audit checkpoint). ")
	}
	switch s.AuditClient {
	case "none":
		audit += t("Client-Adressen werden nicht gespeichert. ", "Client addresses are not stored. ")
	case "full":
		audit += t("Client-Adressen werden vollständig gespeichert. ", "Client addresses are stored in full. ")
	default:
		audit += t("Client-Adressen werden gekürzt gespeichert (IPv4 /24, IPv6 /48). ", "Client addresses are stored truncated (IPv4 /24, IPv6 /48). ")
	}
	if s.AuditKeep > 0 {
		audit += t("Einträge werden "+dur(s.AuditKeep)+" aufbewahrt. ", "Entries are kept for "+dur(s.AuditKeep)+". ")
	} else {
		audit += t("Einträge werden unbegrenzt aufbewahrt. ", "Entries are kept without limit. ")
	}
	if s.AuditStream != "" {
		audit += t("Jeder Eintrag geht zusätzlich an "+s.AuditStream+" (z. B. ein SIEM).", "Every entry also goes to "+s.AuditStream+" (e.g. a SIEM).")
	}
	add("audit", t("Protokollierung", "Audit trail"), strings.TrimSpace(audit))

	var ret string
	if s.RetentionRun > 0 {
		ret = t("Der Server wendet die Löschfristen alle "+dur(s.RetentionRun)+" selbst an: abgelaufene Personen werden gelöscht, abgelaufene Kategorien entfernt.",
			"The server applies the retention periods itself every "+dur(s.RetentionRun)+": people whose periods ended are erased, expired categories removed.")
	} else {
		ret = t("Die automatische Anwendung der Löschfristen ist abgeschaltet; sie gelten erst, wenn jemand tresor retention run ausführt.",
			"The automatic retention run is turned off; the periods take effect only when someone runs tresor retention run.")
	}
	ret += fmt.Sprintf(t(" Einwilligungen verfallen nach %d Tagen ohne Kontakt.", " Consents lapse after %d days without interaction."), p.Consent.ExpiryDays)
	add("retention", t("Löschfristen", "Retention"), ret)

	var bk string
	if len(s.BackupTo) > 0 {
		keys := make([]string, len(s.BackupTo))
		for i, k := range s.BackupTo {
			keys[i] = shortKey(k)
		}
		bk = t(fmt.Sprintf("Datensicherungen (tresor backup create) werden mit age für %d Empfänger verschlüsselt (%s) und enthalten keinen Schlüssel. Nach einer Wiederherstellung bleiben seither gelöschte oder widersprechende Personen gelöscht und gesperrt.", len(keys), strings.Join(keys, ", ")),
			fmt.Sprintf("Backups (tresor backup create) are encrypted with age to %d recipient(s) (%s) and hold no key. After a restore, people erased or objecting since the backup stay erased and suppressed.", len(keys), strings.Join(keys, ", ")))
	} else {
		bk = t("Für Datensicherungen ist kein Empfänger eingerichtet (TRESOR_BACKUP_RECIPIENTS): es gibt keine verschlüsselten Sicherungen mit Tresor.",
			"No backup recipient is configured (TRESOR_BACKUP_RECIPIENTS): there are no encrypted backups made with Tresor.")
	}
	add("backups", t("Datensicherung", "Backups"), bk)

	if s.TLS {
		add("transport", t("Transportverschlüsselung", "Encryption in transit"), t("Tresor spricht nur HTTPS (TLS) mit HSTS; Sitzungs-Cookies sind Secure, HttpOnly und SameSite.",
			"Tresor speaks HTTPS (TLS) only, with HSTS; session cookies are Secure, HttpOnly and SameSite."))
	} else {
		add("transport", t("Transportverschlüsselung", "Encryption in transit"), t("Tresor selbst spricht HTTP; TLS muss ein vorgeschalteter Proxy übernehmen. Sitzungs-Cookies sind HttpOnly und SameSite.",
			"Tresor itself speaks HTTP; TLS must be provided by a proxy in front of it. Session cookies are HttpOnly and SameSite."))
	}
	add("minimisation", t("Datenminimierung", "Data minimisation"), t("Was ein Zweck nicht braucht, wird vor dem Speichern verworfen; besondere Kategorien (Art. 9) nur mit benannter Ausnahme nach Art. 9 Abs. 2; Daten aus sozialen Netzwerken, die nur nach einer Kontaktanfrage sichtbar sind, werden abgelehnt.",
		"What a purpose does not need is dropped before it is stored; special categories (Art. 9) only with a named Art. 9(2) exception; social network data visible only after a contact request is refused."))
	return out
}

// shortKey shortens an age recipient for display: age1abcd…wxyz.
func shortKey(k string) string {
	k = strings.TrimSpace(k)
	if len(k) <= 16 {
		return k
	}
	return k[:9] + "…" + k[len(k)-4:]
}

// duration writes a period as people say it: 24 h, 7 days, 10 years.
func duration(d time.Duration, en bool) string {
	day := 24 * time.Hour
	switch {
	case d >= 365*day && d%(365*day) == 0:
		n := int(d / (365 * day))
		if en {
			return plural(n, "year", "years")
		}
		return plural(n, "Jahr", "Jahre")
	case d >= day && d%day == 0 && d > day:
		n := int(d / day)
		if en {
			return plural(n, "day", "days")
		}
		return plural(n, "Tag", "Tage")
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
