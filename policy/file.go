package policy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"tresor"
)

// FileError is a problem in a policy file, with the line it is on.
type FileError struct {
	Line int
	Msg  string
}

func (e FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Errors are all problems found in a policy file.
type Errors []FileError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// at is a value with the line it was read from.
type at[T any] struct {
	V    T
	Line int
}

func (a *at[T]) UnmarshalYAML(n *yaml.Node) error {
	a.Line = n.Line
	return n.Decode(&a.V)
}

func (a at[T]) MarshalYAML() (any, error) { return a.V, nil }

// The file format. Field names are the YAML keys. Values that errors point
// at are read as at[T], which keeps their line; strict decoding (KnownFields)
// refuses unknown keys at every level, because only scalars decode themselves.
type fileText struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

type filePurpose struct {
	Line           int                     `yaml:"-"` // of its id
	ID             at[string]              `yaml:"id"`
	DE             fileText                `yaml:"de"`
	EN             fileText                `yaml:"en"`
	Categories     []at[tresor.Category]   `yaml:"categories"`
	LegalBases     []at[tresor.LegalBasis] `yaml:"legal_bases"`
	RetentionDays  at[int]                 `yaml:"retention_days"`
	AggregatesOnly bool                    `yaml:"aggregates_only,omitempty"`
	SeesRestricted bool                    `yaml:"sees_restricted,omitempty"`
	HidesObjected  bool                    `yaml:"hides_objected,omitempty"`
	Listens        bool                    `yaml:"listens,omitempty"`
	Outbound       at[Outbound]            `yaml:"outbound"`
	Art9Exception  at[string]              `yaml:"art9_exception,omitempty"`
}

type fileCategory struct {
	ID      at[tresor.Category] `yaml:"id"`
	DE      string              `yaml:"de"`
	EN      string              `yaml:"en"`
	Special bool                `yaml:"special,omitempty"`
}

type file struct {
	Version    at[int]                      `yaml:"version"`
	Categories []fileCategory               `yaml:"categories"`
	Purposes   []filePurpose                `yaml:"purposes"`
	Roles      map[tresor.Role]at[[]string] `yaml:"roles"`
	MFARoles   []at[tresor.Role]            `yaml:"mfa_roles"`
	Consent    struct {
		ExpiryDays       at[int] `yaml:"expiry_days"`
		ConfirmationDays at[int] `yaml:"confirmation_days"`
	} `yaml:"consent"`
	Retention fileRetention `yaml:"retention"`
	Listening struct {
		K                at[int]     `yaml:"k,omitempty"`
		EpsilonPerQuery  at[float64] `yaml:"dp_epsilon_per_query,omitempty"`
		EpsilonBudget    at[float64] `yaml:"dp_epsilon_budget,omitempty"`
		EpsilonBudgetMax at[float64] `yaml:"dp_epsilon_budget_max,omitempty"`
	} `yaml:"listening,omitempty"`
}

type fileRetention struct {
	RequestYears at[int] `yaml:"requests_years,omitempty"`
	Erasure      struct {
		Interactions at[tresor.ErasureMode] `yaml:"interactions"`
		Cases        at[tresor.ErasureMode] `yaml:"cases"`
	} `yaml:"erasure"`
	Categories []struct {
		Purpose  at[string]          `yaml:"purpose"`
		Category at[tresor.Category] `yaml:"category"`
		Days     at[int]             `yaml:"days"`
	} `yaml:"categories"`
	Floors []struct {
		ID    at[string] `yaml:"id"`
		Years at[int]    `yaml:"years"`
		Law   string     `yaml:"law"`
		DE    string     `yaml:"de"`
		EN    string     `yaml:"en"`
	} `yaml:"floors"`
}

// art9Exceptions are the letters of GDPR Art. 9(2).
var art9Exceptions = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}

// Parse reads and validates a policy file. Its errors name the line of each problem.
func Parse(text []byte) (*Policy, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			es := make(Errors, len(te.Errors))
			for i, m := range te.Errors {
				es[i] = FileError{Msg: m} // yaml's messages start with "line N:"
			}
			return nil, es
		}
		return nil, Errors{{Msg: err.Error()}}
	}
	return f.policy()
}

