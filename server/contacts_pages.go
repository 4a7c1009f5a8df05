package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"tresor"
)

// The contacts area of the workspace (issue [2.2]): the list of the
// contacts the declared purpose may see and the contact page. Both read
// through the gate with the session's purpose; what the purpose may not see
// shows as withheld, with its category and why.

// contactRoles are the roles that work with contacts (as the navigation).
var contactRoles = []tresor.Role{tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO}

// contactsRoutes are the contacts area's pages and forms.
func (s *Server) contactsRoutes() []route {
	perm := AnyRole(contactRoles...)
	return []route{
		{"GET", "/contacts", perm, s.contactsPage},
		{"GET", "/contacts/{id}", perm, s.contactPage},
		{"POST", "/contacts/{id}/interactions", perm, s.contactLogSubmit},
		{"POST", "/contacts/{id}/consents", perm, s.contactConsentSubmit},
		{"POST", "/contacts/{id}/deals", perm, s.contactDealSubmit},
		{"POST", "/contacts/{id}/cases", perm, s.contactCaseSubmit},
		{"POST", "/contacts/{id}/restriction", perm, s.contactRestrictSubmit},
		{"POST", "/contacts/{id}/objection", perm, s.contactObjectSubmit},
		{"POST", "/contacts/{id}/erasure", perm, s.contactEraseSubmit},
	}
}

// formProblem is what a refused form shows next to it: the invalid fields,
// or the rule in the person's language with its code.
func formProblem(r *http.Request, err error) string {
	if e := tresor.AsError(err); e != nil && len(e.Fields) > 0 {
		var parts []string
		for _, f := range e.Fields {
			parts = append(parts, f.Field+": "+f.Message)
		}
		return strings.Join(parts, "; ")
	}
	return pageRefusal(r, err)
}

// contactDealSubmit opens a deal for the contact in the first stage of the
// default pipeline.
func (s *Server) contactDealSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	forms := newContactForms()
	forms.Deal = dealForm{Title: r.PostFormValue("title"), Value: strings.TrimSpace(r.PostFormValue("value")),
		Currency: r.PostFormValue("currency"), Close: r.PostFormValue("expected_close")}
	return s.once(w, r, func() (string, error) {
		pl, err := s.svc.Deals.Pipeline(r.Context(), tresor.DefaultPipelineID)
		if err != nil {
			return "", err
		}
		d := &tresor.Deal{Title: strings.TrimSpace(forms.Deal.Title), PipelineID: pl.ID, ContactID: id,
			Value: forms.Deal.Value, ExpectedClose: tresor.Date(forms.Deal.Close)}
		if len(pl.Stages) > 0 {
			d.Stage = pl.Stages[0].ID
		}
		if d.Value != "" {
			d.Currency = forms.Deal.Currency
		}
		err = s.svc.Deals.CreateDeal(r.Context(), d)
		if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && statusOf[code] < 500 && code != tresor.ECNotFound {
			forms.Deal.Error = formProblem(r, err)
			return "", s.renderContact(w, r, statusOf[code], forms, "")
		} else if err != nil {
			return "", err
		}
		return "/deals", nil
	})
}

// contactCaseSubmit opens a service case for the contact, on the legal
// basis the contact is kept on.
func (s *Server) contactCaseSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	forms := newContactForms()
	forms.Case = caseForm{Subject: r.PostFormValue("subject"), Description: r.PostFormValue("description"),
		Priority: r.PostFormValue("priority"), Channel: r.PostFormValue("channel")}
	return s.once(w, r, func() (string, error) {
		c, err := s.svc.Contacts.Contact(r.Context(), id)
		if err != nil {
			return "", err
		}
		k := &tresor.Case{ContactID: id, Status: tresor.CaseNew, Priority: tresor.Priority(forms.Case.Priority), Channel: tresor.Channel(forms.Case.Channel),
			CaseContent: tresor.CaseContent{Subject: strings.TrimSpace(forms.Case.Subject), Description: forms.Case.Description},
			Collection: tresor.Collection{LegalBasis: contactBasis(c), BalancingNote: c.BalancingNote,
				Art9Exception: r.PostFormValue("art9_exception")}}
		err = s.svc.Cases.CreateCase(r.Context(), k)
		if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && statusOf[code] < 500 && code != tresor.ECNotFound {
			forms.Case.Error = formProblem(r, err)
			if e := tresor.AsError(err); e != nil {
				forms.Case.Art9 = e.Art9Exception
			}
			return "", s.renderContact(w, r, statusOf[code], forms, "")
		} else if err != nil {
			return "", err
		}
		return "/cases/" + k.ID, nil
	})
}

