package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"tresor"
)

// The workspace (issue [2.2]): the pages people work in. Every page reads
// through the same gate functions as the API, under the purpose the person
// chose for their session; the pages are a client of the gate, never a
// second path to the store.

// workspaceRoutes are the workspace's own routes; the pages of each area
// add theirs (contacts, deals, administration, …).
func (s *Server) workspaceRoutes() []route {
	rs := []route{
		{"POST", "/purpose", SignedIn, s.purposeSubmit},
		{"GET", "/lang/{lang}", Public, s.languageSwitch},
	}
	rs = append(rs, s.adminRoutes()...) // administration and the DPO cockpit
	return rs
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
	{"/campaigns", "nav_campaigns", []tresor.Role{tresor.RoleMarketing, tresor.RoleSales, tresor.RolePR}},
	{"/imports", "nav_imports", []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RolePR, tresor.RoleDPO}},
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

// startPage is the signed-in person's start page ("Mein Tag").
func (s *Server) startPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "start_title", "/")
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "start", v)
}
