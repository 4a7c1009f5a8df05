package gate

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/policy"
	"tresor/search"
	"tresor/vault"
)

var _ tresor.MergeService = (*Gate)(nil)

// maxDuplicateKeys bounds the pairs the blind index offers at once; a
// company with more duplicates merges the first ones and looks again.
const maxDuplicateKeys = 5000

// maxGroup bounds the contacts of one name group that are paired; a larger
// group is a common name, not a duplicate.
const maxGroup = 8

// Duplicates lists pairs of contacts that may be one person: they share a
// blind-index key (an e-mail address, phone number or social handle) or
// the folded name at the same organization. Only reasons the purpose may
// see are used, only contacts it may see are paired, and both are shown
// as it may see them. The page is audited with the contacts shown.
func (g *Gate) Duplicates(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Duplicate], error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	limitOnly := tresor.Page{Limit: p.Limit} // the cursor is an offset, which searchReady reads
	if err := limitOnly.Normalize(); err != nil {
		return nil, err
	}
	p.Limit = limitOnly.Limit
	offset, err := g.searchReady(ctx, "", p) // the name groups come from the people index
	if err != nil {
		return nil, err
	}
	reasons := map[[2]string][]tresor.DuplicateReason{}
	keys, err := g.store.Read().DuplicateKeys(ctx, maxDuplicateKeys)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if req.pu.Allows(lookupCategory(k.Kind)) {
			pair := [2]string{k.A, k.B}
			if r := tresor.DuplicateReason(k.Kind); !slices.Contains(reasons[pair], r) {
				reasons[pair] = append(reasons[pair], r)
			}
		}
	}
	if req.pu.Allows(tresor.CatContactName) && req.pu.Allows(tresor.CatEmployer) {
		for _, ids := range g.search.ix.Groups(nameOrganizationKey) {
			ids = ids[:min(len(ids), maxGroup)]
			for i, a := range ids {
				for _, b := range ids[i+1:] {
					pair := [2]string{a, b}
					reasons[pair] = append(reasons[pair], tresor.DuplicateName)
				}
			}
		}
	}
	pairs := make([][2]string, 0, len(reasons))
	for pair := range reasons {
		pairs = append(pairs, pair)
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	out := &tresor.List[*tresor.Duplicate]{Items: []*tresor.Duplicate{}, Total: len(pairs), Counted: true}
	page := pairs[min(offset, len(pairs)):min(offset+p.Limit, len(pairs))]
	if offset+len(page) < len(pairs) {
		out.Next = tresor.OffsetCursor(offset + len(page))
	}
	var ids []string
	for _, pair := range page {
		ids = append(ids, pair[0], pair[1])
	}
	shown, err := g.contactsShown(ctx, req, ids)
	if err != nil {
		return nil, err
	}
	var cats []tresor.Category
	var seen []string
	for _, pair := range page {
		a, b := shown[pair[0]], shown[pair[1]]
		if a == nil || b == nil {
			continue // one of them is not the purpose's to see
		}
		out.Items = append(out.Items, &tresor.Duplicate{Reasons: reasons[pair], Contacts: [2]*tresor.Contact{a, b}})
		for _, c := range []*tresor.Contact{a, b} {
			if !slices.Contains(seen, c.ID) {
				seen = append(seen, c.ID)
				cats = mergeCategories(cats, shownCategories(c))
			}
		}
	}
	if err := g.record(ctx, g.entry(ctx, "contact.duplicates", "contact", seen, cats, nil)); err != nil {
		return nil, err
	}
	return out, nil
}

// nameOrganizationKey is the key of the name groups: the folded name and
// the folded organization, both needed.
func nameOrganizationKey(m search.Meta) string {
	if m.Order == "" || m.Order2 == "" {
		return ""
	}
	return search.NameKey(m.Order) + "\x00" + search.NameKey(m.Order2)
}

// lookupCategory is the data category of a lookup kind.
func lookupCategory(k tresor.LookupKind) tresor.Category {
	switch {
	case k == tresor.LookupEmail:
		return tresor.CatContactEmail
	case k == tresor.LookupPhone:
		return tresor.CatContactPhone
	case strings.HasPrefix(string(k), "handle:"):
		return tresor.CatSocialHandle
	}
	return tresor.CatContactPostal
}