// contactRestrictSubmit restricts the processing of a contact (Art. 18) or
// lifts the restriction; the gate allows it only under a purpose that sees
// restricted people (data protection).
func (s *Server) contactRestrictSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	restrict := r.PostFormValue("restricted") == "1"
	return s.once(w, r, func() (string, error) {
		var err error
		if restrict {
			_, err = s.svc.Consents.Restrict(r.Context(), id, true)
		} else {
			_, err = s.svc.Consents.LiftRestriction(r.Context(), id, r.PostFormValue("reason"))
		}
		if err != nil {
			return "", err
		}
		if restrict {
			return "/contacts/" + url.PathEscape(id) + "?done=restricted", nil
		}
		return "/contacts/" + url.PathEscape(id) + "?done=unrestricted", nil
	})
}

// contactObjectSubmit records the person's objection to direct marketing
// (Art. 21(2)): every marketing consent ends and the identifiers go on the
// suppression list.
func (s *Server) contactObjectSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	return s.once(w, r, func() (string, error) {
		if _, err := s.svc.Consents.Object(r.Context(), id); err != nil {
			return "", err
		}
		return "/contacts/" + url.PathEscape(id) + "?done=objected", nil
	})
}

// contactEraseSubmit erases the person (Art. 17 GDPR) through the gate,
// which allows it to the data-protection purpose only, refuses a reason that
// repeats the person's identifiers and a person under a legal hold. The
// officer confirms that erasure is final; a refusal is shown at the form,
// keeping the reason typed.
func (s *Server) contactEraseSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	again := func(status int, msg string) error {
		forms := newContactForms()
		forms.Erase = eraseForm{Reason: reason, Error: msg}
		return s.renderContact(w, r, status, forms, "")
	}
	if r.PostFormValue("confirm") != "1" {
		return again(http.StatusUnprocessableEntity, translate(language(r), "contacts_erase_confirm_missing"))
	}
	err := s.once(w, r, func() (string, error) {
		if _, err := s.svc.Protection.EraseContact(r.Context(), id, tresor.EraseRequest{Reason: reason}); err != nil {
			return "", err
		}
		return "/contacts?done=erased", nil
	})
	if rf := refusalOf(r, err); err != nil && rf != nil {
		status, _ := pageStatus(err)
		return again(status, rf.Message+" ("+rf.Code+")")
	}
	return err
}

// refusal is a refusal of the gate shown on a page: its stable code and the
// rule in the person's language.
type refusal struct {
	Code    string
	Message string
}

// refusalOf returns the refusal a page shows for err, or nil when err is not
// a refusal (4xx) that belongs on the page.
func refusalOf(r *http.Request, err error) *refusal {
	if _, ok := pageStatus(err); !ok {
		return nil
	}
	e := tresor.AsError(err)
	if e == nil {
		return nil
	}
	msg := e.Message
	if language(r) == "de" && e.MessageDE != "" {
		msg = e.MessageDE
	}
	return &refusal{Code: string(e.Code), Message: msg}
}

// contactRow is a contact in the list.
type contactRow struct {
	ID, Name, Organization, Position, Email string
	// NameWithheld, …: the purpose may not see the category.
	NameWithheld, OrganizationWithheld, PositionWithheld, EmailWithheld bool
}

// contactsList is what the contacts list shows: the search, the filters
// and the order as chosen, and one page of contacts.
type contactsList struct {
	Q         string // the search, as typed
	QError    string
	Org       string // organization_id
	Mine      bool   // only the signed-in person's contacts
	Sort      string
	ConsentP  string // the consent filter: purpose, channel, state
	ConsentC  string
	ConsentS  string
	Tag       string // only contacts with this tag
	Segment   string // only the members of this segment
	Tags      []tresor.TagCount
	Segments  []contactsOption
	Orgs      []contactsOption
	Sorts     []string
	Purposes  []string
	Channels  []string
	States    []string
	NoPurpose bool
	Refused   *refusal
	Warming   string // the search index is loading: what it says
	Rows      []contactRow
	Total     int
	Counted   bool
	Next      string // the link of the next page, "" on the last
	First     string // the link of the first page, when on a later one
	Filtered  bool   // a search or a filter is set
	Searched  bool   // a search is set
}

// contactsOption is a choice of a select: its value and its label.
type contactsOption struct{ Value, Label string }

// contactsMaxOrgs bounds the organizations the filter offers; others are
// reached from the organization's page, whose link sets the filter.
const contactsMaxOrgs = 200

var contactsConsentStates = []string{string(tresor.ConsentGranted), string(tresor.ConsentPending),
	string(tresor.ConsentWithdrawn), string(tresor.ConsentUnknown)}

