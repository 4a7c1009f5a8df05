package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"tresor"
)

var _ tresor.SubjectExportService = (*Gate)(nil)

// The export that answers a request of access (Art. 15) or portability
// (Art. 20). It is the DPO's to build, for a request whose requester was
// identified, and it holds the person's own data only. Records are chosen
// by whom they concern, not by what links them: an interaction on the
// person's case that concerns someone else stays out, and so do the ids
// and names of colleagues (owners, assignees, who collected or read), of
// organisations' other people, and the other ids an audit entry names.

// exportableStates are the states of a request whose requester was
// identified and that still awaits its answer.
var exportableStates = []tresor.RequestState{tresor.RequestIdentityVerified, tresor.RequestInProgress, tresor.RequestExtended}

// exportRequest reads a request the export may answer, or says why not.
func (g *Gate) exportRequest(ctx context.Context, id string) (*tresor.Request, error) {
	row, err := g.store.Read().DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err := g.requestFromRow(ctx, row)
	if err != nil {
		return nil, err
	}
	if r.Kind != tresor.RequestAccess && r.Kind != tresor.RequestPortability {
		return nil, &tresor.Error{Code: tresor.ECConflict,
			Message:   fmt.Sprintf("This request is of the kind %s; an export answers a request of access (Art. 15) or portability (Art. 20).", r.Kind),
			MessageDE: fmt.Sprintf("Dieser Antrag ist von der Art %s; ein Export beantwortet einen Antrag auf Auskunft (Art. 15) oder Datenübertragbarkeit (Art. 20).", r.Kind)}
	}
	if !slices.Contains(exportableStates, r.State) {
		return nil, &tresor.Error{Code: tresor.ECConflict,
			Message:   fmt.Sprintf("The request is %s; an export is made only once the requester's identity is verified and before the request is answered or refused.", r.State),
			MessageDE: fmt.Sprintf("Der Antrag ist im Zustand %s; ein Export entsteht erst, wenn die Identität der anfragenden Person geprüft ist, und nur, solange der Antrag offen ist.", r.State)}
	}
	if len(r.ContactIDs) == 0 {
		return nil, &tresor.Error{Code: tresor.ECConflict,
			Message:   "The request names no contact; link the contacts it concerns before making the export.",
			MessageDE: "Der Antrag nennt keinen Kontakt; verknüpfen Sie zuerst die Kontakte, die er betrifft."}
	}
	return r, nil
}

// BuildSubjectExport returns the export of the request's person in one
// rendering. Only the data_protection purpose may build it, for a request
// of access or portability whose requester was identified. The audit trail
// records subject_export.build with the contact ids.
func (g *Gate) BuildSubjectExport(ctx context.Context, requestID string, f tresor.SubjectExportFormat) ([]byte, error) {
	if f != tresor.SubjectExportJSON && f != tresor.SubjectExportHTML {
		return nil, &tresor.Error{Code: tresor.ECInvalidParameter,
			Message:   fmt.Sprintf("The format %q is unknown; the formats are json and html.", f),
			MessageDE: fmt.Sprintf("Das Format %q ist unbekannt; die Formate sind json und html.", f)}
	}
	x, r, err := g.subjectExport(ctx, "subject_export.build", requestID)
	if err != nil {
		return nil, err
	}
	out, err := g.renderSubjectExport(x, f)
	if err != nil {
		return nil, err
	}
	e := g.entry(ctx, "subject_export.build", "request", append([]string{r.ID}, r.ContactIDs...), nil, nil)
	e.Detail = string(f)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// subjectExport checks the call and collects the export; a refusal is
// recorded under action.
func (g *Gate) subjectExport(ctx context.Context, action, requestID string) (*tresor.SubjectExport, *tresor.Request, error) {
	req, err := g.requestRegister(ctx, action)
	if err != nil {
		return nil, nil, err
	}
	r, err := g.exportRequest(ctx, requestID)
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, "request", []string{requestID}, nil, err))
		return nil, nil, err
	}
	x, err := g.collectSubject(ctx, req, r)
	if err != nil {
		return nil, nil, err
	}
	return x, r, nil
}

