package gate

import (
	"reflect"
	"slices"

	"tresor"
	"tresor/policy"
)

// fieldValue returns the value of a personal field of v (a pointer to a domain object).
func fieldValue(v any, f tresor.PersonalField) reflect.Value {
	return reflect.ValueOf(v).Elem().FieldByIndex(f.Index)
}

func personalFields(v any) []tresor.PersonalField {
	return tresor.PersonalFields(reflect.TypeOf(v).Elem())
}

// empty reports whether a field holds nothing; an empty list is nothing.
func empty(x reflect.Value) bool {
	switch x.Kind() {
	case reflect.Slice, reflect.Map:
		return x.Len() == 0
	}
	return x.IsZero()
}

// filledFields lists the personal fields of v that hold data.
func filledFields(v any) []tresor.PersonalField {
	var out []tresor.PersonalField
	for _, f := range personalFields(v) {
		if !empty(fieldValue(v, f)) {
			out = append(out, f)
		}
	}
	return out
}

// changedFields lists the personal fields whose value differs between old and v.
func changedFields(old, v any) []tresor.PersonalField {
	var out []tresor.PersonalField
	for _, f := range personalFields(v) {
		a, b := fieldValue(old, f), fieldValue(v, f)
		if empty(a) && empty(b) {
			continue
		}
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			out = append(out, f)
		}
	}
	return out
}

func names(fs []tresor.PersonalField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func categoriesOf(fs []tresor.PersonalField) []tresor.Category {
	var out []tresor.Category
	for _, f := range fs {
		if !slices.Contains(out, f.Category) {
			out = append(out, f.Category)
		}
	}
	return out
}

// withhold empties the fields of v whose category the purpose may not see
// and returns those categories (of fields that held data), in taxonomy order.
func withhold(v any, pu *policy.Purpose) []tresor.Category {
	var cats []tresor.Category
	for _, f := range filledFields(v) {
		if !pu.Allows(f.Category) {
			cats = append(cats, f.Category)
			x := fieldValue(v, f)
			x.Set(reflect.Zero(x.Type()))
		}
	}
	var out []tresor.Category
	for _, c := range tresor.Categories() {
		if slices.Contains(cats, c) {
			out = append(out, c)
		}
	}
	return out
}

// collect checks and records the provenance of the personal fields a write
// stores: the purpose must allow their categories (data minimisation), the
// collection needs a legal basis the purpose allows (with a balancing note
// for legitimate interest), only public data from social networks is taken
// (R9), and the fields move to a new provenance record. old is nil for a new
// object. Writes that store no personal field need none of this.
func (g *Gate) collect(req *request, v, old any, coll *tresor.Collection, prov *tresor.Provenance) error {
	if coll.LegalBasis != "" && !slices.Contains(tresor.LegalBases(), coll.LegalBasis) {
		return g.policy.CheckBasis(req.pu, coll.LegalBasis, "") // refuses, listing the bases
	}
	var fields []tresor.PersonalField
	if old == nil {
		fields = filledFields(v)
	} else {
		fields = changedFields(old, v)
	}
	if len(fields) == 0 {
		return nil
	}
	if err := g.policy.CheckCategories(req.pu, categoriesOf(fields)); err != nil {
		return err
	}
	records, err := prov.Records()
	if err != nil {
		return err
	}
	// A change that names no legal basis keeps the one the record was collected on.
	if coll.LegalBasis == "" && old != nil {
		last := latestCollection(records)
		coll.LegalBasis, coll.BalancingNote = last.LegalBasis, last.BalancingNote
	}
	if coll.Source == "" {
		coll.Source = tresor.SourceManual
	}
	if coll.Visibility != "" && coll.Visibility != tresor.VisibilityPublic {
		return policy.Refuse(policy.RNotPublic, coll.Visibility)
	}
	if err := g.policy.CheckBasis(req.pu, coll.LegalBasis, coll.BalancingNote); err != nil {
		return err
	}
	*prov = tresor.NewProvenance(tresor.Reprovenance(records, coll.Record(names(fields), req.pu.ID, req.now, req.actor.String())))
	return nil
}

// latestCollection is the collection of the newest provenance record, which
// a change without its own legal basis inherits.
func latestCollection(prov []tresor.ProvenanceRecord) tresor.Collection {
	var last tresor.ProvenanceRecord
	for _, r := range prov {
		if !r.CollectedAt.Before(last.CollectedAt) {
			last = r
		}
	}
	return last.Collection
}
