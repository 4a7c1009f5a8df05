package gate

import (
	"context"
	"strings"

	"tresor"
	"tresor/policy"
)

// one inserts the single row a non-bulk create makes.
func one[R any](f func(ctx context.Context, tx tresor.Tx, row R) error) func(context.Context, tresor.Tx, []R) error {
	return func(ctx context.Context, tx tresor.Tx, rows []R) error {
		for _, r := range rows {
			if err := f(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	}
}

// same is the row mapping of objects without personal fields: a copy.
func same[T any](_ context.Context, _ tresor.Tx, _ *Gate, v *T, _ *T) (*T, error) {
	c := *v
	return &c, nil
}

// stored is the fromRow of kinds without sealed fields.
func stored[T any](_ context.Context, _ *Gate, v *T, _ func(tresor.Category) bool) (*T, error) {
	c := *v
	return &c, nil
}

// ---- organizations

var organizations = &kind[tresor.Organization, *tresor.Organization, *tresor.Organization]{
	name:     "organization",
	need:     accessPurpose,
	readOnly: []string{"tags"},
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.Organization, error) {
		return r.Organization(ctx, id)
	},
	insert: one(func(ctx context.Context, tx tresor.Tx, o *tresor.Organization) error {
		return tx.InsertOrganization(ctx, o)
	}),
	update: func(ctx context.Context, tx tresor.Tx, o *tresor.Organization, prev int64) error {
		return tx.UpdateOrganization(ctx, o, prev)
	},
	delete:  func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeleteOrganization(ctx, id) },
	toRow:   same[tresor.Organization],
	fromRow: stored[tresor.Organization],
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, o, old *tresor.Organization) error {
		if old == nil && o.OwnerID == "" {
			o.OwnerID = req.ownerID()
		}
		return nil
	},
	refs: func(o *tresor.Organization) []ref { return []ref{{"owner_id", "user", o.OwnerID}} },
}

// CreateOrganization stores a new organization.
func (g *Gate) CreateOrganization(ctx context.Context, o *tresor.Organization) error {
	return create(ctx, g, organizations, []*tresor.Organization{o})
}

// Organization returns one organization.
func (g *Gate) Organization(ctx context.Context, id string) (*tresor.Organization, error) {
	return read(ctx, g, organizations, id)
}

// Organizations lists organizations.
func (g *Gate) Organizations(ctx context.Context, f tresor.OrganizationFilter) (*tresor.List[*tresor.Organization], error) {
	req, limit, err := g.page(ctx, organizations.need, &f.Page)
	if err != nil {
		return nil, err
	}
	if err := tagFilter(&f.Tag); err != nil {
		return nil, err
	}
	if f.Tag != "" && f.Query != "" {
		return nil, &tresor.Error{Code: tresor.ECInvalidParameter, Message: "Give q or tag, not both: the search of organizations does not filter by tag.",
			MessageDE: "Geben Sie q oder tag an, nicht beides: Die Suche nach Organisationen filtert nicht nach Schlagwort."}
	}
	if f.Query != "" {
		return g.searchOrganizations(ctx, req, f, limit)
	}
	rows, err := g.store.Read().Organizations(ctx, f)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, organizations, req, rows, limit)
}

// UpdateOrganization changes an organization with a merge patch.
func (g *Gate) UpdateOrganization(ctx context.Context, id string, u tresor.Update) (*tresor.Organization, error) {
	return change(ctx, g, organizations, id, u)
}

// DeleteOrganization deletes an organization; contacts, deals, cases and
// interactions that referred to it keep existing without the reference.
func (g *Gate) DeleteOrganization(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, organizations, id, ifVersion, nil)
}

// ---- interactions

