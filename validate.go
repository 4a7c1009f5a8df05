package tresor

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field length limits. They keep rows small and refuse pasted documents.
const (
	maxShortText = 200   // names, positions, titles
	maxLongText  = 20000 // interaction bodies, case descriptions
	maxListItems = 20    // e-mails, phones, handles per contact
)

// NormalizeEmail validates a bare e-mail address and returns the form used for
// exact lookup and de-duplication: trimmed, lower case.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("an e-mail address is required")
	}
	if len(s) > 254 {
		return "", errors.New("an e-mail address has at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", fmt.Errorf("%q is not a valid e-mail address; write it as name@example.org without a display name", s)
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("%q is not a valid e-mail address: the domain %q is not a public domain name", s, domain)
	}
	return strings.ToLower(s), nil
}

// NormalizePhone validates a phone number in international format and returns
// it in E.164 form (+ and 7 to 15 digits). Spaces, dots, dashes, slashes and
// parentheses are allowed as separators; "00" may stand for "+".
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("a phone number is required")
	}
	var digits strings.Builder
	rest := s
	switch {
	case strings.HasPrefix(rest, "+"):
		rest = rest[1:]
	case strings.HasPrefix(rest, "00"):
		rest = rest[2:]
	default:
		return "", fmt.Errorf("%q is not in international format; start with + and the country code, e.g. +49 30 1234567", s)
	}
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q contains %q; a phone number has only digits and the separators space . - / ( )", s, r)
		}
	}
	d := digits.String()
	if len(d) < 7 || len(d) > 15 {
		return "", fmt.Errorf("%q has %d digits; an international number has 7 to 15", s, len(d))
	}
	if d[0] == '0' {
		return "", fmt.Errorf("%q: a country code never starts with 0", s)
	}
	return "+" + d, nil
}

var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// ValidLanguage reports whether s looks like a BCP 47 language tag such as "de" or "en-GB".
func ValidLanguage(s string) bool { return len(s) <= 35 && languageTag.MatchString(s) }

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

var networkID = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// ValidNetwork reports whether s is a well-formed network id such as "mastodon" or "linkedin".
func ValidNetwork(s string) bool { return networkID.MatchString(s) }

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// checkText validates free text: valid UTF-8, no control characters except
// newlines and tabs (when multiline), at most max runes.
func checkText(p *Problems, field, s string, max int, required, multiline bool) {
	if required && strings.TrimSpace(s) == "" {
		p.Add(field, "is required")
		return
	}
	if !utf8.ValidString(s) {
		p.Add(field, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.Add(field, "has %d characters; at most %d are allowed", n, max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			p.Add(field, "contains the control character %U", r)
			return
		}
	}
}

// checkOneOf validates an enumerated value.
func checkOneOf[T ~string](p *Problems, field string, v T, allowed []T, required bool) {
	if v == "" {
		if required {
			p.Add(field, "is required; one of %s", joinStrings(allowed))
		}
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.Add(field, "is %q; it must be one of %s", v, joinStrings(allowed))
}

func joinStrings[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// checkID validates an optional reference to another object.
func checkID(p *Problems, field, id string) {
	if id != "" && !ValidID(id) {
		p.Add(field, "%q is not a valid id", id)
	}
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ValidID reports whether s has the form of an object id (a UUID in canonical lower-case form).
func ValidID(s string) bool { return len(s) == 36 && idPattern.MatchString(s) }

// Date is a calendar day without time zone, written as YYYY-MM-DD.
type Date string

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	_, err := time.Parse(time.DateOnly, string(d))
	return err == nil
}

// ValidSlug reports whether s is a short identifier chosen by people, such as a pipeline or stage id.
func ValidSlug(s string) bool { return slug.MatchString(s) }
