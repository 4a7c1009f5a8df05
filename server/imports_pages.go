package server

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"tresor"
)

// The imports of the workspace (issue [2.2], page 8): a file is uploaded
// with its format and legal basis, read through the same ingestion gate as
// POST /api/v1/imports (s.svc.Imports) under the session's purpose, first as
// a dry run that stores nothing, then for real.
//
// The run after the dry run asks for the file again. Keeping the upload on
// the server between the two steps would hold up to ImportBodyLimit per
// session in memory (or on disk, which an import must never touch), and would
// tie a person to one of several servers behind a load balancer; a second
// upload costs a click and keeps every server stateless. Importing the same
// rows twice creates nothing new (the gate counts them as duplicates), so a
// reload of the result page does no harm either.

// importPagePattern is the page's path; its POST takes files as large as
// the API's (ImportBodyLimit, see wrap).
const importPagePattern = "/imports"

// importRoles are the roles that import (as the navigation shows them).
var importRoles = []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RolePR, tresor.RoleDPO}

func (s *Server) importPages() []route {
	return []route{
		{"GET", importPagePattern, AnyRole(importRoles...), s.importPage},
		{"POST", importPagePattern, AnyRole(importRoles...), s.importSubmit},
		{"GET", importPagePattern + "/{id}", AnyRole(importRoles...), s.importStatusPage},
	}
}

// importsInFlight bounds the real imports this server runs from the page
// at once: each holds its file in memory (up to ImportBodyLimit) until it
// ends, so that the upload is complete before anything is stored and the
// page need not wait for the import.
var importsInFlight = make(chan struct{}, 2)

// importBuffer is an uploaded file held for a background import; closing it
// (the gate does when the import ends) frees its slot and its memory.
type importBuffer struct {
	*bytes.Reader
	once sync.Once
}

func (b *importBuffer) Close() error {
	b.once.Do(func() {
		b.Reader = bytes.NewReader(nil)
		<-importsInFlight
	})
	return nil
}

// importHistoryLimit is how many imports the page lists.
const importHistoryLimit = 20

// importFormats are the formats a page offers, with the file name endings
// each accepts.
var importFormats = []struct {
	ID   string
	Exts []string
}{
	{"linkedin", []string{".csv"}},
	{"vcard", []string{".vcf", ".vcard"}},
	{"mastodon-following", []string{".csv"}},
	{"csv", []string{".csv", ".txt"}},
}

// importNetworks are the networks a vCard or CSV file may name.
var importNetworks = []string{"linkedin", "xing", "mastodon", "bluesky"}

// importForm is what the upload form shows and keeps.
type importForm struct {
	Formats  []importOption
	Networks []string
	Bases    []importOption // the legal bases the session's purpose allows
	LimitMiB int64
	// What was chosen (kept on the report page for the real run).
	Format, Basis, Network, Note, Mapping string
	// Checked is the purpose the dry run was made for (on the run after it).
	Checked string
}

// label is the catalogue key of the chosen value among the options.
func (f importForm) label(opts []importOption, value string) string {
	for _, o := range opts {
		if o.Value == value {
			return o.Key
		}
	}
	return value
}

// FormatKey and BasisKey name the chosen format and legal basis.
func (f importForm) FormatKey() string { return f.label(f.Formats, f.Format) }
func (f importForm) BasisKey() string  { return f.label(f.Bases, f.Basis) }

// importOption is a choice of a select: its value and the catalogue key of
// its label.
type importOption struct{ Value, Key string }

// importView is the Data of the imports page.
type importView struct {
	Lang, CSRF, Purpose string // for the templates of the page's parts
	Form                importForm
	// Problem is a file or request that was refused before or while reading.
	Problem *importProblem
	// Report is the result of a run, dry or real.
	Report *importReportView
	// Columns are, for a generic CSV file, the names in its first line:
	// what a mapping names (shown, never stored).
	Columns []string
	// History is the imports of the purpose, newest first; HistoryErr why
	// it is not shown.
	History    []importRecordView
	HistoryErr *importProblem
	// Record is the import the status page follows.
	Record *importRecordView
}