// contactsShown reads contacts by id as the purpose may see them, leaving
// out those it may not see at all (restricted, archived, objected).
func (g *Gate) contactsShown(ctx context.Context, req *request, ids []string) (map[string]*tresor.Contact, error) {
	out := map[string]*tresor.Contact{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := g.store.Read().ContactsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		c, err := contacts.fromRow(ctx, g, row, req.pu.Allows)
		if err != nil {
			continue // a damaged contact is no merge candidate
		}
		if contacts.listed(ctx, g, req, c) != nil {
			continue
		}
		out[c.ID] = contacts.shown(req, c)
	}
	return out, nil
}

// MergeContact absorbs the contact from into the contact id, in one
// transaction: the survivor keeps its fields and takes those it lacks from
// the absorbed contact, each with its own provenance (source, legal basis,
// purpose); the consent ledgers are joined (a withdrawal or an objection on
// either side wins); the records move (moveRecords); the absorbed contact is
// erased (its data key destroyed) and leaves a tombstone that redirects to
// the survivor.
func (g *Gate) MergeContact(ctx context.Context, id, from string) (*tresor.MergeResult, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if from == id {
		return nil, fieldError("merge", "from", "a contact cannot be merged into itself; name the other contact")
	}
	if !tresor.ValidID(from) {
		return nil, fieldError("merge", "from", "is not a contact id")
	}
	res := &tresor.MergeResult{Merge: tresor.Merge{From: from, Into: id, MergedAt: req.now, Actor: req.actor.String()}}
	var done *tresor.AuditEntry
	var absorbed *tresor.Erasure
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		rowS, s, err := g.mergeParty(ctx, tx, req, id)
		if err != nil {
			return err
		}
		_, a, err := g.mergeParty(ctx, tx, req, from)
		if err != nil {
			return err
		}
		if res.Fields, err = mergeFields(s, a); err != nil {
			return err
		}
		s.ObjectedAt = earliest(s.ObjectedAt, a.ObjectedAt)
		s.LastInteractionAt = latest(s.LastInteractionAt, a.LastInteractionAt)
		if s.OrganizationID == "" {
			s.OrganizationID = a.OrganizationID
		}
		if s.OwnerID == "" {
			s.OwnerID = a.OwnerID
		}
		states, err := g.unionConsents(ctx, tx, id, from)
		if err != nil {
			return err
		}
		if err := g.moveRecords(ctx, tx, req, from, id, res); err != nil {
			return err
		}
		// The tags of both are the survivor's.
		for _, display := range a.Tags {
			tag, err := tresor.NormalizeTag(display)
			if err != nil {
				continue // a tag stored before a rule changed: it goes with the absorbed contact
			}
			if _, err := tx.AddContactTag(ctx, id, tag, req.now); err != nil {
				return err
			}
		}
		if err := g.settleConsents(ctx, tx, req, id, states); err != nil {
			return err
		}
		if a.ObjectedAt != nil {
			// The person objected on the other record: the survivor's
			// identifiers join the suppression list too (Art. 21(3)).
			if err := tx.Suppress(ctx, g.lookupKeys(&s.ContactDetails), suppressionScope, req.now); err != nil {
				return err
			}
		}
		if err := mergeInterestObjections(ctx, tx, id, from); err != nil {
			return err
		}
		if _, err := g.rewriteContact(ctx, tx, s, rowS, req); err != nil {
			return err
		}
		if _, err := g.cancelExportsOfContacts(ctx, tx, from); err != nil {
			return err
		}
		inter, cs := g.policy.Retention.Interactions, g.policy.Retention.Cases
		n, err := tx.EraseContact(ctx, from, inter, cs)
		if err != nil {
			return err
		}
		absorbed = &tresor.Erasure{ContactID: from, ErasedAt: req.now, Actor: req.actor.String(), Origin: tresor.ErasureMerge,
			Reason: "merged into " + id, Records: n}
		if err := tx.InsertErasure(ctx, absorbed); err != nil {
			return err
		}
		if err := tx.InsertMerge(ctx, &res.Merge); err != nil {
			return err
		}
		done = g.entry(ctx, "contact.merge", "contact", []string{id, from}, categoriesOf(filledFields(s)), nil)
		done.Detail = fmt.Sprintf("into=%s from=%s fields=%s interactions=%d cases=%d deals=%d notices=%d consent_events=%d",
			id, from, strings.Join(res.Fields, ","), res.Interactions, res.Cases, res.Deals, res.Notices, res.ConsentEvent)
		if err := g.appendTx(ctx, tx, []*tresor.AuditEntry{done}); err != nil {
			return err
		}
		res.Contact = s
		return nil
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "contact.merge", "contact", []string{id, from}, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{done})
	if err := g.appendJournal(absorbed); err != nil {
		g.log.Error("erasure journal file not written", "contact", from, "error", err)
	}
	if err := g.store.Compact(ctx, false); err != nil {
		g.log.Warn("compact after merge", "error", err)
	}
	res.Contact = contacts.shown(req, res.Contact)
	return res, nil
}

