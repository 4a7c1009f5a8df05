package server

import (
	"net/http"

	"tresor"
)

// protectionRoutes are erasure, legal holds, archiving and retention.
func (s *Server) protectionRoutes() []route {
	return []route{
		{"POST", "/api/v1/contacts/{id}/erasure", Purpose, s.erase},
		{"GET", "/api/v1/erasures/{id}", Purpose, s.erasure},
		{"POST", "/api/v1/contacts/{id}/holds", Purpose, s.placeHold},
		{"GET", "/api/v1/contacts/{id}/holds", Purpose, s.holds},
		{"POST", "/api/v1/holds/{id}/release", Purpose, s.releaseHold},
		{"POST", "/api/v1/contacts/{id}/close", Purpose, s.closeContact},
		{"POST", "/api/v1/retention/runs", Purpose, s.runRetention},
	}
}

func (s *Server) erase(w http.ResponseWriter, r *http.Request) error {
	var in tresor.EraseRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	e, err := s.svc.Protection.EraseContact(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) erasure(w http.ResponseWriter, r *http.Request) error {
	e, err := s.svc.Protection.ContactErasure(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

// holdRequest is the body of POST /api/v1/contacts/{id}/holds.
type holdRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) placeHold(w http.ResponseWriter, r *http.Request) error {
	var in holdRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	h, err := s.svc.Protection.PlaceHold(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, h)
}

func (s *Server) holds(w http.ResponseWriter, r *http.Request) error {
	hs, err := s.svc.Protection.Holds(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": hs})
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	h, err := s.svc.Protection.ReleaseHold(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// closeContact archives a customer relation. The answer is the archived
// contact for a purpose that still sees it, and 204 for the others.
func (s *Server) closeContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Protection.CloseContact(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if c == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return writeObject(w, http.StatusOK, c)
}

// retentionRequest is the body of POST /api/v1/retention/runs.
type retentionRequest struct {
	DryRun bool `json:"dry_run"`
}

func (s *Server) runRetention(w http.ResponseWriter, r *http.Request) error {
	var in retentionRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	rep, err := s.svc.Protection.RunRetention(r.Context(), in.DryRun)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
