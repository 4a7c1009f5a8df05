package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tresor"
)

// The workspace (issue [2.2]): the pages people work in. Every page reads
// through the same gate functions as the API, under the purpose the person
// chose for their session; the pages are a client of the gate, never a
// second path to the store.

// workspaceRoutes are the workspace's own routes; the pages of each area
// add theirs (contacts, deals, administration, …).
func (s *Server) workspaceRoutes() []route {
	return slices.Concat([]route{
		{"POST", "/purpose", SignedIn, s.purposeSubmit},
		{"GET", "/lang/{lang}", Public, s.languageSwitch},
	}, s.contactsRoutes(), s.exportPageRoutes(), s.casePages(), s.campaignPages(), s.channelPages(), s.importPages(), s.dealPageRoutes(),
		s.organizationPageRoutes(), s.tagPageRoutes(), s.mergePageRoutes(), s.adminRoutes(), s.taskPages(), s.mailPageRoutes(), s.breachPageRoutes(), s.requestPages(),
		s.retentionPageRoutes(), s.decisionPages(), s.requestAnswerPages(), s.recordPageRoutes(),
		s.subjectExportDPOPages(), s.listeningPageRoutes())
}

// navItem is a link of the workspace's navigation.
type navItem struct {
	Path  string
	Label string // a catalogue key
	Roles []tresor.Role
}

// navigation lists the workspace's areas and the roles that use each; a
// person sees the links their roles open.
var navigation = []navItem{
	{"/", "nav_start", nil},
	{"/contacts", "nav_contacts", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}},
	{"/organizations", "nav_organizations", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}},
	{"/deals", "nav_deals", []tresor.Role{tresor.RoleSales, tresor.RoleDPO}},
	{"/cases", "nav_cases", []tresor.Role{tresor.RoleService, tresor.RoleDPO}},
	{"/tasks", "nav_tasks", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}},
	{"/campaigns", "nav_campaigns", []tresor.Role{tresor.RoleMarketing, tresor.RoleSales, tresor.RolePR}},
	{"/segments", "nav_segments", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}},
	{"/imports", "nav_imports", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RolePR, tresor.RoleDPO}},
	{"/listening", "nav_listening", []tresor.Role{tresor.RolePR, tresor.RoleAnalyst}},
	{"/channels", "nav_channels", []tresor.Role{tresor.RoleAdmin, tresor.RolePR, tresor.RoleService}},
	{"/dpo", "nav_dpo", []tresor.Role{tresor.RoleDPO}},
	{"/admin", "nav_admin", []tresor.Role{tresor.RoleAdmin}},
}

// workspace is what the header of every workspace page shows.
type workspace struct {
	Nav      []navItem
	Current  string   // the path of the area the page belongs to
	Purpose  string   // the purpose the session works for ("" for none)
	Purposes []string // those the person may choose
	Back     string   // this page, for the language switch and the purpose form
}

// workspaceView fills in the view of a workspace page for the signed-in
// person: the header, the navigation of their roles, the purpose.
func (s *Server) workspaceView(r *http.Request, title, area string) (view, error) {
	a := tresor.ActorFrom(r.Context())
	sess := sessionFrom(r.Context())
	if a == nil || sess == nil {
		return view{}, tresor.Errorf(tresor.ECForbidden, "The workspace is for signed-in browsers; programs use the API.")
	}
	ws := &workspace{Current: area, Purpose: sess.Purpose, Purposes: s.svc.Sessions.WorkingPurposes(r.Context()), Back: r.URL.RequestURI()}
	if r.Method != http.MethodGet {
		ws.Back = area // a page shown in answer to a form goes back to its area, not to the form's action
	}
	for _, n := range navigation {
		if n.Roles == nil || slices.ContainsFunc(n.Roles, a.HasRole) {
			ws.Nav = append(ws.Nav, n)
		}
	}
	return view{Title: title, Email: a.Email, CSRF: sess.CSRF, Roles: a.Roles, Work: ws}, nil
}

// purposeSubmit switches the purpose the session works for (audited by the
// gate) and goes back to the page the form was on.
func (s *Server) purposeSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Sessions.ChoosePurpose(r.Context(), r.PostFormValue("purpose")); err != nil {
		return err
	}
	http.Redirect(w, r, localPath(r.PostFormValue("back")), http.StatusSeeOther)
	return nil
}