var interactions = &kind[tresor.Interaction, *tresor.Interaction, *tresor.InteractionRow]{
	name:     "interaction",
	need:     accessPurpose,
	readOnly: append([]string{"withheld", "provenance", "retain_until"}, tresor.StateFields...),
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.InteractionRow, error) {
		return r.Interaction(ctx, id)
	},
	insert: one(func(ctx context.Context, tx tresor.Tx, row *tresor.InteractionRow) error {
		return tx.InsertInteraction(ctx, row)
	}),
	update: func(ctx context.Context, tx tresor.Tx, row *tresor.InteractionRow, prev int64) error {
		return tx.UpdateInteraction(ctx, row, prev)
	},
	delete: func(ctx context.Context, tx tresor.Tx, id string) error {
		if err := tx.DeleteInteraction(ctx, id); err != nil {
			return err
		}
		return tx.DeleteDataKey(ctx, id) // its own key, if it belongs to no contact
	},
	toRow: func(ctx context.Context, tx tresor.Tx, g *Gate, in *tresor.Interaction, old *tresor.InteractionRow) (*tresor.InteractionRow, error) {
		row := &tresor.InteractionRow{Interaction: *in}
		row.InteractionContent, row.Withheld, row.Collection = tresor.InteractionContent{}, nil, tresor.Collection{}
		var err error
		row.Sealed, row.Sealing, err = g.sealRecord(ctx, tx, "interaction", in.ID, in.ContactID, old.StoredKey(), &in.InteractionContent)
		return row, err
	},
	fromRow: func(ctx context.Context, g *Gate, row *tresor.InteractionRow, allow func(tresor.Category) bool) (*tresor.Interaction, error) {
		in := row.Interaction
		skipped, err := g.openRecord(ctx, "interaction", in.ID, row.Key, row.Sealed, &in.InteractionContent, allow)
		if err != nil {
			in.InteractionContent, in.Damaged = tresor.InteractionContent{}, true
		}
		in.Withheld = skipped
		return &in, err
	},
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, in, old *tresor.Interaction) error {
		if old != nil {
			return nil
		}
		if len(in.Withheld) > 0 || !in.Provenance.IsZero() {
			return fieldError("interaction", "provenance", "withheld and provenance are set by Tresor; leave them out")
		}
		if in.OwnerID == "" {
			in.OwnerID = req.ownerID()
		}
		if in.OccurredAt.IsZero() {
			in.OccurredAt = req.now
		}
		in.OccurredAt = tresor.Truncate(in.OccurredAt)
		if in.Direction == "" && in.Kind == tresor.KindNote {
			in.Direction = tresor.DirectionInternal
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, in, old *tresor.Interaction) error {
		if err := req.g.retentionClass(in); err != nil {
			return err
		}
		if err := contactWritable(ctx, tx, req, in.ContactID); err != nil {
			return err
		}
		var before any
		var was tresor.InteractionContent
		if old != nil {
			before, was = old, old.InteractionContent
		}
		if err := screenTyped(req, &in.Collection, typed{field: "subject", text: in.Subject, was: was.Subject},
			typed{field: "body", text: in.Body, was: was.Body}); err != nil {
			return err
		}
		if err := req.g.collect(req, in, before, &in.Collection, &in.Provenance); err != nil {
			return err
		}
		// The latest interaction with a person keeps their consent alive and
		// starts their retention period.
		if in.ContactID != "" {
			return tx.TouchContact(ctx, in.ContactID, in.OccurredAt)
		}
		return nil
	},
	subject: func(in *tresor.Interaction) string { return in.ContactID },
	present: func(req *request, in *tresor.Interaction) {
		in.Withheld = mergeCategories(in.Withheld, withhold(in, req.pu))
	},
	refs: func(in *tresor.Interaction) []ref {
		return []ref{{"owner_id", "user", in.OwnerID}, {"contact_id", "contact", in.ContactID},
			{"organization_id", "organization", in.OrganizationID}, {"deal_id", "deal", in.DealID}, {"case_id", "case", in.CaseID}}
	},
}

func fieldError(object, field, format string, args ...any) error {
	var p tresor.Problems
	p.Add(field, format, args...)
	return p.Err(object)
}

// CreateInteraction stores a new interaction.
func (g *Gate) CreateInteraction(ctx context.Context, in *tresor.Interaction) error {
	return create(ctx, g, interactions, []*tresor.Interaction{in})
}