func contactName(c *tresor.Contact) string {
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// filter reads the list's search, filters and order from the query.
func (d *contactsList) filter(r *http.Request) tresor.ContactFilter {
	q := r.URL.Query()
	d.Q = strings.TrimSpace(q.Get("q"))
	if d.Q == "" {
		d.Q = strings.TrimSpace(q.Get("email")) // links of before the search
	}
	d.Org, d.Mine, d.Sort = q.Get("organization_id"), q.Get("owner") == "me", q.Get("sort")
	d.ConsentP, d.ConsentC, d.ConsentS = q.Get("consent_purpose"), q.Get("consent_channel"), q.Get("consent_state")
	d.Tag, d.Segment = strings.TrimSpace(q.Get("tag")), q.Get("segment")
	f := tresor.ContactFilter{Query: d.Q, OrganizationID: d.Org, Sort: d.Sort, Tag: d.Tag, Segment: d.Segment}
	if d.Mine {
		if a := tresor.ActorFrom(r.Context()); a != nil {
			f.OwnerID = a.UserID
		}
	}
	if d.ConsentP != "" && d.ConsentC != "" && d.ConsentS != "" {
		f.Consent = &tresor.ConsentFilter{Purpose: d.ConsentP, Channel: tresor.ConsentChannel(d.ConsentC), State: tresor.ConsentState(d.ConsentS)}
	}
	d.Searched = d.Q != ""
	d.Filtered = d.Searched || d.Org != "" || d.Mine || f.Consent != nil || d.Tag != "" || d.Segment != ""
	return f
}

// link is the address of the list with its search, filters and order, at
// the cursor.
func (d *contactsList) link(cursor string) string {
	v := url.Values{}
	for k, x := range map[string]string{"q": d.Q, "organization_id": d.Org, "sort": d.Sort, "consent_purpose": d.ConsentP,
		"consent_channel": d.ConsentC, "consent_state": d.ConsentS, "cursor": cursor, "tag": d.Tag, "segment": d.Segment} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if d.Mine {
		v.Set("owner", "me")
	}
	if len(v) == 0 {
		return "/contacts"
	}
	return "/contacts?" + v.Encode()
}

func (s *Server) contactsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "contacts_title", "/contacts")
	if err != nil {
		return err
	}
	d := &contactsList{Sorts: tresor.ContactSorts(), Channels: consentChannels, States: contactsConsentStates}
	for _, p := range s.opt.Catalogue {
		d.Purposes = append(d.Purposes, p.ID)
	}
	v.Data = d
	if r.URL.Query().Get("done") == "erased" {
		v.Notice = "contacts_erased"
	}
	f := d.filter(r)
	s.tagFilterOptions(r, d)
	cursor := r.URL.Query().Get("cursor")
	if f.Page.After, err = tresor.DecodeCursor(cursor); err != nil {
		return err
	}
	f.Page.Limit = 25
	l, err := s.svc.Contacts.Contacts(r.Context(), f)
	switch {
	case tresor.ErrorCode(err) == tresor.ECPurposeMissing:
		d.NoPurpose = true
		return s.render(w, r, http.StatusOK, "contacts", v)
	case tresor.ErrorCode(err) == tresor.ECSearchWarming:
		d.Warming = tresor.ErrorMessage(err)
		if e := tresor.AsError(err); e != nil && language(r) == "de" && e.MessageDE != "" {
			d.Warming = e.MessageDE
		}
		w.Header().Set("Retry-After", "2")
		return s.render(w, r, http.StatusServiceUnavailable, "contacts", v)
	case tresor.ErrorCode(err) == tresor.ECInvalidParameter:
		d.QError = pageRefusal(r, err)
		d.Orgs = s.contactsOrgOptions(r, d.Org)
		return s.render(w, r, http.StatusUnprocessableEntity, "contacts", v)
	case err != nil:
		if d.Refused = refusalOf(r, err); d.Refused == nil {
			return err
		}
		status, _ := pageStatus(err)
		return s.render(w, r, status, "contacts", v)
	}
	d.Orgs = s.contactsOrgOptions(r, d.Org)
	d.Total, d.Counted = l.Total, l.Counted
	for _, c := range l.Items {
		row := contactRow{ID: c.ID, Name: contactName(c), Organization: c.Organization, Position: c.Position,
			NameWithheld:         slices.Contains(c.Withheld, tresor.CatContactName),
			OrganizationWithheld: slices.Contains(c.Withheld, tresor.CatEmployer),
			PositionWithheld:     slices.Contains(c.Withheld, tresor.CatPosition),
			EmailWithheld:        slices.Contains(c.Withheld, tresor.CatContactEmail)}
		if len(c.Emails) > 0 {
			row.Email = c.Emails[0]
		}
		d.Rows = append(d.Rows, row)
	}
	if l.Next != "" {
		d.Next = d.link(l.Next)
	}
	if cursor != "" {
		d.First = d.link("")
	}
	return s.render(w, r, http.StatusOK, "contacts", v)
}

