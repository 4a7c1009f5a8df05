package server

import (
	"net/http"
	"strings"

	"tresor"
)

// The DPO's request register page (issue [2.4]): the open requests by
// deadline, the overdue ones marked, the answered and refused below, a form
// to record a request that arrived, and the buttons that move each one on
// or extend its deadline. Everything goes through the same gate functions
// as the API, under the session's purpose (data_protection).

func (s *Server) requestPages() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return append([]route{
		{"GET", "/dpo/requests", dpo, s.requestsPage},
		{"POST", "/dpo/requests", dpo, s.requestCreateForm},
		{"POST", "/dpo/requests/{id}/state", dpo, s.requestStateForm},
		{"POST", "/dpo/requests/{id}/extend", dpo, s.requestExtendForm},
	}, s.requestIntakePages()...)
}

// requestsData is what the request register page shows.
type requestsData struct {
	Today    tresor.Date
	Open     []*tresor.Request
	Closed   []*tresor.Request
	Refusal  string // why the purpose sees no requests, in the person's language
	Problem  string // a refused change, in the person's language
	Added    string // the id of the request just recorded
	Form     tresor.NewRequest
	Kinds    []tresor.RequestKind
	Channels []tresor.RequestChannel
}

// Moves lists the states the request may go to from the page.
func (d *requestsData) Moves(r *tresor.Request) []tresor.RequestState {
	return tresor.RequestNextStates(r.State)
}

func (s *Server) requestsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequests(w, r, http.StatusOK, &requestsData{})
}

func (s *Server) renderRequests(w http.ResponseWriter, r *http.Request, status int, d *requestsData) error {
	v, err := s.workspaceView(r, "requests_title", "/dpo")
	if err != nil {
		return err
	}
	d.Today, d.Kinds, d.Channels = s.today(), tresor.RequestKinds(), tresor.RequestChannels()
	if id := r.URL.Query().Get("added"); tresor.ValidID(id) {
		d.Added = id
	}
	if d.Form.ReceivedAt == "" {
		d.Form.ReceivedAt = d.Today
	}
	list := func(states []tresor.RequestState) []*tresor.Request {
		if d.Refusal != "" || err != nil {
			return nil
		}
		l, lerr := s.requests().DataRequests(r.Context(), tresor.RequestFilter{States: states, Page: tresor.Page{Limit: 100}})
		if lerr == nil {
			return l.Items
		}
		d.Refusal, err = refusedOrFailed(r, lerr)
		return nil
	}
	d.Open = list(openRequestStates())
	d.Closed = list([]tresor.RequestState{tresor.RequestAnswered, tresor.RequestRefused})
	if err != nil {
		return err
	}
	v.Data = d
	return s.render(w, r, status, "requests", v)
}

// requestRefused shows the page again with the reason of a refused change,
// or returns the error when it is no refusal.
func (s *Server) requestRefused(w http.ResponseWriter, r *http.Request, err error, d *requestsData) error {
	if code := tresor.ErrorCode(err); statusOf[code] >= 400 && statusOf[code] < 500 {
		d.Problem = pageRefusal(r, err)
		return s.renderRequests(w, r, statusOf[code], d)
	}
	return err
}

func (s *Server) requestCreateForm(w http.ResponseWriter, r *http.Request) error {
	n := tresor.NewRequest{Kind: tresor.RequestKind(r.PostFormValue("kind")), Channel: tresor.RequestChannel(r.PostFormValue("channel")),
		Address: strings.TrimSpace(r.PostFormValue("address")), ReceivedAt: tresor.Date(r.PostFormValue("received_at"))}
	created, err := s.requests().CreateRequest(r.Context(), n)
	if err != nil {
		return s.requestRefused(w, r, err, &requestsData{Form: n})
	}
	http.Redirect(w, r, "/dpo/requests?added="+created.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) requestStateForm(w http.ResponseWriter, r *http.Request) error {
	_, err := s.requests().RequestState(r.Context(), r.PathValue("id"), tresor.RequestState(r.PostFormValue("state")), r.PostFormValue("reason"))
	if r.PostFormValue("back") == "request" { // the form on the request's own page
		if err != nil {
			return s.requestPageRefused(w, r, err)
		}
		return s.requestDone(w, r, "moved")
	}
	if err != nil {
		return s.requestRefused(w, r, err, &requestsData{})
	}
	http.Redirect(w, r, "/dpo/requests", http.StatusSeeOther)
	return nil
}

func (s *Server) requestExtendForm(w http.ResponseWriter, r *http.Request) error {
	_, err := s.requests().ExtendRequest(r.Context(), r.PathValue("id"), r.PostFormValue("reason"))
	if r.PostFormValue("back") == "request" { // the form on the request's own page
		if err != nil {
			return s.requestPageRefused(w, r, err)
		}
		return s.requestDone(w, r, "moved")
	}
	if err != nil {
		return s.requestRefused(w, r, err, &requestsData{})
	}
	http.Redirect(w, r, "/dpo/requests", http.StatusSeeOther)
	return nil
}