// Interaction returns one interaction.
func (g *Gate) Interaction(ctx context.Context, id string) (*tresor.Interaction, error) {
	return read(ctx, g, interactions, id)
}

// Interactions lists interactions.
func (g *Gate) Interactions(ctx context.Context, f tresor.InteractionFilter) (*tresor.List[*tresor.Interaction], error) {
	req, limit, err := g.page(ctx, interactions.need, &f.Page)
	if err != nil {
		return nil, err
	}
	f.HideArchived, f.HideRestricted = !req.pu.SeesRestricted, !req.pu.SeesRestricted
	rows, err := g.store.Read().Interactions(ctx, f)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, interactions, req, rows, limit)
}

// UpdateInteraction changes an interaction with a merge patch.
func (g *Gate) UpdateInteraction(ctx context.Context, id string, u tresor.Update) (*tresor.Interaction, error) {
	return change(ctx, g, interactions, id, u)
}

// DeleteInteraction deletes an interaction.
func (g *Gate) DeleteInteraction(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, interactions, id, ifVersion, nil)
}

// ---- cases

var cases = &kind[tresor.Case, *tresor.Case, *tresor.CaseRow]{
	name:     "case",
	need:     accessPurpose,
	readOnly: append([]string{"withheld", "resolved_at", "provenance"}, tresor.StateFields...),
	get:      func(ctx context.Context, r tresor.Reader, id string) (*tresor.CaseRow, error) { return r.Case(ctx, id) },
	insert: one(func(ctx context.Context, tx tresor.Tx, row *tresor.CaseRow) error {
		return tx.InsertCase(ctx, row)
	}),
	update: func(ctx context.Context, tx tresor.Tx, row *tresor.CaseRow, prev int64) error {
		return tx.UpdateCase(ctx, row, prev)
	},
	delete: func(ctx context.Context, tx tresor.Tx, id string) error {
		if err := tx.DeleteCase(ctx, id); err != nil {
			return err
		}
		return tx.DeleteDataKey(ctx, id) // its own key, if it belongs to no contact
	},
	toRow: func(ctx context.Context, tx tresor.Tx, g *Gate, c *tresor.Case, old *tresor.CaseRow) (*tresor.CaseRow, error) {
		row := &tresor.CaseRow{Case: *c}
		row.CaseContent, row.Withheld, row.Collection = tresor.CaseContent{}, nil, tresor.Collection{}
		var err error
		row.Sealed, row.Sealing, err = g.sealRecord(ctx, tx, "case", c.ID, c.ContactID, old.StoredKey(), &c.CaseContent)
		return row, err
	},
	fromRow: func(ctx context.Context, g *Gate, row *tresor.CaseRow, allow func(tresor.Category) bool) (*tresor.Case, error) {
		c := row.Case
		skipped, err := g.openRecord(ctx, "case", c.ID, row.Key, row.Sealed, &c.CaseContent, allow)
		if err != nil {
			c.CaseContent, c.Damaged = tresor.CaseContent{}, true
		}
		c.Withheld = skipped
		return &c, err
	},
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, c, old *tresor.Case) error {
		if old == nil {
			if len(c.Withheld) > 0 || c.ResolvedAt != nil || !c.Provenance.IsZero() {
				return fieldError("case", "resolved_at", "withheld, provenance and resolved_at are set by Tresor; leave them out")
			}
			if c.Status == "" {
				c.Status = tresor.CaseNew
			}
			if c.Priority == "" {
				c.Priority = tresor.PriorityNormal
			}
		}
		// resolved_at follows the status: set when the case is resolved or
		// closed, kept while it stays so, cleared when it is reopened.
		done := c.Status == tresor.CaseResolved || c.Status == tresor.CaseClosed
		switch {
		case done && c.ResolvedAt == nil:
			t := req.now
			c.ResolvedAt = &t
		case !done:
			c.ResolvedAt = nil
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, c, old *tresor.Case) error {
		if err := contactWritable(ctx, tx, req, c.ContactID); err != nil {
			return err
		}
		var before any
		var was tresor.CaseContent
		if old != nil {
			before, was = old, old.CaseContent
		}
		if err := screenTyped(req, &c.Collection, typed{field: "subject", text: c.Subject, was: was.Subject},
			typed{field: "description", text: c.Description, was: was.Description}); err != nil {
			return err
		}
		return req.g.collect(req, c, before, &c.Collection, &c.Provenance)
	},
	subject: func(c *tresor.Case) string { return c.ContactID },
	present: func(req *request, c *tresor.Case) { c.Withheld = mergeCategories(c.Withheld, withhold(c, req.pu)) },
	refs: func(c *tresor.Case) []ref {
		return []ref{{"assignee_id", "user", c.AssigneeID}, {"contact_id", "contact", c.ContactID},
			{"organization_id", "organization", c.OrganizationID}}
	},
}

