package server

import (
	"net/http"

	"tresor"
)

// requestAnswerRoutes write and give the answers to requests of data
// subjects (Art. 12(3)–(5) GDPR); the gate admits only the DPO.
func (s *Server) requestAnswerRoutes() []route {
	return []route{
		{"GET", "/api/v1/requests/{id}/answer", Purpose, s.requestAnswerDraft},
		{"POST", "/api/v1/requests/{id}/answer", Purpose, s.answerRequest},
	}
}

// requestAnswers is the answer service: the register's, where it offers it.
func (s *Server) requestAnswers() (tresor.RequestAnswerService, error) {
	if a, ok := s.requests().(tresor.RequestAnswerService); ok {
		return a, nil
	}
	return nil, errNoRequests()
}

func (s *Server) requestAnswerDraft(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.requestAnswers()
	if err != nil {
		return err
	}
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	lang, outcome := q.str("lang"), tresor.RequestOutcome(q.str("outcome"))
	if err := q.err(); err != nil {
		return err
	}
	out, err := svc.RequestAnswerDraft(r.Context(), r.PathValue("id"), lang, outcome)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.requestAnswers()
	if err != nil {
		return err
	}
	var in tresor.RequestAnswerSend
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := svc.AnswerRequest(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}
