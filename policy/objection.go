package policy

import (
	"slices"

	"tresor"
)

// Objection to processing on legitimate interest (Art. 21(1) GDPR): once a
// person objected, the controller no longer processes their data for a
// purpose that rests on legitimate interest, unless it demonstrates
// compelling legitimate grounds which override the person's interests — a
// decision the data-protection officer records, purpose by purpose. An
// objection to direct marketing (Art. 21(2)) knows no such grounds.

// The reasons of this rule.
const (
	RObjectedInterest = string(tresor.ECObjectedInterest)
	// RGroundsDirectMarketing refuses compelling grounds for direct marketing.
	RGroundsDirectMarketing = string(tresor.ECForbidden) + ":direct_marketing"
	// RGroundsNoInterest refuses compelling grounds for a purpose that does
	// not rest on legitimate interest.
	RGroundsNoInterest = string(tresor.ECConflict) + ":no_interest"
)

func init() {
	texts[RObjectedInterest] = [2]string{
		"This person objected to processing based on legitimate interest (Art. 21(1) GDPR); the purpose %q rests on legitimate interest for them, so their data is not processed for it unless the data-protection officer records compelling legitimate grounds.",
		"Diese Person hat der Verarbeitung auf Grundlage berechtigter Interessen widersprochen (Art. 21 Abs. 1 DSGVO); der Zweck %q beruht bei ihr auf berechtigtem Interesse, daher werden ihre Daten dafür nicht verarbeitet, es sei denn, die oder der Datenschutzbeauftragte dokumentiert zwingende schutzwürdige Gründe."}
	texts[RGroundsDirectMarketing] = [2]string{
		"The purpose %q is direct marketing: an objection to it is absolute (Art. 21(2) and (3) GDPR), no grounds override it.",
		"Der Zweck %q ist Direktwerbung: Ein Widerspruch dagegen gilt ausnahmslos (Art. 21 Abs. 2 und 3 DSGVO), keine Gründe gehen ihm vor."}
	texts[RGroundsNoInterest] = [2]string{
		"The purpose %q does not rest on legitimate interest for this person, so the objection does not stop it and needs no compelling grounds.",
		"Der Zweck %q beruht bei dieser Person nicht auf berechtigtem Interesse; der Widerspruch hält ihn daher nicht auf und braucht keine zwingenden Gründe."}
}

// DirectMarketing reports whether the purpose is direct marketing, to which
// an objection is absolute (Art. 21(2)): the purposes that hide objected people.
func (pu *Purpose) DirectMarketing() bool { return pu.HidesObjected }

// RestsOnInterest decides whether processing a person's data for the purpose
// rests on legitimate interest (Art. 6(1)(f)), given the provenance of their
// data: it does when the purpose allows legitimate interest and none of the
// data collected for the purpose was collected on another basis (consent,
// contract, legal obligation). A purpose that never names legitimate
// interest (data protection: legal obligation) never rests on it.
func RestsOnInterest(pu *Purpose, records []tresor.ProvenanceRecord) bool {
	if !slices.Contains(pu.LegalBases, tresor.BasisLegitimateInterest) {
		return false
	}
	for _, r := range records {
		if r.Purpose == pu.ID && r.LegalBasis != "" && r.LegalBasis != tresor.BasisLegitimateInterest {
			return false
		}
	}
	return true
}

// CheckInterestObjection refuses processing for the purpose of a person who
// objected under Art. 21(1) (objected), unless compelling grounds were
// recorded for the purpose (overridden).
func CheckInterestObjection(pu *Purpose, records []tresor.ProvenanceRecord, objected, overridden bool) error {
	if !objected || overridden || !RestsOnInterest(pu, records) {
		return nil
	}
	return Refuse(RObjectedInterest, pu.ID)
}
