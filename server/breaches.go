package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"tresor"
)

// breaches is the breach register's service: the gate offers it beside
// contacts, so a server built with a gate needs no more wiring.
func (s *Server) breaches() tresor.BreachService {
	if b, ok := s.svc.Contacts.(tresor.BreachService); ok {
		return b
	}
	return nil
}

func noBreaches() error {
	return tresor.Errorf(tresor.ECUnavailable, "The breach register is not available on this server.")
}

// breachRoutes are the JSON API of the breach register (Art. 33/34), kept
// by the data-protection officer: the gate refuses every other role.
func (s *Server) breachRoutes() []route {
	svc := s.breaches()
	with := func(h func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			if svc == nil {
				return noBreaches()
			}
			return h(w, r, svc)
		}
	}
	rs := []route{
		{"POST", "/api/v1/breaches", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			v := new(tresor.Breach)
			if err := decodeBody(r, v, "application/json"); err != nil {
				return err
			}
			if err := b.CreateBreach(r.Context(), v); err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/breaches/"+v.ID)
			return writeObject(w, http.StatusCreated, v)
		})},
		{"GET", "/api/v1/breaches", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			p := q.page()
			if err := q.err(); err != nil {
				return err
			}
			return writeList(w, r.Context(), b, p)
		})},
		{"GET", "/api/v1/breaches/{id}", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			v, err := b.Breach(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		})},
		{"PATCH", "/api/v1/breaches/{id}", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			var patch json.RawMessage
			if err := decodeBody(r, &patch, "application/merge-patch+json", "application/json"); err != nil {
				return err
			}
			v, err := b.UpdateBreach(r.Context(), r.PathValue("id"), tresor.Update{Patch: patch, IfVersion: ifVersion})
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		})},
		{"POST", "/api/v1/breaches/{id}/state", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			var body struct {
				State tresor.BreachState `json:"state"`
				Note  string             `json:"note,omitempty"`
			}
			if err := decodeBody(r, &body, "application/json"); err != nil {
				return err
			}
			v, err := b.SetBreachState(r.Context(), r.PathValue("id"), body.State, body.Note, ifVersion)
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		})},
		{"POST", "/api/v1/breaches/{id}/scope", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			var body struct {
				Actor string    `json:"actor"`
				Since time.Time `json:"since"`
				Until time.Time `json:"until"`
			}
			if err := decodeBody(r, &body, "application/json"); err != nil {
				return err
			}
			v, err := b.CountBreachScope(r.Context(), r.PathValue("id"), body.Actor, body.Since, body.Until)
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		})},
		{"GET", "/api/v1/breaches/{id}/drafts", Purpose, with(func(w http.ResponseWriter, r *http.Request, b tresor.BreachService) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			lang := q.str("lang")
			if err := q.err(); err != nil {
				return err
			}
			d, err := b.BreachDrafts(r.Context(), r.PathValue("id"), lang)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, d)
		})},
	}
	return rs
}

func writeList(w http.ResponseWriter, ctx context.Context, b tresor.BreachService, p tresor.Page) error {
	out, err := pageOf(b.Breaches(ctx, p))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