// languageSwitch keeps the chosen language in a cookie and goes back.
func (s *Server) languageSwitch(w http.ResponseWriter, r *http.Request) error {
	lang := r.PathValue("lang")
	if !slices.Contains(languages, lang) {
		return tresor.Errorf(tresor.ECNotFound, "Tresor speaks German (de) and English (en).")
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", HttpOnly: true, Secure: s.tls,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
	return nil
}

// localPath returns p if it is a path on this site, and "/" otherwise, so
// that a link cannot send the person elsewhere (an open redirect).
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		u.Scheme != "" || u.Host != "" || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

// startData is what "My day" shows: what waits for the person, each part
// read through the gate under the session's purpose; a part the purpose
// may not read is left out, not shown as an error.
type startData struct {
	Tasks         []*tresor.Task // mine, open, due today or overdue
	TasksShown    bool
	Cases         []*tresor.Case
	CasesShown    bool
	Deals         []*tresor.Deal
	DealsShown    bool
	DealsScanned  int // how many of the person's deals were looked at
	Notices       []*tresor.Notice
	NoticesShown  bool
	ThisMonthFrom time.Time
	Refusals      []startRefusal
	RefusalsShown bool
}

// startRefusal is a refusal the person met: when, what they tried, the
// rule's stable code and, where the catalogue has it, what the rule says.
type startRefusal struct {
	At      time.Time
	Action  string
	Purpose string
	Code    string
	Rule    string // a catalogue key, "" if none
	Contact string // the contact's id, when the action was on one contact
}

// startPage is the signed-in person's start page ("Mein Tag"): their open
// cases, their open deals expected to close this month, and for the DPO the
// overdue Art. 14 notices.
func (s *Server) startPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "start_title", "/")
	if err != nil {
		return err
	}
	ctx := r.Context()
	a := tresor.ActorFrom(ctx)
	d := &startData{}
	if v.Work.Purpose != "" {
		now := time.Now().UTC()
		d.ThisMonthFrom = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		next := d.ThisMonthFrom.AddDate(0, 1, 0)
		if l, err := s.tasks().Tasks(ctx, tresor.TaskFilter{AssigneeID: a.UserID, State: tresor.TaskOpen, DueUntil: s.today(), Page: tresor.Page{Limit: 50}}); err == nil {
			d.TasksShown, d.Tasks = true, l.Items
		}
		for _, st := range []tresor.CaseStatus{tresor.CaseNew, tresor.CaseOpen, tresor.CasePending} {
			l, err := s.svc.Cases.Cases(ctx, tresor.CaseFilter{AssigneeID: a.UserID, Status: st, Page: tresor.Page{Limit: 20}})
			if err != nil {
				break
			}
			d.CasesShown = true
			d.Cases = append(d.Cases, l.Items...)
		}
		if l, err := s.svc.Deals.Deals(ctx, tresor.DealFilter{OwnerID: a.UserID, Page: tresor.Page{Limit: tresor.MaxPageSize}}); err == nil {
			d.DealsShown, d.DealsScanned = true, len(l.Items)
			for _, deal := range l.Items {
				c, err := time.Parse(time.DateOnly, string(deal.ExpectedClose))
				if deal.ClosedAt == nil && err == nil && !c.Before(d.ThisMonthFrom) && c.Before(next) {
					d.Deals = append(d.Deals, deal)
				}
			}
		}
		if a.HasRole(tresor.RoleDPO) {
			if l, err := s.svc.Notices.Notices(ctx, tresor.NoticeQuery{Open: true, DueBefore: now, Page: tresor.Page{Limit: 20}}); err == nil {
				d.NoticesShown, d.Notices = true, l.Items
			}
		}
	}
	if rs, err := s.svc.Audit.MyRefusals(ctx, 10); err == nil {
		d.RefusalsShown = true
		for _, e := range rs {
			sr := startRefusal{At: e.At, Action: e.Action, Purpose: e.Purpose, Code: e.Reason}
			if _, ok := catalogue["refusal_"+e.Reason]; ok {
				sr.Rule = "refusal_" + e.Reason
			}
			if e.ObjectType == "contact" && len(e.ObjectIDs) == 1 {
				sr.Contact = e.ObjectIDs[0]
			}
			d.Refusals = append(d.Refusals, sr)
		}
	}
	v.Data = d
	return s.render(w, r, http.StatusOK, "start", v)
}
