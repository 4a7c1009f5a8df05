package server

import (
	"context"
	"net/http"
	"strconv"

	"tresor"
)

// subjectExportRoutes: the DPO sends the export that answers a request of
// access or portability; the requester downloads it once from the link in
// the mail. The link's GET shows a page with a button and changes nothing
// (mail scanners fetch links on their own); only the button's POST
// downloads, and a used, expired or unknown link gets one and the same page.
func (s *Server) subjectExportRoutes() []route {
	return []route{{"POST", "/api/v1/requests/{id}/export", Purpose, s.sendSubjectExport}}
}

// subjectExportDPOPages: the button on the request's page that sends the
// export, for the DPO.
func (s *Server) subjectExportDPOPages() []route {
	return []route{{"POST", "/dpo/requests/{id}/export", AnyRole(tresor.RoleDPO), s.subjectExportForm}}
}

// subjectExportForm builds and mails the export, then shows the request's
// page again with what was done, or with why not.
func (s *Server) subjectExportForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.subjectExports().SendSubjectExport(r.Context(), r.PathValue("id")); err != nil {
		return s.requestPageRefused(w, r, err)
	}
	return s.requestDone(w, r, "exported")
}

// subjectExportPages are the requester's pages, reached from the mail.
func (s *Server) subjectExportPages() []route {
	return []route{
		{"GET", "/subject-export", Public, s.subjectExportPage},
		{"POST", "/subject-export", Public, s.subjectExportDownload},
	}
}

// subjectExports is the service: the contacts service where it offers it (the gate).
func (s *Server) subjectExports() tresor.SubjectExportService {
	if x, ok := s.svc.Contacts.(tresor.SubjectExportService); ok {
		return x
	}
	return noSubjectExports{}
}

func (s *Server) sendSubjectExport(w http.ResponseWriter, r *http.Request) error {
	out, err := s.subjectExports().SendSubjectExport(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// subjectExportInvalid shows that a link is used, expired or unknown.
func (s *Server) subjectExportInvalid(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusNotFound, "subject_export", view{Title: "subject_export_title", Message: "subject_export_invalid"})
}

func (s *Server) subjectExportPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	l, err := s.subjectExports().SubjectExportLink(r.Context(), token)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.subjectExportInvalid(w, r)
	} else if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.render(w, r, http.StatusOK, "subject_export", view{Title: "subject_export_title", Message: "subject_export_intro",
		Notice: "subject_export_button", Value: token, FormToken: s.newFormToken(w), Link: "/subject-export",
		Data: l.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")})
}

func (s *Server) subjectExportDownload(w http.ResponseWriter, r *http.Request) error {
	if !validFormToken(r) {
		return s.render(w, r, http.StatusForbidden, "subject_export", view{Title: "subject_export_title", Message: "form_expired"})
	}
	f, err := s.subjectExports().DownloadSubjectExport(r.Context(), r.PostFormValue("token"))
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.subjectExportInvalid(w, r)
	} else if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(f.Data)
	return err
}

type noSubjectExports struct{}

func errNoSubjectExports() error {
	return tresor.Errorf(tresor.ECUnavailable, "Exports for requests of access are not available on this server.")
}

func (noSubjectExports) BuildSubjectExport(context.Context, string, tresor.SubjectExportFormat) ([]byte, error) {
	return nil, errNoSubjectExports()
}
func (noSubjectExports) SendSubjectExport(context.Context, string) (*tresor.SubjectExportSent, error) {
	return nil, errNoSubjectExports()
}

// Where there are no exports, no link is valid.
func (noSubjectExports) SubjectExportLink(context.Context, string) (*tresor.SubjectExportLink, error) {
	return nil, tresor.Errorf(tresor.ECLinkInvalid, "This download link is not valid.")
}
func (noSubjectExports) DownloadSubjectExport(context.Context, string) (*tresor.SubjectExportFile, error) {
	return nil, tresor.Errorf(tresor.ECLinkInvalid, "This download link is not valid.")
}
func (noSubjectExports) PurgeSubjectExports(context.Context) (int, error) {
	return 0, errNoSubjectExports()
}
