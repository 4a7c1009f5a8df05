package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"tresor"
)

// decisionRoutes are the JSON API of the decisions on requests of data
// subjects that change data (issue [2.4] §1); the gate admits only the
// data_protection purpose.
func (s *Server) decisionRoutes() []route {
	return []route{
		{"POST", "/api/v1/requests/{id}/rectify", Purpose, s.rectify},
		{"GET", "/api/v1/requests/{id}/recipients", Purpose, s.requestRecipients},
		{"POST", "/api/v1/requests/{id}/recipients-notified", Purpose, s.recipientsNotified},
		{"POST", "/api/v1/requests/{id}/object", Purpose, s.requestObject},
		{"POST", "/api/v1/requests/{id}/compelling-grounds", Purpose, s.compellingGrounds},
		{"POST", "/api/v1/requests/{id}/restrict", Purpose, s.requestRestrict},
		{"POST", "/api/v1/requests/{id}/lift", Purpose, s.requestLift},
		{"POST", "/api/v1/requests/{id}/erase", Purpose, s.requestErase},
	}
}

// decisionPages are the forms of the request detail page's decisions
// (partials/request_decisions.html); each goes back to the request's page.
func (s *Server) decisionPages() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return []route{
		{"POST", "/dpo/requests/{id}/rectify", dpo, s.rectifyForm},
		{"POST", "/dpo/requests/{id}/recipients-notified", dpo, s.recipientsNotifiedForm},
		{"POST", "/dpo/requests/{id}/object", dpo, s.decisionForm("object", func(ctx context.Context, s *Server, id string, r *http.Request) error {
			_, err := s.decisions().ApplyObjection(ctx, id)
			return err
		})},
		{"POST", "/dpo/requests/{id}/compelling-grounds", dpo, s.decisionForm("grounds", func(ctx context.Context, s *Server, id string, r *http.Request) error {
			_, err := s.decisions().RecordCompellingGrounds(ctx, id, tresor.CompellingGrounds{ContactID: r.PostFormValue("contact_id"),
				Purpose: r.PostFormValue("purpose"), Reason: r.PostFormValue("reason")})
			return err
		})},
		{"POST", "/dpo/requests/{id}/restrict", dpo, s.decisionForm("restrict", func(ctx context.Context, s *Server, id string, r *http.Request) error {
			_, err := s.decisions().ApplyRestriction(ctx, id)
			return err
		})},
		{"POST", "/dpo/requests/{id}/lift", dpo, s.decisionForm("lift", func(ctx context.Context, s *Server, id string, r *http.Request) error {
			_, err := s.decisions().Lift(ctx, id, tresor.Lift{ContactID: r.PostFormValue("contact_id"),
				What: tresor.LiftKind(r.PostFormValue("what")), Reason: r.PostFormValue("reason")})
			return err
		})},
		{"POST", "/dpo/requests/{id}/erase", dpo, s.decisionForm("erase", func(ctx context.Context, s *Server, id string, r *http.Request) error {
			_, err := s.decisions().EraseForRequest(ctx, id)
			return err
		})},
	}
}

// decisions is the decisions' service: the contacts service where it
// offers it (the gate).
func (s *Server) decisions() tresor.DecisionService {
	if ds, ok := s.svc.Contacts.(tresor.DecisionService); ok {
		return ds
	}
	return noDecisions{}
}