// contactsOrgOptions lists the organizations the filter offers, by name,
// and the chosen one even if it is not among them.
func (s *Server) contactsOrgOptions(r *http.Request, chosen string) []contactsOption {
	var out []contactsOption
	have := false
	p := tresor.Page{Limit: tresor.MaxPageSize}
	for len(out) < contactsMaxOrgs {
		l, err := s.svc.Organizations.Organizations(r.Context(), tresor.OrganizationFilter{Page: p})
		if err != nil {
			break
		}
		for _, o := range l.Items {
			out = append(out, contactsOption{Value: o.ID, Label: o.Name})
			have = have || o.ID == chosen
		}
		if l.Next == "" {
			break
		}
		if p.After, err = tresor.DecodeCursor(l.Next); err != nil {
			break
		}
	}
	if !have && chosen != "" {
		if o, err := s.svc.Organizations.Organization(r.Context(), chosen); err == nil {
			out = append(out, contactsOption{Value: o.ID, Label: o.Name})
		}
	}
	slices.SortFunc(out, func(a, b contactsOption) int {
		return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
	})
	return out
}

// contactField is one personal field of the contact page: its label, its
// values or that it is withheld, and where it comes from.
type contactField struct {
	Label    string // a catalogue key
	Category tresor.Category
	CatLabel string // a catalogue key naming the category
	Values   []string
	Withheld bool
	Origin   *tresor.ProvenanceRecord
}

// timelineItem is an interaction, a case or a deal of the contact.
type timelineItem struct {
	Type   string // a catalogue key: the kind of the item
	At     time.Time
	Title  string
	Detail string
	// Withheld: its content is withheld from the purpose.
	Withheld bool
}

// timelineGap is a part of the timeline the purpose may not read.
type timelineGap struct {
	What    string // a catalogue key
	Refused refusal
}

// reachRow is the outbound gate's answer for one channel.
type reachRow struct {
	Channel string // the channel's id
	Label   string // its name in the page's language
	Allowed bool
	Reasons []refusal
	Refused *refusal
}

// logForm is the form that logs a call, a meeting or a note.
type logForm struct {
	Kind, Direction, Subject, Body string
	// Basis is the legal basis the interaction is recorded on; it starts
	// as the contact's own.
	Basis  string
	Errors map[string]string // field → message, in the page's language
	Error  string
	// Art9 is the letter of Art. 9(2) GDPR the form asks to confirm after
	// the gate found a special category the purpose allows under it.
	Art9 string
}

// contactView is what the contact page shows.
type contactView struct {
	Tags         *tagBox
	ID           string
	Name         string
	NameWithheld bool
	Organization string
	Position     string
	Channels     []string
	Fields       []contactField
	Timeline     []timelineItem
	Gaps         []timelineGap
	Reach        []reachRow
	Log          logForm
	Kinds        []string
	Directions   []string
	Bases        []tresor.LegalBasis
	Consent      consentForm
	// The choices of the consent form.
	ConsentPurposes, ConsentChannels, ConsentActions, ConsentMethods []string
	NoPurpose                                                        bool
	Refused                                                          *refusal
	// DataProtection: the session works for the data-protection purpose,
	// which restricts processing and records objections.
	DataProtection bool
	Restricted     bool
	Objected       bool
	// Erase is the DPO's erasure form.
	Erase eraseForm
	// The forms of a new deal and a new case, and their choices.
	Deal       dealForm
	Case       caseForm
	Currencies []string
	Priorities []tresor.Priority
	Channels2  []tresor.Channel
	// The form of a one-off e-mail (email.go) and its kinds.
	Email      emailForm
	EmailKinds []string
}

