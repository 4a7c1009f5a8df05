package server

import (
	"net/http"
	"time"

	"tresor"
)

// identityRoutes are the JSON endpoints for users, tokens, sessions and counts.
func (s *Server) identityRoutes() []route {
	return []route{
		{"GET", "/api/v1/me", SignedIn, s.me},
		{"DELETE", "/api/v1/sessions", SignedIn, s.logoutEverywhereAPI},
		{"GET", "/api/v1/stats", AnyRole(tresor.RoleAdmin, tresor.RoleDPO, tresor.RoleAnalyst), s.stats},
		{"GET", "/api/v1/users", Admin, s.listUsers},
		{"POST", "/api/v1/users", Admin, s.createUser},
		{"GET", "/api/v1/users/{id}", SignedIn, s.getUser},
		{"PATCH", "/api/v1/users/{id}", Admin, s.patchUser},
		{"POST", "/api/v1/users/{id}/password-reset", Admin, s.resetLink},
		{"GET", "/api/v1/role-grants", AnyRole(tresor.RoleAdmin, tresor.RoleDPO), s.listGrants},
		{"POST", "/api/v1/role-grants/{id}/approve", AnyRole(tresor.RoleAdmin, tresor.RoleDPO), s.approveGrant},
		{"POST", "/api/v1/role-grants/{id}/reject", AnyRole(tresor.RoleAdmin, tresor.RoleDPO), s.rejectGrant},
		{"GET", "/api/v1/tokens", SignedIn, s.listTokens},
		{"POST", "/api/v1/tokens", SignedIn, s.createToken},
		{"DELETE", "/api/v1/tokens/{id}", SignedIn, s.revokeToken},
	}
}

// me describes the authenticated actor.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	a := tresor.ActorFrom(r.Context())
	return writeJSON(w, http.StatusOK, struct {
		Kind     tresor.ActorKind `json:"kind"`
		UserID   string           `json:"user_id"`
		Email    string           `json:"email"`
		Roles    []tresor.Role    `json:"roles"`
		TokenID  string           `json:"token_id,omitempty"`
		Purposes []string         `json:"token_purposes,omitempty"`
	}{a.Kind, a.UserID, a.Email, a.Roles, a.TokenID, a.Purposes})
}

func (s *Server) logoutEverywhereAPI(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Sessions.LogoutEverywhere(r.Context()); err != nil {
		return err
	}
	if sessionFrom(r.Context()) != nil {
		s.clearSessionCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Users.Stats(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	p := q.page()
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Users.Users(r.Context(), p))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// newUser is the body of POST /api/v1/users.
type newUser struct {
	Email string        `json:"email"`
	Roles []tresor.Role `json:"roles"`
}

// mailedLink is the answer to a request for a link to set a password: the
// link itself went to the person by mail and appears in no answer.
type mailedLink struct {
	Mailed    bool      `json:"mailed"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createUser invites a user: the person gets a one-time link by mail to
// choose a password, so that neither a password nor the link travels
// through the API. Roles that reach personal data wait for a second person.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in newUser
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	u, expires, err := s.svc.Users.InviteUser(r.Context(), in.Email, in.Roles)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	return writeJSON(w, http.StatusCreated, struct {
		User        *tresor.User `json:"user"`
		WelcomeMail mailedLink   `json:"welcome_mail"`
	}{u, mailedLink{Mailed: true, ExpiresAt: expires}})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.Users.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

// userChange is the body of PATCH /api/v1/users/{id}.
type userChange struct {
	Roles    []tresor.Role `json:"roles,omitempty"`
	Disabled *bool         `json:"disabled,omitempty"`
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in userChange
	if err := decodeBody(r, &in, "application/merge-patch+json", "application/json"); err != nil {
		return err
	}
	id := r.PathValue("id")
	if in.Roles == nil && in.Disabled == nil {
		return tresor.Errorf(tresor.ECValidation, "Send roles, disabled, or both.")
	}
	var u *tresor.User
	var err error
	if in.Roles != nil {
		if u, err = s.svc.Users.SetRoles(r.Context(), id, in.Roles); err != nil {
			return err
		}
	}
	if in.Disabled != nil {
		var grant *tresor.RoleGrant
		if u != nil {
			grant = u.PendingGrant
		}
		if u, err = s.svc.Users.SetDisabled(r.Context(), id, *in.Disabled); err != nil {
			return err
		}
		u.PendingGrant = grant
	}
	return writeJSON(w, http.StatusOK, u)
}

// resetLink mails the user a one-time link to set a new password.
func (s *Server) resetLink(w http.ResponseWriter, r *http.Request) error {
	expires, err := s.svc.Users.SendPasswordReset(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, mailedLink{Mailed: true, ExpiresAt: expires})
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	state := q.str("state")
	if err := q.err(); err != nil {
		return err
	}
	gs, err := s.svc.Users.RoleGrants(r.Context(), tresor.GrantState(state))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listBody[*tresor.RoleGrant]{Items: nonNilList(gs)})
}

func (s *Server) approveGrant(w http.ResponseWriter, r *http.Request) error {
	return s.decideGrant(w, r, true)
}

func (s *Server) rejectGrant(w http.ResponseWriter, r *http.Request) error {
	return s.decideGrant(w, r, false)
}

func (s *Server) decideGrant(w http.ResponseWriter, r *http.Request, approve bool) error {
	gr, err := s.svc.Users.DecideRoleGrant(r.Context(), r.PathValue("id"), approve)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, gr)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	user := q.str("user")
	if err := q.err(); err != nil {
		return err
	}
	ts, err := s.svc.Tokens.Tokens(r.Context(), user)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listBody[*tresor.Token]{Items: nonNilList(ts)})
}

func nonNilList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// createdToken is the answer to POST /api/v1/tokens: the token, and its secret once.
type createdToken struct {
	*tresor.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tresor.TokenRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	t, secret, err := s.svc.Tokens.CreateToken(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdToken{t, secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
