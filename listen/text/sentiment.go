package text

import (
	"bufio"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Label is the sentiment class of a post.
type Label int8

// The three classes the aggregates count.
const (
	Negative Label = -1
	Neutral  Label = 0
	Positive Label = 1
)

func (l Label) String() string {
	switch l {
	case Negative:
		return "negative"
	case Positive:
		return "positive"
	}
	return "neutral"
}

// ParseLabel reads "negative", "neutral" or "positive".
func ParseLabel(s string) (Label, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "negative":
		return Negative, nil
	case "neutral":
		return Neutral, nil
	case "positive":
		return Positive, nil
	}
	return Neutral, fmt.Errorf("text: unknown sentiment label %q", s)
}

// Sentiment is the scorer's verdict on one post.
type Sentiment struct {
	Label Label
	// Score lies in (-1, 1): the rule-adjusted sum of valences, squashed.
	Score float64
}

// The weights of the rules. They were set by reasoning about the rules and
// checked on the development half of the evaluation set only.
const (
	negationFactor      = -0.75 // "nicht gut" is less bad than "schlecht" is bad
	turnerFactor        = -0.5  // kaum/barely: diminishes and turns the sense
	boosterFactor       = 1.5   // sehr, extrem, very
	damperFactor        = 0.5   // etwas, slightly
	beforeContrast      = 0.5   // what comes before aber/but counts half …
	afterContrast       = 1.5   // … and what follows it counts more
	exclaimStep         = 0.15  // each '!' (up to three) strengthens the whole post
	negationWindow      = 3     // a negator reaches this many tokens ahead in its clause
	germanLookBack      = 4     // "gefällt mir nicht": nicht reaches back this far
	shortNegationWindow = 2     // ohne, without: "ohne nervige Werbung", not "ohne Zweifel die beste"
	squashAlpha         = 8.0   // Score = s / sqrt(s² + alpha)
	neutralBandSize     = 0.5   // |s| below this is neutral
)

type role uint8

const (
	plain role = iota
	negator
	turner   // diminishes and negates: kaum, barely
	booster  // intensifies what follows
	damper   // weakens what follows
	contrast // aber, but: shifts the weight to what follows
)

//go:embed lexicon_de.txt
var lexiconDE string

//go:embed lexicon_en.txt
var lexiconEN string

type lexicon struct {
	lang    Language
	words   map[string]float64
	stems   map[string]float64
	stemLen map[string]int // the shortest entry behind a stem, in letters
	roles   map[string]role
	// shortNegators reach only shortNegationWindow tokens; salutations open
	// a letter rather than express a feeling when they open a post.
	shortNegators, salutations map[string]bool
	phrases                    map[string]float64 // idioms of two or three words: "nie wieder", "thanks for nothing"
	openers                    map[string]bool    // the first words of the idioms
	maxPhrase                  int
}

var lexicons = map[Language]*lexicon{
	German: mustLexicon(German, lexiconDE, map[role]string{
		negator:  "nicht nichts kein keine keinen keinem keiner keines nie niemals niemand niemandem niemanden nirgends nirgendwo ohne weder null",
		turner:   "kaum wenig",
		booster:  "sehr extrem total absolut echt wirklich richtig voll mega super besonders äußerst äusserst unglaublich unfassbar wahnsinnig höchst überaus komplett völlig krass ziemlich so zu",
		damper:   "etwas bisschen eher leicht relativ halbwegs einigermaßen einigermassen recht",
		contrast: "aber jedoch allerdings trotzdem dennoch",
	}, "ohne", "liebe lieber liebes"),
	English: mustLexicon(English, lexiconEN, map[role]string{
		negator:  "not no never nothing nobody none neither nor without cannot dont doesnt didnt isnt wasnt arent werent cant couldnt wont wouldnt shouldnt aint havent hasnt hadnt",
		turner:   "barely hardly scarcely",
		booster:  "very really so extremely super totally absolutely incredibly truly highly completely utterly insanely seriously too most such",
		damper:   "slightly somewhat kinda fairly bit rather mildly",
		contrast: "but however though although yet",
	}, "without", "dear"),
}

// postNegators are the German negations that may follow what they negate.
var postNegators = set("nicht nie niemals kaum")

