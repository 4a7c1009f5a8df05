package server

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// webRoutes are the pages for signing in and managing one's account. Pages
// declared Public handle sessions in the middle of a sign-in themselves.
func (s *Server) webRoutes() []route {
	rs := []route{
		{"GET", "/{$}", SignedIn, s.startPage},
		{"GET", "/static/{file...}", Public, serveStatic},
		{"GET", "/login", Public, s.loginPage},
		{"POST", "/login", Public, s.loginSubmit},
		{"GET", "/login/mfa", Public, s.mfaPage},
		{"POST", "/login/mfa", Public, s.mfaSubmit},
		{"GET", "/account/mfa", Public, s.enrollPage},
		{"POST", "/account/mfa", Public, s.enrollSubmit},
		{"POST", "/logout", Public, s.logoutSubmit},
		{"GET", "/reset-password", Public, s.resetPage},
		{"POST", "/reset-password", Public, s.resetSubmit},
		{"GET", "/account", SignedIn, s.accountPage},
		{"POST", "/account/password", SignedIn, s.passwordSubmit},
		{"POST", "/account/tokens", SignedIn, s.tokenSubmit},
		{"POST", "/account/tokens/{id}/revoke", SignedIn, s.revokeSubmit},
		{"POST", "/logout/all", SignedIn, s.logoutAllSubmit},
		{"GET", "/auth/oidc/login", Public, s.oidcLogin},
		{"GET", "/auth/oidc/callback", Public, s.oidcCallback},
	}
	rs = append(rs, s.workspaceRoutes()...)
	rs = append(rs, s.subjectExportPages()...)
	return append(rs, s.consentRoutes()...)
}

// staticTypes are the files under web/static that are served, by extension.
var staticTypes = map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

// serveStatic serves the stylesheet and the vendored scripts, embedded in
// the binary: nothing is fetched from elsewhere at run time.
func serveStatic(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	typ := staticTypes[path.Ext(name)]
	if typ == "" || strings.Contains(name, "..") {
		return tresor.Errorf(tresor.ECNotFound, "There is no such file.")
	}
	b, err := webFS.ReadFile("web/static/" + name)
	if err != nil {
		return tresor.Errorf(tresor.ECNotFound, "There is no such file.")
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(b)
	return err
}

// pageError turns an error of a page into what a browser needs: a sign-in
// redirect, or the page with the message.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	err = s.storageError(err)
	switch tresor.ErrorCode(err) {
	case tresor.ECUnauthenticated:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case tresor.ECMFARequired:
		http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
		return
	case tresor.ECMerged: // the old page of a merged contact leads to the survivor's
		http.Redirect(w, r, "/contacts/"+url.PathEscape(tresor.AsError(err).MergedInto), http.StatusPermanentRedirect)
		return
	}
	code := tresor.ErrorCode(err)
	status := statusOf[code]
	if status == 0 || code == tresor.ECInternal {
		s.writeError(w, r, err) // logs; shows "internal error"
		return
	}
	_ = s.render(w, r, status, "message", view{Title: "account", Message: pageMessage(r, err), Link: "/account"})
}

// pageStatus is the status of an error a page shows to the person: a refusal
// (4xx) is shown on the page; anything else goes the way of internal errors.
func pageStatus(err error) (int, bool) {
	status := statusOf[tresor.ErrorCode(err)]
	return status, status >= 400 && status < 500
}

// pageMessage is the message of an error on a page, in the page's language
// where the catalogue has it.
func pageMessage(r *http.Request, err error) string {
	key := map[tresor.Code]string{tresor.ECLoginFailed: "err_login_failed", tresor.ECThrottled: "err_throttled",
		tresor.ECCSRF: "form_expired", tresor.ECNotFound: "err_not_found"}[tresor.ErrorCode(err)]
	if key != "" {
		return translate(language(r), key)
	}
	if e := tresor.AsError(err); e != nil {
		return pageRefusal(r, err) // the rule in the person's language, with its stable code
	}
	return tresor.ErrorMessage(err)
}

// formToken guards the forms shown before a session exists (sign-in,
// password reset) by double submit: a random value in a strict cookie and in
// the form must match.
const formCookie = "tresor_form"

