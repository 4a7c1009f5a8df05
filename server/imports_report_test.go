package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// TestImportReportPage proves how the imports page explains a report: the
// rows of one reason are one line of ranges, not a line per row, and a
// person whose address names an unknown country is taken without it.
func TestImportReportPage(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("ines@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	b.signIn("ines@example.org", webPassword)
	csrf := b.get("/imports").field(t, "csrf")
	b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/imports"}}, nil)
	var f strings.Builder
	for i := range 50 {
		fmt.Fprintf(&f, "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster%d;Erika;;;\r\nEMAIL:erika%d@example.com\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n", i, i)
	}
	f.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Fern;Ferdinand;;;\r\nEMAIL:fern@example.com\r\nADR:;;Poseidonweg 1;Poseidonis;;12345;Atlantis\r\nEND:VCARD\r\n")
	dry := func(t *testing.T) string {
		t.Helper()
		r := b.upload("/imports", part{"csrf", "", csrf}, part{"format", "", "vcard"}, part{"legal_basis", "", "contract"},
			part{"file", "kontakte.vcf", f.String()})
		if r.status != http.StatusOK {
			t.Fatalf("dry run: %d %.300s", r.status, r.body)
		}
		return r.body
	}

	t.Run("fifty rows with the same reason are one line of ranges", func(t *testing.T) {
		body := dry(t)
		if n := strings.Count(body, `data-reason="private:`+string(tresor.CatBirthday)+`"`); n != 1 {
			t.Fatalf("the birthday is explained in %d lines, want 1:\n%s", n, body)
		}
		for _, want := range []string{"<strong>Rows 1–50</strong>: private data (birthday, photo, notes) is not stored"} {
			if !strings.Contains(body, want) {
				t.Errorf("the report lacks %q", want)
			}
		}
		if strings.Contains(body, "<strong>Row 2</strong>") {
			t.Error("the report still lists rows one by one")
		}
	})
	t.Run("an unknown country is explained as a dropped address, the person counted as created", func(t *testing.T) {
		body := dry(t)
		if !strings.Contains(body, `data-reason="invalid:postal_country"><strong>Row 51</strong>: postal address dropped: unknown country`) {
			t.Fatalf("the report lacks the dropped address of row 51:\n%s", body)
		}
		if !strings.Contains(body, `<td id="imports-created">51</td>`) {
			t.Fatalf("the report does not count 51 people:\n%s", body)
		}
		if strings.Contains(body, "Atlantis") || strings.Contains(body, "Poseidon") {
			t.Fatal("the report shows the row's data")
		}
	})
	t.Run("the German report writes the ranges too", func(t *testing.T) {
		b.get("/lang/de?back=/imports")
		defer b.get("/lang/en?back=/imports")
		body := dry(t)
		for _, want := range []string{"<strong>Zeilen 1–50</strong>", "<strong>Zeile 51</strong>: Postanschrift verworfen: unbekanntes Land"} {
			if !strings.Contains(body, want) {
				t.Errorf("the German report lacks %q:\n%s", want, body)
			}
		}
	})
}