// contactFieldsOf lists the contact's personal fields in the order of the page.
func contactFieldsOf(c *tresor.Contact) []contactField {
	var postal []string
	if a := c.PostalAddress; a != nil {
		line := strings.TrimSpace(a.PostalCode + " " + a.City)
		for _, p := range []string{a.Street, line, a.Region, a.Country} {
			if p != "" {
				postal = append(postal, p)
			}
		}
	}
	var handles []string
	for _, h := range c.SocialHandles {
		handles = append(handles, h.Network+": "+h.Handle)
	}
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	fs := []contactField{
		{Label: "contacts_field_name", Category: tresor.CatContactName, Values: one(contactName(c))},
		{Label: "contacts_field_emails", Category: tresor.CatContactEmail, Values: c.Emails},
		{Label: "contacts_field_phones", Category: tresor.CatContactPhone, Values: c.Phones},
		{Label: "contacts_field_postal", Category: tresor.CatContactPostal, Values: postal},
		{Label: "contacts_field_handles", Category: tresor.CatSocialHandle, Values: handles},
		{Label: "contacts_field_organization", Category: tresor.CatEmployer, Values: one(c.Organization)},
		{Label: "contacts_field_position", Category: tresor.CatPosition, Values: one(c.Position)},
		{Label: "contacts_field_language", Category: tresor.CatContactLanguage, Values: one(c.PreferredLanguage)},
	}
	// The JSON names of each category's fields, to find their provenance.
	byCat := map[tresor.Category][]string{}
	for _, f := range tresor.PersonalFields(reflect.TypeOf(tresor.Contact{})) {
		byCat[f.Category] = append(byCat[f.Category], f.Name)
	}
	records, _ := c.Provenance.Records()
	for i := range fs {
		f := &fs[i]
		f.CatLabel = "contacts_cat_" + strings.ReplaceAll(string(f.Category), ".", "_")
		f.Withheld = slices.Contains(c.Withheld, f.Category)
		for j := len(records) - 1; j >= 0 && f.Origin == nil; j-- {
			for _, name := range records[j].Fields {
				if slices.Contains(byCat[f.Category], name) {
					f.Origin = &records[j]
					break
				}
			}
		}
	}
	return fs
}

// contactBasis is the legal basis the contact's data was last collected on.
func contactBasis(c *tresor.Contact) tresor.LegalBasis {
	if c.LegalBasis != "" {
		return c.LegalBasis
	}
	records, _ := c.Provenance.Records()
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].LegalBasis != "" {
			return records[i].LegalBasis
		}
	}
	return ""
}

// loggable are the kinds of interaction the page logs, and their directions.
var (
	loggable   = []string{string(tresor.KindCall), string(tresor.KindMeeting), string(tresor.KindNote)}
	directions = []string{string(tresor.DirectionOutbound), string(tresor.DirectionInbound), string(tresor.DirectionInternal)}
)

// consentForm is the form that records a consent or its withdrawal, with
// its proof.
type consentForm struct {
	Purpose, Channel, Action, Method, Proof string
	Errors                                  map[string]string
	Error                                   string
}

// The channels, actions and methods the consent form offers.
var (
	consentChannels = []string{string(tresor.ChannelEmailMsg), string(tresor.ChannelPhoneCall), string(tresor.ChannelPostal)}
	consentActions  = []string{string(tresor.ConsentGrant), string(tresor.ConsentWithdraw)}
	consentMethods  = []string{string(tresor.MethodPaper), string(tresor.MethodWebForm), string(tresor.MethodRequest), string(tresor.MethodDoubleOptIn)}
)

// contactForms are the page's forms as they are shown: empty, or as typed.
type contactForms struct {
	Log     logForm
	Consent consentForm
	Deal    dealForm
	Case    caseForm
	Erase   eraseForm
	Email   emailForm
}

// eraseForm is the DPO's form that erases the person (Art. 17 GDPR).
type eraseForm struct {
	Reason string
	Error  string
}

// dealForm is the form of a new deal for the contact, as typed.
type dealForm struct {
	Title, Value, Currency, Close string
	Error                         string
}

// caseForm is the form of a new case for the contact, as typed.
type caseForm struct {
	Subject, Description, Priority, Channel string
	Error                                   string
	Art9                                    string // as logForm.Art9
}

func newContactForms() contactForms {
	return contactForms{Log: logForm{Kind: string(tresor.KindCall), Direction: string(tresor.DirectionOutbound)},
		Consent: consentForm{Purpose: policyMarketing, Channel: string(tresor.ChannelEmailMsg), Action: string(tresor.ConsentGrant),
			Method: string(tresor.MethodPaper)}, Deal: dealForm{Currency: "EUR"},
		Case: caseForm{Priority: string(tresor.PriorityNormal), Channel: string(tresor.ChannelPhone)}, Email: emailForm{Kind: string(tresor.EmailReply)}}
}

// policyMarketing is the purpose whose consent advertising needs: the
// consent form's first choice.
const policyMarketing = "marketing"

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request) error {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "logged":
		notice = "contacts_logged"
	case "consent":
		notice = "contacts_consent_recorded"
	case "consent_pending":
		notice = "contacts_consent_pending"
	case "emailed":
		notice = "email_sent"
	case "restricted", "unrestricted", "objected", "merged":
		notice = "contacts_" + r.URL.Query().Get("done")
	}
	return s.renderContact(w, r, http.StatusOK, newContactForms(), notice)
}

