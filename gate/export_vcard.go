package gate

import (
	"bufio"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"tresor"
)

// vCard 4.0 (RFC 6350) for the export: one card per contact, the properties
// of the categories the purpose may see, text escaped (§3.4) and lines
// folded at 75 octets (§3.2).

// vcardMaxLine is the longest line of a card in octets, without CRLF.
const vcardMaxLine = 75

// vcardText escapes a text value: backslash, comma, semicolon and line
// breaks (§3.4). Other control characters are dropped: they have no place
// in a card and some readers stop at them.
func vcardText(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ',':
			b.WriteString(`\,`)
		case r == ';':
			b.WriteString(`\;`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// vcardParam is a parameter value safe to write unquoted: letters, digits
// and hyphens only (network ids are); "" for anything else.
func vcardParam(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return ""
		}
	}
	return s
}

// vcardFold writes one content line, folded: no line longer than 75 octets,
// a continuation begins with a space, and no UTF-8 sequence is split.
func vcardFold(w *bufio.Writer, line string) {
	limit := vcardMaxLine
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		w.WriteString(line[:cut])
		w.WriteString("\r\n ")
		line = line[cut:]
		limit = vcardMaxLine - 1 // the leading space counts
	}
	w.WriteString(line)
	w.WriteString("\r\n")
}

// writeVCards writes one card per contact with the properties of the
// categories allow permits.
func writeVCards(out io.Writer, cs []*tresor.Contact, allow func(tresor.Category) bool) error {
	w := bufio.NewWriter(out)
	for _, c := range cs {
		prop := func(name, value string) { vcardFold(w, name+":"+value) }
		prop("BEGIN", "VCARD")
		prop("VERSION", "4.0")
		prop("UID", "urn:uuid:"+c.ID)
		// FN is required; without the name it is the first address or the
		// employer the purpose may see, or empty.
		fn := ""
		if allow(tresor.CatContactName) {
			fn = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
		}
		if fn == "" && allow(tresor.CatContactEmail) && len(c.Emails) > 0 {
			fn = c.Emails[0]
		}
		if fn == "" && allow(tresor.CatEmployer) {
			fn = c.Organization
		}
		prop("FN", vcardText(fn))
		if allow(tresor.CatContactName) {
			prop("N", vcardText(c.FamilyName)+";"+vcardText(c.GivenName)+";;;")
		}
		if allow(tresor.CatContactEmail) {
			for _, e := range c.Emails {
				prop("EMAIL", vcardText(e))
			}
		}
		if allow(tresor.CatContactPhone) {
			for _, p := range c.Phones {
				prop("TEL", vcardText(p))
			}
		}
		if a := c.PostalAddress; a != nil && allow(tresor.CatContactPostal) {
			// post office box; extended address; street; locality; region; code; country
			prop("ADR", ";;"+vcardText(a.Street)+";"+vcardText(a.City)+";"+vcardText(a.Region)+";"+
				vcardText(a.PostalCode)+";"+vcardText(a.Country))
		}
		if c.Organization != "" && allow(tresor.CatEmployer) {
			prop("ORG", vcardText(c.Organization))
		}
		if c.Position != "" && allow(tresor.CatPosition) {
			prop("TITLE", vcardText(c.Position))
		}
		if allow(tresor.CatSocialHandle) {
			for _, h := range c.SocialHandles {
				name := "X-SOCIALPROFILE"
				if n := vcardParam(h.Network); n != "" {
					name += ";TYPE=" + n
				}
				prop(name, vcardText(h.Handle))
			}
		}
		if c.PreferredLanguage != "" && allow(tresor.CatContactLanguage) {
			prop("LANG", vcardText(c.PreferredLanguage))
		}
		prop("END", "VCARD")
	}
	return w.Flush()
}
