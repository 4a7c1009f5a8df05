package importer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CountryCode reads the country of an address as files write it: an ISO
// 3166-1 alpha-2 code in any case ("de"), a few alpha-3 codes ("DEU"), or
// the country's name in German or English, with or without accents, dots
// and in any case ("Deutschland", "Österreich", "Oesterreich", "U.S.A.").
// It returns the upper-case alpha-2 code, and false for a name it does not
// know; the gate then drops the address, the importer decides nothing.
func CountryCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 2 && isASCIILetters(s) {
		if code, ok := countryNames[strings.ToLower(s)]; ok {
			return code, true // "UK" is GB in ISO 3166
		}
		return strings.ToUpper(s), true
	}
	code, ok := countryNames[countryKey(s)]
	return code, ok
}

// readCountry is the country an Address holds: the ISO code where the
// name is known, else the text as found.
func readCountry(s string) string {
	if code, ok := CountryCode(s); ok {
		return code
	}
	return strings.TrimSpace(s)
}

func isASCIILetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// countryKey folds a name for the table: lower case, ß as ss, accents
// removed, dots and other punctuation dropped, hyphens and runs of spaces
// as one space.
func countryKey(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "ß", "ss")
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// an accent of the letter before
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-' || r == ',' || r == '/':
			space = true
		}
		// anything else (dots, brackets, apostrophes) is dropped
	}
	return b.String()
}

// countryNames maps folded names (see countryKey) to ISO 3166-1 alpha-2
// codes: the EU and EEA, Switzerland, the United Kingdom, the United
// States, Turkey and the other countries a German-speaking company's
// contacts most often live in, each by its German and English names, the
// common variants, and its alpha-3 code.
var countryNames = func() map[string]string {
	m := map[string]string{}
	for code, names := range map[string][]string{
		"AD": {"andorra"},
		"AE": {"vereinigte arabische emirate", "united arab emirates", "uae", "vae"},
		"AL": {"albanien", "albania", "alb"},
		"AR": {"argentinien", "argentina", "arg"},
		"AT": {"osterreich", "oesterreich", "austria", "republik osterreich", "republic of austria", "aut"},
		"AU": {"australien", "australia", "aus"},
		"BA": {"bosnien und herzegowina", "bosnien herzegowina", "bosnia and herzegovina", "bosnia herzegovina", "bosnia", "bih"},
		"BE": {"belgien", "belgium", "belgique", "belgie", "bel"},
		"BG": {"bulgarien", "bulgaria", "bgr"},
		"BR": {"brasilien", "brazil", "brasil", "bra"},
		"BY": {"belarus", "weissrussland", "blr"},
		"CA": {"kanada", "canada"},
		"CH": {"schweiz", "switzerland", "suisse", "svizzera", "svizra", "helvetia", "confoederatio helvetica", "schweizerische eidgenossenschaft", "che"},
		"CN": {"china", "volksrepublik china", "peoples republic of china", "chn"},
		"CY": {"zypern", "cyprus", "cyp"},
		"CZ": {"tschechien", "tschechische republik", "czechia", "czech republic", "cze"},
		"DE": {"deutschland", "germany", "brd", "bundesrepublik deutschland", "federal republic of germany", "deutschland brd", "allemagne", "deu", "ger"},
		"DK": {"danemark", "daenemark", "denmark", "danmark", "dnk"},
		"EE": {"estland", "estonia", "est"},
		"EG": {"agypten", "aegypten", "egypt", "egy"},
		"ES": {"spanien", "spain", "espana", "esp"},
		"FI": {"finnland", "finland", "suomi", "fin"},
		"FR": {"frankreich", "france", "fra"},
		"GB": {"vereinigtes konigreich", "vereinigtes koenigreich", "united kingdom", "uk", "u k", "great britain", "grossbritannien", "britain", "england", "scotland", "schottland", "wales", "northern ireland", "nordirland", "united kingdom of great britain and northern ireland", "gbr"},
		"GE": {"georgien", "georgia", "geo"},
		"GR": {"griechenland", "greece", "hellas", "grc"},
		"HR": {"kroatien", "croatia", "hrvatska", "hrv"},
		"HU": {"ungarn", "hungary", "magyarorszag", "hun"},
		"IE": {"irland", "ireland", "republic of ireland", "eire", "irl"},
		"IL": {"israel", "isr"},
		"IN": {"indien", "india", "ind"},
		"IS": {"island", "iceland", "isl"},
		"IT": {"italien", "italy", "italia", "ita"},
		"JP": {"japan", "jpn"},
		"KR": {"sudkorea", "suedkorea", "south korea", "republic of korea", "korea", "kor"},
		"LI": {"liechtenstein", "lie"},
		"LT": {"litauen", "lithuania", "ltu"},
		"LU": {"luxemburg", "luxembourg", "lux"},
		"LV": {"lettland", "latvia", "lva"},
		"MA": {"marokko", "morocco"},
		"MC": {"monaco", "mco"},
		"MD": {"moldau", "moldawien", "moldova", "republik moldau", "mda"},
		"ME": {"montenegro", "mne"},
		"MK": {"nordmazedonien", "north macedonia", "mazedonien", "macedonia", "mkd"},
		"MT": {"malta", "mlt"},
		"MX": {"mexiko", "mexico", "mex"},
		"NL": {"niederlande", "netherlands", "the netherlands", "holland", "nederland", "nld"},
		"NO": {"norwegen", "norway", "norge"},
		"NZ": {"neuseeland", "new zealand", "nzl"},
		"PL": {"polen", "poland", "polska", "pol"},
		"PT": {"portugal", "prt"},
		"RO": {"rumanien", "rumaenien", "romania", "rou"},
		"RS": {"serbien", "serbia", "srb"},
		"RU": {"russland", "russia", "russian federation", "russische foderation", "rus"},
		"SE": {"schweden", "sweden", "sverige", "swe"},
		"SG": {"singapur", "singapore", "sgp"},
		"SI": {"slowenien", "slovenia", "slovenija", "svn"},
		"SK": {"slowakei", "slovakia", "slovensko", "slowakische republik", "svk"},
		"SM": {"san marino", "smr"},
		"TN": {"tunesien", "tunisia", "tun"},
		"TR": {"turkei", "tuerkei", "turkey", "turkiye", "tur"},
		"UA": {"ukraine", "ukr"},
		"US": {"vereinigte staaten", "vereinigte staaten von amerika", "united states", "united states of america", "usa", "us", "u s", "amerika", "america", "us amerika"},
		"VA": {"vatikanstadt", "vatikan", "vatican", "vatican city", "holy see", "vat"},
		"ZA": {"sudafrika", "suedafrika", "south africa", "zaf"},
	} {
		for _, n := range names {
			m[n] = code
		}
	}
	return m
}()
