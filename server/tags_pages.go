package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"tresor"
)

// Tags and segments in the workspace (issue [2.3]): the tags of a contact
// and of an organization, shown and changed on their pages; the segments,
// saved filters of contacts, listed, created and changed on /segments, each
// with a link to its members in the contact list. Every change goes
// through the gate under the session's purpose.

func (s *Server) tagPageRoutes() []route {
	perm := AnyRole(contactRoles...)
	tags, _ := s.tagServices()
	if tags == nil {
		tags = noTags{}
	}
	return []route{
		{"POST", "/contacts/{id}/tags", perm, s.tagSubmit("/contacts/", tags.TagContact)},
		{"POST", "/contacts/{id}/tags/remove", perm, s.untagSubmit("/contacts/", tags.UntagContact)},
		{"POST", "/organizations/{id}/tags", organizationRoles, s.tagSubmit("/organizations/", tags.TagOrganization)},
		{"POST", "/organizations/{id}/tags/remove", organizationRoles, s.untagSubmit("/organizations/", tags.UntagOrganization)},
		{"GET", "/segments", perm, s.segmentsPage},
		{"POST", "/segments", perm, s.segmentSubmit},
		{"GET", "/segments/{id}", perm, s.segmentsPage},
		{"POST", "/segments/{id}", perm, s.segmentSubmit},
		{"POST", "/segments/{id}/delete", perm, s.segmentDeleteSubmit},
	}
}

// tagBox is what the tag section of a contact's or an organization's page shows.
type tagBox struct {
	Lang   string
	CSRF   string
	Action string // where the forms post: /contacts/ID/tags
	Tags   []string
	Known  []tresor.TagCount // the tags in use, offered while typing
	Error  string            // a catalogue key: why the last tag was refused
}

// tagBoxOf prepares the tag section of the page of an object at base+id.
func (s *Server) tagBoxOf(r *http.Request, v view, base, id string, tags []string) *tagBox {
	b := &tagBox{Lang: language(r), CSRF: v.CSRF, Action: base + url.PathEscape(id) + "/tags", Tags: tags}
	if svc, _ := s.tagServices(); svc != nil {
		b.Known, _ = svc.Tags(r.Context())
	}
	switch r.URL.Query().Get("tag_error") {
	case "":
	case string(tresor.ECSpecialCategory):
		b.Error = "tags_refused_special"
	case string(tresor.ECValidation):
		b.Error = "tags_refused_invalid"
	default:
		b.Error = "tags_refused_other"
	}
	return b
}

// tagSubmit puts the tag of the form on the object and goes back to its
// page; a refusal comes back as the code the page explains.
func (s *Server) tagSubmit(base string, put func(ctx context.Context, id, tag string) (*tresor.Tag, error)) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		back := base + url.PathEscape(id)
		if _, err := put(r.Context(), id, r.PostFormValue("tag")); err != nil {
			if !isRefusalOrInvalid(err) {
				return err
			}
			back += "?tag_error=" + url.QueryEscape(string(tresor.ErrorCode(err)))
		}
		http.Redirect(w, r, back+"#tags", http.StatusSeeOther)
		return nil
	}
}

func (s *Server) untagSubmit(base string, del func(ctx context.Context, id, tag string) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if err := del(r.Context(), id, r.PostFormValue("tag")); err != nil {
			return err
		}
		http.Redirect(w, r, base+url.PathEscape(id)+"#tags", http.StatusSeeOther)
		return nil
	}
}

// isRefusalOrInvalid reports whether a tag form's error is one its page
// explains next to the form (a special category, an invalid tag, a
// restricted person) rather than one that replaces the page.
func isRefusalOrInvalid(err error) bool {
	switch tresor.ErrorCode(err) {
	case tresor.ECSpecialCategory, tresor.ECValidation, tresor.ECRestricted, tresor.ECArchived:
		return true
	}
	return false
}

// segmentsData is what /segments shows: the segments, and the form to
// create one or to change the one at /segments/{id}.
type segmentsData struct {
	Items    []*tresor.SavedSegment
	Next     string
	Form     segmentForm
	Editing  string // the id of the segment in the form, "" for a new one
	Members  string // the link to the members of the segment in the form
	Error    string
	Orgs     []contactsOption
	Purposes []string
	Channels []string
	States   []string
	Known    []tresor.TagCount
}

// segmentForm is the form of a segment, as typed.
type segmentForm struct {
	Name, Tag, Org, Owner           string
	ConsentP, ConsentC, ConsentS    string
	CreatedFrom, CreatedTo          string
	UpdatedFrom, UpdatedTo, Version string
}

func formOfSegment(m *tresor.SavedSegment) segmentForm {
	f := segmentForm{Name: m.Name, Tag: m.Rules.Tag, Org: m.Rules.OrganizationID, Owner: m.Rules.Owner,
		CreatedFrom: string(m.Rules.CreatedFrom), CreatedTo: string(m.Rules.CreatedTo),
		UpdatedFrom: string(m.Rules.UpdatedFrom), UpdatedTo: string(m.Rules.UpdatedTo)}
	if c := m.Rules.Consent; c != nil {
		f.ConsentP, f.ConsentC, f.ConsentS = c.Purpose, string(c.Channel), string(c.State)
	}
	return f
}

