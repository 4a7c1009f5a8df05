package mastodon

import (
	"context"
	"errors"
	"strings"

	mstdn "github.com/mattn/go-mastodon"

	"tresor"
)

// The OAuth settings of the application Register creates.
const (
	Scopes      = "read write follow"
	RedirectURI = "urn:ietf:wg:oauth:2.0:oob" // the server shows the code to the operator
)

// App is an OAuth application registered on a server, waiting for the
// operator to authorize it. It can be stored (JSON) between Register and
// Exchange; ClientSecret is a secret.
type App struct {
	Server       string `json:"server"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// AuthorizeURL is the page to show the operator: after signing in as
	// the company account and allowing access, the server shows a code.
	AuthorizeURL string `json:"authorize_url"`
}

// Register registers the application appName on the server (POST
// /api/v1/apps, scopes "read write follow", the out-of-band redirect).
// server is a base URL; without a scheme, https is assumed.
func Register(ctx context.Context, server, appName string) (*App, error) {
	server, _, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	appName = strings.TrimSpace(appName)
	if appName == "" {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "The application needs a name.")
	}
	a, err := mstdn.RegisterApp(ctx, &mstdn.AppConfig{
		Client:       *newHTTPClient(nil),
		Server:       server,
		ClientName:   appName,
		RedirectURIs: RedirectURI,
		Scopes:       Scopes,
	})
	if err == nil && (a.ClientID == "" || a.ClientSecret == "") {
		err = errors.New("the server registered the application without a client id or secret")
	}
	if err != nil {
		var secret string
		if a != nil {
			secret = a.ClientSecret
		}
		return nil, connectorError("register", err, secret)
	}
	return &App{Server: server, ClientID: a.ClientID, ClientSecret: a.ClientSecret, AuthorizeURL: a.AuthURI}, nil
}

// Exchange trades the code the operator copied from the authorize page for
// an access token (POST /oauth/token, grant authorization_code) and
// returns the credentials for New.
func (a *App) Exchange(ctx context.Context, code string) (Credentials, error) {
	server, _, err := parseServer(a.Server)
	if err != nil {
		return Credentials{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" || a.ClientID == "" || a.ClientSecret == "" {
		return Credentials{}, tresor.Errorf(tresor.ECInvalidParameter, "Exchanging needs the registered application and the code the server showed.")
	}
	client := mstdn.NewClient(&mstdn.Config{Server: server, ClientID: a.ClientID, ClientSecret: a.ClientSecret})
	client.Client = *newHTTPClient(nil)
	client.UserAgent = "tresor"
	secrets := []string{a.ClientSecret, code}
	err = client.GetUserAccessToken(ctx, code, RedirectURI)
	if err == nil && client.Config.AccessToken == "" {
		err = errors.New("the server answered without an access token")
	}
	if err != nil {
		return Credentials{}, connectorError("exchange", err, append(secrets, client.Config.AccessToken)...)
	}
	return Credentials{Server: server, ClientID: a.ClientID, ClientSecret: a.ClientSecret, AccessToken: client.Config.AccessToken}, nil
}
