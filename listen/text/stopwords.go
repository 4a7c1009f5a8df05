package text

import "strings"

// The stop word lists are the project's own: function words of everyday
// German and English social posts, chosen so that the terms left over say
// what a post is about. Negations stay out of them on purpose in the scorer
// (it consults its own negator table first), but they are dropped from terms.
var stopWords = map[Language]map[string]bool{
	German: set(`
aber alle allem allen aller alles als also am an ander andere anderen anders auch auf aus bei beim bin bis bist
bzw da dabei dadurch dafür dagegen daher damit dann dar daran darauf darum das dass dasselbe dein deine deinem
deinen deiner dem den denn der deren des deshalb dessen dich die dies diese diesem diesen dieser dieses dir doch
dort du durch ein eine einem einen einer eines einfach einige einmal er es etwa etwas euch euer eure für gab gar
gegen gehabt gewesen gibt habe haben hab hast hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
ihren ihrer im in ins ist ja jede jedem jeden jeder jedes jetzt kann kannst kein keine keinem keinen keiner keines
können könnte man manche manchen mehr mein meine meinem meinen meiner mich mir mit muss musste nach nicht nichts
noch nun nur ob oder ohne schon sehr sein seine seinem seinen seiner seit sich sie sind so soll sollte sonst
über um und uns unser unsere unter viel vom von vor wann war waren warum was weil weiter welche welchem welchen
welcher welches wenn wer werde werden wie wieder will wir wird wirst wo wurde wurden zu zum zur zwar zwischen
mal halt eben echt wirklich ganz total voll eher etwas bisschen kaum nie niemals heute gestern morgen immer
grad gerade bitte danke mehr weniger wäre wären hätte hätten würde würden gerne lol`),
	English: set(`
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few
for from further had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'm
i've if in into is isn't it it's its itself just let's me more most mustn't my myself no nor not of off on once
only or other ought our ours ourselves out over own same she should shouldn't so some such than that that's the
their theirs them themselves then there there's these they they're this those through to too under until up
very was wasn't we we're were weren't what when where which while who whom why will with won't would wouldn't
you you're your yours yourself yourselves im ive dont doesnt didnt isnt cant wont really quite pretty totally
just also still even get got gets now today yesterday tomorrow again ever never always lol u ur pls please
thanks thank gonna wanna yet one much many lot`),
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// IsStopWord reports whether a lower-case word is a stop word of lang.
func IsStopWord(lang Language, word string) bool { return stopWords[lang][word] }
