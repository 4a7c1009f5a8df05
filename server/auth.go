package server

import (
	"context"
	"crypto/subtle"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"tresor"
)

// CSRFHeader carries the session's form token on state-changing API requests
// made with the session cookie (bearer-token requests need none).
const CSRFHeader = "X-CSRF-Token"

type sessionKey struct{}

// sessionFrom returns the session that authenticated the request, if a cookie did.
func sessionFrom(ctx context.Context) *tresor.Session {
	s, _ := ctx.Value(sessionKey{}).(*tresor.Session)
	return s
}

// cookieName is the session cookie's name: with the __Host- prefix under TLS,
// which binds it to this host and path "/" and requires Secure.
func (s *Server) cookieName() string {
	if s.tls {
		return "__Host-tresor_session"
	}
	return "tresor_session"
}

// setSessionCookie hands the browser a session secret.
func (s *Server) setSessionCookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", HttpOnly: true, Secure: s.tls,
		SameSite: http.SameSiteLaxMode, MaxAge: int(tresor.SessionAbsoluteTimeout.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.tls,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// sessionSecret returns the session secret the browser sent.
func (s *Server) sessionSecret(r *http.Request) string {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

// authenticate finds the actor: a bearer token, or else a full session
// cookie. A state-changing request with a session cookie must carry the
// session's CSRF token (header or form field) — cross-origin requests are
// refused before, by http.CrossOriginProtection.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*tresor.Actor, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return nil, tresor.Errorf(tresor.ECUnauthenticated, "The Authorization header must be: Bearer TOKEN.")
		}
		return s.svc.Auth.AuthenticateToken(r.Context(), strings.TrimSpace(token))
	}
	secret := s.sessionSecret(r)
	if secret == "" {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in, or send an API token in the header Authorization: Bearer TOKEN (create one with `tresor token create`).")
	}
	actor, sess, err := s.svc.Auth.AuthenticateSession(r.Context(), secret)
	if err != nil {
		s.clearSessionCookie(w)
		return nil, err
	}
	if actor == nil {
		return nil, tresor.Errorf(tresor.ECMFARequired, "Complete the sign-in with your second factor first.")
	}
	if unsafeMethod(r.Method) && !s.validCSRF(r, sess) {
		return nil, tresor.Errorf(tresor.ECCSRF, "This change lacks the form token of your session; reload the page and try again.")
	}
	*r = *r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
	return actor, nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// validCSRF checks the session's form token in the header or the form.
func (s *Server) validCSRF(r *http.Request, sess *tresor.Session) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue("csrf")
	}
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		got = multipartCSRF(r)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// multipartKey holds, in a request's context, the reader of a multipart
// body whose first part (the form token) has been read.
type multipartKey struct{}

// multipartCSRF reads the form token from the first part of a multipart
// form (a file upload), which must be the field csrf, and keeps the reader
// of the rest in the request's context (multipartFrom). The body is read as
// a stream: never parsed into memory or temporary files, so an uploaded file
// reaches no disk.
func multipartCSRF(r *http.Request) string {
	mr, err := r.MultipartReader()
	if err != nil {
		return ""
	}
	p, err := mr.NextPart()
	if err != nil || p.FormName() != "csrf" || p.FileName() != "" {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(p, 256))
	if err != nil {
		return ""
	}
	*r = *r.WithContext(context.WithValue(r.Context(), multipartKey{}, mr))
	return string(b)
}

// multipartFrom is the rest of a multipart form whose form token was valid.
func multipartFrom(ctx context.Context) *multipart.Reader {
	mr, _ := ctx.Value(multipartKey{}).(*multipart.Reader)
	return mr
}
