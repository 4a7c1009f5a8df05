package server

import (
	"bytes"
	"strings"
	"testing"
)

// TestExportFormPartial: the export form renders in both languages with its
// labels, the session's form token and the list's filters, and the
// semicolon is chosen for German.
func TestExportFormPartial(t *testing.T) {
	p := mustParsePages()
	for _, lang := range languages {
		t.Run("the form renders in "+lang, func(t *testing.T) {
			var buf bytes.Buffer
			v := view{Lang: lang, CSRF: "tok<en>", Data: &contactsList{Q: `a"b`, Mine: true, Sort: "name"}}
			if err := p.byName["contacts"].ExecuteTemplate(&buf, "contacts_export", v); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range []string{`id="contacts-export"`, `action="/contacts/export"`, `name="csrf" value="tok&lt;en&gt;"`,
				`name="q" value="a&#34;b"`, `name="owner" value="me"`, `name="sort" value="name"`, `<label for="export-format">` + translate(lang, "export_format"),
				`<label for="export-sep">` + translate(lang, "export_separator"), translate(lang, "export_submit")} {
				if !strings.Contains(out, want) {
					t.Errorf("the form lacks %s:\n%s", want, out)
				}
			}
			if semi := strings.Contains(out, `value="semicolon" selected`); semi != (lang == "de") {
				t.Errorf("%s: semicolon preselected %v", lang, semi)
			}
		})
	}
}
