package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"tresor"
)

// ---- organizations

func scanOrganization(s scanner) (*tresor.Organization, error) {
	var o tresor.Organization
	var owner, address sql.NullString
	var created, updated int64
	if err := s.Scan(&o.ID, &owner, &o.Name, &o.Website, &o.Industry, &address, &created, &updated, &o.Version); err != nil {
		return nil, err
	}
	o.OwnerID = owner.String
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	if address.Valid {
		o.Address = new(tresor.PostalAddress)
		if err := json.Unmarshal([]byte(address.String), o.Address); err != nil {
			return nil, fmt.Errorf("organization %s: address: %w", o.ID, err)
		}
	}
	return &o, nil
}

func jsonColumn(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Organization returns one organization.
func (c *conn) Organization(ctx context.Context, id string) (*tresor.Organization, error) {
	row, err := get(ctx, c, "organization", id, scanOrganization)
	if err != nil {
		return nil, err
	}
	return row, organizationTags(ctx, c, []*tresor.Organization{row})
}

// Organizations lists organizations.
func (c *conn) Organizations(ctx context.Context, q tresor.OrganizationFilter) ([]*tresor.Organization, error) {
	var f filter
	f.eq("o.owner_id", q.OwnerID)
	f.since("o.updated_at", q.UpdatedSince)
	if q.Tag != "" {
		f.add("EXISTS (SELECT 1 FROM organization_tags ot WHERE ot.organization_id = o.id AND ot.tag = ?)", q.Tag)
	}
	text, args := f.query(queries["organization-select"], "o.id", q.Page)
	rows, err := list(ctx, c, text, args, scanOrganization)
	if err != nil {
		return nil, err
	}
	return rows, organizationTags(ctx, c, rows)
}

// InsertOrganization inserts an organization.
func (c *conn) InsertOrganization(ctx context.Context, o *tresor.Organization) error {
	addr, err := addressColumn(o.Address)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "organization-insert", o.ID, nullID(o.OwnerID), o.Name, o.Website, o.Industry, addr,
		micros(o.CreatedAt), micros(o.UpdatedAt), o.Version)
	return err
}

func addressColumn(a *tresor.PostalAddress) (any, error) {
	if a == nil {
		return nil, nil
	}
	return jsonColumn(a)
}

// UpdateOrganization replaces an organization.
func (c *conn) UpdateOrganization(ctx context.Context, o *tresor.Organization, prev int64) error {
	addr, err := addressColumn(o.Address)
	if err != nil {
		return err
	}
	return changeOne(ctx, c, "organization", o.ID, "organization-update", o.ID, nullID(o.OwnerID), o.Name, o.Website,
		o.Industry, addr, micros(o.UpdatedAt), o.Version, prev)
}

// DeleteOrganization deletes an organization; references to it become empty.
func (c *conn) DeleteOrganization(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "organization", id)
}

// ---- interactions

func scanInteraction(s scanner) (*tresor.InteractionRow, error) {
	var r tresor.InteractionRow
	var owner, contact, org, deal, kase sql.NullString
	var occurred, created, updated int64
	var retain, archived sql.NullInt64
	var prov string
	var key keyColumns
	if err := s.Scan(&r.ID, &r.Kind, &r.Direction, &occurred, &r.DurationSec, &r.Network, &owner, &contact, &org,
		&deal, &kase, &r.RetentionClass, &retain, &archived, &prov, &created, &updated, &r.Version, &r.Sealed,
		&key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	r.Key, r.RetainUntil, r.ArchivedAt = key.get(), optTime(retain), optTime(archived)
	r.Provenance = tresor.ProvenanceJSON([]byte(prov))
	r.OwnerID, r.ContactID, r.OrganizationID, r.DealID, r.CaseID = owner.String, contact.String, org.String, deal.String, kase.String
	r.OccurredAt, r.CreatedAt, r.UpdatedAt = fromMicros(occurred), fromMicros(created), fromMicros(updated)
	return &r, nil
}

// Interaction returns one interaction.
func (c *conn) Interaction(ctx context.Context, id string) (*tresor.InteractionRow, error) {
	return get(ctx, c, "interaction", id, scanInteraction)
}

// Interactions lists interactions.
func (c *conn) Interactions(ctx context.Context, q tresor.InteractionFilter) ([]*tresor.InteractionRow, error) {
	var f filter
	f.eq("i.kind", string(q.Kind))
	f.eq("i.owner_id", q.OwnerID)
	f.eq("i.contact_id", q.ContactID)
	f.eq("i.organization_id", q.OrganizationID)
	f.eq("i.deal_id", q.DealID)
	f.eq("i.case_id", q.CaseID)
	f.since("i.updated_at", q.UpdatedSince)
	if q.HideArchived {
		f.add("i.archived_at IS NULL")
	}
	if q.HideRestricted {
		f.add(notRestricted("i.contact_id"))
	}
	text, args := f.query(queries["interaction-select"], "i.id", q.Page)
	return list(ctx, c, text, args, scanInteraction)
}

func interactionArgs(r *tresor.InteractionRow) []any {
	return []any{string(r.Kind), string(r.Direction), micros(r.OccurredAt), r.DurationSec, r.Network, nullID(r.OwnerID),
		nullID(r.ContactID), nullID(r.OrganizationID), nullID(r.DealID), nullID(r.CaseID), r.RetentionClass,
		nullMicros(r.RetainUntil), nullMicros(r.ArchivedAt), provenanceColumn(r.Provenance), keySubject(r.Key)}
}

// InsertInteraction inserts an interaction.
func (c *conn) InsertInteraction(ctx context.Context, r *tresor.InteractionRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, interactionArgs(r)...)
	_, err := c.exec(ctx, "interaction-insert", append(args, micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed)...)
	return err
}

