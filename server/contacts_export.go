package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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
	req := tresor.ExportRequest{Format: tresor.ExportFormat(q.str("format")),
		Filter: tresor.ContactFilter{OwnerID: q.owner("owner"), OrganizationID: q.id("organization_id"),
			UpdatedSince: q.time("updated_since"), Query: q.str("q"), Email: q.str("email")}}
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
// the list the form's hidden fields describe (q, email, owner,
// organization_id), as a download. A refusal, the cap among them, shows on
// the contacts page with its code and the rule in the person's language.
func (s *Server) exportPageSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tresor.Errorf(tresor.ECInvalidParameter, "The form could not be read.")
	}
	f := r.PostForm
	req := tresor.ExportRequest{IDs: f["id"], Format: tresor.ExportFormat(f.Get("format"))}
	sep, err := exportSeparator(f.Get("sep"))
	if err == nil && len(req.IDs) == 0 {
		req.Filter = tresor.ContactFilter{Query: strings.TrimSpace(f.Get("q")), Email: strings.TrimSpace(f.Get("email")),
			OrganizationID: strings.TrimSpace(f.Get("organization_id"))}
		switch owner := strings.TrimSpace(f.Get("owner")); {
		case owner == "me":
			req.Filter.OwnerID = tresor.ActorFrom(r.Context()).UserID
		case owner != "" && !tresor.ValidID(owner):
			err = tresor.Errorf(tresor.ECInvalidParameter, "The owner must be a user id or me.")
		default:
			req.Filter.OwnerID = owner
		}
		if id := req.Filter.OrganizationID; err == nil && id != "" && !tresor.ValidID(id) {
			err = tresor.Errorf(tresor.ECInvalidParameter, "The organization must be an organization id.")
		}
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
	d := &contactsList{}
	v.Data = d
	if tresor.ErrorCode(err) == tresor.ECPurposeMissing {
		d.NoPurpose = true
		return s.render(w, r, http.StatusOK, "contacts", v)
	}
	if d.Refused = refusalOf(r, err); d.Refused == nil {
		return err
	}
	status, _ := pageStatus(err)
	return s.render(w, r, status, "contacts", v)
}

// exportHidden is a hidden field of the export form.
type exportHidden struct{ Name, Value string }

// ExportFilter are the filters of the list shown, which the export form
// repeats so that, without a selection, it exports the same list.
func (d *contactsList) ExportFilter() []exportHidden {
	var out []exportHidden
	if d.Email != "" {
		out = append(out, exportHidden{"email", d.Email})
	}
	return out
}