// mergeParty loads one side of a merge and refuses what may not be merged:
// a contact the purpose may not touch, whose processing is restricted
// (Art. 18, for every purpose: a merge processes), archived, under a legal
// hold, or holding data the purpose may not see (a merge moves all of it).
func (g *Gate) mergeParty(ctx context.Context, tx tresor.Tx, req *request, id string) (*tresor.ContactRow, *tresor.Contact, error) {
	row, err := tx.Contact(ctx, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		// A merged contact is no redirect here: a merge names the survivor itself.
		if m, merr := tx.Merged(ctx, id); merr == nil {
			return nil, nil, &tresor.Error{Code: tresor.ECConflict,
				Message:   fmt.Sprintf("The contact %s was already merged into the contact %s; merge with that one.", id, m.Into),
				MessageDE: fmt.Sprintf("Der Kontakt %s wurde bereits mit dem Kontakt %s zusammengeführt; führen Sie mit diesem zusammen.", id, m.Into)}
		}
		return nil, nil, g.erasedOr(ctx, tx, id, err)
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := contacts.fromRow(ctx, g, row, nil)
	if gerr := contacts.guarded(ctx, g, tx, req, c); gerr != nil {
		return nil, nil, gerr
	}
	if err != nil {
		return nil, nil, err
	}
	if c.RestrictedAt != nil {
		return nil, nil, &tresor.Error{Code: tresor.ECRestricted,
			Message:   fmt.Sprintf("The processing of the contact %s is restricted (Art. 18 GDPR); a merge would process it. Lift the restriction first.", id),
			MessageDE: fmt.Sprintf("Die Verarbeitung des Kontakts %s ist eingeschränkt (Art. 18 DSGVO); eine Zusammenführung wäre eine Verarbeitung. Heben Sie die Einschränkung zuerst auf.", id)}
	}
	if c.ArchivedAt != nil {
		return nil, nil, policy.Refuse(policy.RArchived, c.ArchivedAt.Format(time.DateOnly))
	}
	if err := activeHolds(ctx, tx, id); err != nil {
		return nil, nil, err
	}
	if hidden := g.policy.Withheld(req.pu, shownCategories(c)); len(hidden) > 0 {
		return nil, nil, req.pu.RefuseDeleteWithheld(hidden)
	}
	return row, c, nil
}

// goneContact answers for a contact that is not there: merged (308 to the
// survivor), erased (410) or never known (the original error).
func (g *Gate) goneContact(ctx context.Context, r tresor.Reader, id string, notFound error) error {
	if m, err := r.Merged(ctx, id); err == nil {
		return mergedError(m)
	}
	return g.erasedOr(ctx, r, id, notFound)
}

// mergedError is the answer for the old id of a merged contact.
func mergedError(m *tresor.Merge) error {
	return &tresor.Error{Code: tresor.ECMerged, MergedInto: m.Into,
		Message:   fmt.Sprintf("The contact %s was merged into the contact %s on %s.", m.From, m.Into, m.MergedAt.Format(time.DateOnly)),
		MessageDE: fmt.Sprintf("Der Kontakt %s wurde am %s mit dem Kontakt %s zusammengeführt.", m.From, m.MergedAt.Format(time.DateOnly), m.Into)}
}

// mergeFields gives the survivor s the fields it lacks from the absorbed
// contact a, and the entries of list fields (e-mail addresses, phones,
// handles) it does not have; a field both hold keeps the survivor's value.
// Provenance stays per field: a field taken whole leaves the survivor's
// records and is named by a copy of a's record for it (its own source,
// legal basis and purpose); a list that gained entries is named by the
// records of both. It returns the fields that took something from a.
func mergeFields(s, a *tresor.Contact) ([]string, error) {
	sRecs, err := s.Provenance.Records()
	if err != nil {
		return nil, err
	}
	aRecs, err := a.Provenance.Records()
	if err != nil {
		return nil, err
	}
	var whole, joined []string
	for _, f := range personalFields(&s.ContactDetails) {
		sv, av := fieldValue(&s.ContactDetails, f), fieldValue(&a.ContactDetails, f)
		switch {
		case empty(av):
		case empty(sv):
			sv.Set(av)
			whole = append(whole, f.Name)
		case sv.Kind() == reflect.Slice:
			added := false
			for i := range av.Len() {
				item := av.Index(i)
				if !holds(sv, item) {
					sv.Set(reflect.Append(sv, item))
					added = true
				}
			}
			if added {
				joined = append(joined, f.Name)
			}
		}
	}
	var recs []tresor.ProvenanceRecord
	for _, r := range sRecs {
		r.Fields = slices.DeleteFunc(slices.Clone(r.Fields), func(f string) bool { return slices.Contains(whole, f) })
		if len(r.Fields) > 0 {
			recs = append(recs, r)
		}
	}
	for _, r := range aRecs {
		r.Fields = slices.DeleteFunc(slices.Clone(r.Fields), func(f string) bool {
			return !slices.Contains(whole, f) && !slices.Contains(joined, f)
		})
		if len(r.Fields) > 0 {
			recs = append(recs, r)
		}
	}
	s.Provenance = tresor.NewProvenance(recs)
	taken := append(whole, joined...)
	slices.Sort(taken)
	return taken, nil
}

// holds reports whether the list holds an equal item.
func holds(list, item reflect.Value) bool {
	for i := range list.Len() {
		if reflect.DeepEqual(list.Index(i).Interface(), item.Interface()) {
			return true
		}
	}
	return false
}

func earliest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

func latest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}

