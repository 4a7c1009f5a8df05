package server

import (
	"net/http"

	"tresor"
)

// mergeRoutes are the duplicates of contacts and their merge (issue [2.3]).
func (s *Server) mergeRoutes() []route {
	return []route{
		{"GET", "/api/v1/contacts/duplicates", Purpose, s.duplicatesAPI},
		{"POST", "/api/v1/contacts/{id}/merge", Purpose, s.mergeAPI},
	}
}

// merges is the merge service: its own, or the contacts' when that offers it.
func (s *Server) merges() (tresor.MergeService, error) {
	if s.svc.Merges != nil {
		return s.svc.Merges, nil
	}
	if m, ok := s.svc.Contacts.(tresor.MergeService); ok {
		return m, nil
	}
	return nil, tresor.Errorf(tresor.ECUnavailable, "Merging contacts is not available on this server.")
}

// duplicatesAPI lists candidate pairs of duplicate contacts.
func (s *Server) duplicatesAPI(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	p := q.page()
	if err := q.err(); err != nil {
		return err
	}
	m, err := s.merges()
	if err != nil {
		return err
	}
	out, err := pageOf(m.Duplicates(r.Context(), p))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// mergeAPI absorbs the contact named in the body into the one in the path.
func (s *Server) mergeAPI(w http.ResponseWriter, r *http.Request) error {
	var body tresor.MergeRequest
	if err := decodeBody(r, &body, "application/json"); err != nil {
		return err
	}
	m, err := s.merges()
	if err != nil {
		return err
	}
	res, err := m.MergeContact(r.Context(), r.PathValue("id"), body.From)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// mergedLocation is where the old id of a merged contact redirects.
func mergedLocation(e *tresor.Error) string { return "/api/v1/contacts/" + e.MergedInto }
