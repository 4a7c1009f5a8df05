package server

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"tresor"
)

// The DPO cockpit (issue [2.2], page 10), for the data-protection officer
// under the purpose data_protection: the grants of roles waiting for a
// second person, restricted and objected contacts, overdue Art. 14 notices,
// legal holds of a contact, and the audit search. The requests register of
// [2.4] plugs in here.

// dpoScanLimit is how many contacts the cockpit looks through for
// restricted and objected ones (the gate offers no filter for them yet).
const dpoScanLimit = 2 * tresor.MaxPageSize

// dpoContact is a restricted or objected contact.
type dpoContact struct {
	ID           string
	Name         string
	RestrictedAt *time.Time
	ObjectedAt   *time.Time
}

// dpoData is what the cockpit shows.
type dpoData struct {
	Done    string
	Err     *pageErr
	Grants  []adminGrant
	Purpose *pageErr // why the data-protection sections are not shown
	Notices []*tresor.Notice
	More    bool // more overdue notices than shown
	Looked  bool // the person asked to look through the contacts
	Flagged []dpoContact
	Scanned int64
	Partial bool // more contacts than the cockpit looked through
	// The legal holds of one contact.
	HoldsOf string
	Holds   []tresor.LegalHold
	HoldErr *pageErr
	// The audit search.
	AuditContact, AuditActor string
	Searched                 bool
	Entries                  []*tresor.AuditEntry
	AuditErr                 *pageErr
}

func (s *Server) dpoPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderDPO(w, r, http.StatusOK, &dpoData{})
}

// dpoRefused shows the cockpit again with a refusal.
func (s *Server) dpoRefused(w http.ResponseWriter, r *http.Request, err error) error {
	pe, err := adminRefusal(r, err)
	if err != nil {
		return err
	}
	status, _ := pageStatus(tresor.Errorf(tresor.Code(pe.Code), ""))
	return s.renderDPO(w, r, status, &dpoData{Err: pe})
}

func (s *Server) renderDPO(w http.ResponseWriter, r *http.Request, status int, d *dpoData) error {
	v, err := s.workspaceView(r, "dpo_title", "/dpo")
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet {
		v.Work.Back = "/dpo"
	}
	ctx := r.Context()
	q := r.URL.Query()
	if d.Err == nil && slices.Contains([]string{"approved", "rejected"}, q.Get("done")) {
		d.Done = q.Get("done")
	}
	grants, err := s.svc.Users.RoleGrants(ctx, tresor.GrantPending)
	if err != nil {
		return err
	}
	d.Grants = describeGrants(grants)

	// The data-protection sections read through the gate under the
	// session's purpose; without data_protection the gate refuses, and the
	// page says why instead of failing.
	now := time.Now()
	notices, err := s.svc.Notices.Notices(ctx, tresor.NoticeQuery{Open: true, DueBefore: now, Page: tresor.Page{Limit: 100}})
	if err != nil {
		if d.Purpose, err = adminRefusal(r, err); err != nil {
			return err
		}
	} else {
		d.Notices, d.More = notices.Items, notices.Next != ""
		if q.Get("flagged") != "" {
			if err := s.dpoFlagged(r, d); err != nil {
				return err
			}
		}
		if id := strings.TrimSpace(q.Get("holds")); id != "" {
			d.HoldsOf = id
			hs, err := s.svc.Protection.Holds(ctx, id)
			if err != nil {
				if d.HoldErr, err = adminRefusal(r, err); err != nil {
					return err
				}
			}
			d.Holds = hs
		}
	}
	d.AuditContact, d.AuditActor = strings.TrimSpace(q.Get("contact")), strings.TrimSpace(q.Get("actor"))
	if d.AuditContact != "" || d.AuditActor != "" {
		d.Searched = true
		l, err := s.svc.Audit.AuditLog(ctx, tresor.AuditFilter{ContactID: d.AuditContact, Actor: d.AuditActor, Page: tresor.Page{Limit: 100}})
		if err != nil {
			if d.AuditErr, err = adminRefusal(r, err); err != nil {
				return err
			}
		} else {
			d.Entries = l.Items
		}
	}
	v.Data = d
	return s.render(w, r, status, "dpo", v)
}

// dpoFlagged looks through the contacts for restricted and objected ones,
// when the person asks: it reads contacts (and is recorded as such), so the
// cockpit does not do it on every visit.
func (s *Server) dpoFlagged(r *http.Request, d *dpoData) error {
	d.Looked = true
	p := tresor.Page{Limit: tresor.MaxPageSize}
	for d.Scanned < dpoScanLimit {
		l, err := s.svc.Contacts.Contacts(r.Context(), tresor.ContactFilter{Page: p})
		if err != nil {
			return err
		}
		for _, c := range l.Items {
			if c.RestrictedAt != nil || c.ObjectedAt != nil {
				d.Flagged = append(d.Flagged, dpoContact{ID: c.ID, Name: strings.TrimSpace(c.GivenName + " " + c.FamilyName),
					RestrictedAt: c.RestrictedAt, ObjectedAt: c.ObjectedAt})
			}
		}
		d.Scanned += int64(len(l.Items))
		if l.Next == "" {
			return nil
		}
		p.After = l.Next
	}
	d.Partial = true
	return nil
}
