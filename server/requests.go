package server

import (
	"context"
	"net/http"
	"strings"

	"tresor"
)

// requestRoutes are the JSON API of the register of requests of data
// subjects; the gate admits only the data_protection purpose.
func (s *Server) requestRoutes() []route {
	return append([]route{
		{"POST", "/api/v1/requests", Purpose, s.createRequest},
		{"GET", "/api/v1/requests", Purpose, s.listRequests},
		{"GET", "/api/v1/requests/{id}", Purpose, s.getRequest},
		{"POST", "/api/v1/requests/{id}/state", Purpose, s.requestState},
		{"POST", "/api/v1/requests/{id}/extend", Purpose, s.extendRequest},
	}, s.requestIdentityRoutes()...)
}

// requests is the register's service: the one given, or the contacts
// service where it offers it (the gate).
func (s *Server) requests() tresor.RequestService {
	if s.svc.Requests != nil {
		return s.svc.Requests
	}
	if rs, ok := s.svc.Contacts.(tresor.RequestService); ok {
		return rs
	}
	return noRequests{}
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) error {
	var in tresor.NewRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.requests().CreateRequest(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/requests/"+out.ID)
	return writeObject(w, http.StatusCreated, out)
}

// requestFilter reads ?state=: open (not yet answered or refused), overdue
// (open and due before today), or one state.
func (s *Server) requestFilter(q *query) tresor.RequestFilter {
	f := tresor.RequestFilter{Page: q.page()}
	switch st := q.str("state"); st {
	case "":
	case "open":
		f.States = openRequestStates()
	case "overdue":
		f.States, f.DueBefore = openRequestStates(), s.today()
	default:
		if !validRequestState(tresor.RequestState(st)) {
			q.probs = append(q.probs, "state must be open, overdue or one of "+requestStateNames())
		}
		f.States = []tresor.RequestState{tresor.RequestState(st)}
	}
	if d := tresor.Date(q.str("due_before")); d != "" {
		if !d.Valid() {
			q.probs = append(q.probs, "due_before must be a date in the form YYYY-MM-DD")
		}
		if f.DueBefore == "" || d < f.DueBefore {
			f.DueBefore = d
		}
	}
	return f
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := s.requestFilter(&q)
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.requests().DataRequests(r.Context(), f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	out, err := s.requests().DataRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

// RequestStateChange is the body of POST /api/v1/requests/{id}/state.
type RequestStateChange struct {
	State  tresor.RequestState `json:"state"`
	Reason string              `json:"reason,omitempty"`
}

// RequestExtension is the body of POST /api/v1/requests/{id}/extend.
type RequestExtension struct {
	Reason string `json:"reason"`
}

func (s *Server) requestState(w http.ResponseWriter, r *http.Request) error {
	var in RequestStateChange
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.requests().RequestState(r.Context(), r.PathValue("id"), in.State, in.Reason)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) extendRequest(w http.ResponseWriter, r *http.Request) error {
	var in RequestExtension
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.requests().ExtendRequest(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func openRequestStates() []tresor.RequestState {
	var out []tresor.RequestState
	for _, st := range tresor.RequestStates() {
		if st.Open() {
			out = append(out, st)
		}
	}
	return out
}

func validRequestState(st tresor.RequestState) bool {
	for _, v := range tresor.RequestStates() {
		if v == st {
			return true
		}
	}
	return false
}

func requestStateNames() string {
	var names []string
	for _, st := range tresor.RequestStates() {
		names = append(names, string(st))
	}
	return strings.Join(names, ", ")
}

type noRequests struct{}

func errNoRequests() error {
	return tresor.Errorf(tresor.ECUnavailable, "The request register is not available on this server.")
}

func (noRequests) CreateRequest(context.Context, tresor.NewRequest) (*tresor.Request, error) {
	return nil, errNoRequests()
}
func (noRequests) DataRequest(context.Context, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
func (noRequests) DataRequests(context.Context, tresor.RequestFilter) (*tresor.List[*tresor.Request], error) {
	return nil, errNoRequests()
}
func (noRequests) RequestState(context.Context, string, tresor.RequestState, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
func (noRequests) ExtendRequest(context.Context, string, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
