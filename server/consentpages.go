package server

import (
	"net/http"

	"tresor"
)

// consentRoutes are the pages people reach from links in mail: confirm a
// consent (double opt-in) and withdraw one, without signing in.
func (s *Server) consentRoutes() []route {
	return []route{
		{"GET", "/consent/confirm", Public, s.confirmPage},
		{"POST", "/consent/confirm", Public, s.confirmSubmit},
		{"GET", "/consent/withdraw", Public, s.withdrawPage},
		{"POST", "/consent/withdraw", Public, s.withdrawSubmit},
	}
}

// linkInvalid shows that a link is forged, used or expired; nothing changes.
func (s *Server) linkInvalid(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusNotFound, "consent", view{Title: "consent", Message: "link_invalid"})
}

func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, kind string) error {
	token := r.URL.Query().Get("token")
	l, err := s.svc.Consents.ConsentLink(r.Context(), token)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid || (err == nil && l.Kind != kind) {
		return s.linkInvalid(w, r)
	} else if err != nil {
		return err
	}
	v := view{Title: "consent", Consent: l, Value: token, FormToken: s.newFormToken(w), Link: "/consent/" + kind}
	if kind == "confirm" {
		v.Message, v.Notice = "confirm_intro", "confirm_button"
	} else {
		v.Message, v.Notice = "withdraw_intro", "withdraw_button"
	}
	return s.render(w, r, http.StatusOK, "consent", v)
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) error {
	return s.consentPage(w, r, "confirm")
}

func (s *Server) withdrawPage(w http.ResponseWriter, r *http.Request) error {
	return s.consentPage(w, r, "withdraw")
}

// confirmSubmit confirms with the button of the page — never with the GET
// of the link, which mail scanners fetch on their own.
func (s *Server) confirmSubmit(w http.ResponseWriter, r *http.Request) error {
	if !validFormToken(r) {
		return s.render(w, r, http.StatusForbidden, "consent", view{Title: "consent", Message: "form_expired"})
	}
	l, err := s.svc.Consents.ConfirmConsent(r.Context(), r.PostFormValue("token"), r.RemoteAddr)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.linkInvalid(w, r)
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "consent", view{Title: "consent", Consent: l, Message: "confirmed"})
}

// withdrawSubmit withdraws: from the page's button, or with one click from
// the mail program (RFC 8058: POST with List-Unsubscribe=One-Click to the
// link), so it needs nothing but the signed link.
func (s *Server) withdrawSubmit(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if token == "" {
		token = r.PostFormValue("token")
	}
	l, err := s.svc.Consents.WithdrawConsent(r.Context(), token, r.RemoteAddr)
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return s.linkInvalid(w, r)
	} else if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "consent", view{Title: "consent", Consent: l, Message: "withdrawn"})
}
