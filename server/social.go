package server

import (
	"net/http"
	"strconv"
	"time"

	"tresor"
)

// ImportBodyLimit is the largest file an import over HTTP accepts.
const ImportBodyLimit = 256 << 20

// socialRoutes are imports and the information duties they create.
func (s *Server) socialRoutes() []route {
	return []route{
		{"POST", "/api/v1/imports", Purpose, s.importFile},
		{"GET", "/api/v1/notices", Purpose, s.notices},
		{"POST", "/api/v1/notices/send", Purpose, s.sendNotices},
	}
}

// importFile imports the request body: ?format=linkedin|vcard|mastodon-following|csv
// &legal_basis=…[&network=…][&balancing_note=…][&dry_run=true]; for csv the
// mapping comes in the header Tresor-Mapping (JSON).
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	req := tresor.ImportRequest{Format: q.str("format"), LegalBasis: tresor.LegalBasis(q.str("legal_basis")),
		BalancingNote: q.str("balancing_note"), Network: q.str("network"), Mapping: r.Header.Get("Tresor-Mapping")}
	if dry := q.str("dry_run"); dry != "" {
		if req.DryRun, err = strconv.ParseBool(dry); err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "dry_run must be true or false.")
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	if req.Format == "" || req.LegalBasis == "" {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the format (linkedin, vcard, mastodon-following, csv) and the legal_basis.")
	}
	body := http.MaxBytesReader(w, r.Body, ImportBodyLimit)
	rep, err := s.svc.Imports.Import(r.Context(), body, req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if req.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, rep)
	return nil
}

// notices lists the Art. 14 information duties: ?open=true, ?overdue=true.
func (s *Server) notices(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := tresor.NoticeQuery{ContactID: q.id("contact"), Page: q.page()}
	if v := q.str("open"); v != "" {
		if f.Open, err = strconv.ParseBool(v); err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "open must be true or false.")
		}
	}
	if v := q.str("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "overdue must be true or false.")
		}
		if b {
			f.Open, f.DueBefore = true, time.Now()
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Notices.Notices(r.Context(), f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sendNotices mails the open notices (?overdue=true: only the overdue ones).
func (s *Server) sendNotices(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	due := time.Time{}
	if v := q.str("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "overdue must be true or false.")
		}
		if b {
			due = time.Now()
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	sent, other, err := s.svc.Notices.SendNotices(r.Context(), due)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"sent": sent, "other_channel": other})
	return nil
}
