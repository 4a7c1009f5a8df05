package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

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
}

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
	l, err := s.svc.Cases.Cases(r.Context(), f)
	switch {
	case err == nil:
		d.Cases, d.Next = l.Items, l.Next
	case tresor.AsError(err) != nil && statusOf[tresor.ErrorCode(err)] < 500:
		d.Refusal = pageRefusal(r, err)
	default:
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

func (s *Server) caseAssign(w http.ResponseWriter, r *http.Request) error {
	return s.changeCase(w, r, map[string]any{"assignee_id": tresor.ActorFrom(r.Context()).UserID})
}

func (s *Server) caseStatus(w http.ResponseWriter, r *http.Request) error {
	st := tresor.CaseStatus(r.PostFormValue("status"))
	if !slices.Contains(tresor.CaseStatuses(), st) {
		return tresor.Errorf(tresor.ECValidation, "The status is one of new, open, pending, resolved, closed.")
	}
	return s.changeCase(w, r, map[string]any{"status": st})
}
