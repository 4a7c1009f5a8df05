package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"tresor"
	"tresor/policy"
)

// object is what every domain object offers the generic operations.
type object interface {
	Base() *tresor.Meta
	Validate() error
}

// kind describes how one type of object T (pointer PT) is stored as a row R.
// The generic operations below hold the pipeline every object passes through:
// authorise, prepare, validate, seal, write or read, open.
type kind[T any, PT interface {
	*T
	object
}, R any] struct {
	name     string   // "contact": for messages and the store's query names
	need     access   // what reading it needs; writes of configuration need accessConfigWrite
	chosenID bool     // the client names the id (pipelines); otherwise Tresor makes it
	readOnly []string // JSON fields a change may not touch, beyond MetaFields

	get    func(ctx context.Context, r tresor.Reader, id string) (R, error)
	insert func(ctx context.Context, tx tresor.Tx, rows []R) error
	update func(ctx context.Context, tx tresor.Tx, row R, prev int64) error
	delete func(ctx context.Context, tx tresor.Tx, id string) error

	// toRow prepares the stored form (sealing the personal fields); old is
	// the stored row a change replaces (nil for a new object). fromRow
	// reverses it, opening only the categories allow permits (nil: all); a
	// record that does not open comes back with its plain fields, marked
	// Damaged, together with an ECDamaged error.
	toRow   func(ctx context.Context, tx tresor.Tx, g *Gate, v PT, old R) (R, error)
	fromRow func(ctx context.Context, g *Gate, row R, allow func(tresor.Category) bool) (PT, error)
	// prepare fills defaults and checks rules that need stored state; old is
	// nil when v is new. It runs inside the write transaction, before Validate.
	prepare func(ctx context.Context, tx tresor.Tx, req *request, v, old PT) error
	// check runs after Validate, inside the write transaction (a deal's stage).
	check func(ctx context.Context, tx tresor.Tx, req *request, v, old PT) error
	// refs lists v's references, to name the missing one when the store
	// reports an invalid reference.
	refs func(v PT) []ref
	// guard refuses access to a stored object the purpose may not touch
	// (a restricted person, say); it runs on reads, changes and deletes.
	guard func(ctx context.Context, g *Gate, req *request, v PT) error
	// subject is the contact a record belongs to ("" for none): a
	// restriction of the person (Art. 18) covers the record too.
	subject func(v PT) string
	// present prepares an object for the caller: it withholds what the
	// purpose may not see.
	present func(req *request, v PT)

	personalOnce sync.Once
	isPersonal   bool
}

// unrestricted refuses a record of a person whose processing is restricted
// (Art. 18) for every purpose that does not see restricted people. Reads,
// changes and deletes of one record ask it; lists leave such records out in
// their query (HideRestricted), so that no page costs a lookup per row.
func (k *kind[T, PT, R]) unrestricted(ctx context.Context, r tresor.Reader, req *request, v PT) error {
	if k.subject == nil || req.pu == nil || req.pu.SeesRestricted {
		return nil
	}
	return personUnrestricted(ctx, r, k.subject(v))
}

// personUnrestricted refuses when the contact id names a restricted person.
// A missing contact restricts nothing: the reference check speaks for it.
func personUnrestricted(ctx context.Context, r tresor.Reader, contactID string) error {
	if contactID == "" {
		return nil
	}
	row, err := r.Contact(ctx, contactID)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil
	} else if err != nil {
		return err
	}
	if row.RestrictedAt != nil {
		return policy.Refuse(policy.RRestricted)
	}
	return nil
}

// guarded runs the checks every access to one stored object passes:
// archives, the kind's guard and the person's restriction (r reads it; a
// Tx inside a write).
func (k *kind[T, PT, R]) guarded(ctx context.Context, g *Gate, r tresor.Reader, req *request, v PT) error {
	if err := k.unrestricted(ctx, r, req, v); err != nil {
		return err
	}
	if k.subject != nil {
		if err := g.personInterest(ctx, r, req, k.subject(v)); err != nil {
			return err
		}
	}
	return k.listed(ctx, g, req, v)
}

// listed is guarded without the person's restriction, which a list's query
// has applied already.
func (k *kind[T, PT, R]) listed(ctx context.Context, g *Gate, req *request, v PT) error {
	if at := archivedAt(v); at != nil && (req.pu == nil || !req.pu.SeesRestricted) {
		return policy.Refuse(policy.RArchived, at.Format(time.DateOnly))
	}
	if k.guard == nil {
		return nil
	}
	return k.guard(ctx, g, req, v)
}