// importRecordView is an import record as the page shows it.
type importRecordView struct {
	*tresor.ImportRecord
	FormatKey, BasisKey                    string
	NRows, NCreated, NDuplicates, NRefused int64
	NRead                                  int64 // rows read so far, while it runs here
	Percent                                int   // of the file read
}

func importRecordOf(r *tresor.ImportRecord) importRecordView {
	v := importRecordView{ImportRecord: r, FormatKey: "imports_format_" + strings.ReplaceAll(r.Format, "-", "_"),
		BasisKey: "imports_basis_" + string(r.LegalBasis), NRows: int64(r.Rows), NCreated: int64(r.Created),
		NDuplicates: int64(r.Duplicates), NRefused: int64(r.Refused)}
	if p := r.Progress; p != nil {
		v.NRead, v.Percent = int64(p.Rows), p.Percent()
	}
	return v
}

// importHistory adds the history of the purpose's imports to the page.
func (s *Server) importHistory(r *http.Request, data *importView) error {
	if data.Purpose == "" {
		return nil
	}
	l, err := s.svc.Imports.Imports(r.Context(), tresor.ImportQuery{Page: tresor.Page{Limit: importHistoryLimit}})
	if err != nil {
		if _, shown := pageStatus(err); !shown {
			return err
		}
		msg, en := importMessage(r, err)
		data.HistoryErr = &importProblem{Key: "imports_history_refused", Message: msg, English: en, Code: tresor.ErrorCode(err)}
		return nil
	}
	for _, x := range l.Items {
		data.History = append(data.History, importRecordOf(x))
	}
	return nil
}

// importStatusPage follows one import: its state and counts, its progress
// while it runs (the page asks again every second with JS; without, a link
// shows the state anew), and the history.
func (s *Server) importStatusPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "imports_status_title", importPagePattern)
	if err != nil {
		return err
	}
	data := importView{Lang: language(r), CSRF: v.CSRF, Purpose: v.Work.Purpose, Form: s.importForm(v.Work.Purpose)}
	rec, err := s.svc.Imports.ImportRecord(r.Context(), r.PathValue("id"))
	if err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		msg, en := importMessage(r, err)
		data.Problem = &importProblem{Key: "imports_status_refused", Message: msg, English: en, Code: tresor.ErrorCode(err)}
		v.Data = data
		return s.render(w, r, status, "imports", v)
	}
	rv := importRecordOf(rec)
	data.Record = &rv
	if err := s.importHistory(r, &data); err != nil {
		return err
	}
	v.Data = data
	return s.render(w, r, http.StatusOK, "imports", v)
}

// importProblem explains a refusal on the page: a catalogue key for the
// rule, the gate's message (in the person's language where it has one) and
// the stable code.
type importProblem struct {
	Key     string
	Message string
	English bool // the message is the gate's English text on a German page
	Code    tresor.Code
}

// importReportView is a report as the page shows it.
type importReportView struct {
	*tresor.ImportReport
	File string // the file's name as the browser sent it
	// The counts, as the template func num takes them.
	Rows, Created, Duplicates, Notices int64
	Refused                            []importCount
	Dropped                            []importCount
	Explained                          []importExplainedView
}

// importCount is a count of one reason.
type importCount struct {
	Reason string // the gate's reason ("special:special.health")
	Key    string // the catalogue key explaining it
	Detail string // what follows the colon, e.g. the category
	N      int64
}

// importExplainedView is an explanation of a report with its rows as the
// page writes them: "2–51, 60".
type importExplainedView struct {
	Key     string // the catalogue key explaining the reason
	Detail  string // what follows the reason's colon, for a key that names a kind
	Reason  string
	Message string // the gate's English text, shown for malformed rows and reasons the catalogue lacks
	Refused bool
	Single  bool   // one row: "Row 6", else "Rows 2–51, 60"
	Rows    string // the ranges
	More    int64  // rows beyond the ranges listed
}

func (s *Server) importForm(purpose string) importForm {
	f := importForm{Networks: importNetworks, LimitMiB: ImportBodyLimit >> 20, Format: "linkedin"}
	for _, x := range importFormats {
		f.Formats = append(f.Formats, importOption{x.ID, "imports_format_" + strings.ReplaceAll(x.ID, "-", "_")})
	}
	for _, pu := range s.opt.Catalogue {
		if pu.ID == purpose {
			for _, b := range pu.LegalBases {
				f.Bases = append(f.Bases, importOption{string(b), "imports_basis_" + string(b)})
			}
		}
	}
	return f
}