func (f *file) policy() (*Policy, error) {
	var es Errors
	bad := func(line int, format string, args ...any) {
		es = append(es, FileError{line, fmt.Sprintf(format, args...)})
	}
	p := &Policy{Roles: map[tresor.Role][]string{}}
	if f.Version.V != 1 {
		bad(f.Version.Line, "version must be 1")
	}

	// The taxonomy: exactly the categories Tresor's fields use.
	for _, c := range f.Categories {
		switch {
		case !c.ID.V.Valid():
			bad(c.ID.Line, "unknown category %q; the categories are %s", c.ID.V, joinCategories(tresor.Categories()))
		case c.Special != c.ID.V.Special():
			bad(c.ID.Line, "category %s: special must be %v", c.ID.V, c.ID.V.Special())
		case c.DE == "" || c.EN == "":
			bad(c.ID.Line, "category %s needs a German (de) and an English (en) name", c.ID.V)
		case slices.ContainsFunc(p.Categories, func(x CategoryInfo) bool { return x.ID == c.ID.V }):
			bad(c.ID.Line, "category %s is listed twice", c.ID.V)
		default:
			p.Categories = append(p.Categories, CategoryInfo{ID: c.ID.V, DE: c.DE, EN: c.EN, Special: c.Special})
		}
	}
	for _, c := range tresor.Categories() {
		if _, ok := p.Category(c); !ok && !slices.ContainsFunc(f.Categories, func(x fileCategory) bool { return x.ID.V == c }) {
			bad(0, "categories: %s is missing", c)
		}
	}

	for _, fp := range f.Purposes {
		fp.Line = fp.ID.Line
		pu := Purpose{ID: fp.ID.V, NameDE: fp.DE.Name, NameEN: fp.EN.Name, DescriptionDE: fp.DE.Description,
			DescriptionEN: fp.EN.Description, RetentionDays: fp.RetentionDays.V, AggregatesOnly: fp.AggregatesOnly,
			SeesRestricted: fp.SeesRestricted, HidesObjected: fp.HidesObjected, Outbound: fp.Outbound.V, Art9Exception: fp.Art9Exception.V,
			Listens: fp.Listens}
		if !tresor.ValidSlug(pu.ID) || strings.Contains(pu.ID, "-") {
			bad(fp.Line, "purpose id %q: use lower-case letters, digits and _", pu.ID)
		}
		if _, dup := p.Purpose(pu.ID); dup {
			bad(fp.ID.Line, "purpose %s is defined twice", pu.ID)
		}
		if pu.NameDE == "" || pu.NameEN == "" || pu.DescriptionDE == "" || pu.DescriptionEN == "" {
			bad(fp.Line, "purpose %s needs a name and a description in German (de) and English (en)", pu.ID)
		}
		if pu.Art9Exception != "" && !slices.Contains(art9Exceptions, pu.Art9Exception) {
			bad(fp.Art9Exception.Line, "purpose %s: art9_exception must name a letter of Art. 9(2) GDPR (a to j), not %q", pu.ID, pu.Art9Exception)
		}
		for _, c := range fp.Categories {
			switch {
			case !c.V.Valid():
				bad(c.Line, "purpose %s: unknown category %q", pu.ID, c.V)
			case c.V.Special() && pu.Art9Exception == "":
				bad(c.Line, "purpose %s allows the special category %s (Art. 9 GDPR) without naming an Art. 9(2) exception (art9_exception)", pu.ID, c.V)
			case slices.Contains(pu.Categories, c.V):
				bad(c.Line, "purpose %s lists %s twice", pu.ID, c.V)
			default:
				pu.Categories = append(pu.Categories, c.V)
			}
		}
		for _, b := range fp.LegalBases {
			if !slices.Contains(tresor.LegalBases(), b.V) {
				bad(b.Line, "purpose %s: unknown legal basis %q; the legal bases are %s", pu.ID, b.V, joinBases(tresor.LegalBases()))
				continue
			}
			pu.LegalBases = append(pu.LegalBases, b.V)
		}
		if len(fp.LegalBases) == 0 {
			bad(fp.Line, "purpose %s names no legal basis", pu.ID)
		}
		if pu.RetentionDays < 1 || pu.RetentionDays > 36500 {
			bad(max(fp.RetentionDays.Line, fp.Line), "purpose %s: retention_days must be between 1 and 36500", pu.ID)
		}
		if !slices.Contains([]Outbound{OutboundAdvertising, OutboundReply, OutboundNone}, pu.Outbound) {
			bad(max(fp.Outbound.Line, fp.Line), "purpose %s: outbound must be advertising, reply or none", pu.ID)
		}
		if pu.AggregatesOnly && pu.Outbound != OutboundNone {
			bad(fp.Outbound.Line, "purpose %s sees only aggregates, so its outbound must be none", pu.ID)
		}
		p.Purposes = append(p.Purposes, pu)
	}
	if len(p.Purposes) == 0 {
		bad(0, "purposes: at least one purpose is needed")
	}

	for role, purposes := range f.Roles {
		if !slices.Contains(tresor.Roles(), role) {
			bad(purposes.Line, "unknown role %q; the roles are %s", role, joinRoles(tresor.Roles()))
			continue
		}
		for _, id := range purposes.V {
			if _, ok := p.Purpose(id); !ok {
				bad(purposes.Line, "role %s: unknown purpose %q", role, id)
			}
		}
		if role == tresor.RoleAdmin && len(purposes.V) > 0 {
			bad(purposes.Line, "role admin may have no purpose: administrators never see personal data (separation of duties)")
		}
		p.Roles[role] = purposes.V
	}
	for _, r := range f.MFARoles {
		if !slices.Contains(tresor.Roles(), r.V) {
			bad(r.Line, "mfa_roles: unknown role %q", r.V)
			continue
		}
		p.MFARoles = append(p.MFARoles, r.V)
	}
	p.Consent = ConsentRules{ExpiryDays: f.Consent.ExpiryDays.V, ConfirmationDays: f.Consent.ConfirmationDays.V}
	if p.Consent.ExpiryDays < 1 {
		bad(f.Consent.ExpiryDays.Line, "consent.expiry_days must be at least 1")
	}
	if p.Consent.ConfirmationDays < 1 || p.Consent.ConfirmationDays > 30 {
		bad(f.Consent.ConfirmationDays.Line, "consent.confirmation_days must be between 1 and 30")
	}
	f.Retention.check(p, bad)
	switch k := f.Listening.K.V; {
	case k == 0:
		p.Listening.K = DefaultListeningK
	case k < MinListeningK:
		bad(f.Listening.K.Line, "listening.k must be at least %d: fewer authors could single out a person (R10)", MinListeningK)
	default:
		p.Listening.K = k
	}
	f.checkDP(p, bad)
	if len(es) > 0 {
		slices.SortStableFunc(es, func(a, b FileError) int { return a.Line - b.Line })
		return nil, es
	}
	return p, nil
}

