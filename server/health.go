package server

import (
	"net/http"

	"tresor"
)

// healthz answers while the process runs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 while the server can serve requests: the database answers
// with the expected schema and no shutdown is under way.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.stopping.Load() {
		return tresor.Errorf(tresor.ECUnavailable, "The server is shutting down.")
	}
	if err := s.svc.Health.Ready(r.Context()); err != nil {
		return err
	}
	// leader: whether this server runs the periodic jobs of the servers on
	// its database (retention, audit checkpoints, the social loop, …).
	return writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "leader": s.svc.Health.Leading()})
}