// consentRank orders consent states for a union: a withdrawal wins over
// everything, a grant over a request, anything over no event.
func consentRank(s tresor.ConsentState) int {
	switch s {
	case tresor.ConsentWithdrawn:
		return 3
	case tresor.ConsentGranted:
		return 2
	case tresor.ConsentPending:
		return 1
	}
	return 0
}

// mergedConsent is the state a purpose and channel takes in a merge, and
// whether only the absorbed contact's withdrawal brings it about.
type mergedConsent struct {
	tresor.ConsentStatus
	withdrawnByOther bool
	changed          bool // differs from the survivor's stored state
}

// unionConsents computes the states of the survivor after the merge from
// both contacts' stored states, before their ledgers are joined.
func (g *Gate) unionConsents(ctx context.Context, tx tresor.Tx, into, from string) ([]mergedConsent, error) {
	sStates, err := tx.ConsentStates(ctx, into)
	if err != nil {
		return nil, err
	}
	aStates, err := tx.ConsentStates(ctx, from)
	if err != nil {
		return nil, err
	}
	var out []mergedConsent
	for _, a := range aStates {
		i := slices.IndexFunc(sStates, func(s tresor.ConsentStatus) bool { return s.Purpose == a.Purpose && s.Channel == a.Channel })
		if i < 0 {
			out = append(out, mergedConsent{ConsentStatus: a, changed: true})
			continue
		}
		s := sStates[i]
		ra, rs := consentRank(a.State), consentRank(s.State)
		switch {
		case ra > rs:
			out = append(out, mergedConsent{ConsentStatus: a, changed: true, withdrawnByOther: a.State == tresor.ConsentWithdrawn})
		case ra == rs && a.State != tresor.ConsentWithdrawn && a.Since.After(s.Since):
			out = append(out, mergedConsent{ConsentStatus: a, changed: true}) // the later grant
		}
	}
	return out, nil
}