// archivedAt returns when v was archived, or nil.
func archivedAt(v any) *time.Time {
	if a, ok := v.(interface{ Archived() *time.Time }); ok {
		return a.Archived()
	}
	return nil
}

// notArchived refuses a change to an archived record: archives are read-only.
func notArchived(v any) error {
	if at := archivedAt(v); at != nil {
		return policy.Refuse(policy.RArchived, at.Format(time.DateOnly))
	}
	return nil
}

func (k *kind[T, PT, R]) shown(req *request, v PT) PT {
	if k.present != nil {
		k.present(req, v)
	}
	return v
}

// ref is a reference from one object to another.
type ref struct {
	field  string // JSON field
	object string // "user", "organization", "contact", "deal", "case", "pipeline"
	id     string
}

// personal reports whether objects of kind k hold personal fields: their
// reads are audited.
func (k *kind[T, PT, R]) personal() bool {
	k.personalOnce.Do(func() {
		t := reflect.TypeOf((*T)(nil)).Elem()
		k.isPersonal = tresor.CheckCategories(t) == nil && len(tresor.PersonalFields(t)) > 0
	})
	return k.isPersonal
}

// shownCategories are the categories of the fields of v that hold data.
func shownCategories(v any) []tresor.Category { return categoriesOf(filledFields(v)) }

// idsOf lists the ids of objects.
func idsOf[PT object](vs []PT) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if !reflect.ValueOf(v).IsNil() {
			out = append(out, v.Base().ID)
		}
	}
	return out
}

// writeNeed is what changing objects of kind k needs.
func (k *kind[T, PT, R]) writeNeed() access {
	if k.need == accessConfigRead {
		return accessConfigWrite
	}
	return k.need
}

// checkNew refuses a new object that sets fields only Tresor sets.
func (k *kind[T, PT, R]) checkNew(v PT) tresor.Problems {
	var p tresor.Problems
	m := v.Base()
	if m.ID != "" && !k.chosenID {
		p.Add("id", "is assigned by Tresor; leave it out")
	}
	if !m.CreatedAt.IsZero() || !m.UpdatedAt.IsZero() || m.Version != 0 {
		p.Add("version", "created_at, updated_at and version are set by Tresor; leave them out")
	}
	return p
}

// create stores new objects, all in one transaction or none.
func create[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], vs []PT) error {
	_, err := createWith(ctx, g, k, vs, nil, nil)
	return err
}

// createWith is create with more work in the same transaction: filter, if
// not nil, picks the objects to store before anything is written (an
// import drops the people already stored), and after runs once they are
// inserted (an import's information duties). It returns the objects
// stored.
func createWith[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], all []PT,
	filter func(tx tresor.Tx, vs []PT) ([]PT, error), after func(tx tresor.Tx, vs []PT) error) (stored []PT, err error) {
	req, err := g.authorize(ctx, k.writeNeed())
	if err != nil {
		return nil, err
	}
	vs := all
	var done *tresor.AuditEntry
	// A refused create leaves the caller's objects as they were, so that they
	// can be corrected and sent again.
	before := make([]T, len(all))
	for i, v := range all {
		before[i] = *v
	}
	defer func() {
		if err != nil {
			for i, v := range all {
				*v = before[i]
			}
		}
	}()
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if filter != nil {
			var err error
			if vs, err = filter(tx, all); err != nil || len(vs) == 0 {
				return err
			}
		}
		rows := make([]R, len(vs))
		var probs tresor.Problems
		var noRow R
		for i, v := range vs {
			p, err := k.prepareNew(ctx, tx, req, v)
			if err != nil {
				return err
			}
			if len(p) > 0 {
				if len(vs) > 1 {
					p = p.Prefix(fmt.Sprintf("[%d].", i))
				}
				probs = append(probs, p...)
				continue
			}
			if rows[i], err = k.toRow(ctx, tx, g, v, noRow); err != nil {
				return err
			}
		}
		if err := probs.Err(k.name); err != nil {
			return err
		}
		if err := k.insert(ctx, tx, rows); err != nil {
			return err
		}
		if after != nil {
			if err := after(tx, vs); err != nil {
				return err
			}
		}
		var cats []tresor.Category
		for _, v := range vs {
			if k.personal() {
				cats = mergeCategories(cats, shownCategories(v))
			}
		}
		done = g.entry(ctx, k.name+".create", k.name, idsOf(vs), cats, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{done})
	})
	if err != nil {
		err = explain(ctx, g, k, err, vs)
		g.recordBestEffort(ctx, g.entry(ctx, k.name+".create", k.name, nil, nil, err))
		return nil, err
	}
	if done == nil {
		return nil, nil // the filter kept nothing; nothing was written
	}
	g.committed([]*tresor.AuditEntry{done})
	for _, v := range vs {
		k.shown(req, v)
	}
	return vs, nil
}