func (s *Server) newFormToken(w http.ResponseWriter) string {
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: v, Path: "/", HttpOnly: true, Secure: s.tls,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return v
}

func validFormToken(r *http.Request) bool {
	c, err := r.Cookie(formCookie)
	got := r.PostFormValue("form_token")
	return err == nil && got != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) == 1
}

// pendingSession returns the session of the cookie, full or not.
func (s *Server) pendingSession(r *http.Request) (*tresor.Actor, *tresor.Session) {
	secret := s.sessionSecret(r)
	if secret == "" {
		return nil, nil
	}
	a, sess, err := s.svc.Auth.AuthenticateSession(r.Context(), secret)
	if err != nil {
		return nil, nil
	}
	return a, sess
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if a, _ := s.pendingSession(r); a != nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	p := view{Title: "sign_in", FormToken: s.newFormToken(w), SSO: s.oidc != nil}
	if r.URL.Query().Get("signed_out") != "" {
		p.Notice = "signed_out"
	}
	return s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	if !validFormToken(r) {
		return s.render(w, r, http.StatusForbidden, "login", view{Title: "sign_in", Error: translate(language(r), "form_expired"),
			FormToken: s.newFormToken(w), Value: email, SSO: s.oidc != nil})
	}
	sess, secret, err := s.svc.Sessions.Login(r.Context(), tresor.LoginAttempt{Email: email, Password: r.PostFormValue("password"), Addr: r.RemoteAddr})
	if err != nil {
		setRetryAfter(w, err)
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		return s.render(w, r, status, "login", view{Title: "sign_in", Error: pageMessage(r, err), FormToken: s.newFormToken(w),
			Value: email, SSO: s.oidc != nil})
	}
	s.startBrowserSession(w, r, sess, secret)
	return nil
}

// startBrowserSession ends a session the browser had before (no session
// fixation: every sign-in gets a new secret), sets the new cookie and sends
// the browser where the session's stage leads.
func (s *Server) startBrowserSession(w http.ResponseWriter, r *http.Request, sess *tresor.Session, secret string) {
	if old := s.sessionSecret(r); old != "" && old != secret {
		_ = s.svc.Sessions.Logout(r.Context(), old)
	}
	s.setSessionCookie(w, secret)
	switch sess.Stage {
	case tresor.StageMFA:
		http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
	case tresor.StageEnroll:
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

// sessionForm checks the session of a page that works in the middle of a
// sign-in and, for a POST, the session's form token.
func (s *Server) sessionForm(w http.ResponseWriter, r *http.Request) (*tresor.Session, bool) {
	_, sess := s.pendingSession(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, false
	}
	if r.Method == http.MethodPost && !s.validCSRF(r, sess) {
		s.pageError(w, r, tresor.Errorf(tresor.ECCSRF, "form token"))
		return nil, false
	}
	return sess, true
}

func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.sessionForm(w, r)
	if !ok {
		return nil
	}
	if sess.Stage != tresor.StageMFA {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "mfa", view{Title: "second_factor", CSRF: sess.CSRF})
}

func (s *Server) mfaSubmit(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.sessionForm(w, r)
	if !ok {
		return nil
	}
	next, secret, err := s.svc.Sessions.CompleteMFA(r.Context(), s.sessionSecret(r), r.PostFormValue("code"))
	if err != nil {
		setRetryAfter(w, err)
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		return s.render(w, r, status, "mfa", view{Title: "second_factor", CSRF: sess.CSRF, Error: pageMessage(r, err)})
	}
	s.startBrowserSession(w, r, next, secret)
	return nil
}

func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.sessionForm(w, r)
	if !ok {
		return nil
	}
	e, err := s.svc.Sessions.StartTOTPEnrollment(r.Context(), s.sessionSecret(r))
	if err != nil {
		s.pageError(w, r, err)
		return nil
	}
	return s.render(w, r, http.StatusOK, "enroll", view{Title: "set_up_mfa", CSRF: sess.CSRF, Enrollment: e})
}