// importPage shows the upload form.
func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "imports_title", importPagePattern)
	if err != nil {
		return err
	}
	data := importView{Lang: language(r), CSRF: v.CSRF, Purpose: v.Work.Purpose, Form: s.importForm(v.Work.Purpose)}
	if err := s.importHistory(r, &data); err != nil {
		return err
	}
	v.Data = data
	return s.render(w, r, http.StatusOK, "imports", v)
}

// importSubmit reads the form and the file as a stream (never into memory
// as a whole, never onto disk) and hands the file to the ingestion gate.
func (s *Server) importSubmit(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "imports_title", importPagePattern)
	if err != nil {
		return err
	}
	form := s.importForm(v.Work.Purpose)
	data := importView{Lang: language(r), CSRF: v.CSRF, Purpose: v.Work.Purpose, Form: form}
	fail := func(status int, p *importProblem) error {
		data.Problem = p
		v.Data = data
		v.Title = "imports_refused_title"
		return s.render(w, r, status, "imports", v)
	}
	// Refuse a file larger than the limit before reading any of it: with a
	// real run, batches read before the limit would be stored.
	tooLarge := &importProblem{Key: "imports_too_large", Code: tresor.ECBodyTooLarge,
		Message: fmt.Sprintf(translate(language(r), "imports_too_large_help"), ImportBodyLimit>>20)}
	if r.ContentLength > ImportBodyLimit {
		return fail(http.StatusRequestEntityTooLarge, tooLarge)
	}
	mr := multipartFrom(r.Context())
	if mr == nil {
		return fail(http.StatusBadRequest, &importProblem{Key: "imports_not_a_form", Code: tresor.ECInvalidParameter})
	}
	req, dry, file, err := readImportForm(mr, &data.Form)
	if err != nil {
		return fail(http.StatusBadRequest, &importProblem{Key: "imports_not_a_form", Message: err.Error(), Code: tresor.ECInvalidParameter})
	}
	if file == nil || file.FileName() == "" {
		return fail(http.StatusBadRequest, &importProblem{Key: "imports_no_file", Code: tresor.ECInvalidParameter})
	}
	name := path.Base(strings.ReplaceAll(file.FileName(), "\\", "/"))
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120]) + "…"
	}
	body := bufio.NewReaderSize(file, 64<<10)
	if key := checkImportFile(req.Format, name, body); key != "" {
		return fail(http.StatusUnsupportedMediaType, &importProblem{Key: key, Code: tresor.ECUnsupportedMedia})
	}
	if req.Format == "csv" {
		head, _ := body.Peek(64 << 10)
		data.Columns = csvColumns(head)
	}
	if !dry && data.Form.Checked != v.Work.Purpose {
		// The purpose was switched since the dry run: its rules may differ.
		return fail(http.StatusConflict, &importProblem{Key: "imports_purpose_changed", Code: tresor.ECConflict})
	}
	req.DryRun = dry
	if !dry {
		return s.importStart(w, r, body, req, name, fail, tooLarge)
	}
	rep, err := s.svc.Imports.Import(r.Context(), body, req)
	if err != nil {
		if rep != nil && !dry && rep.Created > 0 {
			// Batches stored before the file broke off: the page shows them.
			data.Report = importReport(rep, name)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fail(http.StatusRequestEntityTooLarge, tooLarge)
		}
		code := tresor.ErrorCode(err)
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		p := &importProblem{Key: "imports_refused", Code: code}
		p.Message, p.English = importMessage(r, err)
		switch code {
		case tresor.ECPurposeMissing:
			p.Key = "imports_purpose_missing"
		case tresor.ECValidation:
			p.Key = "imports_malformed"
		}
		return fail(status, p)
	}
	data.Report = importReport(rep, name)
	v.Data = data
	v.Title = "imports_report_title"
	if !dry {
		v.Title = "imports_done_title"
	}
	return s.render(w, r, http.StatusOK, "imports", v)
}

