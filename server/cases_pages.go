package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"tresor"
)

// The service inbox (issue [2.2]): the cases the session's purpose may see,
// taken over and moved on through the same gate functions as the API.

func (s *Server) casePages() []route {
	return []route{
		{"GET", "/cases", SignedIn, s.casesPage},
		{"GET", "/cases/{id}", SignedIn, s.casePage},
		{"POST", "/cases/{id}/assign", SignedIn, s.caseAssign},
		{"POST", "/cases/{id}/status", SignedIn, s.caseStatus},
		{"POST", "/cases/{id}/reply", SignedIn, s.caseReply},
		{"POST", "/cases/{id}/find", SignedIn, s.caseFind},
		{"POST", "/cases/{id}/link", SignedIn, s.caseLink},
	}
}

// casesData is what the service inbox shows.
type casesData struct {
	Cases    []*tresor.Case
	Status   string // the status filter ("" for all that are not closed)
	Mine     bool
	Next     string // the cursor of the next page
	Refusal  string // why the purpose sees no cases, in the person's language
	Statuses []tresor.CaseStatus
	Me       string
	Names    map[string]string // the names of the users cases may be given to
}

// caseData is what a case's page shows.
type caseData struct {
	Case     *tresor.Case
	Withheld bool // the content is withheld for this purpose
	Statuses []tresor.CaseStatus
	Me       string
	Problem  string // a refused or stale change, in the person's language
	// Reply: for a case from a social network with a known contact, the
	// channels to answer on and the outbound gate's answer before sending.
	ReplyChannels []tresor.SocialChannel
	Reach         *tresor.ReachDecision
	ReachReasons  []string // the reasons in the person's language
	ReplyText     string   // kept after a refusal
	Sent          bool
	// Assignees are the users the case may be given to (id and name).
	Assignees []tresor.Assignee
	Names     map[string]string
	// Linking an unknown sender: the search as typed, the contacts it found.
	Who      string
	Searched bool
	Matches  []caseContactMatch
	More     bool   // the search stopped before the end of the list
	LinkErr  string // why the link was refused, in the person's language
	Linked   bool   // the sender was just linked
}

// caseContactMatch is a contact the search for a sender found.
type caseContactMatch struct {
	ID, Name, Email string
}

// caseMatches is how many contacts the search for a sender shows.
const caseMatches = 20

// pageRefusal is a refusal of the gate in the person's language with its
// stable code, for pages that explain instead of failing.
func pageRefusal(r *http.Request, err error) string {
	e := tresor.AsError(err)
	if e == nil {
		return ""
	}
	if rf := refusalOf(r, err); rf != nil {
		return rf.Message + " (" + rf.Code + ")"
	}
	return e.Message + " (" + string(e.Code) + ")"
}

// refusedOrFailed sorts a list's error for a page: a refusal (a 4xx
// problem) is shown on the page as its explanation; anything else fails
// the page.
func refusedOrFailed(r *http.Request, err error) (refusal string, failed error) {
	if tresor.AsError(err) != nil && statusOf[tresor.ErrorCode(err)] < 500 {
		return pageRefusal(r, err), nil
	}
	return "", err
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "cases_title", "/cases")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &casesData{Status: q.Get("status"), Mine: q.Get("mine") == "1", Statuses: tresor.CaseStatuses(), Me: tresor.ActorFrom(r.Context()).UserID}
	if d.Status != "" && !slices.Contains(d.Statuses, tresor.CaseStatus(d.Status)) {
		return tresor.Errorf(tresor.ECInvalidParameter, "status is one of new, open, pending, resolved, closed.")
	}
	f := tresor.CaseFilter{Status: tresor.CaseStatus(d.Status), Page: tresor.Page{Limit: 50}}
	if d.Mine {
		f.AssigneeID = d.Me
	}
	if c := q.Get("cursor"); c != "" {
		if f.After, err = tresor.DecodeCursor(c); err != nil {
			return err
		}
	}
	d.Names = s.caseAssigneeNames(r)
	l, err := s.svc.Cases.Cases(r.Context(), f)
	if err == nil {
		d.Cases, d.Next = l.Items, l.Next
	} else if d.Refusal, err = refusedOrFailed(r, err); err != nil {
		return err
	}
	v.Data = d
	return s.render(w, r, http.StatusOK, "cases", v)
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderCase(w, r, http.StatusOK, "")
}

