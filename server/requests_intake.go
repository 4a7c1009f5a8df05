package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"tresor"
)

// Requests from the public and the verification of who asked (issue [2.4]
// §1): the form /requests/new for people without an account, the page of
// the link mailed to them (/requests/verify: GET shows a button, only the
// POST verifies, since mail scanners fetch links), and the DPO's side —
// send the link for a request recorded by staff, link and unlink the
// contacts a request concerns, and the page of one request.

func (s *Server) requestIntakePages() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return []route{
		{"GET", "/requests/new", Public, s.requestFormPage},
		{"POST", "/requests/new", Public, s.requestFormSubmit},
		{"GET", "/requests/verify", Public, s.requestVerifyPage},
		{"POST", "/requests/verify", Public, s.requestVerifySubmit},
		{"GET", "/dpo/requests/{id}", dpo, s.requestPage},
		{"POST", "/dpo/requests/{id}/verification", dpo, s.requestVerificationForm},
		{"POST", "/dpo/requests/{id}/contacts", dpo, s.requestLinkForm},
		{"POST", "/dpo/requests/{id}/contacts/{contact_id}/unlink", dpo, s.requestUnlinkForm},
	}
}

func (s *Server) requestIdentityRoutes() []route {
	return []route{
		{"POST", "/api/v1/requests/{id}/verification", Purpose, s.sendRequestVerification},
		{"POST", "/api/v1/requests/{id}/contacts", Purpose, s.linkRequestContact},
		{"DELETE", "/api/v1/requests/{id}/contacts/{contact_id}", Purpose, s.unlinkRequestContact},
	}
}

// intake is the public side of the register: the service given, or the
// gate behind the contacts service.
func (s *Server) intake() tresor.RequestIntake {
	for _, v := range []any{s.svc.Requests, s.svc.Contacts} {
		if i, ok := v.(tresor.RequestIntake); ok {
			return i
		}
	}
	return noIntake{}
}

// requestIdentity is the DPO's side of verifying and matching requests.
func (s *Server) requestIdentity() tresor.RequestIdentityService {
	for _, v := range []any{s.svc.Requests, s.svc.Contacts} {
		if i, ok := v.(tresor.RequestIdentityService); ok {
			return i
		}
	}
	return noIntake{}
}

// ---- the public form and the link

// requestFormData is what the public pages show. Stage is form, sent,
// confirm, verified, invalid, or limited (refused for now: too many
// requests, or no mail can be sent).
type requestFormData struct {
	Stage    string
	Kinds    []tresor.RequestKind
	Kind     tresor.RequestKind
	Email    string
	Message  string
	Language string
	Problem  string
	Receipt  *tresor.RequestReceipt
	Token    string
	Back     string // the page the language switch returns to
}

func (s *Server) renderRequestForm(w http.ResponseWriter, r *http.Request, status int, title string, d *requestFormData) error {
	d.Kinds = tresor.RequestKinds()
	if d.Back == "" {
		d.Back = "/requests/new"
	}
	v := view{Title: title, Data: d}
	if d.Stage == "form" || d.Stage == "confirm" {
		v.FormToken = s.newFormToken(w)
	}
	return s.render(w, r, status, "request_public", v)
}

func (s *Server) requestFormPage(w http.ResponseWriter, r *http.Request) error {
	d := &requestFormData{Stage: "form", Language: language(r)}
	if k := tresor.RequestKind(r.URL.Query().Get("kind")); slices.Contains(tresor.RequestKinds(), k) {
		d.Kind = k
	}
	return s.renderRequestForm(w, r, http.StatusOK, "request_public_title", d)
}

