package server

import (
	"net/http"
	"time"

	"tresor"
)

// The cockpit's deadlines (issue [2.4]): the requests of data subjects
// that are overdue or due within a week, and the breaches the authority
// has not been told of yet with their 72-hour clock, each with the step to
// take next to it.

// dpoSoonDays is how many days ahead a deadline counts as due soon.
const dpoSoonDays = 7

// dpoDeadlines is what the cockpit shows of deadlines.
type dpoDeadlines struct {
	Today         tresor.Date
	Overdue, Soon []*tresor.Request
	RequestsMore  bool
	RequestsErr   string // a refusal of the register, in the person's language
	Breaches      []breachView
	BreachesErr   string
}

// deadlineRefusal is a list's refusal, or an unavailable register, shown
// on the page; any other error fails it.
func deadlineRefusal(r *http.Request, err error) (string, error) {
	if tresor.ErrorCode(err) == tresor.ECUnavailable {
		return pageRefusal(r, err), nil
	}
	return refusedOrFailed(r, err)
}

// dpoLoadDeadlines fills the deadlines; a refusal is shown on the page.
func (s *Server) dpoLoadDeadlines(r *http.Request) (*dpoDeadlines, error) {
	d := &dpoDeadlines{Today: s.today()}
	t, _ := time.Parse(time.DateOnly, string(d.Today))
	soon := tresor.Date(t.AddDate(0, 0, dpoSoonDays+1).Format(time.DateOnly))
	l, err := s.requests().DataRequests(r.Context(), tresor.RequestFilter{States: openRequestStates(), DueBefore: soon,
		Page: tresor.Page{Limit: dpoPageSize}})
	if err != nil {
		if d.RequestsErr, err = deadlineRefusal(r, err); err != nil {
			return nil, err
		}
	} else {
		for _, rq := range l.Items {
			if rq.Overdue(d.Today) {
				d.Overdue = append(d.Overdue, rq)
			} else {
				d.Soon = append(d.Soon, rq)
			}
		}
		d.RequestsMore = l.Next != ""
	}
	if svc := s.breaches(); svc != nil {
		bl, err := svc.Breaches(r.Context(), tresor.Page{Limit: tresor.MaxPageSize})
		if err != nil {
			if d.BreachesErr, err = deadlineRefusal(r, err); err != nil {
				return nil, err
			}
		} else {
			for _, b := range bl.Items {
				if b.State == tresor.BreachOpen {
					d.Breaches = append(d.Breaches, breachView{Breach: b, Left: hoursMinutes(b.Remaining)})
				}
			}
		}
	}
	return d, nil
}