func joinRoles(rs []tresor.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// Marshal writes the policy in the file format (`tresor policy show`).
func (p *Policy) Marshal() ([]byte, error) {
	var f file
	f.Version.V = 1
	for _, c := range p.Categories {
		f.Categories = append(f.Categories, fileCategory{ID: at[tresor.Category]{V: c.ID}, DE: c.DE, EN: c.EN, Special: c.Special})
	}
	for _, pu := range p.Purposes {
		fp := filePurpose{ID: at[string]{V: pu.ID}, DE: fileText{pu.NameDE, pu.DescriptionDE}, EN: fileText{pu.NameEN, pu.DescriptionEN},
			RetentionDays: at[int]{V: pu.RetentionDays}, AggregatesOnly: pu.AggregatesOnly, SeesRestricted: pu.SeesRestricted,
			HidesObjected: pu.HidesObjected, Outbound: at[Outbound]{V: pu.Outbound}, Art9Exception: at[string]{V: pu.Art9Exception},
			Listens: pu.Listens}
		for _, c := range pu.Categories {
			fp.Categories = append(fp.Categories, at[tresor.Category]{V: c})
		}
		for _, b := range pu.LegalBases {
			fp.LegalBases = append(fp.LegalBases, at[tresor.LegalBasis]{V: b})
		}
		f.Purposes = append(f.Purposes, fp)
	}
	f.Listening.K.V = p.Listening.K
	f.Listening.EpsilonPerQuery.V, f.Listening.EpsilonBudget.V = p.Listening.EpsilonPerQuery, p.Listening.EpsilonBudget
	f.Listening.EpsilonBudgetMax.V = p.Listening.EpsilonBudgetMax
	f.Roles = map[tresor.Role]at[[]string]{}
	for _, r := range tresor.Roles() {
		f.Roles[r] = at[[]string]{V: append([]string{}, p.Roles[r]...)}
	}
	for _, r := range p.MFARoles {
		f.MFARoles = append(f.MFARoles, at[tresor.Role]{V: r})
	}
	f.Consent.ExpiryDays.V, f.Consent.ConfirmationDays.V = p.Consent.ExpiryDays, p.Consent.ConfirmationDays
	r := &f.Retention
	r.Erasure.Interactions.V, r.Erasure.Cases.V = p.Retention.Interactions, p.Retention.Cases
	r.RequestYears.V = p.Retention.RequestYears
	for _, c := range p.Retention.Categories {
		r.Categories = append(r.Categories, struct {
			Purpose  at[string]          `yaml:"purpose"`
			Category at[tresor.Category] `yaml:"category"`
			Days     at[int]             `yaml:"days"`
		}{at[string]{V: c.Purpose}, at[tresor.Category]{V: c.Category}, at[int]{V: c.Days}})
	}
	for _, fl := range p.Retention.Floors {
		r.Floors = append(r.Floors, struct {
			ID    at[string] `yaml:"id"`
			Years at[int]    `yaml:"years"`
			Law   string     `yaml:"law"`
			DE    string     `yaml:"de"`
			EN    string     `yaml:"en"`
		}{at[string]{V: fl.ID}, at[int]{V: fl.Years}, fl.Law, fl.DE, fl.EN})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (r *fileRetention) check(p *Policy, bad func(int, string, ...any)) {
	modes := []tresor.ErasureMode{tresor.EraseRecords, tresor.AnonymiseRecords}
	p.Retention.Interactions, p.Retention.Cases = r.Erasure.Interactions.V, r.Erasure.Cases.V
	switch y := r.RequestYears.V; {
	case y == 0:
		p.Retention.RequestYears = DefaultRequestYears
	case y < 1 || y > 30:
		bad(r.RequestYears.Line, "retention.requests_years: must be between 1 and 30")
	default:
		p.Retention.RequestYears = y
	}
	for _, m := range []at[tresor.ErasureMode]{r.Erasure.Interactions, r.Erasure.Cases} {
		if !slices.Contains(modes, m.V) {
			bad(m.Line, "retention.erasure: %q must be erase or anonymise", m.V)
		}
	}
	for _, c := range r.Categories {
		pu, ok := p.Purpose(c.Purpose.V)
		switch {
		case !ok:
			bad(c.Purpose.Line, "retention.categories: unknown purpose %q", c.Purpose.V)
		case !pu.Allows(c.Category.V):
			bad(c.Category.Line, "retention.categories: the purpose %s does not store %q", pu.ID, c.Category.V)
		case c.Days.V < 1 || c.Days.V > 36500:
			bad(c.Days.Line, "retention.categories: days must be between 1 and 36500")
		case slices.ContainsFunc(p.Retention.Categories, func(x CategoryRetention) bool {
			return x.Purpose == pu.ID && x.Category == c.Category.V
		}):
			bad(c.Category.Line, "retention.categories: %s of %s is listed twice", c.Category.V, pu.ID)
		default:
			p.Retention.Categories = append(p.Retention.Categories, CategoryRetention{pu.ID, c.Category.V, c.Days.V})
		}
	}
	for _, fl := range r.Floors {
		switch {
		case !tresor.ValidSlug(fl.ID.V) || strings.Contains(fl.ID.V, "-"):
			bad(fl.ID.Line, "retention.floors: id %q: use lower-case letters, digits and _", fl.ID.V)
		case fl.Years.V < 1 || fl.Years.V > 30:
			bad(fl.Years.Line, "retention.floors: %s: years must be between 1 and 30", fl.ID.V)
		case fl.Law == "" || fl.DE == "" || fl.EN == "":
			bad(fl.ID.Line, "retention.floors: %s needs the law and a German (de) and English (en) name", fl.ID.V)
		case slices.ContainsFunc(p.Retention.Floors, func(x Floor) bool { return x.ID == fl.ID.V }):
			bad(fl.ID.Line, "retention.floors: %s is listed twice", fl.ID.V)
		default:
			p.Retention.Floors = append(p.Retention.Floors, Floor{ID: fl.ID.V, Years: fl.Years.V, Law: fl.Law, DE: fl.DE, EN: fl.EN})
		}
	}
}

// checkDP reads the settings of differential privacy in listening: an
// absent value takes its default; every value must lie within its bounds.
func (f *file) checkDP(p *Policy, bad func(int, string, ...any)) {
	l := &f.Listening
	or := func(v, def float64) float64 {
		if v == 0 {
			return def
		}
		return v
	}
	r := &p.Listening
	r.EpsilonPerQuery = or(l.EpsilonPerQuery.V, DefaultEpsilonPerQuery)
	r.EpsilonBudget = or(l.EpsilonBudget.V, DefaultEpsilonBudget)
	r.EpsilonBudgetMax = or(l.EpsilonBudgetMax.V, max(DefaultEpsilonBudgetMax, r.EpsilonBudget))
	switch {
	case r.EpsilonPerQuery < 0 || r.EpsilonPerQuery > MaxEpsilonPerQuery:
		bad(l.EpsilonPerQuery.Line, "listening.dp_epsilon_per_query must be above 0 and at most %d: more would hide no one", MaxEpsilonPerQuery)
	case r.EpsilonBudgetMax < 0 || r.EpsilonBudgetMax > MaxEpsilonBudget:
		bad(l.EpsilonBudgetMax.Line, "listening.dp_epsilon_budget_max must be above 0 and at most %d", MaxEpsilonBudget)
	case r.EpsilonBudget < r.EpsilonPerQuery || r.EpsilonBudget > r.EpsilonBudgetMax:
		bad(l.EpsilonBudget.Line, "listening.dp_epsilon_budget must lie between dp_epsilon_per_query (%g) and dp_epsilon_budget_max (%g): a smaller budget allows not a single read", r.EpsilonPerQuery, r.EpsilonBudgetMax)
	}
}
