package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// The export of contacts for users (issue [2.3]): GET /api/v1/contacts/export
// exports the list its parameters describe (with a search), POST exports a
// selection of ids; the page form POST /contacts/export does either. The
// gate writes the file with what the declared purpose may see and audits it;
// the file is held whole until then, so an error is still a problem (or a
// page) and never a cut download.

// exportRoutes are the API routes of the export.
func (s *Server) exportRoutes() []route {
	return []route{
		{"GET", "/api/v1/contacts/export", Purpose, s.exportListAPI},
		{"POST", "/api/v1/contacts/export", Purpose, s.exportSelectionAPI},
	}
}

// exportSeparator reads the separator parameter: comma (the default) or
// semicolon, for a German Excel.
func exportSeparator(s string) (rune, error) {
	switch s {
	case "", "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	}
	return 0, tresor.Errorf(tresor.ECInvalidParameter, "The separator %q is unknown; give comma or semicolon.", s)
}

// exportListAPI exports the list GET /api/v1/contacts would page through.
func (s *Server) exportListAPI(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.actor = tresor.ActorFrom(r.Context())
	req := tresor.ExportRequest{Format: tresor.ExportFormat(q.str("format")), Filter: q.contactFilter()}
	sep := q.str("sep")
	if err := q.err(); err != nil {
		return err
	}
	if req.Separator, err = exportSeparator(sep); err != nil {
		return err
	}
	return s.exportWrite(w, r.Context(), req)
}

// contactExportBody is the body of POST /api/v1/contacts/export.
type contactExportBody struct {
	IDs       []string            `json:"ids"`
	Format    tresor.ExportFormat `json:"format,omitempty"`
	Separator string              `json:"separator,omitempty"`
}

// exportSelectionAPI exports the contacts a body names.
func (s *Server) exportSelectionAPI(w http.ResponseWriter, r *http.Request) error {
	var in contactExportBody
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	if len(in.IDs) == 0 {
		return &tresor.Error{Code: tresor.ECValidation, Message: "Name the contacts to export.",
			Fields: []tresor.FieldError{{Field: "ids", Message: "is required: the ids of at least one contact"}}}
	}
	sep, err := exportSeparator(in.Separator)
	if err != nil {
		return err
	}
	return s.exportWrite(w, r.Context(), tresor.ExportRequest{IDs: in.IDs, Format: in.Format, Separator: sep})
}

// exportWrite asks the gate for the file and sends it as a download, with
// the categories withheld and the contacts left out in headers.
func (s *Server) exportWrite(w http.ResponseWriter, ctx context.Context, req tresor.ExportRequest) error {
	var buf bytes.Buffer
	res, err := s.svc.Contacts.ExportContacts(ctx, req, &buf)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", res.Format.ContentType())
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contacts-%s.%s"`, time.Now().UTC().Format("2006-01-02"), res.Format.Extension()))
	h.Set("Cache-Control", "no-store")
	cats := make([]string, len(res.Withheld))
	for i, c := range res.Withheld {
		cats[i] = string(c)
	}
	if len(cats) > 0 {
		h.Set("Tresor-Withheld", strings.Join(cats, ", "))
	}
	h.Set("Tresor-Exported", strconv.Itoa(len(res.IDs)))
	h.Set("Tresor-Skipped", strconv.Itoa(res.Skipped))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}

// exportPageRoutes is the export form of the contacts list.
func (s *Server) exportPageRoutes() []route {
	return []route{{"POST", "/contacts/export", AnyRole(contactRoles...), s.exportPageSubmit}}
}

// exportPageSubmit answers the export form (partials/contacts_export.html):
// the selected contacts (id, the list's checkboxes), or without a selection
// the list the form's hidden fields describe (the list's own parameters,
// read as the list reads them), as a download. A refusal, the cap among them, shows on
// the contacts page with its code and the rule in the person's language.
func (s *Server) exportPageSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tresor.Errorf(tresor.ECInvalidParameter, "The form could not be read.")
	}
	f := r.PostForm
	req := tresor.ExportRequest{IDs: f["id"], Format: tresor.ExportFormat(f.Get("format"))}
	sep, err := exportSeparator(f.Get("sep"))
	d := &contactsList{}
	if len(req.IDs) == 0 {
		// The list's own reading of its filters, from the form's hidden fields.
		list := url.Values{}
		for _, k := range exportListKeys {
			if x := f.Get(k); x != "" {
				list.Set(k, x)
			}
		}
		lr := r.Clone(r.Context())
		lr.URL.RawQuery = list.Encode()
		req.Filter = d.filter(lr)
	}
	req.Separator = sep
	if err == nil {
		if err = s.exportWrite(w, r.Context(), req); err == nil {
			return nil
		}
	}
	v, verr := s.workspaceView(r, "contacts_title", "/contacts")
	if verr != nil {
		return verr
	}
	v.Data = d
	switch tresor.ErrorCode(err) {
	case tresor.ECPurposeMissing:
		d.NoPurpose = true
		return s.render(w, r, http.StatusOK, "contacts", v)
	case tresor.ECSearchWarming: // as the list says it
		d.Warming = tresor.ErrorMessage(err)
		if e := tresor.AsError(err); e != nil && language(r) == "de" && e.MessageDE != "" {
			d.Warming = e.MessageDE
		}
		w.Header().Set("Retry-After", "2")
		return s.render(w, r, http.StatusServiceUnavailable, "contacts", v)
	}
	if d.Refused = refusalOf(r, err); d.Refused == nil {
		return err
	}
	status, _ := pageStatus(err)
	return s.render(w, r, status, "contacts", v)
}

// exportHidden is a hidden field of the export form.
type exportHidden struct{ Name, Value string }

// exportListKeys are the parameters of the contacts list (contactsList.filter
// and link) that the export form repeats.
var exportListKeys = []string{"q", "email", "organization_id", "owner", "sort", "consent_purpose", "consent_channel", "consent_state", "tag", "segment"}

// ExportFilter are the filters of the list shown, which the export form
// repeats so that, without a selection, it exports the same list.
func (d *contactsList) ExportFilter() []exportHidden {
	var out []exportHidden
	for _, h := range []exportHidden{{"q", d.Q}, {"organization_id", d.Org}, {"sort", d.Sort},
		{"consent_purpose", d.ConsentP}, {"consent_channel", d.ConsentC}, {"consent_state", d.ConsentS}, {"tag", d.Tag}, {"segment", d.Segment}} {
		if h.Value != "" {
			out = append(out, h)
		}
	}
	if d.Mine {
		out = append(out, exportHidden{"owner", "me"})
	}
	return out
}