// renderContact shows the contact page with its forms as given.
func (s *Server) renderContact(w http.ResponseWriter, r *http.Request, status int, forms contactForms, notice string) error {
	v, err := s.workspaceView(r, "contacts_page_title", "/contacts")
	if err != nil {
		return err
	}
	v.Notice = notice
	id := r.PathValue("id")
	// The purpose and language switches go back to the page, also from
	// the page a form answered with.
	v.Work.Back = "/contacts/" + url.PathEscape(id)
	d := &contactView{ID: id, Log: forms.Log, Kinds: loggable, Directions: directions, Bases: tresor.LegalBases(),
		Consent: forms.Consent, ConsentChannels: consentChannels, ConsentActions: consentActions, ConsentMethods: consentMethods,
		Deal: forms.Deal, Case: forms.Case, Erase: forms.Erase, Currencies: []string{"EUR", "CHF", "USD", "GBP"}, Priorities: tresor.Priorities(),
		Channels2: []tresor.Channel{tresor.ChannelPhone, tresor.ChannelEmail, tresor.ChannelLetter, tresor.ChannelInPerson, tresor.ChannelWeb, tresor.ChannelChat},
		Email:     forms.Email, EmailKinds: emailKinds}
	for _, p := range s.opt.Catalogue {
		d.ConsentPurposes = append(d.ConsentPurposes, p.ID)
	}
	v.Data = d
	c, err := s.svc.Contacts.Contact(r.Context(), id)
	if tresor.ErrorCode(err) == tresor.ECPurposeMissing {
		d.NoPurpose = true
		return s.render(w, r, http.StatusOK, "contacts_contact", v)
	}
	if err != nil {
		return err // not found, refused: the page of the reason
	}
	d.Name, d.Organization, d.Position = contactName(c), c.Organization, c.Position
	d.Tags = s.tagBoxOf(r, v, "/contacts/", c.ID, c.Tags)
	d.Restricted, d.Objected = c.RestrictedAt != nil, c.ObjectedAt != nil
	d.DataProtection = tresor.PurposeFrom(r.Context()) == "data_protection"
	d.NameWithheld = slices.Contains(c.Withheld, tresor.CatContactName)
	d.Channels = append(append([]string{}, c.Emails...), c.Phones...)
	for _, h := range c.SocialHandles {
		d.Channels = append(d.Channels, h.Network+": "+h.Handle)
	}
	if d.Name != "" && !d.NameWithheld {
		v.Heading = d.Name // a name, never looked up in the catalogue
	}
	d.Fields = contactFieldsOf(c)
	if d.Log.Basis == "" {
		d.Log.Basis = string(contactBasis(c))
	}
	if err := s.contactTimeline(r, d); err != nil {
		return err
	}
	purpose := tresor.PurposeFrom(r.Context())
	lang := language(r)
	channels := []tresor.ConsentChannel{tresor.ChannelEmailMsg, tresor.ChannelPhoneCall, tresor.ChannelPostal}
	labels := []string{translate(lang, "contacts_channel_email"), translate(lang, "contacts_channel_phone"), translate(lang, "contacts_channel_postal")}
	// A direct message on each network the person has a handle on.
	for _, h := range c.SocialHandles {
		ch := tresor.ConsentChannel(tresor.SocialDM + h.Network)
		if tresor.ValidNetwork(h.Network) && !slices.Contains(channels, ch) {
			channels = append(channels, ch)
			labels = append(labels, fmt.Sprintf(translate(lang, "contacts_channel_social_dm"), h.Network))
		}
	}
	for i, ch := range channels {
		row := reachRow{Channel: string(ch), Label: labels[i]}
		dec, err := s.svc.Consents.Reach(r.Context(), id, purpose, ch, false)
		if err != nil {
			if row.Refused = refusalOf(r, err); row.Refused == nil {
				return err
			}
		} else {
			row.Allowed = dec.Allowed
			for _, re := range dec.Reasons {
				msg := re.Message
				if language(r) == "de" && re.MessageDE != "" {
					msg = re.MessageDE
				}
				row.Reasons = append(row.Reasons, refusal{Code: re.Code, Message: msg})
			}
		}
		d.Reach = append(d.Reach, row)
	}
	return s.render(w, r, status, "contacts_contact", v)
}

// timelineLimit is how many items of each kind the timeline reads.
const timelineLimit = 200