func mustLexicon(lang Language, list string, roles map[role]string, shortNegators, salutations string) *lexicon {
	l := &lexicon{lang: lang, words: map[string]float64{}, stems: map[string]float64{}, stemLen: map[string]int{},
		roles: map[string]role{}, phrases: map[string]float64{}, openers: map[string]bool{}, shortNegators: set(shortNegators), salutations: set(salutations)}
	conflict := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(list))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			panic(fmt.Sprintf("text: lexicon %s line %d: want word and valence", lang, n))
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil || v < -3 || v > 3 {
			panic(fmt.Sprintf("text: lexicon %s line %d: valence %q out of -3…3", lang, n, f[len(f)-1]))
		}
		if len(f) > 2 {
			l.phrases[strings.Join(f[:len(f)-1], " ")] = v
			l.openers[f[0]] = true
			l.maxPhrase = max(l.maxPhrase, len(f)-1)
			continue
		}
		l.words[f[0]] = v
		st := Stem(lang, f[0])
		if old, ok := l.stems[st]; ok && (old > 0) != (v > 0) {
			conflict[st] = true
		}
		if old, ok := l.stems[st]; !ok || math.Abs(v) > math.Abs(old) {
			l.stems[st] = v
		}
		if n := utf8.RuneCountInString(f[0]); l.stemLen[st] == 0 || n < l.stemLen[st] {
			l.stemLen[st] = n
		}
	}
	// A stem shared by a positive and a negative entry decides nothing.
	for st := range conflict {
		delete(l.stems, st)
	}
	for r, words := range roles {
		for _, w := range strings.Fields(words) {
			l.roles[w] = r
		}
	}
	return l
}

func (l *lexicon) role(w string) role {
	if r, ok := l.roles[w]; ok {
		return r
	}
	if l.lang == English && strings.HasSuffix(w, "n't") {
		return negator
	}
	return plain
}

// valence looks a word up by its exact form or stem, and in German also with
// ae/oe/ue read as umlauts. Stop words are looked up by their exact form
// only, so that a stem collision such as schön/schon cannot colour them.
func (l *lexicon) valence(w string) float64 {
	if IsStopWord(l.lang, w) {
		return l.words[w]
	}
	if v, ok := l.lookup(w); ok {
		return v
	}
	if l.lang == German && strings.Contains(w, "e") {
		if u := withUmlauts(w); u != w {
			v, _ := l.lookup(u)
			return v
		}
	}
	return 0
}

// lookup finds a word by its exact form, then by its stem. A stem match must
// not come from a much longer entry: "use" is not "useful", "work" is "works".
func (l *lexicon) lookup(w string) (float64, bool) {
	if v, ok := l.words[w]; ok {
		return v, true
	}
	st := Stem(l.lang, w)
	if utf8.RuneCountInString(w) < l.stemLen[st]-1 {
		return 0, false
	}
	v, ok := l.stems[st]
	return v, ok
}

// phrase returns the length and valence of the longest idiom toks start with.
func (l *lexicon) phrase(toks []Token) (int, float64) {
	if !l.openers[toks[0].Text] {
		return 0, 0
	}
	for n := min(l.maxPhrase, len(toks)); n >= 2; n-- {
		words := make([]string, 0, n)
		for _, t := range toks[:n] {
			if t.Kind != Word {
				break
			}
			words = append(words, t.Text)
		}
		if len(words) < n {
			continue
		}
		if v, ok := l.phrases[strings.Join(words, " ")]; ok {
			return n, v
		}
	}
	return 0, 0
}

var umlautSpelling = strings.NewReplacer("ae", "ä", "oe", "ö", "ue", "ü")

func withUmlauts(w string) string { return umlautSpelling.Replace(w) }

// emojiValence holds the project's own valences for common emoji and
// emoticons; an emoji not listed is kept as a token but carries no sentiment.
var emojiValence = map[string]float64{
	"😀": 2, "😃": 2, "😄": 2, "😁": 2, "😆": 2, "😊": 2, "🙂": 1, "😉": 1, "😍": 3, "🥰": 3, "😘": 2,
	"🤩": 3, "😎": 1, "🥳": 3, "👍": 2, "👏": 2, "🙌": 2, "💪": 1, "🎉": 2, "✨": 1, "💯": 2, "🔥": 1,
	"❤": 3, "💕": 3, "💖": 3, "💚": 2, "💙": 2, "🧡": 2, "💛": 2, "💜": 2, "⭐": 1, "🌟": 2, "✅": 1,
	"🤗": 2, "😂": 1, "🤣": 1, "☺": 2, "🙏": 1, "🏆": 2,
	"😞": -2, "😔": -2, "😟": -2, "🙁": -2, "☹": -2, "😢": -2, "😭": -2, "😩": -2, "😫": -2,
	"😠": -3, "😡": -3, "🤬": -3, "👎": -2, "💩": -3, "🤮": -3, "🤢": -2, "😤": -2, "🙄": -2, "😒": -2,
	"😑": -1, "😐": -1, "😕": -1, "😬": -1, "🤦": -2, "💔": -2, "😱": -1, "❌": -1, "⚠": -1, "🐌": -1,
	":)": 2, ":-)": 2, ":D": 2, ":-D": 2, ";)": 1, ";-)": 1, "=)": 2, ":P": 1, ":p": 1, ":-P": 1, ":-p": 1,
	"<3": 3, "^^": 1, "^_^": 2, ":')": 2, ":'-)": 2,
	":(": -2, ":-(": -2, "=(": -2, ":'(": -2, ":'-(": -2, ">:(": -3, ">:-(": -3, ":/": -1, ":-/": -1,
	":|": -1, ":-|": -1, "</3": -2,
}