func (s *Server) enrollSubmit(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.sessionForm(w, r)
	if !ok {
		return nil
	}
	codes, next, secret, err := s.svc.Sessions.ConfirmTOTPEnrollment(r.Context(), s.sessionSecret(r), r.PostFormValue("code"))
	if err != nil {
		if tresor.ErrorCode(err) != tresor.ECLoginFailed {
			s.pageError(w, r, err)
			return nil
		}
		// A wrong code: show a fresh secret to try again with.
		e, err2 := s.svc.Sessions.StartTOTPEnrollment(r.Context(), s.sessionSecret(r))
		if err2 != nil {
			return err2
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "enroll", view{Title: "set_up_mfa", CSRF: sess.CSRF, Enrollment: e, Error: pageMessage(r, err)})
	}
	s.setSessionCookie(w, secret)
	return s.render(w, r, http.StatusOK, "recovery", view{Title: "recovery_codes", CSRF: next.CSRF, Codes: codes})
}

func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) error {
	if _, ok := s.sessionForm(w, r); !ok {
		return nil
	}
	if err := s.svc.Sessions.Logout(r.Context(), s.sessionSecret(r)); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
	return nil
}

func (s *Server) logoutAllSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Sessions.LogoutEverywhere(r.Context()); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
	return nil
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "reset", view{Title: "reset_password", FormToken: s.newFormToken(w), Value: r.URL.Query().Get("token")})
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	if !validFormToken(r) {
		return s.render(w, r, http.StatusForbidden, "reset", view{Title: "reset_password", Error: translate(language(r), "form_expired"),
			FormToken: s.newFormToken(w), Value: token})
	}
	if err := s.svc.Sessions.ResetPassword(r.Context(), token, r.PostFormValue("password")); err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		return s.render(w, r, status, "reset", view{Title: "reset_password", Error: pageMessage(r, err), FormToken: s.newFormToken(w), Value: token})
	}
	return s.render(w, r, http.StatusOK, "message", view{Title: "reset_password", Message: "password_set", Link: "/login"})
}

// accountPage shows the signed-in user their account.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "", "")
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) error {
	ctx := r.Context()
	a := tresor.ActorFrom(ctx)
	sess := sessionFrom(ctx)
	if sess == nil {
		// An API token reached a page: pages are for browsers.
		return tresor.Errorf(tresor.ECForbidden, "The account pages are for signed-in browsers.")
	}
	u, err := s.svc.Users.User(ctx, a.UserID)
	if err != nil {
		return err
	}
	tokens, err := s.svc.Tokens.Tokens(ctx, "")
	if err != nil {
		return err
	}
	return s.render(w, r, status, "account", view{Title: "account", Email: u.Email, CSRF: sess.CSRF, User: u, Roles: u.Roles,
		Purposes: s.purposesOf(u.Roles), Tokens: tokens, HasPassword: u.ExternalSubject == "", Error: errMsg, Notice: notice})
}

// purposesOf is the purposes the roles allow, as the token form offers them.
func (s *Server) purposesOf(roles []tresor.Role) []string {
	if s.opt.Purposes == nil {
		return nil
	}
	return s.opt.Purposes(roles)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) error {
	err := s.svc.Sessions.ChangePassword(r.Context(), r.PostFormValue("current"), r.PostFormValue("next"))
	if err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		return s.renderAccount(w, r, status, pageMessage(r, err), "")
	}
	return s.renderAccount(w, r, http.StatusOK, "", "password_changed")
}

func (s *Server) tokenSubmit(w http.ResponseWriter, r *http.Request) error {
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if days == 0 {
		days = 90
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	t, secret, err := s.svc.Tokens.CreateToken(r.Context(), tresor.TokenRequest{Name: r.PostFormValue("name"),
		Purposes: r.PostForm["purpose"], TTL: time.Duration(days) * 24 * time.Hour})
	if err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		return s.renderAccount(w, r, status, pageMessage(r, err), "")
	}
	_ = t // the page shows the secret; the token's details are on the account page
	return s.render(w, r, http.StatusCreated, "token", view{Title: "new_token", Email: tresor.ActorFrom(r.Context()).Email,
		CSRF: sessionFrom(r.Context()).CSRF, Secret: secret})
}

func (s *Server) revokeSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}