func (s *Server) rectify(w http.ResponseWriter, r *http.Request) error {
	var in tresor.Rectification
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.decisions().Rectify(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) requestRecipients(w http.ResponseWriter, r *http.Request) error {
	out, err := s.decisions().RequestRecipients(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, recipientList{Items: out})
}

// recipientList is the answer of GET /api/v1/requests/{id}/recipients.
type recipientList struct {
	Items []tresor.Recipient `json:"items"`
}

func (s *Server) recipientsNotified(w http.ResponseWriter, r *http.Request) error {
	var in tresor.RecipientsNotice
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.decisions().NotifyRecipients(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) requestObject(w http.ResponseWriter, r *http.Request) error {
	out, err := s.decisions().ApplyObjection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) compellingGrounds(w http.ResponseWriter, r *http.Request) error {
	var in tresor.CompellingGrounds
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.decisions().RecordCompellingGrounds(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) requestRestrict(w http.ResponseWriter, r *http.Request) error {
	out, err := s.decisions().ApplyRestriction(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) requestLift(w http.ResponseWriter, r *http.Request) error {
	var in tresor.Lift
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.decisions().Lift(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) requestErase(w http.ResponseWriter, r *http.Request) error {
	out, err := s.decisions().EraseForRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// ---- the forms

// decisionBox is what partials/request_decisions.html shows: the request's
// decisions for its kind, the recipients (Art. 19), and the outcome of the
// last form (Done, a catalogue key) or its refusal (Problem, in the
// person's language).
type decisionBox struct {
	Lang       string
	CSRF       string
	Request    *tresor.Request
	Recipients []tresor.Recipient
	Purposes   []string // the purposes compelling grounds may name
	Done       string
	Problem    string
}

// Is reports whether the request is of the kind.
func (b *decisionBox) Is(kind string) bool { return b.Request != nil && string(b.Request.Kind) == kind }

// decisionBoxOf prepares the decisions section of the page of the request;
// the detail page includes it with {{template "request_decisions" .Decisions}}.
func (s *Server) decisionBoxOf(r *http.Request, v view, req *tresor.Request) *decisionBox {
	b := &decisionBox{Lang: language(r), CSRF: v.CSRF, Request: req}
	for _, p := range s.opt.Catalogue {
		if p.ID != "marketing" && p.ID != "data_protection" {
			b.Purposes = append(b.Purposes, p.ID)
		}
	}
	if req != nil && (req.Kind == tresor.RequestRectification || req.Kind == tresor.RequestErasure || req.Kind == tresor.RequestRestriction) {
		b.Recipients, _ = s.decisions().RequestRecipients(r.Context(), req.ID)
	}
	q := r.URL.Query()
	if d := q.Get("decision"); d != "" && validDecision(d) {
		b.Done = "decisions_done_" + d
	}
	if p := q.Get("decision_problem"); p != "" {
		b.Problem = p
	}
	return b
}

var decisionNames = []string{"rectify", "notified", "object", "grounds", "restrict", "lift", "erase"}

func validDecision(d string) bool {
	for _, n := range decisionNames {
		if n == d {
			return true
		}
	}
	return false
}

// decisionBack goes back to the request's page: with the decision done, or
// with the refusal to show.
func decisionBack(w http.ResponseWriter, r *http.Request, id, done string, err error) error {
	q := url.Values{}
	if err != nil {
		if code := tresor.ErrorCode(err); statusOf[code] < 400 || statusOf[code] >= 500 {
			return err
		}
		q.Set("decision_problem", pageRefusal(r, err))
	} else {
		q.Set("decision", done)
	}
	http.Redirect(w, r, "/dpo/requests/"+url.PathEscape(id)+"?"+q.Encode()+"#decisions", http.StatusSeeOther)
	return nil
}

// decisionForm runs a decision from a form and goes back.
func (s *Server) decisionForm(done string, fn func(ctx context.Context, s *Server, id string, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		return decisionBack(w, r, id, done, fn(r.Context(), s, id, r))
	}
}

// rectifyForm changes one field of a contact: field, value (for the list
// fields, one entry a line).
func (s *Server) rectifyForm(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	field, value := r.PostFormValue("field"), r.PostFormValue("value")
	var v any = strings.TrimSpace(value)
	if field == "emails" || field == "phones" {
		list := []string{}
		for _, l := range strings.Split(value, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				list = append(list, l)
			}
		}
		v = list
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.decisions().Rectify(r.Context(), id, tresor.Rectification{ContactID: r.PostFormValue("contact_id"),
		Changes: map[string]json.RawMessage{field: raw}})
	return decisionBack(w, r, id, "rectify", err)
}

func (s *Server) recipientsNotifiedForm(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	n := tresor.RecipientsNotice{Notified: r.PostFormValue("notified") == "1", Because: tresor.NotNotifiedBecause(r.PostFormValue("because")),
		Note: r.PostFormValue("note")}
	if n.Notified {
		n.Because = ""
	}
	_, err := s.decisions().NotifyRecipients(r.Context(), id, n)
	return decisionBack(w, r, id, "notified", err)
}

type noDecisions struct{}

func errNoDecisions() error {
	return tresor.Errorf(tresor.ECUnavailable, "Decisions on requests are not available on this server.")
}

func (noDecisions) Rectify(context.Context, string, tresor.Rectification) (*tresor.Rectified, error) {
	return nil, errNoDecisions()
}
func (noDecisions) RequestRecipients(context.Context, string) ([]tresor.Recipient, error) {
	return nil, errNoDecisions()
}
func (noDecisions) NotifyRecipients(context.Context, string, tresor.RecipientsNotice) (*tresor.Request, error) {
	return nil, errNoDecisions()
}
func (noDecisions) ApplyObjection(context.Context, string) (*tresor.Request, error) {
	return nil, errNoDecisions()
}
func (noDecisions) RecordCompellingGrounds(context.Context, string, tresor.CompellingGrounds) (*tresor.Request, error) {
	return nil, errNoDecisions()
}
func (noDecisions) ApplyRestriction(context.Context, string) (*tresor.Request, error) {
	return nil, errNoDecisions()
}
func (noDecisions) Lift(context.Context, string, tresor.Lift) (*tresor.Request, error) {
	return nil, errNoDecisions()
}
func (noDecisions) EraseForRequest(context.Context, string) (*tresor.Erased, error) {
	return nil, errNoDecisions()
}
