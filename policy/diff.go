package policy

import (
	"slices"

	"tresor"
)

// Diff is what replacing one policy with another changes for the purposes
// (`tresor policy diff`).
type Diff struct {
	Added      []string          `json:"purposes_added"`
	Removed    []string          `json:"purposes_removed"`
	Categories []CategoryChange  `json:"categories_changed"`
	LegalBases []BasisChange     `json:"legal_bases_changed"`
	Retention  []RetentionChange `json:"retention_changed"`
}

// CategoryChange lists the categories a purpose gains and loses.
type CategoryChange struct {
	Purpose string            `json:"purpose"`
	Gained  []tresor.Category `json:"gained"`
	Lost    []tresor.Category `json:"lost"`
}

// BasisChange is a purpose whose legal bases change.
type BasisChange struct {
	Purpose string              `json:"purpose"`
	Old     []tresor.LegalBasis `json:"old"`
	New     []tresor.LegalBasis `json:"new"`
}

// RetentionChange is a period that changes: a purpose's own (Category
// empty) or one category's within it.
type RetentionChange struct {
	Purpose  string          `json:"purpose"`
	Category tresor.Category `json:"category,omitempty"`
	OldDays  int             `json:"old_days"`
	NewDays  int             `json:"new_days"`
}

// Shortened reports whether the period gets shorter.
func (c RetentionChange) Shortened() bool { return c.NewDays < c.OldDays }

// Empty reports whether nothing changes.
func (d *Diff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Categories)+len(d.LegalBases)+len(d.Retention) == 0
}

// Shortens reports whether some period gets shorter.
func (d *Diff) Shortens() bool { return slices.ContainsFunc(d.Retention, RetentionChange.Shortened) }

// DiffPolicies compares the policy in force with a new one.
func DiffPolicies(old, new *Policy) *Diff {
	d := &Diff{Added: []string{}, Removed: []string{}, Categories: []CategoryChange{}, LegalBases: []BasisChange{}, Retention: []RetentionChange{}}
	for _, pu := range new.Purposes {
		if _, ok := old.Purpose(pu.ID); !ok {
			d.Added = append(d.Added, pu.ID)
		}
	}
	for _, o := range old.Purposes {
		n, ok := new.Purpose(o.ID)
		if !ok {
			d.Removed = append(d.Removed, o.ID)
			continue
		}
		cc := CategoryChange{Purpose: o.ID, Gained: []tresor.Category{}, Lost: []tresor.Category{}}
		for _, c := range tresor.Categories() {
			switch was, is := o.Allows(c), n.Allows(c); {
			case is && !was:
				cc.Gained = append(cc.Gained, c)
			case was && !is:
				cc.Lost = append(cc.Lost, c)
			}
		}
		if len(cc.Gained)+len(cc.Lost) > 0 {
			d.Categories = append(d.Categories, cc)
		}
		if !sameSet(o.LegalBases, n.LegalBases) {
			d.LegalBases = append(d.LegalBases, BasisChange{o.ID, o.LegalBases, n.LegalBases})
		}
		if o.RetentionDays != n.RetentionDays {
			d.Retention = append(d.Retention, RetentionChange{Purpose: o.ID, OldDays: o.RetentionDays, NewDays: n.RetentionDays})
		}
		// A category's own period, where either policy sets one and it
		// differs from what the purpose's change already says.
		for _, c := range o.Categories {
			if !n.Allows(c) {
				continue
			}
			was, is := old.RetentionDays(o.ID, c), new.RetentionDays(o.ID, c)
			if was != is && (was != o.RetentionDays || is != n.RetentionDays) {
				d.Retention = append(d.Retention, RetentionChange{Purpose: o.ID, Category: c, OldDays: was, NewDays: is})
			}
		}
	}
	return d
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
