package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"tresor"
	"tresor/datadir"
	"tresor/server"
)

// provider is the example OpenID provider of zitadel/oidc, whose users get a
// tresor_roles claim: the first user sales, the second admin.
type provider struct {
	*storage.Storage
}

var providerRoles = map[string][]string{"id1": {"sales"}, "id2": {"admin"}}

func (p *provider) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := p.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	ui.AppendClaims("tresor_roles", providerRoles[userID])
	return nil
}

func (p *provider) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := p.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	ui.AppendClaims("tresor_roles", providerRoles[token.GetSubject()])
	return nil
}

func (p *provider) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := p.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	ui.AppendClaims("tresor_roles", providerRoles[subject])
	return nil
}

// TestSingleSignOnWithARealProvider runs the authorization code flow with PKCE
// against a real OpenID provider in the test process: Tresor discovers it,
// the browser signs in there, Tresor redeems the code, verifies the ID token
// and signs the person in with the roles of the claim.
func TestSingleSignOnWithARealProvider(t *testing.T) {
	tresorLn, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	tresorURL := "http://" + tresorLn.Addr().String()
	opLn, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	issuer := "http://" + opLn.Addr().String()

	store := &provider{storage.NewStorage(storage.NewUserStore(issuer))}
	storage.RegisterClients(storage.WebClient("tresor-test", "client-secret", tresorURL+"/auth/oidc/callback"))
	opServer := &http.Server{Handler: exampleop.SetupServer(issuer, store, nil, false)}
	go opServer.Serve(opLn)
	defer opServer.Close()

	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: t.TempDir(), Migrate: true})
	must(t, err)
	defer g.Close()
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g}, server.Options{PublicURL: tresorURL, Purposes: g.PurposesOf,
		OIDC: &server.OIDCConfig{Issuer: issuer, ClientID: "tresor-test", ClientSecret: "client-secret"}})
	tresorServer := &http.Server{Handler: s.Handler()}
	go tresorServer.Serve(tresorLn)
	defer tresorServer.Close()

	signIn := func(t *testing.T, username string) (*http.Response, string) {
		jar, _ := cookiejar.New(nil)
		var visited []string
		c := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
			visited = append(visited, r.URL.String())
			return nil
		}}
		defer func() {
			// The authorization request carried a PKCE challenge, state and nonce.
			auth := ""
			for _, v := range visited {
				if strings.HasPrefix(v, issuer+"/auth?") {
					auth = v
				}
			}
			for _, want := range []string{"code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "response_type=code"} {
				if !strings.Contains(auth, want) {
					t.Errorf("the authorization request %q lacks %s", auth, want)
				}
			}
		}()
		// The sign-in page offers single sign-on.
		res, err := c.Get(tresorURL + "/login")
		must(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `href="/auth/oidc/login"`) {
			t.Fatal("the sign-in page offers no single sign-on")
		}
		// Tresor sends the browser to the provider, which shows its sign-in form.
		res, err = c.Get(tresorURL + "/auth/oidc/login")
		must(t, err)
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.HasPrefix(res.Request.URL.String(), issuer+"/login/username") {
			t.Fatalf("the browser landed at %s", res.Request.URL)
		}
		auth := res.Request.URL.Query().Get("authRequestID")
		if q := res.Request.URL.String(); auth == "" {
			t.Fatalf("no auth request at %s", q)
		}
		m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no sign-in form at the provider: %.300s", body)
		}
		// The provider's form redirects back through Tresor's callback to the account page.
		res, err = c.PostForm(issuer+"/login/username", url.Values{"id": {string(m[1])}, "username": {username}, "password": {"verysecure"}})
		must(t, err)
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}

	t.Run("sales user", func(t *testing.T) {
		res, body := signIn(t, "test-user@127.0.0.1")
		if res.StatusCode != 200 || res.Request.URL.Path != "/account" || !strings.Contains(body, "test-user@zitadel.ch") || !strings.Contains(body, "sales") {
			t.Fatalf("after single sign-on: %d at %s: %.500s", res.StatusCode, res.Request.URL, body)
		}
		sys := tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem})
		u, err := g.User(sys, "test-user@zitadel.ch")
		must(t, err)
		if u.ExternalIssuer != issuer || u.ExternalSubject != "id1" || len(u.Roles) != 1 || u.Roles[0] != tresor.RoleSales || u.PasswordHash != "" {
			t.Fatalf("provisioned user = %+v", u)
		}
	})
	t.Run("administrator needs a second factor", func(t *testing.T) {
		res, body := signIn(t, "test-user2")
		if res.Request.URL.Path != "/account/mfa" || !strings.Contains(body, `id="totp-secret"`) {
			t.Fatalf("an administrator via single sign-on landed at %s (%d)", res.Request.URL, res.StatusCode)
		}
	})
	t.Run("forged state is refused", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		res, err := c.Get(tresorURL + "/auth/oidc/callback?code=stolen&state=forged")
		must(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Request.URL.Path != "/auth/oidc/callback" {
			t.Fatalf("a callback without the state cookie: %d at %s", res.StatusCode, res.Request.URL)
		}
	})
}
