package policy_test

import (
	"slices"
	"strings"
	"testing"

	"tresor"
	"tresor/policy"
)

func TestPolicyDiffNamesWhatANewPolicyChanges(t *testing.T) {
	cur := policy.Default()
	text := string(policy.DefaultYAML())
	text = strings.Replace(text, "retention_days: 1095", "retention_days: 400", 1)                                          // sales: shorter
	text = strings.Replace(text, "retention_days: 365\n    aggregates_only", "retention_days: 500\n    aggregates_only", 1) // analytics: longer
	text = strings.Replace(text, "legal_bases: [consent, legitimate_interest]\n    retention_days: 730", "legal_bases: [consent]\n    retention_days: 730", 1)
	text = strings.Replace(text, "categories: [contact.language, professional.employer, professional.position]", "categories: [contact.language, professional.employer, personal.interests]", 1)
	text = strings.Replace(text, "{purpose: marketing, category: professional.position, days: 365}", "{purpose: marketing, category: professional.position, days: 90}", 1)
	next, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	d := policy.DiffPolicies(cur, next)

	t.Run("the same policy changes nothing", func(t *testing.T) {
		if !policy.DiffPolicies(cur, policy.Default()).Empty() {
			t.Fatal("a policy differs from itself")
		}
	})
	t.Run("a shortened period is named and counts as shortening", func(t *testing.T) {
		i := slices.IndexFunc(d.Retention, func(c policy.RetentionChange) bool { return c.Purpose == "sales" && c.Category == "" })
		if i < 0 || d.Retention[i].OldDays != 1095 || d.Retention[i].NewDays != 400 || !d.Retention[i].Shortened() || !d.Shortens() {
			t.Fatalf("retention changes %+v", d.Retention)
		}
	})
	t.Run("a lengthened period is named and is no shortening", func(t *testing.T) {
		i := slices.IndexFunc(d.Retention, func(c policy.RetentionChange) bool { return c.Purpose == "analytics" })
		if i < 0 || d.Retention[i].Shortened() || d.Retention[i].NewDays != 500 {
			t.Fatalf("retention changes %+v", d.Retention)
		}
	})
	t.Run("a category's own period is named", func(t *testing.T) {
		i := slices.IndexFunc(d.Retention, func(c policy.RetentionChange) bool {
			return c.Purpose == "marketing" && c.Category == "professional.position"
		})
		if i < 0 || d.Retention[i].OldDays != 365 || d.Retention[i].NewDays != 90 {
			t.Fatalf("retention changes %+v", d.Retention)
		}
	})
	t.Run("categories gained and lost are named", func(t *testing.T) {
		if len(d.Categories) != 1 || d.Categories[0].Purpose != "analytics" ||
			!slices.Equal(d.Categories[0].Gained, []tresor.Category{"personal.interests"}) ||
			!slices.Equal(d.Categories[0].Lost, []tresor.Category{"professional.position"}) {
			t.Fatalf("category changes %+v", d.Categories)
		}
	})
	t.Run("changed legal bases are named", func(t *testing.T) {
		if len(d.LegalBases) != 1 || d.LegalBases[0].Purpose != "marketing" || len(d.LegalBases[0].New) != 1 {
			t.Fatalf("legal basis changes %+v", d.LegalBases)
		}
	})
	t.Run("purposes added and removed are named", func(t *testing.T) {
		fewer := strings.Replace(string(policy.DefaultYAML()), "  - id: pr\n", "  - id: press\n", 1)
		fewer = strings.Replace(fewer, "  pr: [pr]", "  pr: [press]", 1)
		p, err := policy.Parse([]byte(fewer))
		if err != nil {
			t.Fatal(err)
		}
		d := policy.DiffPolicies(cur, p)
		if !slices.Equal(d.Added, []string{"press"}) || !slices.Equal(d.Removed, []string{"pr"}) {
			t.Fatalf("added %v removed %v", d.Added, d.Removed)
		}
	})
}