// CreateCase stores a new service case.
func (g *Gate) CreateCase(ctx context.Context, c *tresor.Case) error {
	return create(ctx, g, cases, []*tresor.Case{c})
}

// Case returns one case.
func (g *Gate) Case(ctx context.Context, id string) (*tresor.Case, error) {
	return read(ctx, g, cases, id)
}

// Cases lists cases.
func (g *Gate) Cases(ctx context.Context, f tresor.CaseFilter) (*tresor.List[*tresor.Case], error) {
	req, limit, err := g.page(ctx, cases.need, &f.Page)
	if err != nil {
		return nil, err
	}
	f.HideArchived, f.HideRestricted = !req.pu.SeesRestricted, !req.pu.SeesRestricted
	rows, err := g.store.Read().Cases(ctx, f)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, cases, req, rows, limit)
}

// UpdateCase changes a case with a merge patch.
func (g *Gate) UpdateCase(ctx context.Context, id string, u tresor.Update) (*tresor.Case, error) {
	return change(ctx, g, cases, id, u)
}

// DeleteCase deletes a case.
func (g *Gate) DeleteCase(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, cases, id, ifVersion, nil)
}

// ---- deals

var deals = &kind[tresor.Deal, *tresor.Deal, *tresor.Deal]{
	name: "deal",
	need: accessPurpose,
	// closed_at follows the stage's outcome.
	readOnly: []string{"closed_at", "archived_at"},
	get:      func(ctx context.Context, r tresor.Reader, id string) (*tresor.Deal, error) { return r.Deal(ctx, id) },
	insert: one(func(ctx context.Context, tx tresor.Tx, d *tresor.Deal) error {
		return tx.InsertDeal(ctx, d)
	}),
	update: func(ctx context.Context, tx tresor.Tx, d *tresor.Deal, prev int64) error {
		return tx.UpdateDeal(ctx, d, prev)
	},
	delete:  func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeleteDeal(ctx, id) },
	toRow:   same[tresor.Deal],
	fromRow: stored[tresor.Deal],
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, d, old *tresor.Deal) error {
		if old == nil {
			if d.ClosedAt != nil {
				return fieldError("deal", "closed_at", "is set by Tresor when the deal reaches a won or lost stage; leave it out")
			}
			if d.OwnerID == "" {
				d.OwnerID = req.ownerID()
			}
			if d.PipelineID == "" {
				d.PipelineID = tresor.DefaultPipelineID
			}
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, d, old *tresor.Deal) error {
		if err := contactWritable(ctx, tx, req, d.ContactID); err != nil {
			return err
		}
		// A deal's title and outcome reason are stored unsealed, beside a
		// person: they never carry a special category (no exception).
		var was tresor.Deal
		if old != nil {
			was = *old
		}
		if err := screenNever(typed{field: "title", text: d.Title, was: was.Title},
			typed{field: "outcome_reason", text: d.OutcomeReason, was: was.OutcomeReason}); err != nil {
			return err
		}
		pl, err := tx.Pipeline(ctx, d.PipelineID)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return fieldError("deal", "pipeline", "there is no pipeline %q", d.PipelineID)
		} else if err != nil {
			return err
		}
		st, ok := pl.Stage(d.Stage)
		if !ok {
			ids := make([]string, len(pl.Stages))
			for i, s := range pl.Stages {
				ids[i] = s.ID
			}
			return fieldError("deal", "stage", "%q is not a stage of the pipeline %q; its stages are %v", d.Stage, pl.ID, ids)
		}
		// closed_at: set when the deal reaches a won or lost stage, cleared when it reopens.
		switch {
		case st.Outcome != tresor.OutcomeOpen && d.ClosedAt == nil:
			t := req.now
			d.ClosedAt = &t
		case st.Outcome == tresor.OutcomeOpen:
			d.ClosedAt = nil
		}
		// outcome_reason: why a closed deal ended so; a reopened deal
		// forgets it, an open one cannot be given one.
		if st.Outcome == tresor.OutcomeOpen && d.OutcomeReason != "" {
			if old == nil || old.ClosedAt == nil || old.OutcomeReason != d.OutcomeReason {
				return fieldError("deal", "outcome_reason", "only a deal in a won or lost stage has an outcome reason")
			}
			d.OutcomeReason = ""
		}
		return nil
	},
	subject: func(d *tresor.Deal) string { return d.ContactID },
	refs: func(d *tresor.Deal) []ref {
		return []ref{{"owner_id", "user", d.OwnerID}, {"contact_id", "contact", d.ContactID},
			{"organization_id", "organization", d.OrganizationID}, {"pipeline", "pipeline", d.PipelineID}}
	},
}

