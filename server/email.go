package server

import (
	"net/http"
	"net/url"
	"strings"

	"tresor"
)

// mailRoutes are e-mail in and out: a one-off mail to a contact, a reply
// to a case, a manual poll of the mailbox. The gate decides who may: the
// outbound gate for mail, a purpose that answers people (service) for the
// mailbox.
func (s *Server) mailRoutes() []route {
	return []route{
		{"POST", "/api/v1/contacts/{id}/emails", Purpose, s.sendEmail},
		{"POST", "/api/v1/cases/{id}/replies", Purpose, s.replyToCase},
		{"POST", "/api/v1/mailbox/poll", Purpose, s.pollMailbox},
	}
}

// mailPageRoutes are the forms of the contact and case pages that send mail.
func (s *Server) mailPageRoutes() []route {
	return []route{
		{"POST", "/contacts/{id}/emails", AnyRole(contactRoles...), s.contactEmailSubmit},
		{"POST", "/cases/{id}/email", SignedIn, s.caseEmailSubmit},
	}
}

func (s *Server) mailService() (tresor.MailService, error) {
	if s.svc.Mail == nil {
		return nil, tresor.Errorf(tresor.ECMailUnavailable, "This server sends and reads no e-mail.")
	}
	return s.svc.Mail, nil
}

func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mailService()
	if err != nil {
		return err
	}
	var in tresor.EmailSend
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	in.ContactID = r.PathValue("id")
	out, err := m.SendEmail(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// caseReplyRequest is the body of POST /api/v1/cases/{id}/replies.
type caseReplyRequest struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
}

func (s *Server) replyToCase(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mailService()
	if err != nil {
		return err
	}
	var in caseReplyRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := m.ReplyToCase(r.Context(), r.PathValue("id"), tresor.EmailSend{Kind: tresor.EmailReply, Subject: in.Subject, Body: in.Body})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) pollMailbox(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mailService()
	if err != nil {
		return err
	}
	rep, err := m.PollMailbox(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// emailForm is the contact page's form of a one-off e-mail, as typed.
type emailForm struct {
	Kind, Subject, Body string
	Error               string
}

// emailKinds are the kinds the form offers, the safest first.
var emailKinds = []string{string(tresor.EmailReply), string(tresor.EmailContract), string(tresor.EmailAdvertising)}

// contactEmailSubmit sends a one-off e-mail; a refusal shows the page again
// with the reason in the person's language and what was typed.
func (s *Server) contactEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	forms := newContactForms()
	forms.Email = emailForm{Kind: r.PostFormValue("kind"), Subject: strings.TrimSpace(r.PostFormValue("subject")), Body: r.PostFormValue("body")}
	return s.once(w, r, func() (string, error) {
		m, err := s.mailService()
		if err == nil {
			_, err = m.SendEmail(r.Context(), tresor.EmailSend{ContactID: id, Kind: tresor.EmailKind(forms.Email.Kind), Subject: forms.Email.Subject, Body: forms.Email.Body})
		}
		if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && code != tresor.ECNotFound && code != tresor.ECInternal {
			forms.Email.Error = formProblem(r, err)
			return "", s.renderContact(w, r, statusOf[code], forms, "")
		} else if err != nil {
			return "", err
		}
		return "/contacts/" + url.PathEscape(id) + "?done=emailed#timeline", nil
	})
}

// caseEmailSubmit answers an e-mail case by e-mail, threaded to its mails.
func (s *Server) caseEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	d := &caseData{ReplyText: r.PostFormValue("text")}
	m, err := s.mailService()
	if err == nil {
		_, err = m.ReplyToCase(r.Context(), r.PathValue("id"), tresor.EmailSend{Kind: tresor.EmailReply, Body: d.ReplyText})
	}
	if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && code != tresor.ECNotFound && code != tresor.ECInternal {
		d.Problem = pageRefusal(r, err)
		return s.renderCaseWith(w, r, statusOf[code], d)
	} else if err != nil {
		return err
	}
	d.ReplyText, d.Sent = "", true
	return s.renderCaseWith(w, r, http.StatusOK, d)
}