func (s *Server) requestFormSubmit(w http.ResponseWriter, r *http.Request) error {
	d := &requestFormData{Stage: "form", Kind: tresor.RequestKind(r.PostFormValue("kind")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Message: r.PostFormValue("message"), Language: r.PostFormValue("language")}
	if !validFormToken(r) {
		d.Problem = translate(language(r), "form_expired")
		return s.renderRequestForm(w, r, http.StatusForbidden, "request_public_title", d)
	}
	receipt, err := s.intake().SubmitRequest(r.Context(), tresor.RequestSubmission{Kind: d.Kind, Email: d.Email,
		Message: d.Message, Language: d.Language, Client: r.RemoteAddr})
	if err != nil {
		status, shown := pageStatus(err)
		if tresor.ErrorCode(err) == tresor.ECUnavailable {
			// No mail server, or the mail failed: say so on the form's page.
			return s.renderRequestForm(w, r, statusOf[tresor.ECUnavailable], "request_public_title",
				&requestFormData{Stage: "limited", Problem: pageRefusal(r, err)})
		}
		if !shown {
			return err
		}
		if tresor.ErrorCode(err) == tresor.ECThrottled {
			setRetryAfter(w, err)
			return s.renderRequestForm(w, r, status, "request_public_title",
				&requestFormData{Stage: "limited", Problem: pageRefusal(r, err)})
		}
		d.Problem = pageRefusal(r, err)
		return s.renderRequestForm(w, r, status, "request_public_title", d)
	}
	// The same page for every address: it says nothing about who is known.
	return s.renderRequestForm(w, r, http.StatusOK, "request_sent_title", &requestFormData{Stage: "sent", Receipt: receipt})
}

// requestLinkInvalid shows that a verification link is forged, used or
// expired; nothing changes.
func (s *Server) requestLinkInvalid(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequestForm(w, r, http.StatusNotFound, "request_verify_title", &requestFormData{Stage: "invalid"})
}

func (s *Server) requestVerifyPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	receipt, err := s.intake().RequestVerification(r.Context(), token)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.requestLinkInvalid(w, r)
	} else if err != nil {
		return err
	}
	return s.renderRequestForm(w, r, http.StatusOK, "request_verify_title", &requestFormData{Stage: "confirm", Receipt: receipt,
		Token: token, Back: "/requests/verify?token=" + url.QueryEscape(token)})
}

// requestVerifySubmit verifies with the button of the page — never with
// the GET of the link.
func (s *Server) requestVerifySubmit(w http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	if !validFormToken(r) {
		return s.renderRequestForm(w, r, http.StatusForbidden, "request_verify_title", &requestFormData{Stage: "confirm",
			Problem: translate(language(r), "form_expired"), Token: token, Receipt: &tresor.RequestReceipt{}})
	}
	receipt, err := s.intake().VerifyRequest(r.Context(), token, r.RemoteAddr)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.requestLinkInvalid(w, r)
	} else if err != nil {
		return err
	}
	// The same thanks whether the address matched no one, one or many.
	return s.renderRequestForm(w, r, http.StatusOK, "request_verified_title", &requestFormData{Stage: "verified", Receipt: receipt})
}

// ---- the API of the DPO

// RequestContactLink is the body of POST /api/v1/requests/{id}/contacts.
type RequestContactLink struct {
	ContactID string `json:"contact_id"`
}

