// Package policy is Tresor's decision engine: which purposes exist, what each
// may see and store and on which legal grounds, which roles may act for it,
// and whether a person may be contacted. It is pure — it reads a policy from
// bytes and decides from values, without I/O — so every decision can be
// table-tested.
package policy

import (
	_ "embed"
	"slices"
	"strings"

	"tresor"
)

// Outbound says how a purpose may reach people.
type Outbound string

// The kinds of outbound contact.
const (
	// OutboundAdvertising: reaching out is advertising (§7 UWG) and needs the
	// person's consent for marketing on that exact channel.
	OutboundAdvertising Outbound = "advertising"
	// OutboundReply: answering the person — in a conversation they started,
	// or under a contract or legal obligation — never with advertising.
	OutboundReply Outbound = "reply"
	// OutboundNone: the purpose never contacts anyone.
	OutboundNone Outbound = "none"
)

// Purpose is a declared reason to process personal data (GDPR Art. 5(1)(b)).
type Purpose struct {
	ID            string
	NameDE        string
	NameEN        string
	DescriptionDE string
	DescriptionEN string
	// Categories the purpose may see and store (data minimisation, Art. 5(1)(c)).
	Categories []tresor.Category
	// LegalBases on which data may be collected for the purpose.
	LegalBases []tresor.LegalBasis
	// RetentionDays is the default retention after the last interaction.
	RetentionDays int
	// AggregatesOnly purposes see counts over groups, never a single record (R10).
	AggregatesOnly bool
	// SeesRestricted purposes may read contacts whose processing is restricted (Art. 18).
	SeesRestricted bool
	// HidesObjected purposes never see people who objected to marketing (Art. 21(3)).
	HidesObjected bool
	Outbound      Outbound
	// Art9Exception names the GDPR Art. 9(2) exception (a–j) under which the
	// purpose may process special categories; without one it may not.
	Art9Exception string
	// Listens: the purpose may run social listening topics (aggregates of
	// public posts about a topic, never of a person; R10).
	Listens bool
}

// Allows reports whether the purpose may see and store the category.
func (p *Purpose) Allows(c tresor.Category) bool { return slices.Contains(p.Categories, c) }

// CategoryInfo names a category of the taxonomy.
type CategoryInfo struct {
	ID      tresor.Category
	DE, EN  string
	Special bool
}

// ConsentRules configure the consent ledger.
type ConsentRules struct {
	// ExpiryDays: a granted consent lapses after this many days without interaction.
	ExpiryDays int
	// ConfirmationDays: a double opt-in link works this long.
	ConfirmationDays int
}

// Policy is the whole configuration of purposes, categories and roles.
type Policy struct {
	Categories []CategoryInfo
	Purposes   []Purpose
	// Roles maps a role to the purposes it may declare. A role with no purposes
	// never reaches personal data (admin, auditor).
	Roles map[tresor.Role][]string
	// MFARoles must sign in with a second factor.
	MFARoles  []tresor.Role
	Consent   ConsentRules
	Retention Retention
	Listening ListeningRules
}

// ListeningRules configure social listening.
type ListeningRules struct {
	// K is the least number of distinct authors a bucket, term or hashtag
	// needs before it is shown (k-anonymity).
	K int
	// EpsilonPerQuery is the privacy loss ε one trend read spends of a
	// topic with differential privacy on; its figures get noise of scale
	// sensitivity/EpsilonPerQuery.
	EpsilonPerQuery float64
	// EpsilonBudget is a new DP topic's total ε, unless its maker names
	// another up to EpsilonBudgetMax; reads stop when it is spent.
	EpsilonBudget    float64
	EpsilonBudgetMax float64
}

// DefaultListeningK and MinListeningK bound listening's k-anonymity.
const (
	DefaultListeningK = 10
	MinListeningK     = 5
)