// contactTimeline reads the contact's interactions, cases, deals and consent events through
// the gate; a kind the purpose may not read is a gap with its reason.
func (s *Server) contactTimeline(r *http.Request, d *contactView) error {
	ctx := r.Context()
	var failed error // not a refusal: the page fails with it
	gap := func(what string, err error) {
		if rf := refusalOf(r, err); rf != nil {
			d.Gaps = append(d.Gaps, timelineGap{What: what, Refused: *rf})
		} else if failed == nil {
			failed = err
		}
	}
	page := tresor.Page{Limit: timelineLimit}
	if l, err := s.svc.Interactions.Interactions(ctx, tresor.InteractionFilter{ContactID: d.ID, Page: page}); err != nil {
		gap("contacts_timeline_interactions", err)
	} else {
		for _, in := range l.Items {
			at := in.OccurredAt
			if at.IsZero() {
				at = in.CreatedAt
			}
			d.Timeline = append(d.Timeline, timelineItem{Type: "contacts_kind_" + string(in.Kind), At: at, Title: in.Subject,
				Detail: in.Body, Withheld: slices.Contains(in.Withheld, tresor.CatInteraction)})
		}
	}
	if l, err := s.svc.Cases.Cases(ctx, tresor.CaseFilter{ContactID: d.ID, Page: page}); err != nil {
		gap("contacts_timeline_cases", err)
	} else {
		for _, k := range l.Items {
			d.Timeline = append(d.Timeline, timelineItem{Type: "contacts_kind_case", At: k.CreatedAt, Title: k.Subject,
				Detail: string(k.Status), Withheld: slices.Contains(k.Withheld, tresor.CatInteraction)})
		}
	}
	if l, err := s.svc.Deals.Deals(ctx, tresor.DealFilter{ContactID: d.ID, Page: page}); err != nil {
		gap("contacts_timeline_deals", err)
	} else {
		for _, dl := range l.Items {
			d.Timeline = append(d.Timeline, timelineItem{Type: "contacts_kind_deal", At: dl.CreatedAt, Title: dl.Title, Detail: dl.Stage})
		}
	}
	if h, err := s.svc.Consents.Consents(ctx, d.ID); err != nil {
		gap("contacts_timeline_consents", err)
	} else {
		lang := language(r)
		for _, e := range h.Events {
			d.Timeline = append(d.Timeline, timelineItem{Type: "contacts_kind_consent", At: e.At,
				Title:  translate(lang, "contacts_consent_"+string(e.Action)) + ": " + purposeName(lang, e.Purpose) + " · " + translate(lang, "contacts_channel_"+string(e.Channel)),
				Detail: translate(lang, "contacts_consent_method") + " " + translate(lang, "contacts_method_"+string(e.Method))})
		}
	}
	// Newest first.
	slices.SortStableFunc(d.Timeline, func(a, b timelineItem) int { return b.At.Compare(a.At) })
	return failed
}

