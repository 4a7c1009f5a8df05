package tresor

import (
	"context"
	"net/url"
	"time"
)

// Organization is a company, authority or association. Data about a legal
// person is not personal data, so an organization has no personal fields.
type Organization struct {
	Meta
	OwnerID  string         `json:"owner_id,omitempty" category:"none"`
	Name     string         `json:"name" category:"none"`
	Website  string         `json:"website,omitempty" category:"none"`
	Industry string         `json:"industry,omitempty" category:"none"`
	Address  *PostalAddress `json:"address,omitempty" category:"none"`
	Tags     []string       `json:"tags,omitempty" category:"none"` // set by Tresor: PUT …/tags/{tag}
}

// Validate checks the organization.
func (o *Organization) Validate() error {
	var p Problems
	checkID(&p, "owner_id", o.OwnerID)
	checkText(&p, "name", o.Name, maxShortText, true, false)
	if o.Website != "" {
		u, err := url.Parse(o.Website)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(o.Website) > 2000 {
			p.Add("website", "%q is not an http or https address such as https://example.org", o.Website)
		}
	}
	checkText(&p, "industry", o.Industry, maxShortText, false, false)
	if o.Address != nil {
		o.Address.validate(&p, "address.")
	}
	return p.Err("organization")
}

// OrganizationFilter selects organizations in a list.
type OrganizationFilter struct {
	OwnerID      string
	UpdatedSince time.Time
	// Query finds organizations by the words of their name, industry,
	// website or town, best first.
	Query string
	Tag   string // keeps only organizations with the tag
	Page
}

// OrganizationService is the gate's interface for organizations.
type OrganizationService interface {
	CreateOrganization(ctx context.Context, o *Organization) error
	Organization(ctx context.Context, id string) (*Organization, error)
	Organizations(ctx context.Context, f OrganizationFilter) (*List[*Organization], error)
	UpdateOrganization(ctx context.Context, id string, u Update) (*Organization, error)
	DeleteOrganization(ctx context.Context, id string, ifVersion int64) error
}
