package bluesky

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bluesky-social/indigo/api/atproto"
	"github.com/bluesky-social/indigo/xrpc"

	"tresor"
)

// userAgent names the connector to the service.
var userAgent = "tresor-bluesky/1"

// maxSecrets bounds the tokens remembered for redaction.
const maxSecrets = 8

// maxErrLen bounds the message of an error.
const maxErrLen = 400

// current returns the session in force.
func (c *Connector) current() session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// setSession puts a new session in force.
func (c *Connector) setSession(s session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = s
	for _, t := range []string{s.access, s.refresh} {
		if t != "" {
			c.secrets = append(c.secrets, t)
		}
	}
	if n := len(c.secrets); n > maxSecrets {
		c.secrets = append([]string(nil), c.secrets[n-maxSecrets:]...)
	}
}

// client is an XRPC client that sends the token (none when empty).
func (c *Connector) client(token string) *xrpc.Client {
	xc := &xrpc.Client{Client: c.http, Host: c.creds.Service, UserAgent: &userAgent}
	if token != "" {
		xc.Auth = &xrpc.AuthInfo{AccessJwt: token}
	}
	return xc
}

// login opens a new session with the app password.
func (c *Connector) login(ctx context.Context) error {
	out, err := atproto.ServerCreateSession(ctx, c.client(""), &atproto.ServerCreateSession_Input{
		Identifier: c.creds.Handle,
		Password:   c.creds.AppPassword,
	})
	if err != nil {
		return err
	}
	if out.AccessJwt == "" || out.RefreshJwt == "" || out.Did == "" || out.Handle == "" {
		return errors.New("the session has no tokens, DID or handle")
	}
	c.setSession(session{did: out.Did, handle: out.Handle, access: out.AccessJwt, refresh: out.RefreshJwt})
	return nil
}

// renew replaces a session whose access token expired: with the refresh
// token, or by a new login where that is refused too. A session that was
// already renewed since expired was issued is left alone.
func (c *Connector) renew(ctx context.Context, expired string) error {
	c.renewMu.Lock()
	defer c.renewMu.Unlock()
	s := c.current()
	if s.access != expired {
		return nil
	}
	out, err := atproto.ServerRefreshSession(ctx, c.client(s.refresh))
	if err == nil && out.AccessJwt != "" && out.RefreshJwt != "" {
		n := session{did: out.Did, handle: out.Handle, access: out.AccessJwt, refresh: out.RefreshJwt}
		if n.did == "" {
			n.did = s.did
		}
		if n.handle == "" {
			n.handle = s.handle
		}
		c.setSession(n)
		return nil
	}
	if err != nil && !isAuthError(err) {
		return err
	}
	return c.login(ctx)
}

// isAuthError tells an answer that the token is expired or not valid.
func isAuthError(err error) bool {
	var xe *xrpc.Error
	if !errors.As(err, &xe) || (xe.StatusCode != http.StatusBadRequest && xe.StatusCode != http.StatusUnauthorized) {
		return false
	}
	var re *xrpc.XRPCError
	if !errors.As(err, &re) {
		return false
	}
	switch re.ErrStr {
	case "ExpiredToken", "InvalidToken":
		return true
	}
	return false
}

// authed is the XRPC client of the session: it sends the access token and
// renews the session once when the token has expired.
type authed struct{ c *Connector }

// api returns the client of the session for indigo's lexicon functions.
func (c *Connector) api() authed { return authed{c} }

func (a authed) LexDo(ctx context.Context, method, inputEncoding, endpoint string, params map[string]any, body, out any) error {
	s := a.c.current()
	err := a.c.client(s.access).LexDo(ctx, method, inputEncoding, endpoint, params, body, out)
	if err == nil || !isAuthError(err) {
		return err
	}
	if _, ok := body.(io.Reader); ok {
		return err // the body was read; it cannot be sent again
	}
	if err := a.c.renew(ctx, s.access); err != nil {
		return err
	}
	return a.c.client(a.c.current().access).LexDo(ctx, method, inputEncoding, endpoint, params, body, out)
}

// fail turns an error of the network into a *tresor.ErrConnector whose
// message holds no secret and is of bounded length.
func (c *Connector) fail(op string, err error) error {
	var ce *tresor.ErrConnector
	if errors.As(err, &ce) {
		return err
	}
	return &tresor.ErrConnector{Network: Network, Op: op, Err: c.sanitize(err)}
}

// jwtPattern matches what looks like a JSON Web Token (the form of the
// service's tokens), to hide tokens the connector does not know.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// sanitize returns err, or an error with the secrets (the app password,
// tokens issued to this connector, anything like a token) removed and the
// message shortened. An error whose message held a secret loses its chain.
func (c *Connector) sanitize(err error) error {
	msg := err.Error()
	c.mu.Lock()
	secrets := append([]string{c.creds.AppPassword}, c.secrets...)
	c.mu.Unlock()
	clean := msg
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	clean = jwtPattern.ReplaceAllString(clean, "[redacted]")
	redacted := clean != msg
	if len(clean) > maxErrLen {
		cut := maxErrLen
		for cut > 0 && !utf8.RuneStart(clean[cut]) {
			cut--
		}
		clean = clean[:cut] + "…"
	}
	if clean == msg {
		return err
	}
	se := &sanitizedError{msg: clean}
	if !redacted {
		se.err = err
	}
	return se
}

// sanitizedError is an error with a cleaned message.
type sanitizedError struct {
	msg string
	err error
}

func (e *sanitizedError) Error() string { return e.msg }
func (e *sanitizedError) Unwrap() error { return e.err }

// errTooLarge is the error of an answer over MaxResponseBytes.
var errTooLarge = errors.New("the answer is larger than 8 MiB")

// limitTransport bounds the size of the bodies of answers.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, errTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// limitedBody fails once more than its limit is read.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
