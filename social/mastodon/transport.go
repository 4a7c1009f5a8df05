package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	mstdn "github.com/mattn/go-mastodon"

	"tresor"
)

// Limits on what the connector reads from a server. go-mastodon decodes the
// answers itself, so the limits sit in the HTTP client's transport: an answer
// that breaks one never reaches the JSON decoder.
const (
	// MaxResponseBytes bounds the body of every answer (after any
	// Content-Encoding is undone).
	MaxResponseBytes = 8 << 20
	// maxJSONValues bounds the number of array elements and object members
	// in one answer. A page of 80 notifications has a few thousand; the
	// bound keeps small garbage such as "[{},{},…]" from growing into
	// hundreds of megabytes of decoded structs.
	maxJSONValues = 100_000
	// maxJSONArrayItems bounds the array elements in one answer, each of
	// which can decode into a struct of a kilobyte.
	maxJSONArrayItems = 20_000
	// maxJSONDepth bounds the nesting of arrays and objects.
	maxJSONDepth = 64

	defaultTimeout = 15 * time.Second
)

// Errors inside a *tresor.ErrConnector, for errors.Is.
var (
	// ErrTooLarge: the answer exceeds MaxResponseBytes or the structural
	// limits on JSON.
	ErrTooLarge = errors.New("answer too large")
	// ErrRateLimited: the server answered 429 Too Many Requests.
	ErrRateLimited = errors.New("rate limited by the server (429 Too Many Requests)")
)

// StatusError is a non-2xx answer of the server, inside a
// *tresor.ErrConnector.
type StatusError struct {
	StatusCode int
	Message    string // the server's error text, without credentials
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// newHTTPClient returns a copy of base (nil: a client with a 15 s timeout)
// whose transport bounds every answer.
func newHTTPClient(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		c.Timeout = defaultTimeout
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &limitTransport{next: next}
	return &c
}

// idempotencyKey is the context key of a request's Idempotency-Key:
// go-mastodon has no way to set a header, so the transport sets it.
type idempotencyKey struct{}

func withIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// limitTransport reads each answer into memory, up to MaxResponseBytes,
// checks its JSON structure against the limits and turns 429 into an error
// (go-mastodon would otherwise retry for up to an hour).
type limitTransport struct{ next http.RoundTripper }

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if key, ok := req.Context().Value(idempotencyKey{}).(string); ok && key != "" && req.Method == http.MethodPost {
		req = req.Clone(req.Context())
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		resp.Body.Close()
		return nil, ErrRateLimited
	}
	if resp.ContentLength > MaxResponseBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, resp.ContentLength, MaxResponseBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxResponseBytes)
	}
	if err := checkJSONShape(body); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// checkJSONShape counts the values and the nesting in b without decoding
// it. It does not check the syntax (the decoder does); outside strings it
// counts brackets and commas, which bounds what a decoder can allocate.
func checkJSONShape(b []byte) error {
	var (
		stack         []byte // the open '[' and '{'
		values, items int    // values in containers, of which in arrays
		inString, esc bool
		pending       bool // after '[', '{' or ',': the next token starts a value
	)
	for _, c := range b {
		if inString {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if pending && c != ']' && c != '}' && len(stack) > 0 {
			values++
			if stack[len(stack)-1] == '[' {
				items++
			}
			if values > maxJSONValues || items > maxJSONArrayItems {
				return fmt.Errorf("%w: more than %d JSON values or %d array items", ErrTooLarge, maxJSONValues, maxJSONArrayItems)
			}
		}
		pending = false
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if len(stack) >= maxJSONDepth {
				return fmt.Errorf("%w: JSON nested deeper than %d", ErrTooLarge, maxJSONDepth)
			}
			stack = append(stack, c)
			pending = true
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			pending = true
		}
	}
	return nil
}

// failure is the error inside an ErrConnector: a message without
// credentials or query strings, and the causes callers may test for
// (context errors, ErrTooLarge, ErrRateLimited, *StatusError).
type failure struct {
	msg     string
	timeout bool
	causes  []error
}

func (e *failure) Error() string   { return e.msg }
func (e *failure) Unwrap() []error { return e.causes }

// Timeout reports whether the request timed out.
func (e *failure) Timeout() bool { return e.timeout }

// connectorError wraps a failure of the network for op, removing the
// secrets from its message.
func connectorError(op string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var te *tresor.Error
	if errors.As(err, &te) {
		return err // our own refusal of the caller's input
	}
	f := &failure{}
	for _, cause := range []error{context.Canceled, context.DeadlineExceeded, ErrTooLarge, ErrRateLimited} {
		if errors.Is(err, cause) {
			f.causes = append(f.causes, cause)
		}
	}
	var ae *mstdn.APIError
	if errors.As(err, &ae) {
		f.causes = append(f.causes, &StatusError{StatusCode: ae.StatusCode, Message: redact(ae.Message, secrets)})
	}
	// Only a refusal (4xx, including 429) says the request had no effect;
	// no answer, a server error or an answer that cannot be read does not.
	if ae == nil && !errors.Is(err, ErrRateLimited) || ae != nil && (ae.StatusCode < 400 || ae.StatusCode >= 500) {
		f.causes = append(f.causes, tresor.ErrOutcomeUnknown)
	}
	var ue *url.Error
	var msg string
	if errors.As(err, &ue) {
		f.timeout = ue.Timeout()
		// The URL without its query, which may name a handle.
		u := ue.URL
		if p, perr := url.Parse(u); perr == nil {
			p.RawQuery, p.Fragment, p.User = "", "", nil
			u = p.String()
		} else if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		msg = fmt.Sprintf("%s %s: %v", ue.Op, u, ue.Err)
	} else {
		msg = err.Error()
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		f.timeout = true
	}
	f.msg = redact(msg, secrets)
	return &tresor.ErrConnector{Network: Network, Op: op, Err: f}
}

// redact removes every secret from s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
