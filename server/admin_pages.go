package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// The administration (issue [2.2], page 11): users, their roles with the
// four-eyes approvals of [2.1], second factor and state. An administrator
// manages accounts and never sees another person's access: invitations and
// password links go to the person by mail, and a role that reaches personal
// data waits for a second person (another administrator or the DPO).

// adminRoutes are the administration's pages and forms. Deciding a grant is
// shared with the DPO cockpit: both are the second person.
func (s *Server) adminRoutes() []route {
	return []route{
		{"GET", "/admin", Admin, s.adminPage},
		{"POST", "/admin/users", Admin, s.adminInvite},
		{"POST", "/admin/users/{id}/roles", Admin, s.adminSetRoles},
		{"POST", "/admin/users/{id}/state", Admin, s.adminSetState},
		{"POST", "/admin/users/{id}/password-reset", Admin, s.adminPasswordReset},
		{"GET", "/admin/users/{id}/tokens", Admin, s.adminTokens},
		{"POST", "/admin/users/{id}/tokens/{token}/revoke", Admin, s.adminRevokeToken},
		{"POST", "/admin/grants/{id}/decision", AnyRole(tresor.RoleAdmin, tresor.RoleDPO), s.grantDecision},
		{"GET", "/dpo", AnyRole(tresor.RoleDPO), s.dpoPage},
	}
}

// pageErr is a refusal shown on a page: its stable code and the rule in the
// person's language.
type pageErr struct {
	Code string
	Text string
}

// adminRefusal turns a gate error into what a page shows. Errors that are not a
// refusal (internal, unavailable) are returned for the error page.
func adminRefusal(r *http.Request, err error) (*pageErr, error) {
	if _, ok := pageStatus(err); !ok {
		return nil, err
	}
	e := tresor.AsError(err)
	lang := language(r)
	text := pageMessage(r, err)
	if rf := refusalOf(r, err); rf != nil {
		text = rf.Message // the code is shown beside it
	}
	if e != nil {
		if lang == "de" && e.MessageDE != "" {
			text = e.MessageDE // the rule in German, where the gate explains one
		}
		if fe := fieldProblems(e); fe != "" {
			text += " " + fe
		}
	}
	return &pageErr{Code: string(tresor.ErrorCode(err)), Text: text}, nil
}

// fieldProblems lists the fields a validation error names.
func fieldProblems(e *tresor.Error) string {
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return strings.Join(parts, "; ")
}

// adminUser is a row of the users table.
type adminUser struct {
	*tresor.User
	Pending []tresor.Role // roles waiting for a second person
	Self    bool
}

// adminGrant is a pending grant with the people it concerns.
type adminGrant struct {
	*tresor.RoleGrant
	User      string // the receiver's e-mail address (or id)
	Requester string
}

// adminPurpose is a purpose of the policy view.
type adminPurpose struct {
	tresor.PurposeInfo
	Days int64 // the retention period, for the template's num
}

// adminData is what the administration page shows.
type adminData struct {
	Users    []adminUser
	Next     string
	Roles    []tresor.Role
	Grants   []adminGrant
	Policy   []adminPurpose // the purposes of the policy in force
	Done     string         // a catalogue key: what the last action did
	DoneUser string
	DoneWait []tresor.Role
	Expires  time.Time
	Err      *pageErr
	ErrUser  string // the user the refused action was about ("" for the invitation)
	// Stale: a change refused because another hand changed the user since
	// the page showed them; what changed, and the change to re-apply.
	Stale  *adminStale
	Invite struct {
		Email string
		Roles []tresor.Role
	}
}

// adminDone are the results an action redirects with.
var adminDone = []string{"invited", "roles_changed", "roles_waiting", "disabled", "enabled", "reset_mailed", "approved", "rejected"}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdmin(w, r, http.StatusOK, &adminData{})
}