// importStart receives the whole file, then has the gate check it and run
// the import in the background, and sends the browser to the import's
// status page. Nothing is stored before the upload is complete and the
// gate has accepted the request and the file's beginning; a refusal shows
// the form's page as a dry run's would.
func (s *Server) importStart(w http.ResponseWriter, r *http.Request, body io.Reader, req tresor.ImportRequest, name string,
	fail func(int, *importProblem) error, tooLarge *importProblem) error {
	select {
	case importsInFlight <- struct{}{}:
	default:
		return fail(http.StatusServiceUnavailable, &importProblem{Key: "imports_busy", Code: tresor.ECUnavailable})
	}
	held := true
	defer func() {
		if held {
			<-importsInFlight
		}
	}()
	file, err := io.ReadAll(io.LimitReader(body, ImportBodyLimit+1))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || len(file) > ImportBodyLimit {
		return fail(http.StatusRequestEntityTooLarge, tooLarge)
	}
	if err != nil {
		return fail(http.StatusBadRequest, &importProblem{Key: "imports_not_a_form", Message: err.Error(), Code: tresor.ECInvalidParameter})
	}
	req.FileName = name
	held = false // the buffer's Close frees the slot now
	rec, err := s.svc.Imports.StartImport(r.Context(), &importBuffer{Reader: bytes.NewReader(file)}, int64(len(file)), req)
	if err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		p := &importProblem{Key: "imports_refused", Code: tresor.ErrorCode(err)}
		p.Message, p.English = importMessage(r, err)
		switch p.Code {
		case tresor.ECPurposeMissing:
			p.Key = "imports_purpose_missing"
		case tresor.ECValidation:
			p.Key = "imports_malformed"
		}
		return fail(status, p)
	}
	http.Redirect(w, r, importPagePattern+"/"+rec.ID, http.StatusSeeOther)
	return nil
}

// readImportForm reads the form's fields up to the file, which comes last
// (browsers send the parts in the order of the form); parts after it are
// not read.
func readImportForm(mr *multipart.Reader, f *importForm) (req tresor.ImportRequest, dry bool, file *multipart.Part, err error) {
	dry = true
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return req, dry, nil, nil
		}
		if err != nil {
			return req, dry, nil, err
		}
		if p.FormName() == "file" {
			return req, dry, p, nil
		}
		b, err := io.ReadAll(io.LimitReader(p, 64<<10+1))
		if err != nil {
			return req, dry, nil, err
		}
		if len(b) > 64<<10 {
			return req, dry, nil, errors.New("a field of the form is too long")
		}
		val := string(b)
		switch p.FormName() {
		case "format":
			req.Format, f.Format = val, val
		case "legal_basis":
			req.LegalBasis, f.Basis = tresor.LegalBasis(val), val
		case "network":
			req.Network, f.Network = val, val
		case "balancing_note":
			req.BalancingNote, f.Note = val, val
		case "mapping":
			if strings.TrimSpace(val) != "" {
				req.Mapping = val
			}
			f.Mapping = val
		case "run":
			dry = val != "import"
		case "purpose":
			f.Checked = val
		}
	}
}

// checkImportFile returns the catalogue key of what is wrong with the file,
// or "": a name ending the format accepts, and text, not a binary file.
func checkImportFile(format, name string, body *bufio.Reader) string {
	i := slices.IndexFunc(importFormats, func(x struct {
		ID   string
		Exts []string
	}) bool {
		return x.ID == format
	})
	if i < 0 {
		return "imports_unknown_format"
	}
	ext := strings.ToLower(path.Ext(name))
	if !slices.Contains(importFormats[i].Exts, ext) {
		return "imports_wrong_type"
	}
	head, _ := body.Peek(512)
	if len(head) == 0 {
		return "imports_empty"
	}
	if !strings.HasPrefix(http.DetectContentType(head), "text/") {
		return "imports_wrong_type"
	}
	return ""
}

// importMessage is the gate's message in the page's language where the
// gate has it in German, and whether it is English on a German page.
func importMessage(r *http.Request, err error) (string, bool) {
	if language(r) != "de" {
		return tresor.ErrorMessage(err), false
	}
	if e := tresor.AsError(err); e != nil && e.MessageDE != "" {
		return e.MessageDE, false
	}
	return tresor.ErrorMessage(err), true
}

