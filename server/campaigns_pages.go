package server

import (
	"net/http"
	"strings"

	"tresor"
)

// Campaigns in the workspace (issue [2.2]): compose, then a pre-flight page
// that shows before anything is sent whom the campaign reaches, whom it may
// not reach and why, then send and see what happened. Every step goes
// through the same gate functions as the API.

func (s *Server) campaignPages() []route {
	return []route{
		{"GET", "/campaigns", SignedIn, s.campaignsPage},
		{"POST", "/campaigns", SignedIn, s.campaignCreate},
		{"GET", "/campaigns/{id}", SignedIn, s.campaignPreflight},
		{"POST", "/campaigns/{id}/send", SignedIn, s.campaignSend},
	}
}

// campaignsData is the list and the form of a new campaign.
type campaignsData struct {
	Campaigns []*tresor.Campaign
	Refusal   string
	Form      campaignForm
	Problems  map[string]string // field → message
	Segments  []contactsOption  // the segments an audience can be taken from
}

// campaignForm keeps what the person typed, for a form shown again.
type campaignForm struct {
	Name, SubjectDE, BodyDE, SubjectEN, BodyEN string
	Segment                                    string // the id of the segment that is the audience, "" for everyone
}

// preflightData is what a campaign's page shows before and after sending.
type preflightData struct {
	Campaign *tresor.Campaign
	Audience *tresor.Audience
	Refusal  string
	Excluded []excludedRow
	Sample   []sampleRow
	Report   *tresor.SendReport
}

// excludedRow is one reason people are left out, with how many.
type excludedRow struct {
	Code, Message string
	Count         int
}

// sampleRow is one eligible recipient: a name where the purpose may see it.
type sampleRow struct {
	ID, Name string
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderCampaigns(w, r, http.StatusOK, campaignForm{}, nil)
}

func (s *Server) renderCampaigns(w http.ResponseWriter, r *http.Request, status int, form campaignForm, problems map[string]string) error {
	v, err := s.workspaceView(r, "campaigns_title", "/campaigns")
	if err != nil {
		return err
	}
	d := &campaignsData{Form: form, Problems: problems, Segments: s.segmentOptions(r)}
	l, err := s.svc.Campaigns.Campaigns(r.Context(), tresor.CampaignFilter{Page: tresor.Page{Limit: 100}})
	switch {
	case err == nil:
		d.Campaigns = l.Items
	case statusOf[tresor.ErrorCode(err)] >= 400 && statusOf[tresor.ErrorCode(err)] < 500:
		d.Refusal = pageRefusal(r, err)
	default:
		return err
	}
	v.Data = d
	return s.render(w, r, status, "campaigns", v)
}

func (s *Server) campaignCreate(w http.ResponseWriter, r *http.Request) error {
	form := campaignForm{Name: r.PostFormValue("name"), SubjectDE: r.PostFormValue("subject_de"), BodyDE: r.PostFormValue("body_de"),
		SubjectEN: r.PostFormValue("subject_en"), BodyEN: r.PostFormValue("body_en"), Segment: r.PostFormValue("segment_id")}
	c := &tresor.Campaign{Name: strings.TrimSpace(form.Name), Purpose: tresor.PurposeFrom(r.Context()), Channel: "email",
		Content:   tresor.CampaignContent{SubjectDE: form.SubjectDE, BodyDE: form.BodyDE, SubjectEN: form.SubjectEN, BodyEN: form.BodyEN},
		SegmentID: form.Segment}
	return s.once(w, r, func() (string, error) {
		err := s.svc.Campaigns.CreateCampaign(r.Context(), c)
		if e := tresor.AsError(err); e != nil && statusOf[e.Code] >= 400 && statusOf[e.Code] < 500 {
			problems := map[string]string{}
			for _, f := range e.Fields {
				problems[strings.TrimPrefix(strings.TrimPrefix(f.Field, "content."), "campaign.")] = f.Message
			}
			if len(problems) == 0 {
				problems["form"] = pageRefusal(r, err)
			}
			return "", s.renderCampaigns(w, r, statusOf[e.Code], form, problems)
		}
		if err != nil {
			return "", err
		}
		return "/campaigns/" + c.ID, nil
	})
}

func (s *Server) campaignPreflight(w http.ResponseWriter, r *http.Request) error {
	return s.renderPreflight(w, r, nil)
}

func (s *Server) renderPreflight(w http.ResponseWriter, r *http.Request, report *tresor.SendReport) error {
	v, err := s.workspaceView(r, "campaign_title", "/campaigns")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.svc.Campaigns.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &preflightData{Campaign: c, Report: report}
	aud, err := s.svc.Campaigns.Audience(ctx, c.ID)
	switch {
	case err == nil:
		d.Audience = aud
	case statusOf[tresor.ErrorCode(err)] >= 400 && statusOf[tresor.ErrorCode(err)] < 500:
		d.Refusal = pageRefusal(r, err)
	default:
		return err
	}
	if aud != nil {
		de := language(r) == "de"
		for _, rs := range aud.Reasons {
			msg := rs.Message
			if de && rs.MessageDE != "" {
				msg = rs.MessageDE
			}
			d.Excluded = append(d.Excluded, excludedRow{Code: rs.Code, Message: msg, Count: aud.Excluded[rs.Code]})
		}
		// A few of the eligible, by name where the purpose may see names:
		// enough to check the audience is the one meant.
		for i, id := range aud.Recipients {
			if i == 5 {
				break
			}
			row := sampleRow{ID: id}
			if ct, err := s.svc.Contacts.Contact(ctx, id); err == nil {
				row.Name = strings.TrimSpace(ct.GivenName + " " + ct.FamilyName)
			}
			d.Sample = append(d.Sample, row)
		}
	}
	v.Data = d
	return s.render(w, r, http.StatusOK, "campaign", v)
}

func (s *Server) campaignSend(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.Campaigns.SendCampaign(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderPreflight(w, r, rep)
}