// renderAdmin shows the administration with d's result or refusal.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, d *adminData) error {
	v, err := s.workspaceView(r, "admin_title", "/admin")
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet {
		v.Work.Back = "/admin" // a refused form: the header's forms go back to the page, not the form's address
	}
	ctx := r.Context()
	q := r.URL.Query()
	if d.Done == "" && d.Err == nil && slices.Contains(adminDone, q.Get("done")) {
		d.Done = q.Get("done")
		d.DoneUser = q.Get("user")
		if rs, err := tresor.ParseRoles(q.Get("wait")); err == nil {
			d.DoneWait = rs
		}
	}
	after := q.Get("after")
	if r.Method != http.MethodGet {
		after = ""
	}
	list, err := s.svc.Users.Users(ctx, tresor.Page{After: after, Limit: tresor.MaxPageSize})
	if err != nil {
		return err
	}
	grants, err := s.svc.Users.RoleGrants(ctx, tresor.GrantPending)
	if err != nil {
		return err
	}
	me := tresor.ActorFrom(ctx)
	emails := map[string]string{}
	for _, u := range list.Items {
		emails[u.ID] = u.Email
	}
	pending := map[string][]tresor.Role{}
	for _, g := range grants {
		pending[g.UserID] = append(pending[g.UserID], g.Roles...)
	}
	for _, u := range list.Items {
		d.Users = append(d.Users, adminUser{User: u, Pending: pending[u.ID], Self: u.ID == me.UserID})
	}
	d.Next, d.Roles = list.Next, tresor.Roles()
	for _, p := range s.opt.Catalogue {
		d.Policy = append(d.Policy, adminPurpose{PurposeInfo: p, Days: int64(p.RetentionDays)})
	}
	d.Grants = describeGrants(grants)
	if d.DoneUser != "" {
		d.DoneUser = emails[d.DoneUser]
	}
	v.Data = d
	return s.render(w, r, status, "admin", v)
}

// describeGrants names the people of each grant by e-mail (the gate tells
// both kinds of second person), by id where no address is known.
func describeGrants(grants []*tresor.RoleGrant) []adminGrant {
	var out []adminGrant
	for _, g := range grants {
		user, req := g.UserEmail, g.RequesterEmail
		if user == "" {
			user = g.UserID
		}
		if req == "" {
			req = g.RequestedBy
		}
		out = append(out, adminGrant{RoleGrant: g, User: user, Requester: req})
	}
	return out
}

// formRoles reads the checked roles of a form, refusing unknown ones.
func formRoles(r *http.Request) ([]tresor.Role, error) {
	if err := r.ParseForm(); err != nil {
		return nil, tresor.Errorf(tresor.ECValidation, "The form could not be read.")
	}
	return tresor.ParseRoles(strings.Join(r.PostForm["roles"], ","))
}

// adminRefused shows the administration again with the refusal (and what
// was typed), or returns an error that is no refusal.
func (s *Server) adminRefused(w http.ResponseWriter, r *http.Request, err error, d *adminData) error {
	pe, err := adminRefusal(r, err)
	if err != nil {
		return err
	}
	d.Err = pe
	status, _ := pageStatus(tresor.Errorf(tresor.Code(pe.Code), ""))
	return s.renderAdmin(w, r, status, d)
}

// adminBack redirects to the administration with the result.
func adminBack(w http.ResponseWriter, r *http.Request, done, user string, wait []tresor.Role) {
	q := url.Values{"done": {done}}
	if user != "" {
		q.Set("user", user)
	}
	if len(wait) > 0 {
		q.Set("wait", joinRoles(wait))
	}
	http.Redirect(w, r, "/admin?"+q.Encode()+"#result", http.StatusSeeOther)
}