// CreateDeal stores a new deal.
func (g *Gate) CreateDeal(ctx context.Context, d *tresor.Deal) error {
	return create(ctx, g, deals, []*tresor.Deal{d})
}

// Deal returns one deal.
func (g *Gate) Deal(ctx context.Context, id string) (*tresor.Deal, error) {
	return read(ctx, g, deals, id)
}

// Deals lists deals.
func (g *Gate) Deals(ctx context.Context, f tresor.DealFilter) (*tresor.List[*tresor.Deal], error) {
	req, limit, err := g.page(ctx, deals.need, &f.Page)
	if err != nil {
		return nil, err
	}
	if !tresor.ValidDealSort(f.Sort) {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not an order of deals; use one of %v, descending with a leading -.", f.Sort, tresor.DealSorts())
	}
	f.HideArchived, f.HideRestricted = !req.pu.SeesRestricted, !req.pu.SeesRestricted
	rows, err := g.store.Read().Deals(ctx, f)
	if err != nil {
		return nil, err
	}
	l, err := listOf(ctx, g, deals, req, rows, limit)
	if err == nil && f.Sort != "" && l.Next != "" {
		// A sorted list goes on after the last deal's key and id.
		last := rows[limit-1]
		l.Next = tresor.EncodeSortCursor(f.Sort, last.SortKey(f.Sort), last.ID)
	}
	return l, err
}

// UpdateDeal changes a deal with a merge patch.
func (g *Gate) UpdateDeal(ctx context.Context, id string, u tresor.Update) (*tresor.Deal, error) {
	return change(ctx, g, deals, id, u)
}

// DeleteDeal deletes a deal.
func (g *Gate) DeleteDeal(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, deals, id, ifVersion, nil)
}

// ---- pipelines

var pipelines = &kind[tresor.Pipeline, *tresor.Pipeline, *tresor.Pipeline]{
	name:     "pipeline",
	need:     accessConfigRead,
	chosenID: true,
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.Pipeline, error) {
		return r.Pipeline(ctx, id)
	},
	insert: one(func(ctx context.Context, tx tresor.Tx, pl *tresor.Pipeline) error {
		return tx.InsertPipeline(ctx, pl)
	}),
	update: func(ctx context.Context, tx tresor.Tx, pl *tresor.Pipeline, prev int64) error {
		return tx.UpdatePipeline(ctx, pl, prev)
	},
	delete:  func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeletePipeline(ctx, id) },
	toRow:   same[tresor.Pipeline],
	fromRow: stored[tresor.Pipeline],
	check: func(ctx context.Context, tx tresor.Tx, req *request, pl, old *tresor.Pipeline) error {
		if old == nil {
			return nil
		}
		// A stage that deals stand in cannot disappear.
		for _, s := range old.Stages {
			if _, ok := pl.Stage(s.ID); ok {
				continue
			}
			n, err := tx.CountDeals(ctx, pl.ID, s.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return tresor.Errorf(tresor.ECConflict, "The stage %q still holds %d deals; move them to another stage first.", s.ID, n)
			}
		}
		return nil
	},
}

