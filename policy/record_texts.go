package policy

import (
	"fmt"
	"strings"

	"tresor"
)

// informationTexts writes the Art. 13/14 information per purpose from the
// same sources as the record, so the two never disagree.
func (p *Policy) informationTexts(c *Controller, r *tresor.ProcessingRecord, lang string) []tresor.InformationText {
	en := lang == "en"
	t := func(de, en2 string) string {
		if en {
			return en2
		}
		return de
	}
	party := func(x tresor.RecordParty) string {
		parts := []string{x.Name}
		for _, s := range []string{x.Address, x.Email, x.Phone} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	var out []tresor.InformationText
	for _, a := range r.Activities {
		pu, _ := p.Purpose(a.Purpose)
		var ps []string
		add := func(s string) { ps = append(ps, s) }
		add(t("Verantwortlich: ", "Controller: ") + party(r.Controller) + ". " +
			t("Datenschutzbeauftragte/r: ", "Data protection officer: ") + party(r.DPO) + ".")
		var bases []string
		for _, b := range a.LegalBases {
			bases = append(bases, b.Text)
		}
		add(fmt.Sprintf(t("Zweck: %s – %s Rechtsgrundlage: %s.", "Purpose: %s — %s Legal basis: %s."), a.Name, a.Description, strings.Join(bases, t("; oder ", "; or "))))
		var cats []string
		for _, cat := range a.Categories {
			cats = append(cats, cat.Name)
		}
		add(t("Kategorien personenbezogener Daten: ", "Categories of personal data: ") + strings.Join(cats, ", ") + ". " +
			t("Erheben wir Daten nicht bei Ihnen selbst (Art. 14 DSGVO), nennen wir Ihnen die Quelle – etwa einen Import oder ein öffentliches Profil in einem sozialen Netzwerk – spätestens innerhalb eines Monats.",
				"Where we do not collect data from you yourself (Art. 14 GDPR), we tell you its source — such as an import or a public social network profile — within one month at the latest."))
		if len(a.Recipients) > 0 {
			add(t("Empfänger: ", "Recipients: ") + strings.Join(a.Recipients, "; ") + ".")
		}
		if len(a.Transfers) > 0 {
			var tr []string
			for _, x := range a.Transfers {
				tr = append(tr, fmt.Sprintf("%s (%s, %s): %s", x.Endpoint, x.Connector, x.Country, x.Safeguard))
			}
			add(t("Übermittlung in Drittländer: ", "Transfers to third countries: ") + strings.Join(tr, "; ") + ".")
		} else {
			add(t("Eine Übermittlung in Drittländer außerhalb der EU/des EWR findet für diesen Zweck nicht statt.",
				"For this purpose no data is transferred to third countries outside the EU/EEA."))
		}
		add(t("Speicherdauer: ", "Storage period: ") + a.Retention + ".")
		rights := t("Ihre Rechte: Auskunft (Art. 15), Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung (Art. 18), Datenübertragbarkeit (Art. 20) und Widerspruch (Art. 21 DSGVO)",
			"Your rights: access (Art. 15), rectification (Art. 16), erasure (Art. 17), restriction (Art. 18), data portability (Art. 20) and objection (Art. 21 GDPR)")
		if pu != nil && pu.HidesObjected {
			rights += t(" – einem Widerspruch gegen Werbung folgen wir ausnahmslos", " — an objection to advertising is always followed")
		}
		rights += ". "
		for _, b := range a.LegalBases {
			if b.Basis == tresor.BasisConsent {
				rights += t("Eine Einwilligung können Sie jederzeit mit Wirkung für die Zukunft widerrufen (Art. 7 Abs. 3 DSGVO). ",
					"You may withdraw a consent at any time with effect for the future (Art. 7(3) GDPR). ")
				break
			}
		}
		rights += t("Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO).",
			"You may lodge a complaint with a data protection supervisory authority (Art. 77 GDPR).")
		add(rights)
		out = append(out, tresor.InformationText{Purpose: a.Purpose, Title: t("Datenschutzinformation: ", "Privacy information: ") + a.Name, Paragraphs: ps})
	}
	return out
}
