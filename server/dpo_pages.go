package server

import (
	"net/http"
	"net/url"
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

// dpoPageSize is how many rows each list of the cockpit shows at a time.
const dpoPageSize = 50

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
	// Deadlines are the requests and breaches whose clock runs ([2.4]).
	Deadlines *dpoDeadlines
	More      bool // more overdue notices than shown
	// Restricted and objected contacts, listed when the person asks (each
	// listed contact is a recorded read), a page at a time.
	Looked               bool
	Restricted, Objected []dpoContact
	RestrictedNext       string // the link to the next page, "" if none
	ObjectedNext         string
	// The active legal holds of every contact.
	ActiveHolds []tresor.LegalHold
	HoldsNext   string
	// The legal holds of one contact.
	HoldsOf string
	Holds   []tresor.LegalHold
	HoldErr *pageErr
	// The audit search: by contact or actor, in a time range (dates, UTC).
	AuditContact, AuditActor string
	AuditSince, AuditUntil   string
	AuditDateErr             string // the catalogue key of a date that is not one
	Searched                 bool
	Entries                  []*tresor.AuditEntry
	AuditErr                 *pageErr
	AuditNext                string // the link to the next page of entries
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
		if d.Deadlines, err = s.dpoLoadDeadlines(r); err != nil {
			return err
		}
		if q.Get("flagged") != "" {
			if err := s.dpoFlagged(r, d); err != nil {
				return err
			}
		}
		if err := s.dpoActiveHolds(r, d); err != nil {
			return err
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
	if err := s.dpoAuditSearch(r, d); err != nil {
		return err
	}
	v.Data = d
	return s.render(w, r, status, "dpo", v)
}

// dpoFlagged lists the restricted and the objected contacts through the
// gate's filter, when the person asks: each contact listed is a read
// under data_protection, recorded, so the cockpit does not do it on every
// visit. Each list goes on a page at a time (?restricted_after, ?objected_after).
func (s *Server) dpoFlagged(r *http.Request, d *dpoData) error {
	d.Looked = true
	q := r.URL.Query()
	list := func(flag tresor.ContactFlag, param string) ([]dpoContact, string, error) {
		after, err := tresor.DecodeCursor(q.Get(param))
		if err != nil {
			after = "" // a cursor not issued here starts the list again
		}
		l, err := s.svc.Protection.FlaggedContacts(r.Context(), flag, tresor.Page{Limit: dpoPageSize, After: after})
		if err != nil {
			return nil, "", err
		}
		var out []dpoContact
		for _, c := range l.Items {
			out = append(out, dpoContact{ID: c.ID, Name: strings.TrimSpace(c.GivenName + " " + c.FamilyName),
				RestrictedAt: c.RestrictedAt, ObjectedAt: c.ObjectedAt})
		}
		next := ""
		if l.Next != "" {
			v := url.Values{}
			for k := range q {
				v.Set(k, q.Get(k))
			}
			v.Set(param, l.Next)
			next = "/dpo?" + v.Encode() + "#h-flagged"
		}
		return out, next, nil
	}
	var err error
	if d.Restricted, d.RestrictedNext, err = list(tresor.FlagRestricted, "restricted_after"); err != nil {
		return err
	}
	d.Objected, d.ObjectedNext, err = list(tresor.FlagObjected, "objected_after")
	return err
}

// dpoActiveHolds lists the legal holds in force, a page at a time (?holds_after).
func (s *Server) dpoActiveHolds(r *http.Request, d *dpoData) error {
	q := r.URL.Query()
	after, err := tresor.DecodeCursor(q.Get("holds_after"))
	if err != nil {
		after = ""
	}
	l, err := s.svc.Protection.ActiveHolds(r.Context(), tresor.Page{Limit: dpoPageSize, After: after})
	if err != nil {
		return err
	}
	d.ActiveHolds = l.Items
	if l.Next != "" {
		v := url.Values{}
		for k := range q {
			v.Set(k, q.Get(k))
		}
		v.Set("holds_after", l.Next)
		d.HoldsNext = "/dpo?" + v.Encode() + "#h-active-holds"
	}
	return nil
}

// dpoAuditSearch searches the audit trail through the gate's reading
// function: by contact (any object id) or actor, from a day to a day
// (inclusive, UTC), newest first, a page at a time (?cursor).
func (s *Server) dpoAuditSearch(r *http.Request, d *dpoData) error {
	q := r.URL.Query()
	d.AuditContact, d.AuditActor = strings.TrimSpace(q.Get("contact")), strings.TrimSpace(q.Get("actor"))
	d.AuditSince, d.AuditUntil = strings.TrimSpace(q.Get("since")), strings.TrimSpace(q.Get("until"))
	if d.AuditContact == "" && d.AuditActor == "" {
		return nil
	}
	d.Searched = true
	f := tresor.AuditFilter{ContactID: d.AuditContact, Actor: d.AuditActor, Page: tresor.Page{Limit: dpoPageSize}}
	day := func(s string) (time.Time, bool) {
		if s == "" {
			return time.Time{}, true
		}
		t, err := time.Parse(time.DateOnly, s)
		return t, err == nil
	}
	since, ok1 := day(d.AuditSince)
	until, ok2 := day(d.AuditUntil)
	if !ok1 || !ok2 || (!since.IsZero() && !until.IsZero() && until.Before(since)) {
		d.AuditDateErr = "dpo_audit_bad_dates"
		return nil
	}
	f.Since = since
	if !until.IsZero() {
		f.Until = until.AddDate(0, 0, 1) // the whole last day
	}
	if c := q.Get("cursor"); c != "" {
		after, err := tresor.DecodeCursor(c)
		if err != nil {
			d.AuditErr, err = adminRefusal(r, err)
			return err
		}
		f.After = after
	}
	l, err := s.svc.Audit.AuditLog(r.Context(), f)
	if err != nil {
		d.AuditErr, err = adminRefusal(r, err)
		return err
	}
	d.Entries = l.Items
	if l.Next != "" {
		v := url.Values{}
		for _, k := range []string{"contact", "actor", "since", "until"} {
			if x := strings.TrimSpace(q.Get(k)); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("cursor", l.Next)
		d.AuditNext = "/dpo?" + v.Encode() + "#h-audit"
	}
	return nil
}
