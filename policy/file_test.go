package policy_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"tresor"
	"tresor/policy"
)

func TestDefaultPolicyRoundTrips(t *testing.T) {
	p := policy.Default()
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := policy.Parse(out)
	if err != nil {
		t.Fatalf("the printed default does not parse: %v", err)
	}
	if len(q.Purposes) != len(p.Purposes) || len(q.Categories) != len(tresor.Categories()) || q.Consent != p.Consent {
		t.Fatalf("round trip changed the policy")
	}
	for _, pu := range p.Purposes {
		if pu.NameDE == "" || pu.NameEN == "" || pu.DescriptionDE == "" || pu.DescriptionEN == "" || len(pu.LegalBases) == 0 {
			t.Errorf("purpose %s is not fully described", pu.ID)
		}
		for _, c := range pu.Categories {
			if c.Special() {
				t.Errorf("the default purpose %s allows the special category %s", pu.ID, c)
			}
		}
	}
}

// edit returns the default policy text with one replacement.
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	text := policy.DefaultYAML()
	if !bytes.Contains(text, []byte(old)) {
		t.Fatalf("the default policy has no %q", old)
	}
	return bytes.Replace(text, []byte(old), []byte(new), 1)
}

// lineOf is the line of the first occurrence of s in text.
func lineOf(text []byte, s string) int {
	i := bytes.Index(text, []byte(s))
	return bytes.Count(text[:i], []byte("\n")) + 1
}

func TestPolicyFileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, marker, want string
	}{
		{"unknown category in a purpose", "categories: [contact.name, contact.email, contact.phone, contact.language, social.handle,",
			"categories: [contact.name, contact.nickname, contact.phone, contact.language, social.handle,", "contact.nickname", "unknown category \"contact.nickname\""},
		{"special category without exception", "categories: [contact.language, professional.employer, professional.position]",
			"categories: [contact.language, special.health]", "special.health]", "without naming an Art. 9(2) exception"},
		{"unknown legal basis", "legal_bases: [consent, legitimate_interest]", "legal_bases: [consent, gut_feeling]", "gut_feeling", "unknown legal basis \"gut_feeling\""},
		{"admin with a purpose", "  admin: []", "  admin: [sales]", "admin: [sales]", "administrators never see personal data"},
		{"unknown role", "  auditor: []", "  auditor: []\n  intern: [sales]", "intern:", "unknown role \"intern\""},
		{"unknown field", "    retention_days: 365\n", "    retention_days: 365\n    retention_years: 1\n", "retention_years", "retention_years"},
		{"bad outbound", "    outbound: reply", "    outbound: sometimes", "outbound: sometimes", "outbound must be advertising, reply or none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := edit(t, tc.old, tc.new)
			_, err := policy.Parse(text)
			if err == nil {
				t.Fatal("accepted")
			}
			want := "line " + strconv.Itoa(lineOf(text, tc.marker))
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q at %s", err, tc.want, want)
			}
		})
	}
}

func TestSpecialCategoryWithExceptionIsAccepted(t *testing.T) {
	text := edit(t, "    legal_bases: [legitimate_interest]\n",
		"    legal_bases: [legitimate_interest]\n    art9_exception: e\n    categories: [contact.language, special.politics]\n")
	// the analytics purpose now lists categories twice as a key: refused as a duplicate key
	if _, err := policy.Parse(text); err == nil {
		t.Fatal("a duplicated key was accepted")
	}
	text = edit(t, "    categories: [contact.language, professional.employer, professional.position]\n    legal_bases: [legitimate_interest]\n",
		"    categories: [contact.language, special.politics]\n    art9_exception: e\n    legal_bases: [legitimate_interest]\n")
	p, err := policy.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := p.Purpose("analytics")
	if !pu.Allows(tresor.CatPolitics) || pu.Art9Exception != "e" {
		t.Fatalf("analytics = %+v", pu)
	}
}
