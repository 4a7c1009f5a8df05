package server

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The page texts live in catalogue files, web/i18n/AREA.json, one per area
// of the product (account, workspace, contacts, deals, …), each mapping a
// key to its English and German text. A key appears in one file only, and
// every key has both languages: loading fails otherwise, at start.

// languages are the languages of the pages, the default first.
var languages = []string{"en", "de"}

// catalogue maps a key to its text per language.
var catalogue = mustLoadCatalogue(webFS)

func mustLoadCatalogue(fsys fs.FS) map[string]map[string]string {
	c, err := loadCatalogue(fsys)
	if err != nil {
		panic(err)
	}
	return c
}

func loadCatalogue(fsys fs.FS) (map[string]map[string]string, error) {
	files, err := fs.Glob(fsys, "web/i18n/*.json")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("server: no catalogue files (%v)", err)
	}
	out := map[string]map[string]string{}
	from := map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var m map[string]map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("server: catalogue %s: %w", f, err)
		}
		for key, texts := range m {
			if prev, dup := from[key]; dup {
				return nil, fmt.Errorf("server: catalogue key %q is in %s and %s", key, prev, f)
			}
			for _, lang := range languages {
				if strings.TrimSpace(texts[lang]) == "" {
					return nil, fmt.Errorf("server: catalogue key %q in %s has no %s text", key, f, lang)
				}
			}
			if len(texts) != len(languages) {
				return nil, fmt.Errorf("server: catalogue key %q in %s has texts in other languages than %v", key, f, languages)
			}
			from[key], out[key] = f, texts
		}
	}
	return out, nil
}

// translate looks a key up in the catalogue; an unknown key is shown as is,
// so that messages from the gate pass through.
func translate(lang, key string) string {
	if m, ok := catalogue[key]; ok {
		if s := m[lang]; s != "" {
			return s
		}
		return m["en"]
	}
	return key
}

// langCookie keeps the language a person chose with the switch in the header.
const langCookie = "tresor_lang"

// language picks German or English: the person's choice, else Accept-Language.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "de" || c.Value == "en") {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.Split(part, ";")[0]))
		switch {
		case strings.HasPrefix(tag, "de"):
			return "de"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// groupDigits writes an integer with a thousands separator.
func groupDigits(n int64, sep string) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatNumber writes a whole number as the language does: 12.345 / 12,345.
func formatNumber(lang string, n int64) string {
	if lang == "de" {
		return groupDigits(n, ".")
	}
	return groupDigits(n, ",")
}

// formatMoney writes an amount in cents as the language does:
// 12.345,67 € in German, €12,345.67 in English (other currencies by code).
func formatMoney(lang string, cents int64, currency string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	sym := map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}[strings.ToUpper(currency)]
	if sym == "" {
		sym = strings.ToUpper(currency)
	}
	var s string
	if lang == "de" {
		s = fmt.Sprintf("%s,%02d %s", groupDigits(cents/100, "."), cents%100, sym)
	} else {
		sep := ""
		if utf8.RuneCountInString(sym) > 1 {
			sep = " "
		}
		s = fmt.Sprintf("%s%s%s.%02d", sym, sep, groupDigits(cents/100, ","), cents%100)
	}
	if neg {
		return "−" + s
	}
	return s
}

// formatDate writes a date as the language does: 02.12.2026 / 2 Dec 2026.
func formatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if lang == "de" {
		return t.Format("02.01.2006")
	}
	return t.Format("2 Jan 2006")
}

// formatTime writes a date and time (UTC) as the language does.
func formatTime(lang string, t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.UTC()
	if lang == "de" {
		return t.Format("02.01.2006, 15:04") + " UTC"
	}
	return t.Format("2 Jan 2006, 15:04") + " UTC"
}
