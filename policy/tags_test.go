package policy_test

import (
	"testing"

	"tresor"
	"tresor/policy"
)

func TestScreenTagRefusesSpecialCategories(t *testing.T) {
	for _, tc := range []struct {
		tag     string
		refused bool
	}{
		{"Messe 2026", false},
		{"Key Account", false},
		{"Newsletter", false},
		{"Wiederverkäufer", false},
		{"Diabetiker", true},
		{"Krebs-Hilfe", true},
		{"gewerkschaft_kontakt", true},
		{"Katholisch", true},
		{"SPD Ortsverband", true},
		{"LGBTQ+", true},
		{"DNA-Test", true},
	} {
		err := policy.ScreenTag(tc.tag)
		if (err != nil) != tc.refused {
			t.Errorf("%q: refused = %v, want %v", tc.tag, err != nil, tc.refused)
			continue
		}
		if err == nil {
			continue
		}
		e := tresor.AsError(err)
		if e.Code != tresor.ECSpecialCategory || e.Message == "" || e.MessageDE == "" {
			t.Errorf("%q: refusal %+v lacks its code or a language", tc.tag, e)
		}
	}
}
