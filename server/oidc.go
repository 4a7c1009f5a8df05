package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tresor"
)

// OIDCConfig configures single sign-on with an OpenID provider
// (authorization code flow with PKCE).
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RolesClaim names the claim (in the ID token or from the userinfo
	// endpoint) that lists the person's Tresor roles; default "tresor_roles".
	RolesClaim string
	// RoleMap maps values of the roles claim to Tresor roles (for example a
	// group "crm-sales" to "sales"); without it, the values are role names.
	RoleMap map[string]tresor.Role
	// TrustMFA accepts the provider's "amr" claim naming a second factor
	// (mfa, otp, hwk, swk, sc, fpt) instead of Tresor's own for roles that
	// require one.
	TrustMFA bool
	// HTTPClient is used to reach the provider (default http.DefaultClient).
	HTTPClient *http.Client
}

// oidcClient is the relying party. It discovers the provider on first use,
// so that Tresor starts even while the provider is unreachable.
type oidcClient struct {
	cfg      OIDCConfig
	redirect string
	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

func newOIDC(cfg OIDCConfig, publicURL string) *oidcClient {
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "tresor_roles"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	return &oidcClient{cfg: cfg, redirect: publicURL + "/auth/oidc/callback"}
}

func (c *oidcClient) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.cfg.HTTPClient)
}

func (c *oidcClient) init(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, *oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(c.ctx(ctx), c.cfg.Issuer)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("discover the OpenID provider: %w", err)
		}
		c.provider = p
		c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
		c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: c.redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	}
	return c.oauth, c.verifier, c.provider, nil
}

const oidcCookie = "tresor_oidc"

// oidcLogin sends the browser to the provider with a fresh state, nonce and
// PKCE verifier, kept in a short-lived cookie for the callback.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return tresor.Errorf(tresor.ECNotFound, "Single sign-on is not configured.")
	}
	conf, _, _, err := s.oidc.init(r.Context())
	if err != nil {
		return &tresor.Error{Code: tresor.ECUnavailable, Message: "The identity provider cannot be reached.", Err: err}
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: "/auth/oidc",
		HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	return nil
}

var errSSO = tresor.Errorf(tresor.ECLoginFailed, "sso")

// oidcCallback finishes the sign-in: it checks the state, redeems the code
// with the PKCE verifier, verifies the ID token and its nonce, and signs the
// person in with the roles the provider lists.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return tresor.Errorf(tresor.ECNotFound, "Single sign-on is not configured.")
	}
	fail := func(reason string, err error) error {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "single sign-on failed", slog.String("reason", reason),
			slog.String("request_id", tresor.RequestIDFrom(r.Context())), slog.Any("error", err))
		return s.render(w, r, http.StatusUnauthorized, "message", view{Title: "sign_in", Message: "sso_failed", Link: "/login"})
	}
	c, err := r.Cookie(oidcCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/auth/oidc", HttpOnly: true, Secure: s.tls, MaxAge: -1})
	if err != nil {
		return fail("no state cookie", err)
	}
	parts := strings.Split(c.Value, ".")
	q := r.URL.Query()
	if len(parts) != 3 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return fail("state mismatch", errSSO)
	}
	if e := q.Get("error"); e != "" {
		return fail("provider error", errors.New(e))
	}
	conf, verifier, provider, err := s.oidc.init(r.Context())
	if err != nil {
		return fail("discovery", err)
	}
	ctx, cancel := context.WithTimeout(s.oidc.ctx(r.Context()), 20*time.Second)
	defer cancel()
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		return fail("code exchange", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return fail("no id_token", errSSO)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return fail("id_token verification", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(parts[1])) != 1 {
		return fail("nonce mismatch", errSSO)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return fail("claims", err)
	}
	// Claims the ID token lacks may come from the userinfo endpoint.
	if _, has := claims[s.oidc.cfg.RolesClaim]; !has || claims["email"] == nil {
		if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			extra := map[string]any{}
			if err := ui.Claims(&extra); err == nil && extra["sub"] == idt.Subject {
				for k, v := range extra {
					if _, has := claims[k]; !has {
						claims[k] = v
					}
				}
			}
		}
	}
	id := tresor.ExternalIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Roles: s.oidc.roles(claims[s.oidc.cfg.RolesClaim])}
	id.Email, _ = claims["email"].(string)
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string:
		id.EmailVerified = v == "true"
	}
	if s.oidc.cfg.TrustMFA {
		for _, m := range strings.Fields(fmt.Sprint(claims["amr"])) {
			m = strings.Trim(m, "[]")
			if slices.Contains([]string{"mfa", "otp", "hwk", "swk", "sc", "fpt"}, m) {
				id.MFA = true
			}
		}
	}
	sess, secret, err := s.svc.Sessions.SignInExternal(r.Context(), id)
	if err != nil {
		if code := tresor.ErrorCode(err); code == tresor.ECForbidden || code == tresor.ECLoginFailed || code == tresor.ECConflict {
			return s.render(w, r, statusOf[code], "message", view{Title: "sign_in", Message: tresor.ErrorMessage(err), Link: "/login"})
		}
		return err
	}
	s.startBrowserSession(w, r, sess, secret)
	return nil
}

// roles reads the roles claim: a list or a space- or comma-separated string.
func (c *oidcClient) roles(v any) []tresor.Role {
	var values []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
	case string:
		values = strings.FieldsFunc(x, func(r rune) bool { return r == ' ' || r == ',' })
	}
	var out []tresor.Role
	for _, v := range values {
		r := tresor.Role(v)
		if c.cfg.RoleMap != nil {
			var ok bool
			if r, ok = c.cfg.RoleMap[v]; !ok {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