// contactLogSubmit logs a call, a meeting or a note with the contact, for
// the session's purpose; a bad form shows the page again with the errors
// next to their fields and what was typed.
func (s *Server) contactLogSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	form := logForm{Kind: r.PostFormValue("kind"), Direction: r.PostFormValue("direction"),
		Subject: strings.TrimSpace(r.PostFormValue("subject")), Body: strings.TrimSpace(r.PostFormValue("body")),
		Basis: r.PostFormValue("legal_basis"), Errors: map[string]string{}}
	lang := language(r)
	if !slices.Contains(loggable, form.Kind) {
		form.Errors["kind"] = translate(lang, "contacts_log_kind_invalid")
	}
	if !slices.Contains(directions, form.Direction) {
		form.Errors["direction"] = translate(lang, "contacts_log_direction_invalid")
	}
	if form.Subject == "" {
		form.Errors["subject"] = translate(lang, "contacts_log_subject_required")
	}
	if !slices.Contains(tresor.LegalBases(), tresor.LegalBasis(form.Basis)) {
		form.Errors["legal_basis"] = translate(lang, "contacts_log_basis_invalid")
	}
	if len(form.Errors) > 0 {
		return s.renderContact(w, r, http.StatusUnprocessableEntity, contactForms{Log: form, Consent: newContactForms().Consent}, "")
	}
	coll := tresor.Collection{Source: tresor.SourceManual, LegalBasis: tresor.LegalBasis(form.Basis),
		Art9Exception: r.PostFormValue("art9_exception")}
	if coll.LegalBasis == tresor.BasisLegitimateInterest {
		// The interaction continues the relation on the contact's ground:
		// the balancing note recorded with the contact holds for it too.
		c, err := s.svc.Contacts.Contact(r.Context(), id)
		if err != nil {
			return err
		}
		if contactBasis(c) == coll.LegalBasis {
			coll.BalancingNote = c.BalancingNote
			records, _ := c.Provenance.Records()
			for i := len(records) - 1; i >= 0 && coll.BalancingNote == ""; i-- {
				coll.BalancingNote = records[i].BalancingNote
			}
		}
	}
	in := &tresor.Interaction{Kind: tresor.InteractionKind(form.Kind), Direction: tresor.Direction(form.Direction),
		OccurredAt: time.Now().UTC(), ContactID: id, InteractionContent: tresor.InteractionContent{Subject: form.Subject, Body: form.Body},
		Collection: coll}
	if err := s.svc.Interactions.CreateInteraction(r.Context(), in); err != nil {
		var e *tresor.Error
		if !errors.As(err, &e) || tresor.ErrorCode(err) == tresor.ECNotFound {
			return err
		}
		if _, ok := pageStatus(err); !ok {
			return err
		}
		for _, f := range e.Fields {
			if _, shown := map[string]bool{"kind": true, "direction": true, "subject": true, "body": true}[f.Field]; shown {
				form.Errors[f.Field] = f.Message
			}
		}
		rf := refusalOf(r, err)
		form.Art9 = e.Art9Exception
		switch e.Code {
		case tresor.ECBasisMissing, tresor.ECBasisUnknown, tresor.ECBasisNotAllowed, tresor.ECBalancingNote:
			form.Errors["legal_basis"] = rf.Message + " (" + rf.Code + ")"
		}
		if len(form.Errors) == 0 {
			form.Error = rf.Message + " (" + rf.Code + ")"
		}
		status, _ := pageStatus(err)
		return s.renderContact(w, r, status, contactForms{Log: form, Consent: newContactForms().Consent}, "")
	}
	http.Redirect(w, r, "/contacts/"+url.PathEscape(id)+"?done=logged#timeline", http.StatusSeeOther)
	return nil
}

// contactConsentSubmit records a consent or its withdrawal with its proof
// through the gate's consent ledger; a bad form shows the page again with
// the errors next to their fields and what was typed.
func (s *Server) contactConsentSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	form := consentForm{Purpose: r.PostFormValue("consent_purpose"), Channel: r.PostFormValue("channel"),
		Action: r.PostFormValue("action"), Method: r.PostFormValue("method"), Proof: strings.TrimSpace(r.PostFormValue("proof")),
		Errors: map[string]string{}}
	lang := language(r)
	if !slices.Contains(consentChannels, form.Channel) {
		form.Errors["channel"] = translate(lang, "contacts_consent_channel_invalid")
	}
	if !slices.Contains(consentActions, form.Action) {
		form.Errors["action"] = translate(lang, "contacts_consent_action_invalid")
	}
	if !slices.Contains(consentMethods, form.Method) {
		form.Errors["method"] = translate(lang, "contacts_consent_method_invalid")
	}
	if form.Action == string(tresor.ConsentGrant) && form.Proof == "" {
		form.Errors["proof"] = translate(lang, "contacts_consent_proof_required")
	}
	again := func(status int) error {
		f := newContactForms()
		f.Consent = form
		return s.renderContact(w, r, status, f, "")
	}
	if len(form.Errors) > 0 {
		return again(http.StatusUnprocessableEntity)
	}
	st, err := s.svc.Consents.RecordConsent(r.Context(), id, tresor.ConsentRequest{Purpose: form.Purpose, Channel: form.Channel,
		Action: tresor.ConsentAction(form.Action), Method: tresor.ConsentMethod(form.Method), Proof: tresor.ConsentProof{TextVersion: form.Proof}})
	if err != nil {
		status, ok := pageStatus(err)
		e := tresor.AsError(err)
		if !ok || e == nil || e.Code == tresor.ECNotFound {
			return err
		}
		for _, f := range e.Fields {
			switch f.Field {
			case "action", "method", "channel":
				form.Errors[f.Field] = f.Message
			case "proof", "proof.text_version":
				form.Errors["proof"] = f.Message
			}
		}
		if e.Code == tresor.ECPurposeUnknown {
			rf := refusalOf(r, err)
			form.Errors["consent_purpose"] = rf.Message + " (" + rf.Code + ")"
		}
		if len(form.Errors) == 0 {
			rf := refusalOf(r, err)
			form.Error = rf.Message + " (" + rf.Code + ")"
		}
		return again(status)
	}
	done := "consent"
	if st.State == tresor.ConsentPending {
		done = "consent_pending"
	}
	http.Redirect(w, r, "/contacts/"+url.PathEscape(id)+"?done="+done+"#contacts-reach-h", http.StatusSeeOther)
	return nil
}
