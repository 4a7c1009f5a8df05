package tresor_test

import (
	"strings"
	"testing"

	"tresor"
)

func TestNormalizeTag(t *testing.T) {
	for _, tc := range []struct {
		in, display, key string
		ok               bool
	}{
		{"  Messe   2026 ", "Messe 2026", "messe 2026", true},
		{"B2B & Partner", "B2B & Partner", "b2b & partner", true},
		{"ÄRZTE-netz", "ÄRZTE-netz", "ärzte-netz", true},
		{"", "", "", false},
		{"   ", "", "", false},
		{"<script>", "", "", false},
		{"a/b", "", "", false},
		{strings.Repeat("x", tresor.MaxTagLength), strings.Repeat("x", tresor.MaxTagLength), strings.Repeat("x", tresor.MaxTagLength), true},
		{strings.Repeat("x", tresor.MaxTagLength+1), "", "", false},
		{"a\x00b", "", "", false},
	} {
		got, err := tresor.NormalizeTag(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if err != nil {
			if e := tresor.AsError(err); e.Code != tresor.ECValidation || e.MessageDE == "" {
				t.Errorf("%q: error %+v", tc.in, e)
			}
			continue
		}
		if got.Display != tc.display || got.Key != tc.key {
			t.Errorf("%q: %+v, want %q/%q", tc.in, got, tc.display, tc.key)
		}
	}
}