func joinRoles(rs []tresor.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// adminInvite invites a user: the welcome mail goes to the person; roles
// that reach personal data wait for a second person.
func (s *Server) adminInvite(w http.ResponseWriter, r *http.Request) error {
	d := &adminData{}
	d.Invite.Email = r.PostFormValue("email")
	roles, err := formRoles(r)
	if err == nil {
		d.Invite.Roles = roles
		var u *tresor.User
		u, _, err = s.svc.Users.InviteUser(r.Context(), d.Invite.Email, roles)
		if err == nil {
			var wait []tresor.Role
			if u.PendingGrant != nil {
				wait = u.PendingGrant.Roles
			}
			adminBack(w, r, "invited", u.ID, wait)
			return nil
		}
	}
	return s.adminRefused(w, r, err, d)
}

// adminStale is what the administration shows when a change of roles or
// state met a user another administrator changed meanwhile: the user as
// the form showed them and as they are now, and the change the form asked
// for, to re-apply knowingly at the current version.
type adminStale struct {
	User                    *tresor.User // as stored now
	RolesBefore, RolesNow   []tresor.Role
	StateBefore, StateNow   string // "enabled" or "disabled"
	RolesChanged, StateGone bool   // StateGone: the state differs
	Action                  string // "roles" or "state"
	WantRoles               []tresor.Role
	WantState               string
}

// adminUserState names a user's state as the state form does.
func adminUserState(u *tresor.User) string {
	if u.DisabledAt != nil {
		return "disabled"
	}
	return "enabled"
}

// adminFormVersion reads the version of the user the form showed.
func adminFormVersion(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || v < 1 {
		return 0, &tresor.Error{Code: tresor.ECValidation, Message: "The form lacks the version of the user it showed; reload the page.",
			MessageDE: "Dem Formular fehlt der Stand des Kontos, den es zeigte; laden Sie die Seite neu."}
	}
	return v, nil
}

// adminStaleOf builds the comparison after a version mismatch from what
// the form showed (its hidden fields) and the user as stored now.
func (s *Server) adminStaleOf(r *http.Request, id, action string, wantRoles []tresor.Role, wantState string) (*adminStale, error) {
	u, err := s.svc.Users.User(r.Context(), id)
	if err != nil {
		return nil, err
	}
	before, err := tresor.ParseRoles(r.PostFormValue("shown_roles"))
	if err != nil {
		before = nil
	}
	st := &adminStale{User: u, RolesBefore: before, RolesNow: u.Roles, StateBefore: r.PostFormValue("shown_state"), StateNow: adminUserState(u),
		Action: action, WantRoles: wantRoles, WantState: wantState}
	if st.StateBefore != "enabled" && st.StateBefore != "disabled" {
		st.StateBefore = ""
	}
	st.RolesChanged = joinRoles(slices.Sorted(slices.Values(before))) != joinRoles(slices.Sorted(slices.Values(u.Roles)))
	st.StateGone = st.StateBefore != "" && st.StateBefore != st.StateNow
	return st, nil
}

// adminStaleRefused shows the administration with what changed since the
// form was shown, instead of overwriting it.
func (s *Server) adminStaleRefused(w http.ResponseWriter, r *http.Request, err error, id, action string, roles []tresor.Role, state string) error {
	st, serr := s.adminStaleOf(r, id, action, roles, state)
	if serr != nil {
		return serr
	}
	pe, err := adminRefusal(r, err)
	if err != nil {
		return err
	}
	return s.renderAdmin(w, r, http.StatusConflict, &adminData{Err: pe, ErrUser: id, Stale: st})
}

// adminSetRoles replaces a user's roles; added data roles wait. The form
// carries the version of the user it showed: a change made meanwhile is
// shown, not overwritten.
func (s *Server) adminSetRoles(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	roles, err := formRoles(r)
	var version int64
	if err == nil {
		version, err = adminFormVersion(r)
	}
	if err == nil {
		var u *tresor.User
		if u, err = s.svc.Users.SetRolesIf(r.Context(), id, roles, version); err == nil {
			if u.PendingGrant != nil {
				adminBack(w, r, "roles_waiting", u.ID, u.PendingGrant.Roles)
			} else {
				adminBack(w, r, "roles_changed", u.ID, nil)
			}
			return nil
		}
	}
	if tresor.ErrorCode(err) == tresor.ECVersionMismatch {
		return s.adminStaleRefused(w, r, err, id, "roles", roles, "")
	}
	return s.adminRefused(w, r, err, &adminData{ErrUser: id})
}

// adminSetState disables or enables a user.
func (s *Server) adminSetState(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var disable bool
	switch r.PostFormValue("state") {
	case "disabled":
		disable = true
	case "enabled":
	default:
		return s.adminRefused(w, r, tresor.Errorf(tresor.ECValidation, "state is disabled or enabled."), &adminData{ErrUser: id})
	}
	version, err := adminFormVersion(r)
	if err != nil {
		return s.adminRefused(w, r, err, &adminData{ErrUser: id})
	}
	u, err := s.svc.Users.SetDisabledIf(r.Context(), id, disable, version)
	if tresor.ErrorCode(err) == tresor.ECVersionMismatch {
		return s.adminStaleRefused(w, r, err, id, "state", nil, r.PostFormValue("state"))
	}
	if err != nil {
		return s.adminRefused(w, r, err, &adminData{ErrUser: id})
	}
	adminBack(w, r, r.PostFormValue("state"), u.ID, nil)
	return nil
}

// adminPasswordReset mails the user a link to set a new password; the link
// itself is never shown.
func (s *Server) adminPasswordReset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.svc.Users.SendPasswordReset(r.Context(), id); err != nil {
		return s.adminRefused(w, r, err, &adminData{ErrUser: id})
	}
	adminBack(w, r, "reset_mailed", id, nil)
	return nil
}

