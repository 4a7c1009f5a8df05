package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"

	"tresor"
)

// RecordSource builds the record of processing activities (Art. 30) in a
// language, from the policy, the controller's data and the settings the
// server runs with; nil when no controller file is configured.
type RecordSource func(ctx context.Context, lang string) (*tresor.ProcessingRecord, error)

// recordRoutes serve the record to the data-protection officer and the
// administrators: it holds no personal data of customers, only what the
// controller declares and how Tresor is set up.
func (s *Server) recordRoutes() []route {
	return []route{
		{"GET", "/api/v1/record-of-processing", AnyRole(tresor.RoleDPO, tresor.RoleAdmin), s.recordAPI},
	}
}

func (s *Server) recordPageRoutes() []route {
	return []route{{"GET", "/dpo/record", AnyRole(tresor.RoleDPO, tresor.RoleAdmin), s.recordPage}}
}

func noRecord() error {
	e := tresor.Errorf(tresor.ECUnavailable, "The record of processing activities needs the controller's data (Art. 30(1)(a) GDPR): start the server with --controller FILE (TRESOR_CONTROLLER_FILE).")
	e.MessageDE = "Das Verzeichnis der Verarbeitungstätigkeiten braucht die Angaben des Verantwortlichen (Art. 30 Abs. 1 lit. a DSGVO): Starten Sie den Server mit --controller DATEI (TRESOR_CONTROLLER_FILE)."
	return e
}

// recordLang is the language asked for with ?lang=, else the request's.
func recordLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "de" || l == "en" {
		return l
	}
	return language(r)
}

func (s *Server) record(r *http.Request) (*tresor.ProcessingRecord, error) {
	if s.opt.Record == nil {
		return nil, noRecord()
	}
	return s.opt.Record(r.Context(), recordLang(r))
}

// recordAPI answers JSON, or the record as an HTML document with
// ?format=html or a request that prefers text/html.
func (s *Server) recordAPI(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	format, lang := q.str("format"), q.str("lang")
	if err := q.err(); err != nil {
		return err
	}
	switch format {
	case "", "json", "html":
	default:
		return tresor.Errorf(tresor.ECValidation, "format %q: use json or html.", format)
	}
	if lang != "" && lang != "de" && lang != "en" {
		return tresor.Errorf(tresor.ECValidation, "lang %q: use de or en.", lang)
	}
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
		format = "html"
	}
	rec, err := s.record(r)
	if err != nil {
		return err
	}
	if format != "html" {
		return writeJSON(w, http.StatusOK, rec)
	}
	var buf bytes.Buffer
	if err := WriteRecordHTML(&buf, rec); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", recordCSP)
	_, err = w.Write(buf.Bytes())
	return err
}

// recordCSP allows the document its own small stylesheet, by its hash, and
// nothing else: a stored document opens without a server, so it cannot link
// /static/tresor.css.
var recordCSP = func() string {
	b, err := webFS.ReadFile("web/record/document.html")
	if err != nil {
		panic(err)
	}
	_, rest, ok1 := strings.Cut(string(b), "<style>")
	style, _, ok2 := strings.Cut(rest, "</style>")
	if !ok1 || !ok2 {
		panic("server: web/record/document.html has no <style> element")
	}
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

type recordData struct {
	Lang    string
	Rec     *tresor.ProcessingRecord
	Err     *pageErr
	Missing bool // no controller file: the page says how to configure one
	Doc     bool // a document of its own: every part open, for print
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "record_title", "/dpo")
	if err != nil {
		return err
	}
	d := &recordData{Lang: language(r), Missing: s.opt.Record == nil}
	if !d.Missing {
		rec, err := s.record(r)
		if err != nil {
			if d.Err, err = adminRefusal(r, err); err != nil {
				return err
			}
		}
		d.Rec = rec
	}
	v.Data = d
	return s.render(w, r, http.StatusOK, "record", v)
}

