// Package policy is Tresor's decision engine: which purposes exist and which
// roles may declare them. It is pure — no I/O — so every decision can be
// table-tested. Later work adds legal bases, categories, consent and retention.
package policy

import (
	"slices"
	"strings"

	"tresor"
)

// Purpose is a declared reason to process personal data (GDPR Art. 5(1)(b)).
type Purpose struct {
	ID            string
	NameDE        string
	NameEN        string
	DescriptionDE string
	DescriptionEN string
	// AggregatesOnly purposes see counts and statistics over groups, never a
	// single person's record (R10).
	AggregatesOnly bool
}

// Policy is the purpose catalogue and the roles that may act for each purpose.
type Policy struct {
	Purposes []Purpose
	// Roles maps a role to the purposes it may declare. A role absent here, or
	// with no purposes, never reaches personal data (admin, auditor).
	Roles map[tresor.Role][]string
	// MFARoles must sign in with a second factor.
	MFARoles []tresor.Role
}

// Default returns the catalogue of DESIGN §3 with the role mapping of issue [2/6].
func Default() *Policy {
	return &Policy{
		Purposes: []Purpose{
			{ID: "sales", NameDE: "Vertrieb", NameEN: "Sales",
				DescriptionDE: "Anbahnung und Abwicklung von Verträgen mit Kunden und Interessenten.",
				DescriptionEN: "Preparing and performing contracts with customers and prospects."},
			{ID: "marketing", NameDE: "Marketing", NameEN: "Marketing",
				DescriptionDE: "Werbung und Kampagnen – gegenüber Personen nur mit Einwilligung.",
				DescriptionEN: "Advertising and campaigns — towards people only with their consent."},
			{ID: "service", NameDE: "Kundenservice", NameEN: "Customer service",
				DescriptionDE: "Anfragen, Reklamationen und Support bearbeiten.",
				DescriptionEN: "Handling requests, complaints and support."},
			{ID: "pr", NameDE: "Öffentlichkeitsarbeit", NameEN: "Public relations",
				DescriptionDE: "Pressekontakte und Kommunikation mit der Öffentlichkeit.",
				DescriptionEN: "Press contacts and communication with the public."},
			{ID: "analytics", NameDE: "Analyse", NameEN: "Analytics",
				DescriptionDE: "Auswertungen über Gruppen, nie über Einzelne.",
				DescriptionEN: "Analyses of groups, never of individuals.", AggregatesOnly: true},
		},
		Roles: map[tresor.Role][]string{
			tresor.RoleSales:     {"sales"},
			tresor.RoleMarketing: {"marketing"},
			tresor.RoleService:   {"service"},
			tresor.RolePR:        {"pr"},
			tresor.RoleAnalyst:   {"analytics"},
		},
		MFARoles: []tresor.Role{tresor.RoleAdmin, tresor.RoleDPO},
	}
}

// RequiresMFA reports whether any of the roles must sign in with a second factor.
func (p *Policy) RequiresMFA(roles []tresor.Role) bool {
	for _, r := range roles {
		if slices.Contains(p.MFARoles, r) {
			return true
		}
	}
	return false
}

// PermitIndividual decides whether the actor may see or change a single
// person's record for the purpose: Permit, and a purpose that is not
// restricted to aggregates.
func (p *Policy) PermitIndividual(a *tresor.Actor, purpose string) error {
	if err := p.Permit(a, purpose); err != nil {
		return err
	}
	if pu, _ := p.Purpose(purpose); pu.AggregatesOnly {
		return tresor.Errorf(tresor.ECForbidden,
			"The purpose %q sees only aggregates over groups, never a single record.", purpose)
	}
	return nil
}

// CheckTokenPurposes checks the purposes asked for a new token of a user with
// the roles: known, and allowed by the roles.
func (p *Policy) CheckTokenPurposes(roles []tresor.Role, purposes []string) error {
	allowed := p.PurposesOf(&tresor.Actor{Roles: roles})
	for _, pu := range purposes {
		if _, ok := p.Purpose(pu); !ok {
			return tresor.Errorf(tresor.ECValidation, "The purpose %q is not defined; the purposes are %s.", pu, p.ids())
		}
		if !slices.Contains(allowed, pu) {
			return tresor.Errorf(tresor.ECValidation, "The user's roles do not allow the purpose %q, so a token cannot have it.", pu)
		}
	}
	return nil
}

// Purpose returns the purpose with the given id.
func (p *Policy) Purpose(id string) (Purpose, bool) {
	for _, pu := range p.Purposes {
		if pu.ID == id {
			return pu, true
		}
	}
	return Purpose{}, false
}

// PurposesOf returns the purposes the actor's roles allow, in catalogue order.
func (p *Policy) PurposesOf(a *tresor.Actor) []string {
	var out []string
	for _, pu := range p.Purposes {
		for _, r := range a.Roles {
			if slices.Contains(p.Roles[r], pu.ID) {
				out = append(out, pu.ID)
				break
			}
		}
	}
	return out
}

// Permit decides whether the actor may act for the declared purpose. The
// system actor (jobs, the CLI on the server) may declare any known purpose.
func (p *Policy) Permit(a *tresor.Actor, purpose string) error {
	if purpose == "" {
		return tresor.Errorf(tresor.ECPurposeMissing,
			"Declare the purpose of this request in the header Tresor-Purpose (one of %s).", p.ids())
	}
	if _, ok := p.Purpose(purpose); !ok {
		return tresor.Errorf(tresor.ECPurposeUnknown,
			"The purpose %q is not defined; the purposes are %s.", purpose, p.ids())
	}
	if a.Kind == tresor.ActorSystem {
		return nil
	}
	if a.Kind == tresor.ActorToken && !slices.Contains(a.Purposes, purpose) {
		return tresor.Errorf(tresor.ECPurposeNotAllowed,
			"This API token was not given the purpose %q; it may declare only %s.", purpose, listOrNone(a.Purposes))
	}
	allowed := p.PurposesOf(a)
	if slices.Contains(allowed, purpose) {
		return nil
	}
	if len(allowed) == 0 {
		return tresor.Errorf(tresor.ECPurposeNotAllowed,
			"Your roles allow no purpose that reaches personal data (separation of duties).")
	}
	return tresor.Errorf(tresor.ECPurposeNotAllowed,
		"Your roles do not allow the purpose %q; they allow %s.", purpose, strings.Join(allowed, ", "))
}

func (p *Policy) ids() string {
	ids := make([]string, len(p.Purposes))
	for i, pu := range p.Purposes {
		ids[i] = pu.ID
	}
	return strings.Join(ids, ", ")
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "no purpose"
	}
	return strings.Join(s, ", ")
}