// collectSubject gathers everything stored about the request's contacts.
func (g *Gate) collectSubject(ctx context.Context, req *request, r *tresor.Request) (*tresor.SubjectExport, error) {
	rd := g.store.Read()
	x := &tresor.SubjectExport{Schema: tresor.SubjectExportSchema, GeneratedAt: req.now, Language: "de",
		Request:  tresor.SubjectRequestInfo{ID: r.ID, Kind: r.Kind, ReceivedAt: r.ReceivedAt},
		Contacts: []tresor.SubjectContact{}, Interactions: []tresor.SubjectInteraction{}, Cases: []tresor.SubjectCase{},
		Deals: []tresor.SubjectDeal{}, Tasks: []tresor.SubjectTask{}, Consents: []tresor.SubjectConsent{},
		ConsentState: []tresor.SubjectConsentState{}, Notices: []tresor.SubjectNotice{},
		Recipients: tresor.SubjectRecipients{Channels: []string{}, MailsSent: []tresor.SubjectMailSent{}},
		Retention:  []tresor.SubjectRetention{}, AccessLog: []tresor.SubjectAccess{}}
	person := map[string]bool{}
	var contactIDs []string // the request's contacts, each once
	for _, id := range r.ContactIDs {
		if !person[id] {
			contactIDs = append(contactIDs, id)
		}
		person[id] = true
	}
	var provenance []tresor.ProvenanceRecord
	var lastInteraction *time.Time
	// Every id of a record of the person: the audit trail is searched for them.
	var ids []string
	for _, id := range contactIDs {
		row, err := rd.Contact(ctx, id)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			continue // erased since: nothing is held
		} else if err != nil {
			return nil, err
		}
		c, err := contacts.fromRow(ctx, g, row, nil)
		if err != nil {
			return nil, err
		}
		if len(x.Contacts) == 0 {
			// The language the person asked in, else that of the first
			// contact the request names.
			x.Language = mailLanguage(c)
			if r.Language == "de" || r.Language == "en" {
				x.Language = r.Language
			}
		}
		sc := tresor.SubjectContact{ID: c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, GivenName: c.GivenName,
			FamilyName: c.FamilyName, Emails: nonNil(c.Emails), Phones: nonNil(c.Phones), PostalAddress: c.PostalAddress,
			SocialHandles: nonNil(c.SocialHandles), Organization: c.Organization, Position: c.Position,
			PreferredLanguage: c.PreferredLanguage, Tags: nonNil(c.Tags), RestrictedAt: c.RestrictedAt, ObjectedAt: c.ObjectedAt,
			ArchivedAt: c.ArchivedAt, LastInteractionAt: c.LastInteractionAt, Provenance: []tresor.SubjectProvenance{}}
		recs, err := c.Provenance.Records()
		if err != nil {
			return nil, err
		}
		for _, p := range recs {
			sc.Provenance = append(sc.Provenance, subjectProvenance(p))
		}
		provenance = append(provenance, recs...)
		if c.LastInteractionAt != nil && (lastInteraction == nil || c.LastInteractionAt.After(*lastInteraction)) {
			lastInteraction = c.LastInteractionAt
		}
		x.Contacts = append(x.Contacts, sc)
		ids = append(ids, c.ID)

		events, err := rd.ConsentEvents(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := g.openConsentIPs(ctx, rd, id, events); err != nil {
			return nil, err
		}
		for _, e := range events {
			x.Consents = append(x.Consents, tresor.SubjectConsent{At: e.At, Purpose: e.Purpose, Channel: e.Channel,
				Action: e.Action, Method: e.Method, IP: e.IP, RecordedBy: actorKind(e.Actor)})
		}
		states, err := rd.ConsentStates(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			x.ConsentState = append(x.ConsentState, tresor.SubjectConsentState{Purpose: s.Purpose, Channel: s.Channel, State: s.State, Since: s.Since})
		}
		notices, err := rd.Notices(ctx, tresor.NoticeQuery{ContactID: id, Page: tresor.Page{Limit: 1000}})
		if err != nil {
			return nil, err
		}
		for _, n := range notices {
			x.Notices = append(x.Notices, tresor.SubjectNotice{Source: n.Source, Network: n.Network, Purpose: n.Purpose,
				CreatedAt: n.CreatedAt, DueAt: n.DueAt, SentAt: n.SentAt, Channel: n.Channel})
			if n.SentAt != nil && n.Channel != "" {
				x.Recipients.Channels = appendOnce(x.Recipients.Channels, n.Channel)
			}
		}
	}

	// Deals and cases of the person; then the interactions and tasks that
	// concern the person: their own, and those of the person's deals and
	// cases that name no other contact.
	caseIDs, dealIDs := map[string]bool{}, map[string]bool{}
	var contentPurposes []string // the purposes what was said was recorded for
	for _, id := range contactIDs {
		if err := pages(func(p tresor.Page) ([]*tresor.Deal, error) {
			return rd.Deals(ctx, tresor.DealFilter{ContactID: id, Page: p})
		}, func(d *tresor.Deal) string { return d.ID }, func(d *tresor.Deal) error {
			stage := d.Stage
			if pl, err := rd.Pipeline(ctx, d.PipelineID); err == nil {
				if s, ok := pl.Stage(d.Stage); ok {
					stage = s.Name
				}
			}
			dealIDs[d.ID] = true
			ids = append(ids, d.ID)
			x.Deals = append(x.Deals, tresor.SubjectDeal{ID: d.ID, CreatedAt: d.CreatedAt, Title: d.Title, Pipeline: d.PipelineID,
				Stage: stage, Value: d.Value, Currency: d.Currency, ExpectedClose: d.ExpectedClose, ClosedAt: d.ClosedAt,
				OutcomeReason: d.OutcomeReason})
			return nil
		}); err != nil {
			return nil, err
		}
		if err := pages(func(p tresor.Page) ([]*tresor.CaseRow, error) {
			return rd.Cases(ctx, tresor.CaseFilter{ContactID: id, Page: p})
		}, func(row *tresor.CaseRow) string { return row.ID }, func(row *tresor.CaseRow) error {
			k, err := cases.fromRow(ctx, g, row, nil)
			if err != nil {
				return err
			}
			caseIDs[k.ID] = true
			ids = append(ids, k.ID)
			sc := tresor.SubjectCase{ID: k.ID, CreatedAt: k.CreatedAt, Status: k.Status, Priority: k.Priority,
				Channel: k.Channel, Network: k.Network, Subject: k.Subject, Description: k.Description, Sender: k.Sender,
				ResolvedAt: k.ResolvedAt}
			recs, err := k.Provenance.Records()
			if err != nil {
				return err
			}
			sc.Purpose, sc.LegalBasis = latestPurpose(recs)
			for _, p := range recs {
				contentPurposes = appendOnce(contentPurposes, p.Purpose)
			}
			x.Cases = append(x.Cases, sc)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	concerns := func(contactID, caseID, dealID string) bool {
		if contactID != "" {
			return person[contactID]
		}
		return (caseID != "" && caseIDs[caseID]) || (dealID != "" && dealIDs[dealID])
	}
	seen := map[string]bool{}
	addInteraction := func(row *tresor.InteractionRow) error {
		if seen[row.ID] || !concerns(row.ContactID, row.CaseID, row.DealID) {
			return nil
		}
		seen[row.ID] = true
		in, err := interactions.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		si := tresor.SubjectInteraction{ID: in.ID, Kind: in.Kind, Direction: in.Direction, OccurredAt: in.OccurredAt,
			DurationSec: in.DurationSec, Network: in.Network, Subject: in.Subject, Body: in.Body,
			RetentionClass: in.RetentionClass, RetainUntil: in.RetainUntil}
		if caseIDs[in.CaseID] {
			si.CaseID = in.CaseID
		}
		if dealIDs[in.DealID] {
			si.DealID = in.DealID
		}
		x.Interactions = append(x.Interactions, si)
		ids = append(ids, in.ID)
		recs, err := in.Provenance.Records()
		if err != nil {
			return err
		}
		for _, p := range recs {
			contentPurposes = appendOnce(contentPurposes, p.Purpose)
		}
		x.Interactions[len(x.Interactions)-1].Purpose, x.Interactions[len(x.Interactions)-1].LegalBasis = latestPurpose(recs)
		if in.Direction == tresor.DirectionOutbound {
			switch in.Kind {
			case tresor.KindEmail:
				x.Recipients.Channels = appendOnce(x.Recipients.Channels, "email")
				x.Recipients.MailsSent = append(x.Recipients.MailsSent, tresor.SubjectMailSent{At: in.OccurredAt, Subject: in.Subject})
			case tresor.KindSocialMessage:
				x.Recipients.Channels = appendOnce(x.Recipients.Channels, "social:"+in.Network)
			case tresor.KindCall:
				x.Recipients.Channels = appendOnce(x.Recipients.Channels, "phone")
			}
		}
		if in.RetentionClass != "" && in.RetainUntil != nil {
			law := in.RetentionClass
			if f, ok := g.policy.Floor(in.RetentionClass); ok {
				law = f.Law
			}
			x.Retention = append(x.Retention, tresor.SubjectRetention{Category: tresor.CatInteraction, Rule: "statutory",
				Law: law, Until: in.RetainUntil})
		}
		return nil
	}
	interactionsOf := func(f tresor.InteractionFilter) error {
		return pages(func(p tresor.Page) ([]*tresor.InteractionRow, error) {
			f.Page = p
			return rd.Interactions(ctx, f)
		}, func(row *tresor.InteractionRow) string { return row.ID }, addInteraction)
	}
	tseen := map[string]bool{}
	addTask := func(row *tresor.TaskRow) error {
		if tseen[row.ID] || !concerns(row.ContactID, row.CaseID, row.DealID) {
			return nil
		}
		tseen[row.ID] = true
		t, err := tasks.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		x.Tasks = append(x.Tasks, tresor.SubjectTask{ID: t.ID, Title: t.Title, Note: t.Note, Due: t.Due, State: t.State,
			DoneAt: t.DoneAt, CaseID: t.CaseID, DealID: t.DealID})
		ids = append(ids, t.ID)
		return nil
	}
	tasksOf := func(f tresor.TaskFilter) error {
		return pages(func(p tresor.Page) ([]*tresor.TaskRow, error) {
			f.Page = p
			return rd.Tasks(ctx, f)
		}, func(row *tresor.TaskRow) string { return row.ID }, addTask)
	}
	for _, id := range contactIDs {
		if err := interactionsOf(tresor.InteractionFilter{ContactID: id}); err != nil {
			return nil, err
		}
		if err := tasksOf(tresor.TaskFilter{ContactID: id}); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(caseIDs) {
		if err := interactionsOf(tresor.InteractionFilter{CaseID: id}); err != nil {
			return nil, err
		}
		if err := tasksOf(tresor.TaskFilter{CaseID: id}); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(dealIDs) {
		if err := interactionsOf(tresor.InteractionFilter{DealID: id}); err != nil {
			return nil, err
		}
		if err := tasksOf(tresor.TaskFilter{DealID: id}); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(x.Interactions, func(i, j int) bool { return x.Interactions[i].OccurredAt.Before(x.Interactions[j].OccurredAt) })
	sort.SliceStable(x.Recipients.MailsSent, func(i, j int) bool { return x.Recipients.MailsSent[i].At.Before(x.Recipients.MailsSent[j].At) })

	x.Retention = append(g.categoryRetention(provenance, contentPurposes, lastInteraction), x.Retention...)
	log, err := g.accessLog(ctx, ids)
	if err != nil {
		return nil, err
	}
	x.AccessLog = log
	return x, nil
}

// latestPurpose is the purpose and legal basis of the newest provenance record.
func latestPurpose(recs []tresor.ProvenanceRecord) (string, tresor.LegalBasis) {
	var last tresor.ProvenanceRecord
	for _, r := range recs {
		if !r.CollectedAt.Before(last.CollectedAt) {
			last = r
		}
	}
	return last.Purpose, last.LegalBasis
}

// subjectProvenance is a provenance record without who collected it.
func subjectProvenance(p tresor.ProvenanceRecord) tresor.SubjectProvenance {
	return tresor.SubjectProvenance{Fields: nonNil(p.Fields), Purpose: p.Purpose, LegalBasis: p.LegalBasis,
		BalancingNote: p.BalancingNote, Source: p.Source, Network: p.Network, CollectedAt: p.CollectedAt}
}

// categoryRetention says, for every purpose and category the person's data
// was collected for (the contact's fields, and what was said in
// interactions), how long it is kept after the last interaction.
func (g *Gate) categoryRetention(recs []tresor.ProvenanceRecord, contentPurposes []string, last *time.Time) []tresor.SubjectRetention {
	type key struct {
		purpose string
		cat     tresor.Category
	}
	have := map[key]bool{}
	var out []tresor.SubjectRetention
	add := func(purpose string, cat tresor.Category) {
		if have[key{purpose, cat}] {
			return
		}
		have[key{purpose, cat}] = true
		r := tresor.SubjectRetention{Category: cat, Purpose: purpose, Days: g.policy.RetentionDays(purpose, cat),
			Rule: "after_last_interaction"}
		if last != nil && r.Days > 0 {
			t := last.AddDate(0, 0, r.Days)
			r.Until = &t
		}
		out = append(out, r)
	}
	for _, p := range recs {
		for _, f := range p.Fields {
			if cat, ok := contactFieldCategory(f); ok {
				add(p.Purpose, cat)
			}
		}
	}
	for _, purpose := range contentPurposes {
		add(purpose, tresor.CatInteraction)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].Purpose < out[j].Purpose
	})
	return out
}

// contactFieldCategory is the category of a contact's JSON field.
func contactFieldCategory(field string) (tresor.Category, bool) {
	for _, f := range personalFields(&tresor.ContactDetails{}) {
		if f.Name == field {
			return f.Category, true
		}
	}
	return "", false
}

// accessLog lists the audit entries that name one of the ids, oldest
// first, with the roles and purpose that acted but never the actor.
func (g *Gate) accessLog(ctx context.Context, ids []string) ([]tresor.SubjectAccess, error) {
	if err := g.indexAudit(ctx); err != nil {
		return nil, err
	}
	bySeq := map[int64]*tresor.AuditEntry{}
	for _, id := range ids {
		after := ""
		for {
			es, err := g.store.Read().AuditEntries(ctx, tresor.AuditFilter{ContactID: id, Page: tresor.Page{After: after, Limit: 1000}})
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				bySeq[e.Seq] = e
			}
			if len(es) < 1000 {
				break
			}
			after = strconv.FormatInt(es[len(es)-1].Seq, 10)
		}
	}
	seqs := make([]int64, 0, len(bySeq))
	for s := range bySeq {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	out := make([]tresor.SubjectAccess, 0, len(seqs))
	for _, s := range seqs {
		e := bySeq[s]
		roles := []string{}
		for _, r := range strings.Split(e.Roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				roles = append(roles, r)
			}
		}
		out = append(out, tresor.SubjectAccess{At: e.At, Action: e.Action, ObjectType: e.ObjectType, Purpose: e.Purpose,
			Roles: roles, ActorKind: actorKind(e.Actor), Decision: e.Decision, Categories: e.Categories})
	}
	return out, nil
}

// actorKind says what kind of actor an audit or ledger actor is, without
// naming them.
func actorKind(actor string) string {
	switch {
	case actor == "system" || actor == "link" || actor == "anonymous":
		return actor
	case actor == "":
		return "system"
	}
	return "staff"
}

// pages walks a store list page by page (keyset by id).
func pages[R any](list func(tresor.Page) ([]R, error), id func(R) string, fn func(R) error) error {
	p := tresor.Page{Limit: 500}
	for {
		rows, err := list(p)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < p.Limit {
			return nil
		}
		p.After = id(rows[len(rows)-1])
	}
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// renderSubjectExport renders the export as JSON.
func renderSubjectExport(x *tresor.SubjectExport, _ tresor.SubjectExportFormat) ([]byte, error) {
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
