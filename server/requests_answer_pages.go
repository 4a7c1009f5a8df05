package server

import (
	"net/http"
	"strings"

	"tresor"
)

// The answer page of a request (issue [2.4]): the draft Tresor writes for
// an outcome and a language, editable, and the button that gives it — by
// e-mail to an e-mail address, or recorded as given by letter or telephone.

func (s *Server) requestAnswerPages() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return []route{
		{"GET", "/dpo/requests/{id}/answer", dpo, s.requestAnswerPage},
		{"POST", "/dpo/requests/{id}/answer", dpo, s.requestAnswerForm},
	}
}

// requestAnswerData is what the answer page shows.
type requestAnswerData struct {
	Request  *tresor.Request
	Draft    *tresor.RequestAnswerDraft
	Reason   string
	Outcomes []tresor.RequestOutcome
	Refusal  string // why the page cannot be shown or the answer was refused
}

func (s *Server) requestAnswerPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return s.renderRequestAnswer(w, r, http.StatusOK, q.Get("lang"), tresor.RequestOutcome(q.Get("outcome")), nil)
}

// renderRequestAnswer shows the page; typed (when not nil) keeps what the
// person wrote after a refusal.
func (s *Server) renderRequestAnswer(w http.ResponseWriter, r *http.Request, status int, lang string, outcome tresor.RequestOutcome,
	typed *tresor.RequestAnswerSend) error {
	v, err := s.workspaceView(r, "answer_title", "/dpo")
	if err != nil {
		return err
	}
	d := &requestAnswerData{Outcomes: tresor.RequestOutcomes()}
	if lang == "" {
		lang = language(r)
	}
	if lang != "de" && lang != "en" {
		lang = "de"
	}
	svc, err := s.requestAnswers()
	if err == nil {
		d.Request, err = s.requests().DataRequest(r.Context(), r.PathValue("id"))
	}
	if err == nil {
		d.Draft, err = svc.RequestAnswerDraft(r.Context(), r.PathValue("id"), lang, outcome)
	}
	if err != nil {
		code := tresor.ErrorCode(err)
		if d.Refusal, err = refusedOrFailed(r, err); err != nil {
			return err
		}
		status = statusOf[code]
	}
	if typed != nil && d.Draft != nil {
		d.Draft.Subject, d.Draft.Body, d.Reason = typed.Subject, typed.Body, typed.Reason
	}
	v.Data = d
	return s.render(w, r, status, "request_answer", v)
}

func (s *Server) requestAnswerForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.requestAnswers()
	if err != nil {
		return err
	}
	a := tresor.RequestAnswerSend{Lang: r.PostFormValue("lang"), Outcome: tresor.RequestOutcome(r.PostFormValue("outcome")),
		Reason: strings.TrimSpace(r.PostFormValue("reason")), Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body")}
	if _, err := svc.AnswerRequest(r.Context(), r.PathValue("id"), a); err != nil {
		code := tresor.ErrorCode(err)
		if st := statusOf[code]; st >= 400 && st < 500 {
			return s.renderRequestAnswerProblem(w, r, st, a, pageRefusal(r, err))
		}
		return err
	}
	http.Redirect(w, r, "/dpo/requests?answered="+r.PathValue("id")+"#request-"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

// renderRequestAnswerProblem shows the page again with the refusal above
// the form and what the person typed in it.
func (s *Server) renderRequestAnswerProblem(w http.ResponseWriter, r *http.Request, status int, a tresor.RequestAnswerSend, problem string) error {
	v, err := s.workspaceView(r, "answer_title", "/dpo")
	if err != nil {
		return err
	}
	v.Work.Back = "/dpo/requests"
	d := &requestAnswerData{Outcomes: tresor.RequestOutcomes(), Refusal: problem, Reason: a.Reason}
	if svc, err := s.requestAnswers(); err == nil {
		d.Request, _ = s.requests().DataRequest(r.Context(), r.PathValue("id"))
		if d.Draft, err = svc.RequestAnswerDraft(r.Context(), r.PathValue("id"), a.Lang, a.Outcome); err == nil {
			d.Draft.Subject, d.Draft.Body = a.Subject, a.Body
		}
	}
	v.Data = d
	return s.render(w, r, status, "request_answer", v)
}

// ExtensionNoticeDue reports whether an extended request's notice to the
// person (Art. 12(3): within the first month) was not given yet.
func (d *requestsData) ExtensionNoticeDue(r *tresor.Request) bool {
	if !r.Extended || !r.State.Open() {
		return false
	}
	for _, a := range r.Answers {
		if a.Outcome == tresor.OutcomeExtended {
			return false
		}
	}
	return true
}