// importReasons explains the reasons of a report; a reason "kind:detail"
// is explained by its kind.
var importReasons = map[string]string{
	"malformed": "imports_reason_malformed", "no_identifier": "imports_reason_no_identifier",
	"suppressed": "imports_reason_suppressed", "not_public": "imports_reason_not_public",
	"private": "imports_reason_private", "special": "imports_reason_special", "category": "imports_reason_category",
}

// importReasonKey is the catalogue key explaining a reason and the
// detail to show with it: a reason of its own ("invalid:postal_country"),
// else its kind ("special" of "special:special.health").
func importReasonKey(reason string) (key, detail string) {
	if k, ok := importReasonKeys[reason]; ok {
		return k, ""
	}
	kind, detail, _ := strings.Cut(reason, ":")
	if k, ok := importReasons[kind]; ok {
		return k, detail
	}
	return "imports_reason_other", detail
}

// importReasonKeys explain the reasons that have a text of their own.
var importReasonKeys = map[string]string{
	"invalid:postal_country": "imports_reason_invalid_postal_country", "invalid:postal_address": "imports_reason_invalid_postal_address",
	"invalid:phone": "imports_reason_invalid_phone", "invalid:email": "imports_reason_invalid_email",
	"invalid:handle": "imports_reason_invalid_handle", "invalid:organization": "imports_reason_invalid_organization",
	"invalid:position": "imports_reason_invalid_position", "invalid:language": "imports_reason_invalid_language",
}

// importRanges writes row ranges as the page shows them: "2–51, 60".
func importRanges(rs []tresor.ImportRowRange) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(r.From))
		if r.To > r.From {
			b.WriteString("–" + strconv.Itoa(r.To))
		}
	}
	return b.String()
}

func importReport(rep *tresor.ImportReport, file string) *importReportView {
	v := &importReportView{ImportReport: rep, File: file, Rows: int64(rep.Rows), Created: int64(rep.Created),
		Duplicates: int64(rep.Duplicates), Notices: int64(rep.Notices)}
	counts := func(m map[string]int) []importCount {
		var out []importCount
		for reason, n := range m {
			key, detail := importReasonKey(reason)
			out = append(out, importCount{Reason: reason, Key: key, Detail: detail, N: int64(n)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
		return out
	}
	v.Refused, v.Dropped = counts(rep.Refused), counts(rep.Dropped)
	for _, x := range rep.Explained {
		key, detail := importReasonKey(x.Reason)
		more := 0 // rows beyond the ranges listed, when the report stopped listing them
		if len(x.Rows) >= tresor.MaxImportRanges {
			more = x.Count
			for _, r := range x.Rows {
				more -= r.To - r.From + 1
			}
		}
		v.Explained = append(v.Explained, importExplainedView{Key: key, Detail: detail, Reason: x.Reason, Message: x.Message,
			Refused: x.Refused, Single: len(x.Rows) == 1 && x.Rows[0].From == x.Rows[0].To, Rows: importRanges(x.Rows),
			More: int64(max(more, 0))})
	}
	return v
}

// csvColumns previews the column names of a CSV file: the fields of its
// first line, split at the delimiter it uses most (comma, semicolon, tab).
// It shows what the page was sent back to the person who sent it, for
// writing the mapping; it is not stored or logged.
func csvColumns(head []byte) []string {
	line, _, _ := strings.Cut(strings.TrimPrefix(string(head), "\uFEFF"), "\n")
	line = strings.ToValidUTF8(strings.TrimRight(line, "\r"), "\uFFFD")
	delim, most := ',', -1
	for _, d := range []rune{',', ';', '\t'} {
		if n := strings.Count(line, string(d)); n > most {
			delim, most = d, n
		}
	}
	cr := csv.NewReader(strings.NewReader(line))
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = delim, true, -1
	fields, err := cr.Read()
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" && len(out) < 50 {
			if r := []rune(f); len(r) > 60 {
				f = string(r[:60]) + "…"
			}
			out = append(out, f)
		}
	}
	return out
}