// prepareNew assigns the Meta of a new object, then prepares and validates
// it; it returns the validation problems, or an error that stops the call.
func (k *kind[T, PT, R]) prepareNew(ctx context.Context, tx tresor.Tx, req *request, v PT) (tresor.Problems, error) {
	if p := k.checkNew(v); len(p) > 0 {
		return p, nil
	}
	m := v.Base()
	if !k.chosenID {
		m.ID = newID()
	}
	m.CreatedAt, m.UpdatedAt, m.Version = req.now, req.now, 1
	return k.prepareAndCheck(ctx, tx, req, v, nil)
}

func (k *kind[T, PT, R]) prepareAndCheck(ctx context.Context, tx tresor.Tx, req *request, v, old PT) (tresor.Problems, error) {
	if k.prepare != nil {
		if err := k.prepare(ctx, tx, req, v, old); err != nil {
			return problemsOf(err)
		}
	}
	if err := v.Validate(); err != nil {
		return problemsOf(err)
	}
	if k.check != nil {
		if err := k.check(ctx, tx, req, v, old); err != nil {
			return problemsOf(err)
		}
	}
	return nil, nil
}

// problemsOf separates validation problems (collected across a batch) from
// errors that stop the call.
func problemsOf(err error) (tresor.Problems, error) {
	if e := tresor.AsError(err); e != nil && e.Code == tresor.ECValidation && len(e.Fields) > 0 {
		return e.Fields, nil
	}
	return nil, err
}