func (s *Server) sendRequestVerification(w http.ResponseWriter, r *http.Request) error {
	out, err := s.requestIdentity().SendRequestVerification(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) linkRequestContact(w http.ResponseWriter, r *http.Request) error {
	var in RequestContactLink
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := s.requestIdentity().LinkRequestContact(r.Context(), r.PathValue("id"), in.ContactID)
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

func (s *Server) unlinkRequestContact(w http.ResponseWriter, r *http.Request) error {
	out, err := s.requestIdentity().UnlinkRequestContact(r.Context(), r.PathValue("id"), r.PathValue("contact_id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, out)
}

// ---- the DPO's page of one request

// requestContact is a contact on the request's page: its name where the
// session may read it, and whether the request concerns it.
type requestContact struct {
	ID     string
	Name   string
	Linked bool
}

// requestPageData is what the page of one request shows. The template is
// in sections (the request, its history, the people it concerns, the
// decisions) so that later sections (export, answers) slot in.
type requestPageData struct {
	Request    *tresor.Request
	Today      tresor.Date
	Moves      []tresor.RequestState
	Linked     []requestContact
	Candidates []requestContact // found by the address, not linked yet
	Problem    string
	Notice     string
	Refusal    string
	CanVerify  bool // a received request with an e-mail address
	// Decisions is the section of the decisions on the request's data.
	Decisions *decisionBox
	// CanExport: an access or portability request whose export may be
	// sent now (identity verified, open, a contact linked).
	CanExport bool
}

func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) error {
	d := &requestPageData{Notice: map[string]string{"sent": "request_verification_sent", "linked": "request_contact_linked",
		"unlinked": "request_contact_unlinked", "moved": "request_moved", "exported": "request_exported"}[r.URL.Query().Get("done")]}
	return s.renderRequestPage(w, r, http.StatusOK, d)
}

func (s *Server) renderRequestPage(w http.ResponseWriter, r *http.Request, status int, d *requestPageData) error {
	v, err := s.workspaceView(r, "request_title", "/dpo")
	if err != nil {
		return err
	}
	d.Today = s.today()
	req, err := s.requests().DataRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return err
		}
		if d.Refusal, err = refusedOrFailed(r, err); err != nil {
			return err
		}
	}
	if req != nil {
		d.Request, d.Moves = req, tresor.RequestNextStates(req.State)
		_, mailErr := tresor.NormalizeEmail(req.Address)
		d.CanVerify = req.State == tresor.RequestReceived && mailErr == nil
		d.Decisions = s.decisionBoxOf(r, v, req)
		d.CanExport = (req.Kind == tresor.RequestAccess || req.Kind == tresor.RequestPortability) && len(req.ContactIDs) > 0 &&
			mailErr == nil && slices.Contains([]tresor.RequestState{tresor.RequestIdentityVerified, tresor.RequestInProgress, tresor.RequestExtended}, req.State)
		name := func(id string) string {
			c, err := s.svc.Contacts.Contact(r.Context(), id)
			if err != nil || c == nil {
				return ""
			}
			return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
		}
		for _, id := range req.ContactIDs {
			d.Linked = append(d.Linked, requestContact{ID: id, Name: name(id), Linked: true})
		}
		for _, id := range req.Candidates {
			if !slices.Contains(req.ContactIDs, id) {
				d.Candidates = append(d.Candidates, requestContact{ID: id, Name: name(id)})
			}
		}
	}
	v.Data = d
	return s.render(w, r, status, "request", v)
}

// requestPageRefused shows the request's page with the reason of a refused
// change, or returns the error when it is no refusal.
func (s *Server) requestPageRefused(w http.ResponseWriter, r *http.Request, err error) error {
	if status, shown := pageStatus(err); shown {
		return s.renderRequestPage(w, r, status, &requestPageData{Problem: pageRefusal(r, err)})
	}
	return err
}

func (s *Server) requestDone(w http.ResponseWriter, r *http.Request, done string) error {
	http.Redirect(w, r, "/dpo/requests/"+url.PathEscape(r.PathValue("id"))+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) requestVerificationForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requestIdentity().SendRequestVerification(r.Context(), r.PathValue("id")); err != nil {
		return s.requestPageRefused(w, r, err)
	}
	return s.requestDone(w, r, "sent")
}

func (s *Server) requestLinkForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requestIdentity().LinkRequestContact(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostFormValue("contact_id"))); err != nil {
		return s.requestPageRefused(w, r, err)
	}
	return s.requestDone(w, r, "linked")
}

func (s *Server) requestUnlinkForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requestIdentity().UnlinkRequestContact(r.Context(), r.PathValue("id"), r.PathValue("contact_id")); err != nil {
		return s.requestPageRefused(w, r, err)
	}
	return s.requestDone(w, r, "unlinked")
}

// ---- without a gate

type noIntake struct{}

func (noIntake) SubmitRequest(context.Context, tresor.RequestSubmission) (*tresor.RequestReceipt, error) {
	return nil, errNoRequests()
}
func (noIntake) RequestVerification(context.Context, string) (*tresor.RequestReceipt, error) {
	return nil, errNoRequests()
}
func (noIntake) VerifyRequest(context.Context, string, string) (*tresor.RequestReceipt, error) {
	return nil, errNoRequests()
}
func (noIntake) SendRequestVerification(context.Context, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
func (noIntake) LinkRequestContact(context.Context, string, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
func (noIntake) UnlinkRequestContact(context.Context, string, string) (*tresor.Request, error) {
	return nil, errNoRequests()
}
