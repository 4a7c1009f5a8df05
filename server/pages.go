package server

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"tresor"
)

//go:embed web
var webFS embed.FS

// pages are the HTML templates, parsed and checked at start.
type pages struct {
	byName map[string]*template.Template
}

// pageFuncs are the functions every page template may call.
var pageFuncs = template.FuncMap{"t": translate, "num": formatNumber, "money": formatMoney, "date": formatDate, "datetime": formatTime,
	"hasRole": func(roles []tresor.Role, r string) bool { return slices.Contains(roles, tresor.Role(r)) },
	"purpose": purposeName, "day": formatDay,
	"count":  func(lang string, n int) string { return formatNumber(lang, int64(n)) },
	"formID": randomToken}

// formatDay writes a calendar day (YYYY-MM-DD) as the language does.
func formatDay(lang string, d tresor.Date) string {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return string(d)
	}
	return formatDate(lang, t)
}

// purposeName is a purpose's name in the language, or its id for a purpose
// the catalogue does not name (one of a configured policy's own).
func purposeName(lang, id string) string {
	if _, ok := catalogue["purpose_"+id]; ok {
		return translate(lang, "purpose_"+id)
	}
	return id
}

// mustParsePages parses every page: each file under web/templates but the
// layout is a page of its name, made of layout.html, the shared partials
// (web/templates/partials/*.html) and its own template.
func mustParsePages() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	files, err := fs.Glob(webFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	partials, _ := fs.Glob(webFS, "web/templates/partials/*.html")
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t := template.Must(template.New("layout").Funcs(pageFuncs).ParseFS(webFS, append([]string{"web/templates/layout.html", f}, partials...)...))
		p.byName[name] = t
	}
	return p
}

// view is what a page template sees.
type view struct {
	Lang        string
	Title       string // a catalogue key
	Heading     string // a heading shown as it is (a contact's name), instead of Title's text
	Error       string // already translated (or a message from the gate)
	Notice      string // a catalogue key
	Email       string // the signed-in user, for the header
	CSRF        string
	FormToken   string
	Value       string
	SSO         bool
	Message     string
	Link        string
	Enrollment  *tresor.TOTPEnrollment
	Codes       []string
	Secret      string
	User        *tresor.User
	Roles       []tresor.Role
	Purposes    []string
	Tokens      []*tresor.Token
	HasPassword bool
	Consent     *tresor.ConsentLink
	// Work is the workspace's header (navigation, purpose); nil on the
	// pages of signing in and of the consent links.
	Work *workspace
	// Data is what a workspace page shows, of the page's own type.
	Data any
}

// pageCSP allows the page its own stylesheet and the scripts Tresor serves
// itself (the vendored htmx) and nothing else: no inline script or style,
// requests and forms only to this origin.
const pageCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page with the status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p view) error {
	p.Lang = language(r)
	var buf bytes.Buffer
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("render: there is no page %q", name)
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// randomToken returns 24 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