// settleConsents writes the survivor's states after the ledgers are
// joined. Where the absorbed contact's withdrawal overrides a grant or a
// request of the survivor, the survivor's ledger records it as an event of
// its own (method "merge"), so that the ledger explains the state.
func (g *Gate) settleConsents(ctx context.Context, tx tresor.Tx, req *request, into string, states []mergedConsent) error {
	for _, st := range states {
		if !st.changed {
			continue
		}
		if st.withdrawnByOther {
			e := &tresor.ConsentEvent{ID: newID(), ContactID: into, Purpose: st.Purpose, Channel: st.Channel,
				Action: tresor.ConsentWithdraw, Method: tresor.MethodMerge, Actor: req.actor.String(), At: req.now}
			if err := g.insertConsentEvent(ctx, tx, e, tresor.ConsentWithdrawn); err != nil {
				return err
			}
			continue
		}
		if err := tx.SetConsentState(ctx, into, st.ConsentStatus); err != nil {
			return err
		}
	}
	return nil
}

// moveRecords moves everything that belongs to the absorbed contact from
// to the survivor into: interactions and cases (opened under from's data
// key and sealed again under into's, as from's key is destroyed next),
// deals, information duties (Art. 14), consent links and the consent
// ledger (addresses sealed again). Every record kind that names a contact
// moves here, in the merge's transaction.
func (g *Gate) moveRecords(ctx context.Context, tx tresor.Tx, req *request, from, into string, res *tresor.MergeResult) error {
	if err := eachPage(func(p tresor.Page) ([]*tresor.InteractionRow, error) {
		return tx.Interactions(ctx, tresor.InteractionFilter{ContactID: from, Page: p})
	}, func(row *tresor.InteractionRow) (string, error) {
		in, err := interactions.fromRow(ctx, g, row, nil)
		if err != nil {
			return row.ID, err
		}
		in.ContactID, in.Version, in.UpdatedAt = into, row.Version+1, req.now
		newRow, err := interactions.toRow(ctx, tx, g, in, row)
		if err != nil {
			return row.ID, err
		}
		res.Interactions++
		return row.ID, tx.UpdateInteraction(ctx, newRow, row.Version)
	}); err != nil {
		return err
	}
	if err := eachPage(func(p tresor.Page) ([]*tresor.CaseRow, error) {
		return tx.Cases(ctx, tresor.CaseFilter{ContactID: from, Page: p})
	}, func(row *tresor.CaseRow) (string, error) {
		c, err := cases.fromRow(ctx, g, row, nil)
		if err != nil {
			return row.ID, err
		}
		c.ContactID, c.Version, c.UpdatedAt = into, row.Version+1, req.now
		newRow, err := cases.toRow(ctx, tx, g, c, row)
		if err != nil {
			return row.ID, err
		}
		res.Cases++
		return row.ID, tx.UpdateCase(ctx, newRow, row.Version)
	}); err != nil {
		return err
	}
	if err := eachPage(func(p tresor.Page) ([]*tresor.Deal, error) {
		return tx.Deals(ctx, tresor.DealFilter{ContactID: from, Page: p})
	}, func(d *tresor.Deal) (string, error) {
		prev := d.Version
		d.ContactID, d.Version, d.UpdatedAt = into, prev+1, req.now
		res.Deals++
		return d.ID, tx.UpdateDeal(ctx, d, prev)
	}); err != nil {
		return err
	}
	tasks, err := g.moveTasks(ctx, tx, req, from, into)
	if err != nil {
		return err
	}
	res.Tasks = len(tasks)
	// The addresses that confirmed consents are sealed under from's key.
	events, err := tx.ConsentEvents(ctx, from)
	if err != nil {
		return err
	}
	if err := g.openConsentIPs(ctx, tx, from, events); err != nil {
		return err
	}
	var dk *vault.DataKey
	for _, e := range events {
		if e.IP == "" {
			continue
		}
		if dk == nil {
			if dk, err = g.contactKey(ctx, tx, into); err != nil {
				return err
			}
			defer dk.Destroy()
		}
		if err := tx.SetConsentEventIP(ctx, e.ID, sealValue(dk, "consent_event", e.ID, "ip", e.IP)); err != nil {
			return err
		}
	}
	res.Notices, res.ConsentEvent, err = tx.MoveContactLinks(ctx, from, into)
	return err
}
