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
	Health        Health
}

// Health is what the readiness probe and the metrics ask.
type Health interface {
	Ready(ctx context.Context) error
	Stats() []tresor.PoolStats
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
	http      *http.Server
	ln        net.Listener
}

// New returns a server for the services.
func New(svc Services, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, log: log, bodyLimit: DefaultBodyLimit, mux: http.NewServeMux()}
	s.metrics = newMetrics(svc.Health)
	s.routes = s.apiRoutes()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	return s
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

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
	err := s.http.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

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
	r = r.WithContext(tresor.WithRequestID(r.Context(), id))
	h := w.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
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
