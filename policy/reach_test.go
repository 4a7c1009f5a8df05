package policy_test

import (
	"strings"
	"testing"

	"tresor"
	"tresor/policy"
)

func facts(purpose string, mod func(*policy.ReachFacts)) policy.ReachFacts {
	pu, _ := policy.Default().Purpose(purpose)
	f := policy.ReachFacts{Purpose: pu, Channel: tresor.ChannelEmailMsg, HasAddress: true, Consent: tresor.ConsentUnknown, ExpiryDays: 730}
	if mod != nil {
		mod(&f)
	}
	return f
}

func TestDecideReach(t *testing.T) {
	p := policy.Default()
	for _, tc := range []struct {
		name    string
		f       policy.ReachFacts
		allowed bool
		codes   []string
	}{
		{"marketing without consent", facts("marketing", nil), false, []string{policy.RConsentMissing}},
		{"marketing with consent", facts("marketing", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentGranted }), true, []string{policy.RConsentGranted}},
		{"marketing, consent pending", facts("marketing", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentPending }), false, []string{policy.RConsentPending}},
		{"marketing, consent withdrawn", facts("marketing", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentWithdrawn }), false, []string{policy.RConsentWithdrawn}},
		{"marketing, consent expired", facts("marketing", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentExpired }), false, []string{policy.RConsentExpired}},
		{"marketing with consent but objected", facts("marketing", func(f *policy.ReachFacts) { f.Consent, f.Objected = tresor.ConsentGranted, true }), false, []string{policy.RObjected}},
		{"marketing with consent but suppressed", facts("marketing", func(f *policy.ReachFacts) { f.Consent, f.Suppressed = tresor.ConsentGranted, true }), false, []string{policy.RSuppressed}},
		{"marketing with consent but restricted", facts("marketing", func(f *policy.ReachFacts) { f.Consent, f.Restricted = tresor.ConsentGranted, true }), false, []string{policy.RRestricted}},
		{"marketing with consent, no address", facts("marketing", func(f *policy.ReachFacts) { f.Consent, f.HasAddress = tresor.ConsentGranted, false }), false, []string{policy.RNoAddress}},
		{"sales outreach is advertising", facts("sales", func(f *policy.ReachFacts) { f.Contract = true }), false, []string{policy.RConsentMissing}},
		{"sales outreach with consent", facts("sales", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentGranted }), true, nil},
		{"mastodon DM without consent", facts("marketing", func(f *policy.ReachFacts) { f.Channel = "social_dm:mastodon" }), false, []string{policy.RConsentMissing}},
		{"service reply in a conversation", facts("service", func(f *policy.ReachFacts) { f.InboundConversation = true }), true, []string{policy.RReplyInbound}},
		{"service under a contract", facts("service", func(f *policy.ReachFacts) { f.Contract = true }), true, []string{policy.RReplyContract}},
		{"service out of the blue", facts("service", nil), false, []string{policy.RNoConversation}},
		{"service reply with advertising", facts("service", func(f *policy.ReachFacts) { f.InboundConversation, f.Advertising = true, true }), false, []string{policy.RAdvertisingInReply, policy.RConsentMissing}},
		{"service reply to a restricted person", facts("service", func(f *policy.ReachFacts) { f.InboundConversation, f.Restricted = true, true }), false, []string{policy.RRestricted}},
		{"analytics never reaches out", facts("analytics", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentGranted }), false, []string{policy.RNoOutbound}},
	} {
		d := p.DecideReach(tc.f)
		if d.Allowed != tc.allowed {
			t.Errorf("%s: allowed = %v, want %v (%v)", tc.name, d.Allowed, tc.allowed, d.Reasons)
			continue
		}
		if len(d.Reasons) == 0 {
			t.Errorf("%s: no reason given", tc.name)
		}
		for _, code := range tc.codes {
			found := false
			for _, r := range d.Reasons {
				found = found || r.Code == code
			}
			if !found {
				t.Errorf("%s: reasons %v lack %s", tc.name, d.Reasons, code)
			}
		}
		for _, r := range d.Reasons {
			if r.Message == "" || r.MessageDE == "" || r.Message == r.MessageDE {
				t.Errorf("%s: reason %s is not explained in both languages", tc.name, r.Code)
			}
		}
	}
}