// ScoreText tokenises and scores a post.
func ScoreText(lang Language, post string) Sentiment { return Score(lang, Tokenize(post)) }

// Score rates a tokenised post in lang (German or English; other languages
// are neutral). The rules, in order: each word, hashtag, emoji and emoticon
// gets its lexicon valence; a negator up to three tokens before a word in the
// same clause turns it (German also "gefällt mir nicht", where nicht follows);
// kaum/barely weaken and turn it; intensifiers strengthen and diminishers
// weaken it; words before a contrast (aber, but) count half and those after
// it count more; exclamation marks strengthen the whole post. It is safe for
// concurrent use: the lexicons are built once and only read.
func Score(lang Language, toks []Token) Sentiment {
	l := lexicons[lang]
	if l == nil || len(toks) == 0 {
		return Sentiment{}
	}
	vals := make([]float64, len(toks))
	roles := make([]role, len(toks))
	lastContrast, exclaims := -1, 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.Kind {
		case Word:
			if n, v := l.phrase(toks[i:]); n > 0 {
				// An idiom is one valenced unit; its words play no role of their own.
				vals[i] = v
				i += n - 1
				continue
			}
			roles[i] = l.role(t.Text)
			switch roles[i] {
			case plain:
				vals[i] = l.valence(t.Text)
			case booster:
				vals[i] = l.words[t.Text] // "super", not "incredibly" by way of "incredible"
			case contrast:
				lastContrast = i
			}
			if i == 0 && l.salutations[t.Text] && len(toks) > 2 {
				vals[i] = 0 // "Liebe Bahn, …" greets; it does not love
			}
		case Hashtag:
			vals[i] = l.words[t.Text]
		case Emoji, Emoticon:
			vals[i] = emojiValence[t.Text]
		case Punct:
			if t.Text == "!" {
				exclaims++
			}
		}
	}
	// "super schnell": an intensifier that also has a valence of its own
	// counts as intensifier when a valenced word follows, else as itself.
	for i := range toks {
		if roles[i] != booster {
			continue
		}
		if next := nextValenced(toks, vals, i, 2); next < 0 {
			roles[i] = plain
		} else {
			vals[i] = 0
		}
	}

	negated := make([]bool, len(toks))
	for i := range toks {
		if vals[i] == 0 || toks[i].Kind == Emoji || toks[i].Kind == Emoticon {
			continue
		}
		for j := i - 1; j >= 0 && j >= i-negationWindow && toks[j].Kind != Punct; j-- {
			switch roles[j] {
			case negator:
				if l.shortNegators[toks[j].Text] && i-j > shortNegationWindow {
					continue
				}
				if !negated[i] {
					vals[i] *= negationFactor
					negated[i] = true
				}
			case turner:
				if !negated[i] {
					vals[i] *= turnerFactor
					negated[i] = true
				}
			case booster:
				vals[i] *= boosterFactor
			case damper:
				vals[i] *= damperFactor
			}
		}
	}
	if lang == German {
		// Post-verbal negation: a nicht with no valenced word after it in its
		// clause turns the nearest valenced word before it.
		for k := range toks {
			if toks[k].Kind != Word || !postNegators[toks[k].Text] {
				continue
			}
			if nextValenced(toks, vals, k, negationWindow) >= 0 {
				continue
			}
			for j := k - 1; j >= 0 && j >= k-germanLookBack && toks[j].Kind != Punct; j-- {
				if vals[j] != 0 && toks[j].Kind == Word {
					if !negated[j] {
						if roles[k] == turner {
							vals[j] *= turnerFactor
						} else {
							vals[j] *= negationFactor
						}
						negated[j] = true
					}
					break
				}
			}
		}
	}

	sum := 0.0
	for i, v := range vals {
		switch {
		case lastContrast < 0:
		case i < lastContrast:
			v *= beforeContrast
		case i > lastContrast:
			v *= afterContrast
		}
		sum += v
	}
	sum *= 1 + exclaimStep*float64(min(exclaims, 3))

	s := Sentiment{Score: sum / math.Sqrt(sum*sum+squashAlpha)}
	switch {
	case sum >= neutralBandSize:
		s.Label = Positive
	case sum <= -neutralBandSize:
		s.Label = Negative
	}
	return s
}

// nextValenced returns the index of the first valenced word or hashtag within
// window tokens after i in the same clause, or -1.
func nextValenced(toks []Token, vals []float64, i, window int) int {
	for j := i + 1; j < len(toks) && j <= i+window && toks[j].Kind != Punct; j++ {
		if vals[j] != 0 && (toks[j].Kind == Word || toks[j].Kind == Hashtag) {
			return j
		}
	}
	return -1
}
