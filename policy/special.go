package policy

import (
	"strings"
	"unicode"

	"tresor"
)

// Special categories of personal data (Art. 9 GDPR) in free text and profile
// fields: German and English words and stems that reveal health, religion,
// political opinion, ethnic origin, sexual orientation, trade-union
// membership, biometric or genetic data. A match drops the field before it is
// stored or logged. The lists err on the side of dropping: a false alarm
// loses a job title, a miss would store what must never be stored.
//
// An entry ending in "*" matches as a prefix of a word (German compounds:
// "krebs*" finds "Krebserkrankung"); an entry with a space matches as a
// phrase; any other entry matches a whole word.
var specialLexicon = map[tresor.Category][]string{
	tresor.CatHealth: {
		"krankheit*", "krankgeschrieben*", "erkrank*", "diagnose*", "therapie*", "depressi*", "diabet*", "krebs*", "tumor*",
		"schwanger*", "behinder*", "schwerbehindert*", "allergi*", "hiv", "aids", "burnout", "burn-out", "medikament*",
		"psychiat*", "psychisch*", "demenz*", "epilep*", "sucht*", "alkoholi*", "reha", "rehabilitation*", "chemotherapie*",
		"illness*", "disease*", "cancer*", "pregnan*", "disabilit*", "disabled", "diagnos*", "therapy", "depression*",
		"mental health", "chronic*", "medication*", "autis*", "adhs", "adhd", "dementia", "addiction*", "sick leave",
	},
	tresor.CatReligion: {
		"katholi*", "evangelisch*", "protestant*", "muslim*", "islam*", "jüdisch*", "jude", "jüdin", "christ", "christin",
		"christlich*", "buddhis*", "hindu*", "kirchengemeinde*", "moschee*", "synagog*", "pfarrer*", "pastor*", "imam*",
		"rabbi*", "atheist*", "konfession*", "religio*", "catholic*", "jewish", "church", "mosque*", "priest*", "sikh*",
		"zeugen jehovas", "jehovah's witness", "freikirch*",
	},
	tresor.CatPolitics: {
		"spd", "cdu", "csu", "fdp", "afd", "grüne", "grünen", "bündnis 90", "die linke", "linkspartei", "bsw", "npd",
		"parteimitglied*", "parteivorsitz*", "ortsverband*", "wahlkampf*", "abgeordnet*", "landtagsabgeordnet*",
		"bundestagsabgeordnet*", "stadtrat", "stadträtin", "politisch*", "party member*", "democrat*", "republican*",
		"labour party", "conservative party", "tory", "political*", "campaign volunteer*",
	},
	tresor.CatEthnicity: {
		"ethnisch*", "ethnie*", "migrationshintergrund*", "roma", "sinti", "kurd*", "ethnic*", "race", "racial*",
		"african american", "hispanic", "latino", "latina", "indigen*", "hautfarbe*",
	},
	tresor.CatSexualOrientation: {
		"schwul*", "lesbisch*", "lesbe", "bisexuell*", "homosexuell*", "heterosexuell*", "queer*", "lgbt*", "lgbtq*",
		"gay", "lesbian*", "bisexual*", "homosexual*", "sexual orientation", "sexuelle orientierung", "csd", "pride parade",
	},
	tresor.CatUnion: {
		"gewerkschaft*", "verdi", "ver.di", "ig metall", "igmetall", "dgb", "gew", "ig bce", "trade union*", "labor union*",
		"labour union*", "union member*", "union representative*", "shop steward*",
	},
	tresor.CatBiometric: {"fingerabdr*", "fingerprint*", "biometri*", "gesichtserkennung*", "iris scan*", "face id"},
	tresor.CatGenetic:   {"dna", "gentest*", "genetisch*", "genetic*", "genom*", "erbkrank*"},
}

// specialOrder is the order matches are reported in.
var specialOrder = []tresor.Category{tresor.CatHealth, tresor.CatReligion, tresor.CatPolitics, tresor.CatEthnicity,
	tresor.CatSexualOrientation, tresor.CatUnion, tresor.CatBiometric, tresor.CatGenetic}

// normalizeText lower-cases text and turns everything but letters, digits
// and the characters lexicon entries contain into single spaces, with a
// space at either end.
func normalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '\'' || r == '-' {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// lexicon is specialLexicon compiled: exact words and stems in maps, the
// phrases in a list, each with its category and its rank in specialOrder.
type lexicon struct {
	words   map[string]int // word → index into specialOrder
	stems   map[string]int
	minStem int
	phrases []phrase
}

type phrase struct {
	text string
	cat  int
}

var compiled = compileLexicon()

func compileLexicon() *lexicon {
	l := &lexicon{words: map[string]int{}, stems: map[string]int{}, minStem: 1 << 30}
	for i, c := range specialOrder {
		for _, e := range specialLexicon[c] {
			switch {
			case strings.Contains(e, " "):
				l.phrases = append(l.phrases, phrase{" " + e + " ", i})
			case strings.HasSuffix(e, "*"):
				stem := strings.TrimSuffix(e, "*")
				if _, dup := l.stems[stem]; !dup {
					l.stems[stem] = i
				}
				l.minStem = min(l.minStem, len(stem))
			default:
				if _, dup := l.words[e]; !dup {
					l.words[e] = i
				}
			}
		}
	}
	return l
}

// SpecialCategory reports the special category text reveals (the first in
// the order health, religion, politics, ethnicity, sexual orientation,
// union, biometric, genetic, if it reveals several).
func SpecialCategory(text string) (tresor.Category, bool) {
	if strings.TrimSpace(text) == "" {
		return "", false
	}
	norm := normalizeText(text)
	best := len(specialOrder)
	check := func(w string) {
		w = strings.Trim(w, ".-'")
		if i, ok := compiled.words[w]; ok && i < best {
			best = i
		}
		for n := compiled.minStem; n <= len(w); n++ {
			if i, ok := compiled.stems[w[:n]]; ok && i < best {
				best = i
			}
		}
	}
	for _, w := range strings.Fields(norm) {
		check(w)
		if strings.Contains(w, "-") { // "DNA-Test": its parts too
			for _, part := range strings.Split(w, "-") {
				check(part)
			}
		}
	}
	for _, p := range compiled.phrases {
		if p.cat < best && strings.Contains(norm, p.text) {
			best = p.cat
		}
	}
	if best == len(specialOrder) {
		return "", false
	}
	return specialOrder[best], true
}

// ScreenProfile removes from a public profile the bio and the fields that
// reveal a special category, and names each removal by its reason only
// ("bio: special:health"), never by its text.
func ScreenProfile(p *tresor.SocialProfile) (dropped []string) {
	if cat, ok := SpecialCategory(p.Bio); ok {
		p.Bio = ""
		dropped = append(dropped, "bio: special:"+string(cat))
	}
	kept := p.Fields[:0]
	for _, f := range p.Fields {
		if cat, ok := SpecialCategory(f.Name + " " + f.Value); ok {
			dropped = append(dropped, "field: special:"+string(cat))
			continue
		}
		kept = append(kept, f)
	}
	p.Fields = kept
	return dropped
}