// The defaults and bounds of differential privacy in listening. Above
// MaxEpsilonPerQuery the noise no longer hides a post in any useful sense
// (e^5 ≈ 148: one outcome may become 148 times likelier); above
// MaxEpsilonBudget a topic's total loss would be as good as unbounded.
const (
	DefaultEpsilonPerQuery  = 0.5
	DefaultEpsilonBudget    = 10
	DefaultEpsilonBudgetMax = 20
	MaxEpsilonPerQuery      = 5
	MaxEpsilonBudget        = 100
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the text of the default policy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Default returns the built-in policy (default.yaml).
func Default() *Policy {
	p, err := Parse(defaultYAML)
	if err != nil {
		panic("policy: the built-in default is invalid: " + err.Error())
	}
	return p
}

// Purpose returns the purpose with the given id.
func (p *Policy) Purpose(id string) (*Purpose, bool) {
	for i := range p.Purposes {
		if p.Purposes[i].ID == id {
			return &p.Purposes[i], true
		}
	}
	return nil, false
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

// RequiresMFA reports whether any of the roles must sign in with a second factor.
func (p *Policy) RequiresMFA(roles []tresor.Role) bool {
	for _, r := range roles {
		if slices.Contains(p.MFARoles, r) {
			return true
		}
	}
	return false
}

// Permit decides whether the actor may act for the declared purpose, and
// returns the purpose. The system actor (jobs, the CLI on the server) may
// declare any known purpose.
func (p *Policy) Permit(a *tresor.Actor, purpose string) (*Purpose, error) {
	if purpose == "" {
		return nil, Refuse(RPurposeMissing, p.ids())
	}
	pu, ok := p.Purpose(purpose)
	if !ok {
		return nil, Refuse(RPurposeUnknown, purpose, p.ids())
	}
	if a.Kind == tresor.ActorSystem {
		return pu, nil
	}
	if a.Kind == tresor.ActorToken && !slices.Contains(a.Purposes, purpose) {
		return nil, Refuse(RTokenPurpose, purpose, listOrNone(a.Purposes))
	}
	allowed := p.PurposesOf(a)
	if slices.Contains(allowed, purpose) {
		return pu, nil
	}
	if len(allowed) == 0 {
		return nil, Refuse(RNoPurposeRoles)
	}
	return nil, Refuse(RRolePurpose, purpose, strings.Join(allowed, ", "))
}

// PermitIndividual is Permit for a single person's record: a purpose
// restricted to aggregates is refused.
func (p *Policy) PermitIndividual(a *tresor.Actor, purpose string) (*Purpose, error) {
	pu, err := p.Permit(a, purpose)
	if err != nil {
		return nil, err
	}
	if pu.AggregatesOnly {
		return nil, Refuse(RAggregatesOnly, purpose)
	}
	return pu, nil
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

// CheckBasis checks the legal basis of a write for the purpose:
// it must be one the purpose allows, and legitimate interest needs a
// recorded balancing note.
func (p *Policy) CheckBasis(pu *Purpose, basis tresor.LegalBasis, balancingNote string) error {
	if basis == "" {
		return Refuse(RBasisMissing, pu.ID, joinBases(pu.LegalBases))
	}
	if !slices.Contains(tresor.LegalBases(), basis) {
		return Refuse(RBasisUnknown, basis, joinBases(tresor.LegalBases()))
	}
	if !slices.Contains(pu.LegalBases, basis) {
		return Refuse(RBasisNotAllowed, basis, pu.ID, joinBases(pu.LegalBases))
	}
	if basis == tresor.BasisLegitimateInterest && strings.TrimSpace(balancingNote) == "" {
		return Refuse(RBalancingNote)
	}
	return nil
}

// CheckCategories refuses storing categories the purpose does not allow.
func (p *Policy) CheckCategories(pu *Purpose, cats []tresor.Category) error {
	for _, c := range cats {
		if c.Special() && pu.Art9Exception == "" {
			return Refuse(RSpecialCategory, c, pu.ID)
		}
		if !pu.Allows(c) {
			return pu.RefuseCategory(c)
		}
	}
	return nil
}

// RefuseCategory is the refusal for a category the purpose does not allow,
// naming the ones it does.
func (pu *Purpose) RefuseCategory(c tresor.Category) error {
	return Refuse(RCategoryNotAllowed, c, pu.ID, joinCategories(pu.Categories))
}

// RefuseDeleteWithheld is the refusal to delete a record that holds data of
// categories the purpose may not see.
func (pu *Purpose) RefuseDeleteWithheld(cats []tresor.Category) error {
	return Refuse(RDeleteWithheld, pu.ID, joinCategories(cats))
}

// Withheld returns, in taxonomy order, the categories among cats the purpose may not see.
func (p *Policy) Withheld(pu *Purpose, cats []tresor.Category) []tresor.Category {
	var out []tresor.Category
	for _, c := range tresor.Categories() {
		if slices.Contains(cats, c) && !pu.Allows(c) {
			out = append(out, c)
		}
	}
	return out
}

// Category returns the description of a category.
func (p *Policy) Category(id tresor.Category) (CategoryInfo, bool) {
	for _, c := range p.Categories {
		if c.ID == id {
			return c, true
		}
	}
	return CategoryInfo{}, false
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

func joinBases(bs []tresor.LegalBasis) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

func joinCategories(cs []tresor.Category) string {
	if len(cs) == 0 {
		return "none"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
