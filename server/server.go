// Package server is Tresor's HTTP transport: the JSON API under /api/v1, the
// health and metrics endpoints. It parses requests, puts the actor and the
// declared purpose into the context, calls the gate through the service
// interfaces of package tresor, and writes responses. It never touches storage.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"tresor"
)

// Services are what the server calls; the gate implements all of them.
type Services struct {
	Contacts      tresor.ContactService
	Organizations tresor.OrganizationService
	Interactions  tresor.InteractionService
	Deals         tresor.DealService
	Cases         tresor.CaseService
	Auth          tresor.Authenticator
	Users         tresor.UserService
	Tokens        tresor.TokenService
	Sessions      tresor.SessionService
	Consents      tresor.ConsentService
	Campaigns     tresor.CampaignService
	Protection    tresor.ProtectionService
	Audit         tresor.AuditService
	Imports       tresor.ImportService
	Notices       tresor.NoticeService
	Social        tresor.SocialService
	Merges        tresor.MergeService // nil: the Contacts service, if it merges
	Tasks         tresor.TaskService
	Mail          tresor.MailService // nil: the server sends and reads no e-mail
	// Tags and Segments default to Contacts where it offers them (the gate).
	Tags     tresor.TagService
	Segments tresor.SegmentService
	// Requests defaults to Contacts where it offers it (the gate).
	Requests tresor.RequestService
	Health   Health
}

// Options configure a server.
type Options struct {
	Log *slog.Logger
	// TLSCert and TLSKey are PEM files; with them the server speaks HTTPS only,
	// sends HSTS and marks its cookies Secure.
	TLSCert, TLSKey string
	// PublicURL is the address people reach Tresor at, for links in messages
	// and the single sign-on callback (default http://127.0.0.1:8080).
	PublicURL string
	// OIDC, if set, enables single sign-on with an OpenID provider.
	OIDC *OIDCConfig
	// Purposes returns the purposes roles allow (for the token form).
	Purposes func(roles []tresor.Role) []string
	// Catalogue describes the purposes (GET /api/v1/purposes).
	Catalogue []tresor.PurposeInfo
	// TimeZone is where the working day is: what is due today and overdue
	// (default Europe/Berlin).
	TimeZone *time.Location
	// Record builds the record of processing activities (Art. 30); nil
	// without a controller file.
	Record RecordSource
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (proxy.go); none: the peer is the client.
	TrustedProxies []netip.Prefix
}

// Health is what the readiness probe and the metrics ask.
type Health interface {
	Ready(ctx context.Context) error
	PoolStats() []tresor.PoolStats
	// Leading reports whether this server leads the periodic jobs of the
	// servers on its database.
	Leading() bool
}

// DefaultBodyLimit is the largest request body accepted.
const DefaultBodyLimit = 1 << 20

// PurposeHeader carries the purpose a request is made for.
const PurposeHeader = "Tresor-Purpose"

// Server serves the API.
type Server struct {
	svc       Services
	log       *slog.Logger
	bodyLimit int64
	routes    []route
	mux       *http.ServeMux
	metrics   *metrics
	stopping  atomic.Bool
	tls       bool // serving HTTPS: Secure cookies, HSTS
	opt       Options
	oidc      *oidcClient
	pages     *pages
	forms     submitted // the answers of forms submitted recently (once.go)
	// cop refuses cross-origin state-changing requests from browsers
	// (Sec-Fetch-Site and Origin), before any handler runs.
	cop  *http.CrossOriginProtection
	http *http.Server
	ln   net.Listener
}

// New returns a server for the services.
func New(svc Services, opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.PublicURL == "" {
		opt.PublicURL = "http://127.0.0.1:8080"
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	s := &Server{svc: svc, log: opt.Log, opt: opt, bodyLimit: DefaultBodyLimit, mux: http.NewServeMux(), tls: opt.TLSCert != ""}
	s.metrics = newMetrics(svc.Health)
	if opt.OIDC != nil {
		s.oidc = newOIDC(*opt.OIDC, opt.PublicURL)
	}
	s.pages = mustParsePages()
	s.cop = http.NewCrossOriginProtection()
	api, web := s.apiRoutes(), s.webRoutes()
	for _, rt := range api {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt, false))
	}
	for _, rt := range web {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt, true))
	}
	s.routes = append(api, web...)
	return s
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// crossOrigin refuses a cross-origin request that would change state.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.cop.Check(r); err != nil {
		s.writeError(w, r, tresor.Errorf(tresor.ECCSRF, "A request from another site may not change anything here."))
		return true
	}
	return false
}

// Open listens on addr ("127.0.0.1:0" picks a free port).
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	var err error
	if s.tls {
		err = s.http.ServeTLS(s.ln, s.opt.TLSCert, s.opt.TLSKey)
	} else {
		err = s.http.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Drain reports not-ready (/readyz answers 503) while the server goes on
// serving every request; Shutdown follows.
func (s *Server) Drain() { s.stopping.Store(true) }

// Shutdown stops accepting requests, reports not-ready, and waits for the
// requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	if s.http == nil {
		return nil
	}
	return s.http.Shutdown(ctx)
}

// serveHTTP is the entry point of every request: request id, security
// headers, metrics and the access log, then routing.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	if len(s.opt.TrustedProxies) > 0 {
		r.RemoteAddr = clientAddr(r, s.opt.TrustedProxies)
	}
	r = r.WithContext(tresor.WithClient(tresor.WithRequestID(r.Context(), id), r.RemoteAddr))
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if s.tls {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}

	_, route := s.mux.Handler(r)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "request_id", id, "panic", p)
			if !rec.wrote {
				s.writeError(rec, r, errors.New("panic"))
			}
		}
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(r.Method, route, rec.status, d)
		// The access log names the route pattern, never the path with its
		// ids, the query (it may hold an e-mail address) or a body.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes), slog.Float64("ms", float64(d.Microseconds())/1000))
	}()

	if s.crossOrigin(rec, r) {
		return
	}
	if route == "" {
		s.unmatched(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// unmatched answers a request no route matches: 405 with Allow when the path
// exists under another method, else 404 — both as problem+json.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, tresor.Errorf(tresor.ECMethodNotAllowed, "%s is not allowed here; use %s.", r.Method, strings.Join(allow, " or ")))
		return
	}
	s.writeError(w, r, tresor.Errorf(tresor.ECNotFound, "There is nothing at %s.", r.URL.Path))
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
