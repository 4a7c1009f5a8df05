package server

import (
	"fmt"
	"net/http"

	"tresor"
)

// breachPageRoutes are the DPO's breach pages: the register with every
// breach's 72-hour clock and the form to record one, and the page of each
// breach (breach_page.go).
func (s *Server) breachPageRoutes() []route {
	return append([]route{{"GET", "/dpo/breaches", AnyRole(tresor.RoleDPO), s.breachesPage}}, s.breachWorkRoutes()...)
}

// breachView is one row of the register page.
type breachView struct {
	*tresor.Breach
	Left string // the time left, or how long overdue, as "47 h 12 min"
}

type breachesData struct {
	Breaches []breachView
	Err      *pageErr
	Risks    []tresor.BreachRisk
	Form     breachNewForm     // what was typed into the form to record a breach
	Problems map[string]string // by field; "form" for the rest
}

func (s *Server) breachesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderBreaches(w, r, http.StatusOK, &breachesData{})
}

func (s *Server) renderBreaches(w http.ResponseWriter, r *http.Request, status int, d *breachesData) error {
	v, err := s.workspaceView(r, "breaches_title", "/dpo")
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet {
		v.Work.Back = "/dpo/breaches"
	}
	d.Risks = tresor.BreachRisks()
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	l, err := svc.Breaches(r.Context(), tresor.Page{Limit: tresor.MaxPageSize})
	if err != nil {
		if d.Err, err = adminRefusal(r, err); err != nil {
			return err
		}
	} else {
		for _, b := range l.Items {
			d.Breaches = append(d.Breaches, breachView{Breach: b, Left: hoursMinutes(b.Remaining)})
		}
	}
	v.Data = d
	return s.render(w, r, status, "breaches", v)
}

// hoursMinutes writes a number of seconds as hours and minutes, unsigned.
func hoursMinutes(sec int64) string {
	if sec < 0 {
		sec = -sec
	}
	return fmt.Sprintf("%d h %02d min", sec/3600, sec%3600/60)
}
