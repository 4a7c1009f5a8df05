package policy

import (
	"slices"
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

func TestScreenProfile(t *testing.T) {
	p := &tresor.SocialProfile{Bio: "Nach meiner Chemotherapie wieder im Einkauf",
		Fields: []tresor.ProfileField{{Name: "Website", Value: "https://erika.example"}, {Name: "Ehrenamt", Value: "Kirchengemeinde St. Marien"}}}
	dropped := ScreenProfile(p)
	if p.Bio != "" || len(p.Fields) != 1 || p.Fields[0].Name != "Website" {
		t.Fatalf("screened profile: %+v", p)
	}
	want := []string{"bio: special:" + string(tresor.CatHealth), "field: special:" + string(tresor.CatReligion)}
	if !slices.Equal(dropped, want) {
		t.Fatalf("dropped %v, want %v", dropped, want)
	}
}