// read returns one object.
func read[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], id string) (PT, error) {
	req, err := g.authorize(ctx, k.need)
	if err != nil {
		return nil, err
	}
	action := k.name + ".read"
	row, err := k.get(ctx, g.store.Read(), id)
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, k.name, []string{id}, nil, err))
		return nil, err
	}
	v, err := k.fromRow(ctx, g, row, req.pu.Allows)
	if err == nil {
		err = encodable(k.name, v)
	}
	if gerr := k.guarded(ctx, g, g.store.Read(), req, v); gerr != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, k.name, []string{id}, nil, gerr))
		return nil, gerr // a refusal comes first: it says less than a damaged record
	}
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, k.name, []string{id}, nil, err))
		return nil, err
	}
	v = k.shown(req, v)
	if k.personal() {
		if err := g.record(ctx, g.entry(ctx, action, k.name, []string{id}, shownCategories(v), nil)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// listOf turns up to limit+1 rows into a page and the cursor of the next.
func listOf[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], req *request, rows []R, limit int) (*tresor.List[PT], error) {
	out := &tresor.List[PT]{Items: make([]PT, 0, min(len(rows), limit))}
	// A damaged record is listed with its plain fields and "damaged": one
	// bad record does not hide the others.
	vs := make([]PT, 0, len(rows))
	for _, row := range rows {
		v, err := k.fromRow(ctx, g, row, req.pu.Allows)
		if err == nil {
			err = encodable(k.name, v)
		}
		if err != nil && !isDamaged(v) {
			return nil, err
		}
		vs = append(vs, v)
	}
	// The people of the page whose objection under Art. 21(1) may stop this
	// purpose, looked up in one query instead of one a row.
	var people []string
	for _, v := range vs[:min(len(vs), limit)] {
		switch {
		case k.subject != nil:
			people = append(people, k.subject(v))
		case k.name == "contact":
			people = append(people, v.Base().ID)
		}
	}
	if err := req.lookUpObjections(ctx, g.store.Read(), people); err != nil {
		return nil, err
	}
	defer func() { req.objections = nil }()
	var last string
	objected := map[string]bool{} // by person: an objection under Art. 21(1) stops this purpose
	for i, v := range vs {
		if i == limit {
			out.Next = tresor.EncodeCursor(last)
			break
		}
		last = v.Base().ID
		if k.listed(ctx, g, req, v) != nil {
			continue // the query leaves these out; this is a second line of defence
		}
		if k.subject != nil {
			id := k.subject(v)
			stop, seen := objected[id]
			if !seen {
				stop = g.personInterest(ctx, g.store.Read(), req, id) != nil
				objected[id] = stop
			}
			if stop {
				continue
			}
		}
		out.Items = append(out.Items, k.shown(req, v))
	}
	// Every hit is recorded, an empty list too: a search is an access.
	if k.personal() {
		var cats []tresor.Category
		for _, v := range out.Items {
			cats = mergeCategories(cats, shownCategories(v))
		}
		if err := g.record(ctx, g.entry(ctx, k.name+".list", k.name, idsOf(out.Items), cats, nil)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// page authorises a list call and prepares its page: one row more than asked
// tells whether there is a next page.
func (g *Gate) page(ctx context.Context, need access, p *tresor.Page) (*request, int, error) {
	req, err := g.authorize(ctx, need)
	if err != nil {
		return nil, 0, err
	}
	if err := p.Normalize(); err != nil {
		return nil, 0, err
	}
	limit := p.Limit
	p.Limit++
	return req, limit, nil
}

// change applies a merge patch to a stored object.
func change[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], id string, u tresor.Update) (PT, error) {
	req, err := g.authorize(ctx, k.writeNeed())
	if err != nil {
		return nil, err
	}
	var out PT
	var done *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := k.get(ctx, tx, id)
		if err != nil {
			return err
		}
		old, err := k.fromRow(ctx, g, row, nil)
		if gerr := k.guarded(ctx, g, tx, req, old); gerr != nil {
			return gerr
		}
		if err != nil {
			return err
		}
		if err := notArchived(old); err != nil {
			return err
		}
		if err := checkVersion(k.name, old.Base().Version, u.IfVersion); err != nil {
			return err
		}
		v, err := k.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		if err := tresor.ApplyPatch(v, u.Patch, append(slices.Clone(tresor.MetaFields), k.readOnly...)...); err != nil {
			return err
		}
		*v.Base() = *old.Base()
		v.Base().UpdatedAt, v.Base().Version = req.now, old.Base().Version+1
		p, err := k.prepareAndCheck(ctx, tx, req, v, old)
		if err != nil {
			return err
		}
		if err := p.Err(k.name); err != nil {
			return err
		}
		newRow, err := k.toRow(ctx, tx, g, v, row)
		if err != nil {
			return err
		}
		out = v
		if err := k.update(ctx, tx, newRow, old.Base().Version); err != nil {
			return err
		}
		var cats []tresor.Category
		if k.personal() {
			cats = categoriesOf(changedFields(old, v))
		}
		done = g.entry(ctx, k.name+".update", k.name, []string{id}, cats, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{done})
	})
	if err != nil {
		err = explain(ctx, g, k, err, []PT{out})
		g.recordBestEffort(ctx, g.entry(ctx, k.name+".update", k.name, []string{id}, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{done})
	return k.shown(req, out), nil
}

// remove deletes a stored object. It reads the object first: guards,
// archives and versions are checked on every delete.
func remove[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], id string, ifVersion int64, before func(tx tresor.Tx) error) error {
	req, err := g.authorize(ctx, k.writeNeed())
	if err != nil {
		return err
	}
	var done *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := k.get(ctx, tx, id)
		if err != nil {
			return err
		}
		v, err := k.fromRow(ctx, g, row, nil)
		if gerr := k.guarded(ctx, g, tx, req, v); gerr != nil {
			return gerr
		}
		if err != nil && !isDamaged(v) {
			return err // a damaged record may still be deleted
		}
		// A purpose deletes only what it may read: a record holding data it
		// may not see is another purpose's to delete.
		if req.pu != nil && k.personal() {
			if hidden := g.policy.Withheld(req.pu, shownCategories(v)); len(hidden) > 0 {
				return req.pu.RefuseDeleteWithheld(hidden)
			}
		}
		if err := notArchived(v); err != nil {
			return err
		}
		if err := checkVersion(k.name, v.Base().Version, ifVersion); err != nil {
			return err
		}
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		if err := k.delete(ctx, tx, id); err != nil {
			return err
		}
		done = g.entry(ctx, k.name+".delete", k.name, []string{id}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{done})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, k.name+".delete", k.name, []string{id}, nil, err))
		return err
	}
	g.committed([]*tresor.AuditEntry{done})
	return nil
}