// UpdateInteraction replaces an interaction.
func (c *conn) UpdateInteraction(ctx context.Context, r *tresor.InteractionRow, prev int64) error {
	if err := c.newKey(ctx, r.Sealing, r.UpdatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, interactionArgs(r)...)
	return changeOne(ctx, c, "interaction", r.ID, "interaction-update", append(args, micros(r.UpdatedAt), r.Version, r.Sealed, prev)...)
}

// DeleteInteraction deletes an interaction.
func (c *conn) DeleteInteraction(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "interaction", id)
}

// ---- pipelines

func scanPipeline(s scanner) (*tresor.Pipeline, error) {
	var p tresor.Pipeline
	var stages string
	var created, updated int64
	if err := s.Scan(&p.ID, &p.Name, &stages, &created, &updated, &p.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(stages), &p.Stages); err != nil {
		return nil, fmt.Errorf("pipeline %s: stages: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// Pipeline returns one pipeline.
func (c *conn) Pipeline(ctx context.Context, id string) (*tresor.Pipeline, error) {
	return get(ctx, c, "pipeline", id, scanPipeline)
}

// Pipelines lists pipelines.
func (c *conn) Pipelines(ctx context.Context, p tresor.Page) ([]*tresor.Pipeline, error) {
	var f filter
	text, args := f.query(queries["pipeline-select"], "p.id", p)
	return list(ctx, c, text, args, scanPipeline)
}

// InsertPipeline inserts a pipeline.
func (c *conn) InsertPipeline(ctx context.Context, p *tresor.Pipeline) error {
	stages, err := jsonColumn(p.Stages)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "pipeline-insert", p.ID, p.Name, stages, micros(p.CreatedAt), micros(p.UpdatedAt), p.Version)
	return err
}

// UpdatePipeline replaces a pipeline.
func (c *conn) UpdatePipeline(ctx context.Context, p *tresor.Pipeline, prev int64) error {
	stages, err := jsonColumn(p.Stages)
	if err != nil {
		return err
	}
	return changeOne(ctx, c, "pipeline", p.ID, "pipeline-update", p.ID, p.Name, stages, micros(p.UpdatedAt), p.Version, prev)
}

// DeletePipeline deletes a pipeline without deals.
func (c *conn) DeletePipeline(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "pipeline", id)
}

// ---- deals

func scanDeal(s scanner) (*tresor.Deal, error) {
	var d tresor.Deal
	var owner, contact, org sql.NullString
	var closed, archived sql.NullInt64
	var created, updated int64
	if err := s.Scan(&d.ID, &d.Title, &d.PipelineID, &d.Stage, &d.ValueMinor, &d.Currency, &owner, &contact, &org,
		&d.ExpectedClose, &closed, &d.OutcomeReason, &created, &updated, &d.Version, &archived); err != nil {
		return nil, err
	}
	d.ArchivedAt = optTime(archived)
	d.OwnerID, d.ContactID, d.OrganizationID = owner.String, contact.String, org.String
	if d.Currency != "" {
		d.Value = tresor.FormatMoney(d.ValueMinor, d.Currency)
	}
	d.ClosedAt = optTime(closed)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// Deal returns one deal.
func (c *conn) Deal(ctx context.Context, id string) (*tresor.Deal, error) {
	return get(ctx, c, "deal", id, scanDeal)
}

// Deals lists deals.
func (c *conn) Deals(ctx context.Context, q tresor.DealFilter) ([]*tresor.Deal, error) {
	var f filter
	f.eq("d.owner_id", q.OwnerID)
	f.eq("d.pipeline_id", q.PipelineID)
	f.eq("d.stage", q.Stage)
	f.eq("d.contact_id", q.ContactID)
	f.eq("d.organization_id", q.OrganizationID)
	f.since("d.updated_at", q.UpdatedSince)
	if q.HideArchived {
		f.add("d.archived_at IS NULL")
	}
	if q.HideRestricted {
		f.add(notRestricted("d.contact_id"))
	}
	if q.Sort == "" {
		text, args := f.query(queries["deal-select"], "d.id", q.Page)
		return list(ctx, c, text, args, scanDeal)
	}
	if !tresor.ValidDealSort(q.Sort) {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not an order of deals; use one of %v, descending with a leading -.", q.Sort, tresor.DealSorts())
	}
	key := dealSortKey{expr: dealSortColumns[strings.TrimPrefix(q.Sort, "-")]}
	if q.Page.After != "" {
		key.after = q.AfterKey
	}
	switch strings.TrimPrefix(q.Sort, "-") {
	case "value", "updated":
		if key.after != nil {
			n, err := strconv.ParseInt(q.AfterKey, 10, 64)
			if err != nil {
				return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued for this order; start again without a cursor.")
			}
			key.after = n
		}
	case "stage":
		if err := c.stageOrder(ctx, &key); err != nil {
			return nil, err
		}
	}
	text, args := f.sorted(queries["deal-select"], key.expr, "d.id", strings.HasPrefix(q.Sort, "-"), key.after, q.Page)
	return list(ctx, c, text, args, scanDeal)
}

// dealSortColumns are the SQL expressions the sorted lists of deals order
// by; their values are the keys tresor.Deal.SortKey gives ("stage" is built
// from the pipelines by stageOrder).
var dealSortColumns = map[string]string{
	"title":      "d.title",
	"value":      "d.value_minor",
	"close_date": "(CASE WHEN d.expected_close = '' THEN '" + tresor.NoCloseDateKey + "' ELSE d.expected_close END)",
	"updated":    "d.updated_at",
}

// dealSortKey is the expression a list of deals is sorted by and the key
// (nil for the first page) of the deal it continues after.
type dealSortKey struct {
	expr  string
	after any
}

// stageOrder makes the sort expression of the order by stage: the
// pipelines by id, each one's stages in the pipeline's order, and deals in
// a stage no pipeline has (which the gate prevents) last. The cursor's key
// "pipeline/stage" becomes the stage's rank.
func (c *conn) stageOrder(ctx context.Context, key *dealSortKey) error {
	var pls []*tresor.Pipeline
	for after := ""; ; {
		page, err := c.Pipelines(ctx, tresor.Page{After: after, Limit: tresor.MaxPageSize})
		if err != nil {
			return err
		}
		pls = append(pls, page...)
		if len(page) < tresor.MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	rank := map[string]int{}
	var b strings.Builder
	b.WriteString("(CASE")
	for _, pl := range pls {
		for _, st := range pl.Stages {
			if !plainSlug(pl.ID) || !plainSlug(st.ID) {
				continue // not stored through the domain's checks; sorts last
			}
			r := len(rank)
			rank[pl.ID+"/"+st.ID] = r
			// Ids of pipelines and stages are slugs: [a-z0-9_-] only, so
			// they can stand in the text as they are.
			fmt.Fprintf(&b, " WHEN d.pipeline_id = '%s' AND d.stage = '%s' THEN %d", pl.ID, st.ID, r)
		}
	}
	fmt.Fprintf(&b, " ELSE %d END)", len(rank))
	if len(rank) == 0 {
		b.Reset()
		b.WriteString("0")
	}
	key.expr = b.String()
	if s, ok := key.after.(string); ok {
		r, known := rank[s]
		if !known {
			r = len(rank) // a stage that is gone: continue with those no pipeline has
		}
		key.after = r
	}
	return nil
}

// plainSlug says whether s has only the characters of an id of a pipeline or stage.
func plainSlug(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == ""
}

func dealArgs(d *tresor.Deal) []any {
	return []any{d.Title, d.PipelineID, d.Stage, d.ValueMinor, d.Currency, nullID(d.OwnerID), nullID(d.ContactID),
		nullID(d.OrganizationID), string(d.ExpectedClose), nullMicros(d.ClosedAt), d.OutcomeReason}
}

// InsertDeal inserts a deal.
func (c *conn) InsertDeal(ctx context.Context, d *tresor.Deal) error {
	args := append([]any{d.ID}, dealArgs(d)...)
	_, err := c.exec(ctx, "deal-insert", append(args, micros(d.CreatedAt), micros(d.UpdatedAt), d.Version)...)
	return err
}

// UpdateDeal replaces a deal.
func (c *conn) UpdateDeal(ctx context.Context, d *tresor.Deal, prev int64) error {
	args := append([]any{d.ID}, dealArgs(d)...)
	return changeOne(ctx, c, "deal", d.ID, "deal-update", append(args, micros(d.UpdatedAt), d.Version, prev)...)
}

// DeleteDeal deletes a deal.
func (c *conn) DeleteDeal(ctx context.Context, id string) error { return deleteOne(ctx, c, "deal", id) }

// CountDeals counts the deals in a pipeline or one of its stages.
func (c *conn) CountDeals(ctx context.Context, pipelineID, stage string) (int, error) {
	s, err := c.stmt(ctx, "deal-count")
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.QueryRowContext(ctx, pipelineID, stage).Scan(&n); err != nil {
		return 0, fmt.Errorf("count deals: %w", err)
	}
	return n, nil
}

// ---- cases

func scanCase(s scanner) (*tresor.CaseRow, error) {
	var r tresor.CaseRow
	var assignee, contact, org sql.NullString
	var resolved, archived sql.NullInt64
	var created, updated int64
	var prov string
	var key keyColumns
	if err := s.Scan(&r.ID, &r.Status, &r.Priority, &r.Channel, &r.Network, &assignee, &contact, &org, &resolved,
		&archived, &prov, &created, &updated, &r.Version, &r.Sealed, &key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	r.Key, r.ArchivedAt = key.get(), optTime(archived)
	r.Provenance = tresor.ProvenanceJSON([]byte(prov))
	r.AssigneeID, r.ContactID, r.OrganizationID = assignee.String, contact.String, org.String
	r.ResolvedAt = optTime(resolved)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

// Case returns one case.
func (c *conn) Case(ctx context.Context, id string) (*tresor.CaseRow, error) {
	return get(ctx, c, "case", id, scanCase)
}

// Cases lists cases.
func (c *conn) Cases(ctx context.Context, q tresor.CaseFilter) ([]*tresor.CaseRow, error) {
	var f filter
	f.eq("k.status", string(q.Status))
	f.eq("k.priority", string(q.Priority))
	f.eq("k.assignee_id", q.AssigneeID)
	f.eq("k.contact_id", q.ContactID)
	f.since("k.updated_at", q.UpdatedSince)
	if q.HideArchived {
		f.add("k.archived_at IS NULL")
	}
	if q.HideRestricted {
		f.add(notRestricted("k.contact_id"))
	}
	text, args := f.query(queries["case-select"], "k.id", q.Page)
	return list(ctx, c, text, args, scanCase)
}

func caseArgs(r *tresor.CaseRow) []any {
	return []any{string(r.Status), string(r.Priority), string(r.Channel), r.Network, nullID(r.AssigneeID),
		nullID(r.ContactID), nullID(r.OrganizationID), nullMicros(r.ResolvedAt), nullMicros(r.ArchivedAt),
		provenanceColumn(r.Provenance), keySubject(r.Key)}
}

// InsertCase inserts a case.
func (c *conn) InsertCase(ctx context.Context, r *tresor.CaseRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, caseArgs(r)...)
	_, err := c.exec(ctx, "case-insert", append(args, micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed)...)
	return err
}

// UpdateCase replaces a case.
func (c *conn) UpdateCase(ctx context.Context, r *tresor.CaseRow, prev int64) error {
	if err := c.newKey(ctx, r.Sealing, r.UpdatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, caseArgs(r)...)
	return changeOne(ctx, c, "case", r.ID, "case-update", append(args, micros(r.UpdatedAt), r.Version, r.Sealed, prev)...)
}

// DeleteCase deletes a case.
func (c *conn) DeleteCase(ctx context.Context, id string) error { return deleteOne(ctx, c, "case", id) }

// notRestricted is the condition that a record's person (the contact in
// column col) is not restricted: one probe of the contacts' primary key per
// row, inside the query, rather than a lookup per row from the gate.
func notRestricted(col string) string {
	return "NOT EXISTS (SELECT 1 FROM contacts rc WHERE rc.id = " + col + " AND rc.restricted_at IS NOT NULL)"
}
