package server

import (
	"bytes"
	"net/http"

	"tresor"
)

// auditRoutes are the audit trail for the data-protection officer and the auditor.
func (s *Server) auditRoutes() []route {
	return []route{
		{"GET", "/api/v1/audit", AnyRole(tresor.RoleDPO, tresor.RoleAuditor), s.auditLog},
		{"GET", "/api/v1/audit/export", Purpose, s.auditExport},
	}
}

func auditFilter(q *query) tresor.AuditFilter {
	return tresor.AuditFilter{ContactID: q.str("contact"), Actor: q.str("actor"), Action: q.str("action"),
		Purpose: q.str("purpose"), Decision: tresor.Decision(q.str("decision")), Since: q.time("since"), Until: q.time("until"), Page: q.page()}
}

// auditLog lists entries, newest first: ?contact=ID answers "who accessed
// this person", ?actor=user:ID "what did this user access".
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := auditFilter(&q)
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Audit.AuditLog(r.Context(), f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// auditExport answers, as CSV, which contacts an actor touched in a window.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := tresor.AuditFilter{Actor: q.str("actor"), Since: q.time("since"), Until: q.time("until")}
	if err := q.err(); err != nil {
		return err
	}
	var buf bytes.Buffer // whole, so that an error can still be a problem
	if err := s.svc.Audit.AuditExport(r.Context(), f, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="touched-contacts.csv"`)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}