// TestExplanationsNameTheRule: the German text of the consent rule reads as the issue asks.
func TestExplanationsNameTheRule(t *testing.T) {
	d := policy.Default().DecideReach(facts("marketing", func(f *policy.ReachFacts) { f.Channel = "social_dm:mastodon" }))
	de := d.Reasons[0].MessageDE
	if !strings.Contains(de, "Werbung über Mastodon-Direktnachricht braucht eine vorherige Einwilligung") || !strings.Contains(de, "§7 UWG") {
		t.Fatalf("German explanation = %q", de)
	}
	for _, code := range policy.Codes() {
		r := policy.Explain(code, "x", "y", "z")
		if r.Message == code || r.MessageDE == code {
			t.Errorf("%s has no text", code)
		}
	}
}

func TestBasisAndCategories(t *testing.T) {
	p := policy.Default()
	marketing, _ := p.Purpose("marketing")
	for _, tc := range []struct {
		basis tresor.LegalBasis
		note  string
		want  tresor.Code
	}{
		{"", "", tresor.ECBasisMissing},
		{"hunch", "", tresor.ECBasisUnknown},
		{tresor.BasisContract, "", tresor.ECBasisNotAllowed},
		{tresor.BasisLegitimateInterest, "", tresor.ECBalancingNote},
		{tresor.BasisLegitimateInterest, "Existing customers expect news about products they use.", ""},
		{tresor.BasisConsent, "", ""},
	} {
		err := p.CheckBasis(marketing, tc.basis, tc.note)
		if got := tresor.ErrorCode(err); got != tc.want {
			t.Errorf("basis %q: %q, want %q", tc.basis, got, tc.want)
		}
		if tc.want == tresor.ECBasisMissing && !strings.Contains(tresor.ErrorMessage(err), "consent, legitimate_interest") {
			t.Errorf("the refusal does not list the allowed bases: %s", tresor.ErrorMessage(err))
		}
	}
	if err := p.CheckCategories(marketing, []tresor.Category{tresor.CatContactEmail}); err != nil {
		t.Error(err)
	}
	if got := tresor.ErrorCode(p.CheckCategories(marketing, []tresor.Category{tresor.CatContactPostal})); got != tresor.ECCategoryNotAllowed {
		t.Errorf("marketing storing a postal address: %q", got)
	}
	if got := tresor.ErrorCode(p.CheckCategories(marketing, []tresor.Category{tresor.CatHealth})); got != tresor.ECSpecialCategory {
		t.Errorf("marketing storing health data: %q", got)
	}
}

// BenchmarkDecide measures in-memory policy decisions: a purpose check, a
// legal-basis check, a category check and a reach decision per operation.
func BenchmarkDecide(b *testing.B) {
	p := policy.Default()
	actor := &tresor.Actor{Kind: tresor.ActorUser, Roles: []tresor.Role{tresor.RoleMarketing}}
	cats := []tresor.Category{tresor.CatContactName, tresor.CatContactEmail}
	f := facts("marketing", func(f *policy.ReachFacts) { f.Consent = tresor.ConsentGranted })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pu, err := p.PermitIndividual(actor, "marketing")
		if err != nil {
			b.Fatal(err)
		}
		if err := p.CheckBasis(pu, tresor.BasisConsent, ""); err != nil {
			b.Fatal(err)
		}
		if err := p.CheckCategories(pu, cats); err != nil {
			b.Fatal(err)
		}
		if !p.DecideReach(f).Allowed {
			b.Fatal("refused")
		}
	}
	b.ReportMetric(float64(4*b.N)/b.Elapsed().Seconds(), "decisions/s")
}
