// Package text turns short German and English social posts into what social
// listening keeps: tokens, stems, a sentiment label and term counts. It does
// no I/O and knows nothing else of Tresor, so the listening gate can call it
// on a post and keep only the numbers.
//
// The German stemmer implements the published Snowball German algorithm from
// its description; English stems come from github.com/kljensen/snowball (MIT).
//
// The stop word lists, the sentiment lexicons (lexicon_de.txt, lexicon_en.txt,
// the emoji and emoticon table) and the labelled evaluation set in testdata
// are the Tresor project's own work, written for this package and shipped
// under the same licence as the rest of the repository. No third-party
// sentiment list (SentiWS, AFINN, VADER's lexicon or any other) was copied or
// consulted for them. docs/sentiment.md reports how well the scorer does.
package text
