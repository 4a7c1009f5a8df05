package server

import (
	"net/http"

	"tresor"
)

// The retention preview of the DPO cockpit (issue [2.4]): what the next
// retention run would erase or strip, computed by a dry run when the DPO
// asks for it (each is recorded as retention.run with dry_run=true), and
// the run itself, confirmed, next to it.

func (s *Server) retentionPageRoutes() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return []route{
		{"GET", "/dpo/retention", dpo, s.retentionPage},
		{"POST", "/dpo/retention", dpo, s.retentionRunForm},
	}
}

// retentionData is what the page shows: a report (a preview or a run) or
// a refusal.
type retentionData struct {
	Report      *tresor.RetentionReport
	Err         *pageErr
	NeedConfirm bool // the run was sent without its confirmation
}

func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request) error {
	d := &retentionData{}
	if r.URL.Query().Get("preview") != "" {
		rep, err := s.svc.Protection.RunRetention(r.Context(), true)
		if err != nil {
			if d.Err, err = adminRefusal(r, err); err != nil {
				return err
			}
		}
		d.Report = rep
	}
	return s.renderRetention(w, r, http.StatusOK, d)
}

// retentionRunForm runs the retention policy now, once the DPO confirmed
// that the people listed by the preview may go.
func (s *Server) retentionRunForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return s.renderRetention(w, r, http.StatusUnprocessableEntity, &retentionData{NeedConfirm: true})
	}
	d := &retentionData{}
	rep, err := s.svc.Protection.RunRetention(r.Context(), false)
	if err != nil {
		if d.Err, err = adminRefusal(r, err); err != nil {
			return err
		}
		status, _ := pageStatus(tresor.Errorf(tresor.Code(d.Err.Code), ""))
		return s.renderRetention(w, r, status, d)
	}
	d.Report = rep
	return s.renderRetention(w, r, http.StatusOK, d)
}

func (s *Server) renderRetention(w http.ResponseWriter, r *http.Request, status int, d *retentionData) error {
	v, err := s.workspaceView(r, "retention_title", "/dpo")
	if err != nil {
		return err
	}
	v.Data = d
	return s.render(w, r, status, "retention", v)
}
