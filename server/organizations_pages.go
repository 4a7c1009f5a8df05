package server

import (
	"net/http"
	"slices"

	"tresor"
)

// The organizations of the workspace (issue [2.2], page 4): a list paged by
// the gate's cursor, and an organization's page with its contacts and its
// deals, each read through the gate under the session's purpose.

// organizationRoles are the roles the navigation offers organizations to.
var organizationRoles = AnyRole(tresor.RoleSales, tresor.RoleMarketing, tresor.RoleService, tresor.RolePR, tresor.RoleDPO)

func (s *Server) organizationPageRoutes() []route {
	return []route{
		{"GET", "/organizations", organizationRoles, s.organizationsPage},
		{"GET", "/organizations/{id}", organizationRoles, s.organizationPage},
	}
}

// organizationsData is what the list shows.
type organizationsData struct {
	Refusal *shownRefusal
	Items   []*tresor.Organization
	Next    string // the cursor of the next page, "" on the last
	Paged   bool   // this is not the first page
}

func (s *Server) organizationsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "orgs_title", "/organizations")
	if err != nil {
		return err
	}
	data := &organizationsData{}
	v.Data = data
	after, err := tresor.DecodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	data.Paged = after != ""
	l, err := s.svc.Organizations.Organizations(r.Context(), tresor.OrganizationFilter{Page: tresor.Page{After: after, Limit: tresor.DefaultPageSize}})
	if err != nil {
		if data.Refusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
	} else {
		data.Items, data.Next = l.Items, l.Next
	}
	return s.render(w, r, data.Refusal.status(), "organizations", v)
}

// organizationData is what an organization's page shows.
type organizationData struct {
	Tags            *tagBox
	Refusal         *shownRefusal
	Org             *tresor.Organization
	Contacts        []orgContact
	ContactsRefusal *shownRefusal
	MoreContacts    bool
	Deals           []*dealCard
	DealsRefusal    *shownRefusal
	MoreDeals       bool
}

// orgContact is a contact in an organization's list: the name, or why it is withheld.
type orgContact struct {
	ID       string
	Name     string
	Position string
	Withheld bool // the purpose may not see the name (contact.name)
}

func (s *Server) organizationPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "orgs_page_title", "/organizations")
	if err != nil {
		return err
	}
	data := &organizationData{}
	v.Data = data
	ctx := r.Context()
	id := r.PathValue("id")
	o, err := s.svc.Organizations.Organization(ctx, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return err // the page of an unknown id: 404
	} else if err != nil {
		if data.Refusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
		return s.render(w, r, data.Refusal.status(), "organization", v)
	}
	data.Org = o
	data.Tags = s.tagBoxOf(r, v, "/organizations/", o.ID, o.Tags)
	v.Heading = o.Name // a name, never looked up in the catalogue
	cs, err := s.svc.Contacts.Contacts(ctx, tresor.ContactFilter{OrganizationID: o.ID, Page: tresor.Page{Limit: tresor.DefaultPageSize}})
	if err != nil {
		if data.ContactsRefusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
	} else {
		data.MoreContacts = cs.Next != ""
		for _, c := range cs.Items {
			oc := orgContact{ID: c.ID, Position: c.Position, Withheld: slices.Contains(c.Withheld, tresor.CatContactName)}
			if !oc.Withheld {
				oc.Name = c.GivenName + " " + c.FamilyName
			}
			data.Contacts = append(data.Contacts, oc)
		}
	}
	ds, err := s.svc.Deals.Deals(ctx, tresor.DealFilter{OrganizationID: o.ID, Page: tresor.Page{Limit: tresor.DefaultPageSize}})
	if err != nil {
		if data.DealsRefusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
	} else {
		data.MoreDeals = ds.Next != ""
		stages := map[string]string{}
		for _, d := range ds.Items {
			key := d.PipelineID + "/" + d.Stage
			name, ok := stages[key]
			if !ok {
				name = d.Stage
				if pl, err := s.svc.Deals.Pipeline(ctx, d.PipelineID); err == nil {
					if st, ok := pl.Stage(d.Stage); ok {
						name = stageLabel(language(r), pl, st)
					}
				}
				stages[key] = name
			}
			card := &dealCard{Deal: d, StageName: name, Organization: o.Name}
			if d.ExpectedClose.Valid() {
				card.Close, _ = parseDate(d.ExpectedClose)
			}
			data.Deals = append(data.Deals, card)
		}
	}
	return s.render(w, r, http.StatusOK, "organization", v)
}