func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	return s.renderCaseWith(w, r, status, &caseData{Problem: problem})
}

func (s *Server) renderCaseWith(w http.ResponseWriter, r *http.Request, status int, d *caseData) error {
	v, err := s.workspaceView(r, "case_title", "/cases")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.svc.Cases.Case(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.Case, d.Withheld, d.Statuses, d.Me = c, slices.Contains(c.Withheld, "interaction.content"), tresor.CaseStatuses(), tresor.ActorFrom(ctx).UserID
	d.Linked = r.Method == http.MethodGet && r.URL.Query().Get("linked") == "1"
	if as, err := s.svc.Cases.CaseAssignees(ctx); err == nil {
		d.Assignees = as
		d.Names = map[string]string{}
		for _, a := range as {
			d.Names[a.ID] = a.Name
		}
	}
	if c.ContactID == "" && c.Sender != "" && d.Searched {
		if err := s.caseSearchContacts(r, d); err != nil {
			return err
		}
	}
	if c.Channel == tresor.ChannelSocial && c.ContactID != "" && c.Network != "" {
		if cs, err := s.svc.Social.Channels(ctx); err == nil {
			for _, ch := range cs {
				if ch.Network == c.Network {
					d.ReplyChannels = append(d.ReplyChannels, ch)
				}
			}
		}
		// The outbound gate's answer, before anything is written.
		if dec, err := s.svc.Consents.Reach(ctx, c.ContactID, tresor.PurposeFrom(ctx), tresor.ConsentChannel(tresor.SocialDM+c.Network), false); err == nil {
			d.Reach = dec
			de := language(r) == "de"
			for _, rs := range dec.Reasons {
				if de && rs.MessageDE != "" {
					d.ReachReasons = append(d.ReachReasons, rs.MessageDE+" ("+rs.Code+")")
				} else {
					d.ReachReasons = append(d.ReachReasons, rs.Message+" ("+rs.Code+")")
				}
			}
		}
	}
	v.Data = d
	return s.render(w, r, status, "case", v)
}

// caseReply answers the person on the case's network, as a direct message
// through the outbound gate (never advertising).
func (s *Server) caseReply(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.svc.Cases.Case(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &caseData{ReplyText: r.PostFormValue("text")}
	_, err = s.svc.Social.SendSocial(ctx, tresor.SocialSend{ChannelID: r.PostFormValue("channel"), ContactID: c.ContactID,
		Text: d.ReplyText, Direct: true})
	if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && statusOf[code] < 500 && code != tresor.ECNotFound {
		d.Problem = pageRefusal(r, err)
		return s.renderCaseWith(w, r, statusOf[code], d)
	} else if err != nil {
		return err
	}
	d.ReplyText, d.Sent = "", true
	return s.renderCaseWith(w, r, http.StatusOK, d)
}

// changeCase applies a merge patch to the case the form names, at the
// version the page showed: a change made meanwhile is not overwritten.
func (s *Server) changeCase(w http.ResponseWriter, r *http.Request, patch map[string]any) error {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		return tresor.Errorf(tresor.ECValidation, "The form lacks the version of the case; reload the page.")
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	_, err = s.svc.Cases.UpdateCase(r.Context(), id, tresor.Update{Patch: body, IfVersion: version})
	switch code := tresor.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/cases/"+id, http.StatusSeeOther)
		return nil
	case code == tresor.ECVersionMismatch:
		return s.renderCase(w, r, http.StatusConflict, translate(language(r), "case_changed_meanwhile"))
	case statusOf[code] >= 400 && statusOf[code] < 500 && code != tresor.ECNotFound:
		return s.renderCase(w, r, statusOf[code], pageRefusal(r, err))
	default:
		return err
	}
}

// caseAssigneeNames maps the users cases may be given to onto their
// names; empty where the purpose lists none.
func (s *Server) caseAssigneeNames(r *http.Request) map[string]string {
	names := map[string]string{}
	if as, err := s.svc.Cases.CaseAssignees(r.Context()); err == nil {
		for _, a := range as {
			names[a.ID] = a.Name
		}
	}
	return names
}

// caseAssign gives the case to the agent (no assignee named) or to another
// user the purpose may give it to.
func (s *Server) caseAssign(w http.ResponseWriter, r *http.Request) error {
	to := r.PostFormValue("assignee")
	if to == "" {
		to = tresor.ActorFrom(r.Context()).UserID
	}
	if _, ok := s.caseAssigneeNames(r)[to]; !ok {
		return s.renderCase(w, r, http.StatusUnprocessableEntity, translate(language(r), "case_assignee_unknown"))
	}
	return s.changeCase(w, r, map[string]any{"assignee_id": to})
}

// caseFind shows the case with the contacts the search for its sender
// found. The search is posted: a name never goes into an address (nor
// into a log or the browser's history).
func (s *Server) caseFind(w http.ResponseWriter, r *http.Request) error {
	d := &caseData{Who: strings.TrimSpace(r.PostFormValue("who"))}
	d.Searched = d.Who != ""
	return s.renderCaseWith(w, r, http.StatusOK, d)
}

// caseSearchContacts finds the contacts d.Who names (name, e-mail, phone,
// handle …) with the people search, among those the purpose may see, for
// linking an unknown sender.
func (s *Server) caseSearchContacts(r *http.Request, d *caseData) error {
	l, err := s.svc.Contacts.Contacts(r.Context(), tresor.ContactFilter{Query: d.Who, Page: tresor.Page{Limit: caseMatches}})
	if err != nil {
		if rf := pageRefusal(r, err); rf != "" && tresor.ErrorCode(err) != tresor.ECInternal {
			d.LinkErr = rf
			return nil
		}
		return err
	}
	for _, c := range l.Items {
		email := ""
		if len(c.Emails) > 0 {
			email = c.Emails[0]
		}
		d.Matches = append(d.Matches, caseContactMatch{ID: c.ID, Name: contactName(c), Email: email})
	}
	d.More = l.Next != ""
	return nil
}

// caseLink links the unknown sender of a case to the contact the agent
// chose, through the gate (which adds the sender's handle to the contact).
func (s *Server) caseLink(w http.ResponseWriter, r *http.Request) error {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		return tresor.Errorf(tresor.ECValidation, "The form lacks the version of the case; reload the page.")
	}
	contactID := strings.TrimSpace(r.PostFormValue("contact"))
	if contactID == "" {
		return s.renderCaseWith(w, r, http.StatusUnprocessableEntity, &caseData{LinkErr: translate(language(r), "case_link_choose")})
	}
	id := r.PathValue("id")
	_, err = s.svc.Cases.LinkCaseSender(r.Context(), id, contactID, version)
	switch code := tresor.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/cases/"+id+"?linked=1", http.StatusSeeOther)
		return nil
	case code == tresor.ECVersionMismatch:
		return s.renderCase(w, r, http.StatusConflict, translate(language(r), "case_changed_meanwhile"))
	case code == tresor.ECNotFound && r.PathValue("id") != "":
		if _, cerr := s.svc.Cases.Case(r.Context(), id); cerr != nil {
			return cerr
		}
		return s.renderCaseWith(w, r, http.StatusUnprocessableEntity, &caseData{LinkErr: translate(language(r), "case_link_no_contact")})
	case statusOf[code] >= 400 && statusOf[code] < 500:
		return s.renderCaseWith(w, r, statusOf[code], &caseData{LinkErr: pageRefusal(r, err)})
	default:
		return err
	}
}

func (s *Server) caseStatus(w http.ResponseWriter, r *http.Request) error {
	st := tresor.CaseStatus(r.PostFormValue("status"))
	if !slices.Contains(tresor.CaseStatuses(), st) {
		return tresor.Errorf(tresor.ECValidation, "The status is one of new, open, pending, resolved, closed.")
	}
	return s.changeCase(w, r, map[string]any{"status": st})
}
