package policy

import (
	"testing"

	"tresor"
)

func TestSpecialCategory(t *testing.T) {
	for _, tc := range []struct {
		text string
		want tresor.Category
	}{
		{"Head of Purchasing", ""},
		{"Krankenschwester", ""},
		{"Christian Meyer", ""},
		{"Vertriebsleiter, seit März in Therapie wegen Burnout", tresor.CatHealth},
		{"nach ihrer Krebserkrankung wieder im Dienst", tresor.CatHealth},
		{"Pfarrer der Gemeinde St. Marien", tresor.CatReligion},
		{"Mitglied der SPD, Ortsverband Mitte", tresor.CatPolitics},
		{"Betriebsrat und Gewerkschaftssekretär bei ver.di", tresor.CatUnion},
		{"Active in the LGBTQ+ network", tresor.CatSexualOrientation},
		{"Sprecherin, Migrationshintergrund", tresor.CatEthnicity},
		{"She is pregnant", tresor.CatHealth},
		{"Member of the Labour Party", tresor.CatPolitics},
		{"Fingerabdruck hinterlegt", tresor.CatBiometric},
		{"DNA-Test", tresor.CatGenetic},
	} {
		got, ok := SpecialCategory(tc.text)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("SpecialCategory(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