// CreatePipeline stores a new pipeline (administrators only).
func (g *Gate) CreatePipeline(ctx context.Context, pl *tresor.Pipeline) error {
	err := create(ctx, g, pipelines, []*tresor.Pipeline{pl})
	if tresor.ErrorCode(err) == tresor.ECConflict {
		return tresor.Errorf(tresor.ECConflict, "A pipeline with the id %q exists already.", pl.ID)
	}
	return err
}

// Pipeline returns one pipeline.
func (g *Gate) Pipeline(ctx context.Context, id string) (*tresor.Pipeline, error) {
	return read(ctx, g, pipelines, id)
}

// Pipelines lists pipelines.
func (g *Gate) Pipelines(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Pipeline], error) {
	req, limit, err := g.page(ctx, pipelines.need, &p)
	if err != nil {
		return nil, err
	}
	rows, err := g.store.Read().Pipelines(ctx, p)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, pipelines, req, rows, limit)
}

// UpdatePipeline changes a pipeline with a merge patch (administrators only).
func (g *Gate) UpdatePipeline(ctx context.Context, id string, u tresor.Update) (*tresor.Pipeline, error) {
	return change(ctx, g, pipelines, id, u)
}

// DeletePipeline deletes a pipeline that holds no deals (administrators only).
func (g *Gate) DeletePipeline(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, pipelines, id, ifVersion, func(tx tresor.Tx) error {
		n, err := tx.CountDeals(ctx, id, "")
		if err != nil {
			return err
		}
		if n > 0 {
			return tresor.Errorf(tresor.ECConflict, "The pipeline %q still holds %d deals; delete or move them first.", id, n)
		}
		return nil
	})
}

// sealRecord seals the content of an interaction or case under its
// contact's data key, or its own when it belongs to no contact; have is the
// key the stored row was sealed with.
func (g *Gate) sealRecord(ctx context.Context, tx tresor.Tx, kind, id, contactID string, have *tresor.WrappedKey, v any) ([]byte, tresor.Sealing, error) {
	s, err := g.sealerFor(ctx, tx, keySubjectOf(contactID, id), have)
	if err != nil {
		return nil, tresor.Sealing{}, err
	}
	return s.seal(kind, id, v)
}

// keySubjectOf is whose data key seals a record: its contact's, or its own
// when it belongs to no contact.
func keySubjectOf(contactID, id string) string {
	if contactID != "" {
		return contactID
	}
	return id
}

// contactWritable refuses new or changed records of an archived contact (a
// closed customer relation is read-only) and, for every purpose but the one
// that sees restricted people, of a restricted one (Art. 18). A missing
// contact is left to the reference check.
func contactWritable(ctx context.Context, r tresor.Reader, req *request, id string) error {
	if id == "" {
		return nil
	}
	row, err := r.Contact(ctx, id)
	if err != nil {
		return nil
	}
	if row.RestrictedAt != nil && !req.pu.SeesRestricted {
		return policy.Refuse(policy.RRestricted)
	}
	return notArchived(row)
}

// retentionClass checks an interaction's statutory retention class and sets
// the end of its period.
func (g *Gate) retentionClass(in *tresor.Interaction) error {
	in.RetainUntil = nil
	if in.RetentionClass == "" {
		return nil
	}
	f, ok := g.policy.Floor(in.RetentionClass)
	if !ok {
		return fieldError("interaction", "retention_class", "%q is not a retention class; the classes are %s",
			in.RetentionClass, strings.Join(g.policy.FloorIDs(), ", "))
	}
	until := f.Until(in.OccurredAt)
	in.RetainUntil = &until
	return nil
}
