package server

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestEveryStringInBothLanguages loads the catalogue files and refuses a
// key without a German or an English text, and a key in two files.
func TestEveryStringInBothLanguages(t *testing.T) {
	t.Run("the shipped catalogue loads", func(t *testing.T) {
		if _, err := loadCatalogue(webFS); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a key without German is refused", func(t *testing.T) {
		_, err := loadCatalogue(fstest.MapFS{"web/i18n/a.json": {Data: []byte(`{"k": {"en": "x", "de": ""}}`)}})
		if err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("a key in two files is refused", func(t *testing.T) {
		_, err := loadCatalogue(fstest.MapFS{"web/i18n/a.json": {Data: []byte(`{"k": {"en": "x", "de": "y"}}`)},
			"web/i18n/b.json": {Data: []byte(`{"k": {"en": "x", "de": "y"}}`)}})
		if err == nil {
			t.Fatal("accepted")
		}
	})
}

// templateKey finds the literal catalogue keys of the templates: {{t .Lang "key"}}.
var templateKey = regexp.MustCompile(`\{\{-?\s*t \$?\.Lang "([a-z0-9_]+)"`)

// TestEveryTemplateKeyIsInTheCatalogue: a page never shows a raw key.
func TestEveryTemplateKeyIsInTheCatalogue(t *testing.T) {
	files, _ := fs.Glob(webFS, "web/templates/*.html")
	partials, _ := fs.Glob(webFS, "web/templates/partials/*.html")
	for _, f := range append(files, partials...) {
		b, err := webFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			if _, ok := catalogue[m[1]]; !ok {
				t.Errorf("%s uses the key %q, which no catalogue file has", f, m[1])
			}
		}
	}
}

// TestVendoredFilesMatchTheirChecksums: the third-party scripts embedded in
// the binary are the ones recorded in web/static/vendor/CHECKSUMS.
func TestVendoredFilesMatchTheirChecksums(t *testing.T) {
	b, err := webFS.ReadFile("web/static/vendor/CHECKSUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		data, err := webFS.ReadFile("web/static/vendor/" + f[0])
		if err != nil {
			t.Fatalf("%s is listed but not vendored: %v", f[0], err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f[2] {
			t.Errorf("%s: sha256 %s, recorded %s", f[0], got, f[2])
		}
		listed[f[0]] = true
	}
	files, _ := fs.Glob(webFS, "web/static/vendor/*.js")
	for _, f := range files {
		if name := strings.TrimPrefix(f, "web/static/vendor/"); !listed[name] {
			t.Errorf("%s is vendored without a recorded checksum", name)
		}
	}
}

// TestLocalPathKeepsPeopleOnThisSite: the "back" of the purpose form and
// of the language switch never leads to another site.
func TestLocalPathKeepsPeopleOnThisSite(t *testing.T) {
	for in, want := range map[string]string{"/contacts?q=x": "/contacts?q=x", "": "/", "https://evil.example/": "/",
		"//evil.example/": "/", "/\\evil.example": "/", "javascript:alert(1)": "/", "/a\r\nSet-Cookie: x=1": "/"} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNumbersMoneyAndDatesAsTheLanguageWritesThem.
func TestNumbersMoneyAndDatesAsTheLanguageWritesThem(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{formatMoney("de", 1234567, "EUR"), "12.345,67 €"},
		{formatMoney("en", 1234567, "EUR"), "€12,345.67"},
		{formatMoney("en", -500, "EUR"), "−€5.00"},
		{formatMoney("de", 100, "CHF"), "1,00 CHF"},
		{formatNumber("de", 1234567), "1.234.567"},
		{formatNumber("en", 999), "999"},
		{formatDate("de", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), "02.12.2026"},
		{formatDate("en", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), "2 Dec 2026"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