func (f segmentForm) segment() *tresor.SavedSegment {
	m := &tresor.SavedSegment{Name: strings.TrimSpace(f.Name), Rules: tresor.SegmentRules{Tag: strings.TrimSpace(f.Tag),
		OrganizationID: f.Org, Owner: f.Owner, CreatedFrom: tresor.Date(f.CreatedFrom), CreatedTo: tresor.Date(f.CreatedTo),
		UpdatedFrom: tresor.Date(f.UpdatedFrom), UpdatedTo: tresor.Date(f.UpdatedTo)}}
	if f.ConsentP != "" && f.ConsentC != "" && f.ConsentS != "" {
		m.Rules.Consent = &tresor.SegmentConsent{Purpose: f.ConsentP, Channel: tresor.ConsentChannel(f.ConsentC), State: tresor.ConsentState(f.ConsentS)}
	}
	return m
}

func segmentFormOf(r *http.Request) segmentForm {
	g := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return segmentForm{Name: g("name"), Tag: g("tag"), Org: g("organization_id"), Owner: g("owner"),
		ConsentP: g("consent_purpose"), ConsentC: g("consent_channel"), ConsentS: g("consent_state"),
		CreatedFrom: g("created_from"), CreatedTo: g("created_to"), UpdatedFrom: g("updated_from"), UpdatedTo: g("updated_to"),
		Version: g("version")}
}

func (s *Server) segmentsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSegments(w, r, http.StatusOK, nil, "")
}

// renderSegments shows the list and the form: the form as typed when given
// (a refused submit), else the segment of the path or an empty one.
func (s *Server) renderSegments(w http.ResponseWriter, r *http.Request, status int, form *segmentForm, problem string) error {
	v, err := s.workspaceView(r, "segments_title", "/segments")
	if err != nil {
		return err
	}
	_, segs := s.tagServices()
	if segs == nil {
		return unavailable()
	}
	d := &segmentsData{Channels: consentChannels, States: contactsConsentStates, Error: problem}
	v.Data = d
	switch r.URL.Query().Get("done") {
	case "saved":
		v.Notice = "segments_saved"
	case "deleted":
		v.Notice = "segments_deleted"
	}
	for _, p := range s.opt.Catalogue {
		d.Purposes = append(d.Purposes, p.ID)
	}
	ctx := r.Context()
	if tags, _ := s.tagServices(); tags != nil {
		d.Known, _ = tags.Tags(ctx)
	}
	after, err := tresor.DecodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	l, err := segs.Segments(ctx, tresor.Page{After: after, Limit: tresor.DefaultPageSize})
	if err != nil {
		return err
	}
	d.Items = l.Items
	if l.Next != "" {
		d.Next = "/segments?cursor=" + url.QueryEscape(l.Next)
	}
	if os, err := s.svc.Organizations.Organizations(ctx, tresor.OrganizationFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}}); err == nil {
		for _, o := range os.Items {
			d.Orgs = append(d.Orgs, contactsOption{Value: o.ID, Label: o.Name})
		}
	}
	if id := r.PathValue("id"); id != "" {
		m, err := segs.Segment(ctx, id)
		if err != nil {
			return err
		}
		d.Editing, d.Members = m.ID, "/contacts?segment="+url.QueryEscape(m.ID)
		v.Heading = m.Name
		if form == nil {
			f := formOfSegment(m)
			form = &f
		}
	}
	if form != nil {
		d.Form = *form
	}
	return s.render(w, r, status, "segments", v)
}

// segmentSubmit creates a segment, or changes the one of the path.
func (s *Server) segmentSubmit(w http.ResponseWriter, r *http.Request) error {
	_, segs := s.tagServices()
	if segs == nil {
		return unavailable()
	}
	form := segmentFormOf(r)
	m := form.segment()
	id := r.PathValue("id")
	var err error
	if id == "" {
		err = segs.CreateSegment(r.Context(), m)
		id = m.ID
	} else {
		var patch []byte
		if patch, err = json.Marshal(map[string]any{"name": m.Name, "rules": m.Rules}); err == nil {
			_, err = segs.UpdateSegment(r.Context(), id, tresor.Update{Patch: patch})
		}
	}
	if err != nil {
		if !isRefusalOrInvalid(err) && tresor.ErrorCode(err) != tresor.ECInvalidReference {
			return err
		}
		return s.renderSegments(w, r, http.StatusUnprocessableEntity, &form, formProblem(r, err))
	}
	http.Redirect(w, r, "/segments/"+url.PathEscape(id)+"?done=saved", http.StatusSeeOther)
	return nil
}

func (s *Server) segmentDeleteSubmit(w http.ResponseWriter, r *http.Request) error {
	_, segs := s.tagServices()
	if segs == nil {
		return unavailable()
	}
	id := r.PathValue("id")
	if err := segs.DeleteSegment(r.Context(), id, 0); err != nil {
		if tresor.ErrorCode(err) != tresor.ECConflict {
			return err
		}
		return s.renderSegments(w, r, http.StatusConflict, nil, pageRefusal(r, err))
	}
	http.Redirect(w, r, "/segments?done=deleted", http.StatusSeeOther)
	return nil
}

// tagFilterOptions offers the tags in use and the segments to the contact
// list's filter.
func (s *Server) tagFilterOptions(r *http.Request, d *contactsList) {
	tags, segs := s.tagServices()
	if tags == nil || segs == nil {
		return
	}
	d.Tags, _ = tags.Tags(r.Context())
	d.Segments = s.segmentOptions(r)
}

// segmentOptions lists the segments for a choice in a form.
func (s *Server) segmentOptions(r *http.Request) []contactsOption {
	_, segs := s.tagServices()
	if segs == nil {
		return nil
	}
	l, err := segs.Segments(r.Context(), tresor.Page{Limit: tresor.MaxPageSize})
	if err != nil {
		return nil
	}
	var out []contactsOption
	for _, m := range l.Items {
		out = append(out, contactsOption{Value: m.ID, Label: m.Name})
	}
	return out
}