// recordDoc is the record as a document of its own: for the API's HTML
// answer and `tresor policy record --format html`.
var recordDoc = template.Must(template.New("document").Funcs(pageFuncs).ParseFS(webFS,
	"web/record/document.html", "web/templates/partials/record_body.html"))

// WriteRecordHTML writes the record as a standalone HTML document.
func WriteRecordHTML(w io.Writer, rec *tresor.ProcessingRecord) error {
	return recordDoc.ExecuteTemplate(w, "document", &recordData{Lang: rec.Lang, Rec: rec, Doc: true})
}

// WriteRecordMarkdown writes the record as Markdown, with the page's
// headings in the record's language.
func WriteRecordMarkdown(w io.Writer, rec *tresor.ProcessingRecord) error {
	l := func(key string) string { return translate(rec.Lang, key) }
	var b strings.Builder
	party := func(p tresor.RecordParty) {
		fmt.Fprintf(&b, "%s  \n", p.Name)
		for _, s := range []string{p.Address, p.Email, p.Phone} {
			if s != "" {
				fmt.Fprintf(&b, "%s  \n", s)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "# %s\n\n%s %s\n\n", l("record_title"), l("record_generated"), rec.GeneratedAt.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "## %s\n\n", l("record_controller"))
	party(rec.Controller)
	fmt.Fprintf(&b, "## %s\n\n", l("record_dpo"))
	party(rec.DPO)
	fmt.Fprintf(&b, "## %s\n\n", l("record_activities"))
	for _, a := range rec.Activities {
		fmt.Fprintf(&b, "### %s (`%s`)\n\n%s\n\n", a.Name, a.Purpose, a.Description)
		var bases []string
		for _, x := range a.LegalBases {
			bases = append(bases, x.Text)
		}
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_legal_bases"), strings.Join(bases, "; "))
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_subjects"), a.DataSubjects)
		var cats []string
		for _, c := range a.Categories {
			cats = append(cats, fmt.Sprintf("%s (`%s`, %d %s)", c.Name, c.ID, c.RetentionDays, l("record_days")))
		}
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_categories"), strings.Join(cats, ", "))
		if a.Art9Exception != "" {
			fmt.Fprintf(&b, "- **%s:** Art. 9(2)(%s)\n", l("record_art9"), a.Art9Exception)
		}
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_recipients"), orNone(rec.Lang, strings.Join(a.Recipients, "; ")))
		var tr []string
		for _, x := range a.Transfers {
			tr = append(tr, fmt.Sprintf("%s %s (%s): %s", x.Connector, x.Endpoint, x.Country, x.Safeguard))
		}
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_transfers"), orNone(rec.Lang, strings.Join(tr, "; ")))
		fmt.Fprintf(&b, "- **%s:** %s\n", l("record_retention"), a.Retention)
		fmt.Fprintf(&b, "- **%s:** %s\n\n", l("record_erasure"), a.Erasure)
	}
	fmt.Fprintf(&b, "## %s\n\n", l("record_connectors"))
	if len(rec.Transfers) == 0 {
		fmt.Fprintf(&b, "%s\n\n", l("record_no_connectors"))
	} else {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n|---|---|---|---|---|\n", l("record_connector"), l("record_endpoint"), l("record_country"), l("record_safeguard"), l("record_in_use"))
		for _, x := range rec.Transfers {
			use := l("record_no")
			if x.InUse {
				use = l("record_yes")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(x.Connector), cell(x.Endpoint), orDash(x.Country), cell(x.Safeguard), use)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## %s\n\n", l("record_measures"))
	for _, m := range rec.Measures {
		fmt.Fprintf(&b, "- **%s:** %s\n", m.Title, m.Text)
	}
	fmt.Fprintf(&b, "\n## %s\n\n", l("record_texts"))
	for _, it := range rec.InformationTexts {
		fmt.Fprintf(&b, "### %s\n\n", it.Title)
		for _, p := range it.Paragraphs {
			fmt.Fprintf(&b, "%s\n\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(lang, s string) string {
	if s == "" {
		return translate(lang, "record_none")
	}
	return s
}

// cell keeps a text from ending a Markdown table's cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
