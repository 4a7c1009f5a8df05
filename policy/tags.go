package policy

import (
	"strings"

	"tresor"
)

// RSpecialTag refuses a tag whose words reveal a special category.
const RSpecialTag = string(tresor.ECSpecialCategory) + ":tag"

// specialNames name the special categories in both languages, for refusals.
var specialNames = map[tresor.Category]both{
	tresor.CatHealth:            {"health", "Gesundheit"},
	tresor.CatReligion:          {"religion or belief", "Religion oder Weltanschauung"},
	tresor.CatPolitics:          {"political opinion", "politische Meinung"},
	tresor.CatEthnicity:         {"ethnic origin", "ethnische Herkunft"},
	tresor.CatSexualOrientation: {"sexual orientation", "sexuelle Orientierung"},
	tresor.CatUnion:             {"trade-union membership", "Gewerkschaftszugehörigkeit"},
	tresor.CatBiometric:         {"biometric data", "biometrische Daten"},
	tresor.CatGenetic:           {"genetic data", "genetische Daten"},
}

func init() {
	texts[RSpecialTag] = [2]string{
		"The tag %q reveals %s, a special category of personal data (Art. 9 GDPR). Tags are business labels seen by the whole team; such a label would put a person into a special category, so it is refused. Use a neutral business label instead.",
		"Das Schlagwort %q verrät %s, eine besondere Kategorie personenbezogener Daten (Art. 9 DSGVO). Schlagwörter sind geschäftliche Bezeichnungen, die das ganze Team sieht; diese würde eine Person einer besonderen Kategorie zuordnen und wird daher abgelehnt. Wählen Sie eine neutrale geschäftliche Bezeichnung.",
	}
}

// ScreenTag refuses a tag that reveals a special category of personal data
// (Art. 9 GDPR), by the lexicons that screen free text. Tags are matched
// with their separators read as spaces too ("Diabetes-Programm",
// "gewerkschaft_kontakt").
func ScreenTag(tag string) error {
	text := tag + " " + strings.NewReplacer("_", " ", "/", " ", "+", " ", "&", " ", ".", " ").Replace(tag)
	cat, ok := SpecialCategory(text)
	if !ok {
		return nil
	}
	return Refuse(RSpecialTag, tag, specialName(cat))
}
