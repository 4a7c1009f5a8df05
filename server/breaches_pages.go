package server

import (
	"fmt"
	"net/http"

	"tresor"
)

// breachPageRoutes is the DPO's breach register page: every breach with its
// 72-hour clock, the most urgent first in the reading of the table.
func (s *Server) breachPageRoutes() []route {
	return []route{{"GET", "/dpo/breaches", AnyRole(tresor.RoleDPO), s.breachesPage}}
}

// breachView is one row of the register page.
type breachView struct {
	*tresor.Breach
	Left string // the time left, or how long overdue, as "47 h 12 min"
}

type breachesData struct {
	Breaches []breachView
	Err      *pageErr
}

func (s *Server) breachesPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "breaches_title", "/dpo")
	if err != nil {
		return err
	}
	d := &breachesData{}
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
	return s.render(w, r, http.StatusOK, "breaches", v)
}

// hoursMinutes writes a number of seconds as hours and minutes, unsigned.
func hoursMinutes(sec int64) string {
	if sec < 0 {
		sec = -sec
	}
	return fmt.Sprintf("%d h %02d min", sec/3600, sec%3600/60)
}
