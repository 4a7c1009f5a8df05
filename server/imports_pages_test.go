package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
)

// part is a field of a multipart form; a part with a file name is a file.
type part struct{ name, file, value string }

// upload posts a multipart form with the parts in their order.
func (b *browser) upload(path string, parts ...part) page {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p.file == "" {
			must(b.t, w.WriteField(p.name, p.value))
			continue
		}
		fw, err := w.CreateFormFile(p.name, p.file)
		must(b.t, err)
		_, err = fw.Write([]byte(p.value))
		must(b.t, err)
	}
	must(b.t, w.Close())
	return b.sendJSON("POST", path, buf.String(), map[string]string{"Content-Type": w.FormDataContentType()})
}

// TestImportUploadRules proves what the imports page refuses before the
// gate stores anything: an upload without the session's form token (or with
// it after the file), a run whose purpose was switched after the dry run, a
// legal basis the purpose does not allow; and that the file goes to the gate
// only from a form the person's session sent.
func TestImportUploadRules(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("ines@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	b.signIn("ines@example.org", webPassword)
	csrf := b.get("/imports").field(t, "csrf")
	b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"sales"}, "back": {"/imports"}}, nil)
	stored := func(t *testing.T) int {
		t.Helper()
		l, err := a.g.Contacts(tresor.WithPurpose(sys, "sales"), tresor.ContactFilter{Page: tresor.Page{Limit: 100}})
		must(t, err)
		return len(l.Items)
	}
	file := part{"file", "Connections.csv", connectionsCSV}
	settings := []part{{"format", "", "linkedin"}, {"legal_basis", "", "contract"}}

	t.Run("an upload without the form token is refused", func(t *testing.T) {
		r := b.upload("/imports", append(append([]part{}, settings...), part{"run", "", "import"}, file)...)
		if r.status != http.StatusForbidden || stored(t) != 0 {
			t.Fatalf("%d, %d contacts: %.300s", r.status, stored(t), r.body)
		}
	})
	t.Run("the form token after the file is refused", func(t *testing.T) {
		r := b.upload("/imports", append(append([]part{}, settings...), part{"run", "", "import"}, file, part{"csrf", "", csrf})...)
		if r.status != http.StatusForbidden || stored(t) != 0 {
			t.Fatalf("%d, %d contacts: %.300s", r.status, stored(t), r.body)
		}
	})
	t.Run("a run after the purpose was switched is refused", func(t *testing.T) {
		r := b.upload("/imports", append(append([]part{{"csrf", "", csrf}}, settings...), part{"run", "", "import"}, part{"purpose", "", "marketing"}, file)...)
		if r.status != http.StatusConflict || !strings.Contains(r.body, "The purpose was switched") || stored(t) != 0 {
			t.Fatalf("%d, %d contacts: %.300s", r.status, stored(t), r.body)
		}
	})
	t.Run("a legal basis the purpose does not allow is refused with its code", func(t *testing.T) {
		r := b.upload("/imports", part{"csrf", "", csrf}, part{"format", "", "linkedin"}, part{"legal_basis", "", "legal_obligation"},
			part{"run", "", "import"}, part{"purpose", "", "sales"}, file)
		if r.status != http.StatusForbidden && r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "legal_basis_not_allowed") || stored(t) != 0 {
			t.Fatalf("%d, %d contacts: %.600s", r.status, stored(t), r.body)
		}
	})
	t.Run("a dry run stores nothing and the run stores the contacts", func(t *testing.T) {
		r := b.upload("/imports", append(append([]part{{"csrf", "", csrf}}, settings...), file)...)
		if r.status != http.StatusOK || !strings.Contains(r.body, `name="run" value="import"`) || stored(t) != 0 {
			t.Fatalf("dry run: %d, %d contacts: %.300s", r.status, stored(t), r.body)
		}
		r = b.upload("/imports", append(append([]part{{"csrf", "", csrf}}, settings...), part{"run", "", "import"}, part{"purpose", "", "sales"}, file)...)
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/") {
			t.Fatalf("run: %d to %q: %.300s", r.status, loc, r.body)
		}
		// The import runs in the background; its page shows it done.
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := b.get(loc)
			if st.status != http.StatusOK {
				t.Fatalf("the import's page: %d %.300s", st.status, st.body)
			}
			if strings.Contains(st.body, `data-state="done"`) {
				break
			}
			if time.Now().After(deadline) || strings.Contains(st.body, `data-state="failed"`) {
				t.Fatalf("the import did not end done: %.600s", st.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := stored(t); n != 2 {
			t.Fatalf("run: %d contacts", n)
		}
	})
	t.Run("a generic CSV file shows its columns for the mapping", func(t *testing.T) {
		csvFile := part{"file", "kontakte.csv", "Vorname;Nachname;E-Mail\r\nAda;Lovelace;ada@example.org\r\n"}
		r := b.upload("/imports", part{"csrf", "", csrf}, part{"format", "", "csv"}, part{"legal_basis", "", "contract"}, csvFile)
		if r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
			t.Errorf("a CSV file without a mapping: %d", r.status)
		}
		for _, col := range []string{"<code>Vorname</code>", "<code>Nachname</code>", "<code>E-Mail</code>"} {
			if !strings.Contains(r.body, col) {
				t.Errorf("without a mapping (%d), the page lacks the column %s: %.600s", r.status, col, r.body)
			}
		}
		r = b.upload("/imports", part{"csrf", "", csrf}, part{"format", "", "csv"}, part{"legal_basis", "", "contract"},
			part{"mapping", "", `{"columns": {"given_name": "Vorname", "family_name": "Nachname", "email": "E-Mail"}}`}, csvFile)
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="imports-created">1<`) || !strings.Contains(r.body, "<code>E-Mail</code>") {
			t.Fatalf("with a mapping: %d %.600s", r.status, r.body)
		}
	})
	t.Run("without a purpose the page explains the choice first and stores nothing", func(t *testing.T) {
		b2 := newBrowser(t, a.url)
		b2.signIn("ines@example.org", webPassword)
		form := b2.get("/imports")
		if form.status != http.StatusOK || !strings.Contains(form.body, "Choose the purpose you import for") || strings.Contains(form.body, `id="imports-file"`) {
			t.Fatalf("the form without a purpose: %d %.600s", form.status, form.body)
		}
		before := stored(t)
		r := b2.upload("/imports", append(append([]part{{"csrf", "", form.field(t, "csrf")}}, settings...), part{"run", "", "import"}, part{"purpose", "", ""}, file)...)
		if r.status < 400 || r.status >= 500 || !strings.Contains(r.body, "purpose_missing") || stored(t) != before {
			t.Fatalf("an upload without a purpose: %d %.600s", r.status, r.body)
		}
	})
	t.Run("a role that does not import is refused the page", func(t *testing.T) {
		a.userWithPassword("sam@example.org", tresor.RoleService)
		b3 := newBrowser(t, a.url)
		b3.signIn("sam@example.org", webPassword)
		if r := b3.get("/imports"); r.status != http.StatusForbidden {
			t.Fatalf("service opens the imports page: %d", r.status)
		}
	})
}