// grantDecision approves or rejects a pending grant, from the
// administration or the DPO cockpit (the field back says which).
func (s *Server) grantDecision(w http.ResponseWriter, r *http.Request) error {
	back := "/admin"
	if a := tresor.ActorFrom(r.Context()); r.PostFormValue("back") == "/dpo" && a.HasRole(tresor.RoleDPO) || !a.HasRole(tresor.RoleAdmin) {
		back = "/dpo"
	}
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return tresor.Errorf(tresor.ECValidation, "decision is approve or reject.")
	}
	gr, err := s.svc.Users.DecideRoleGrant(r.Context(), r.PathValue("id"), approve)
	if err != nil {
		if back == "/dpo" {
			return s.dpoRefused(w, r, err)
		}
		return s.adminRefused(w, r, err, &adminData{})
	}
	done := "rejected"
	if approve {
		done = "approved"
	}
	q := url.Values{"done": {done}, "user": {gr.UserID}}
	http.Redirect(w, r, back+"?"+q.Encode()+"#result", http.StatusSeeOther)
	return nil
}

// adminTokensData is what the page of a user's API tokens shows.
type adminTokensData struct {
	User   *tresor.User
	Tokens []*tresor.Token
	Done   bool
	Err    *pageErr
}

// adminTokens lists a user's API tokens (never their secrets, which
// Tresor keeps only as hashes), with a button to revoke each.
func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request) error {
	return s.renderTokens(w, r, http.StatusOK, &adminTokensData{Done: r.URL.Query().Get("done") == "revoked"})
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, d *adminTokensData) error {
	v, err := s.workspaceView(r, "admin_tokens_title", "/admin")
	if err != nil {
		return err
	}
	if d.User, err = s.svc.Users.User(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	if d.Tokens, err = s.svc.Tokens.Tokens(r.Context(), d.User.ID); err != nil {
		return err
	}
	v.Work.Back = "/admin/users/" + d.User.ID + "/tokens"
	v.Data = d
	return s.render(w, r, status, "admin_tokens", v)
}

// adminRevokeToken revokes a token of the user and goes back to their tokens.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.Users.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	id := r.PathValue("token")
	ts, err := s.svc.Tokens.Tokens(r.Context(), u.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ts, func(t *tresor.Token) bool { return t.ID == id }) {
		return tresor.Errorf(tresor.ECNotFound, "This user has no token with id %q.", id)
	}
	if err := s.svc.Tokens.RevokeToken(r.Context(), id); err != nil {
		pe, err := adminRefusal(r, err)
		if err != nil {
			return err
		}
		status, _ := pageStatus(tresor.Errorf(tresor.Code(pe.Code), ""))
		return s.renderTokens(w, r, status, &adminTokensData{Err: pe})
	}
	http.Redirect(w, r, "/admin/users/"+u.ID+"/tokens?done=revoked", http.StatusSeeOther)
	return nil
}
