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
}

// Policy is the purpose catalogue and the roles that may act for each purpose.
type Policy struct {
	Purposes []Purpose
	// Roles maps a role to the purposes it may declare. A role absent here, or
	// with no purposes, never reaches personal data (admin, auditor).
	Roles map[tresor.Role][]string
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
				DescriptionEN: "Analyses of groups, never of individuals."},
		},
		Roles: map[tresor.Role][]string{
			tresor.RoleSales:     {"sales"},
			tresor.RoleMarketing: {"marketing"},
			tresor.RoleService:   {"service"},
			tresor.RolePR:        {"pr"},
			tresor.RoleAnalyst:   {"analytics"},
		},
	}
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