func checkVersion(object string, stored, want int64) error {
	if want != 0 && stored != want {
		return tresor.Errorf(tresor.ECVersionMismatch,
			"The %s is at version %d, not %d as your If-Match says; read it again and repeat your change.", object, stored, want)
	}
	return nil
}

// explain turns the store's generic ECInvalidReference into a validation
// error that names the field whose referenced object is missing. It looks only
// after the failure, so the common case pays nothing for it.
func explain[T any, PT interface {
	*T
	object
}, R any](ctx context.Context, g *Gate, k *kind[T, PT, R], err error, vs []PT) error {
	e := tresor.AsError(err)
	if e == nil || e.Code != tresor.ECInvalidReference || k.refs == nil {
		return err
	}
	var probs tresor.Problems
	for i, v := range vs {
		if v == nil {
			continue
		}
		for _, r := range k.refs(v) {
			if r.id == "" || g.exists(ctx, r.object, r.id) {
				continue
			}
			field := r.field
			if len(vs) > 1 {
				field = fmt.Sprintf("[%d].%s", i, field)
			}
			probs.Add(field, "there is no %s with id %q", r.object, r.id)
		}
	}
	if len(probs) == 0 {
		return err
	}
	out := tresor.AsError(probs.Err(k.name))
	out.Code, out.Err = tresor.ECInvalidReference, err
	return out
}

// exists reports whether the referenced object exists.
func (g *Gate) exists(ctx context.Context, object, id string) bool {
	r := g.store.Read()
	var err error
	switch object {
	case "user":
		_, err = r.User(ctx, id)
	case "organization":
		_, err = r.Organization(ctx, id)
	case "contact":
		_, err = r.Contact(ctx, id)
	case "deal":
		_, err = r.Deal(ctx, id)
	case "case":
		_, err = r.Case(ctx, id)
	case "pipeline":
		_, err = r.Pipeline(ctx, id)
	default:
		return true
	}
	return err == nil
}

// encodable checks that v can be written out as JSON. A record that cannot
// (its stored provenance is not JSON, a time lies beyond the year 9999) is
// damaged like one whose sealed fields do not open: the parts that do not
// encode are dropped, it is marked Damaged and comes with an ECDamaged error,
// so a list shows it marked and a read refuses it, instead of the answer
// failing as a whole.
func encodable(kind string, v object) error {
	_, cause := json.Marshal(v)
	if cause == nil {
		return nil
	}
	rv := reflect.ValueOf(v).Elem()
	mark := rv.FieldByName("Damaged")
	if !mark.IsValid() || mark.Kind() != reflect.Bool {
		return fmt.Errorf("%s %s cannot be encoded: %w", kind, v.Base().ID, cause)
	}
	dropUnencodable(rv)
	mark.SetBool(true)
	if _, err := json.Marshal(v); err != nil {
		return fmt.Errorf("%s %s cannot be encoded: %w", kind, v.Base().ID, err)
	}
	id := v.Base().ID
	return &tresor.Error{Code: tresor.ECDamaged, Err: cause,
		Message:   fmt.Sprintf("The stored %s %s is damaged: part of it cannot be written out. Restore it from a backup (tresor backup restore).", kind, id),
		MessageDE: fmt.Sprintf("Der gespeicherte Datensatz (%s %s) ist beschädigt: Ein Teil davon lässt sich nicht ausgeben. Stellen Sie ihn aus einer Sicherung wieder her (tresor backup restore).", kind, id)}
}

// dropUnencodable zeroes the fields of the struct rv that do not encode,
// looking into embedded structs.
func dropUnencodable(rv reflect.Value) {
	t := rv.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), rv.Field(i)
		if !f.IsExported() {
			continue
		}
		if _, err := json.Marshal(fv.Interface()); err == nil {
			continue
		}
		if f.Anonymous && fv.Kind() == reflect.Struct {
			dropUnencodable(fv)
		} else {
			fv.SetZero()
		}
	}
}

// isDamaged reports whether v came back from fromRow marked damaged.
func isDamaged(v any) bool {
	d, ok := v.(interface{ IsDamaged() bool })
	return ok && d.IsDamaged()
}
