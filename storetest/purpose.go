package storetest

import (
	"slices"
	"testing"

	"tresor"
)

// purposeTests are the store's part of restriction (Art. 18) and of a
// purpose's end of processing.
var purposeTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"HideRestrictedLeavesOutThePersonsRecords", testHideRestricted},
	{"DeleteConsentsOfOnePurpose", testDeleteConsents},
	{"ContactsByIDAndByConsentState", testContactsByConsent},
}

func testContactsByConsent(t *testing.T, s tresor.Store) {
	yes, no, none := contactRow("", "yes@example.org"), contactRow("", "no@example.org"), contactRow("", "none@example.org")
	insertContacts(t, s, yes, no, none)
	update(t, s, func(tx tresor.Tx) error {
		for _, e := range []struct {
			id    string
			state tresor.ConsentState
		}{{yes.ID, tresor.ConsentGranted}, {no.ID, tresor.ConsentWithdrawn}} {
			if err := tx.InsertConsentEvent(ctx, &tresor.ConsentEvent{ID: newID(), ContactID: e.id, Purpose: "marketing",
				Channel: tresor.ChannelEmailMsg, Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Actor: "system", At: epoch}, e.state); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(rows []*tresor.ContactRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	want := func(xs ...string) []string { slices.Sort(xs); return xs }
	rows, err := s.Read().ContactsByID(ctx, []string{yes.ID, none.ID, newID()})
	must(t, err)
	if got := ids(rows); !slices.Equal(got, want(yes.ID, none.ID)) {
		t.Errorf("by id: %v", got)
	}
	for _, c := range []struct {
		state tresor.ConsentState
		want  []string
	}{{tresor.ConsentGranted, want(yes.ID)}, {tresor.ConsentWithdrawn, want(no.ID)}, {tresor.ConsentUnknown, want(none.ID)}} {
		rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{
			Consent: &tresor.ConsentFilter{Purpose: "marketing", Channel: tresor.ChannelEmailMsg, State: c.state}}})
		must(t, err)
		if got := ids(rows); !slices.Equal(got, c.want) {
			t.Errorf("consent %s: %v, want %v", c.state, got, c.want)
		}
	}
	got, err := s.Read().ConsentContacts(ctx, "marketing", tresor.ChannelEmailMsg, "")
	must(t, err)
	slices.Sort(got)
	if !slices.Equal(got, want(yes.ID, no.ID)) {
		t.Errorf("with any recorded state: %v", got)
	}
}

func testHideRestricted(t *testing.T, s tresor.Store) {
	free, held := contactRow("", "free@example.org"), contactRow("", "held@example.org")
	at := epoch
	held.RestrictedAt = &at
	insertContacts(t, s, free, held)
	inFree, inHeld, inNone := interactionRow(), interactionRow(), interactionRow()
	inFree.ContactID, inHeld.ContactID = free.ID, held.ID
	kFree, kHeld := caseRow(), caseRow()
	kFree.ContactID, kHeld.ContactID = free.ID, held.ID
	k := caseRow()
	inNone.CaseID = k.ID // a record of no contact is nobody's to restrict
	dFree, dHeld := &tresor.Deal{Meta: meta(epoch), Title: "a", PipelineID: tresor.DefaultPipelineID, Stage: "lead", ContactID: free.ID},
		&tresor.Deal{Meta: meta(epoch), Title: "b", PipelineID: tresor.DefaultPipelineID, Stage: "lead", ContactID: held.ID}
	update(t, s, func(tx tresor.Tx) error {
		for _, c := range []*tresor.CaseRow{kFree, kHeld, k} {
			if err := tx.InsertCase(ctx, c); err != nil {
				return err
			}
		}
		for _, in := range []*tresor.InteractionRow{inFree, inHeld, inNone} {
			if err := tx.InsertInteraction(ctx, in); err != nil {
				return err
			}
		}
		for _, d := range []*tresor.Deal{dFree, dHeld} {
			if err := tx.InsertDeal(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	page := tresor.Page{Limit: 10}
	t.Run("interactions", func(t *testing.T) {
		rows, err := s.Read().Interactions(ctx, tresor.InteractionFilter{HideRestricted: true, Page: page})
		must(t, err)
		if got, want := ids(rows), []string{inFree.ID, inNone.ID}; !slices.Equal(got, want) {
			t.Fatalf("interactions = %v, want %v", got, want)
		}
	})
	t.Run("cases", func(t *testing.T) {
		rows, err := s.Read().Cases(ctx, tresor.CaseFilter{HideRestricted: true, Page: page})
		must(t, err)
		if got, want := ids(rows), []string{kFree.ID, k.ID}; !slices.Equal(got, want) {
			t.Fatalf("cases = %v, want %v", got, want)
		}
	})
	t.Run("deals", func(t *testing.T) {
		rows, err := s.Read().Deals(ctx, tresor.DealFilter{HideRestricted: true, Page: page})
		must(t, err)
		if got, want := ids(rows), []string{dFree.ID}; !slices.Equal(got, want) {
			t.Fatalf("deals = %v, want %v", got, want)
		}
	})
	t.Run("without the flag everything is listed", func(t *testing.T) {
		rows, err := s.Read().Interactions(ctx, tresor.InteractionFilter{Page: page})
		must(t, err)
		if len(rows) != 3 {
			t.Fatalf("interactions = %v, want all 3", ids(rows))
		}
	})
}

func testDeleteConsents(t *testing.T, s tresor.Store) {
	c := contactRow("", "consenting@example.org")
	insertContacts(t, s, c)
	event := func(purpose string) *tresor.ConsentEvent {
		return &tresor.ConsentEvent{ID: newID(), ContactID: c.ID, Purpose: purpose, Channel: tresor.ChannelEmailMsg,
			Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Actor: "system", At: epoch}
	}
	update(t, s, func(tx tresor.Tx) error {
		for _, p := range []string{"marketing", "marketing", "pr"} {
			if err := tx.InsertConsentEvent(ctx, event(p), tresor.ConsentGranted); err != nil {
				return err
			}
		}
		return tx.InsertConsentLink(ctx, &tresor.ConsentLinkRow{Hash: []byte("link-hash"), Kind: "confirm", ContactID: c.ID,
			Purpose: "marketing", Channel: tresor.ChannelEmailMsg, CreatedAt: epoch})
	})
	var n int
	update(t, s, func(tx tresor.Tx) error {
		var err error
		n, err = tx.DeleteConsents(ctx, c.ID, "marketing")
		return err
	})
	if n != 2 {
		t.Fatalf("deleted %d events, want 2", n)
	}
	events, err := s.Read().ConsentEvents(ctx, c.ID)
	must(t, err)
	states, err := s.Read().ConsentStates(ctx, c.ID)
	must(t, err)
	if len(events) != 1 || events[0].Purpose != "pr" || len(states) != 1 || states[0].Purpose != "pr" {
		t.Fatalf("left: events %+v, states %+v; want only pr's", events, states)
	}
	if _, err := s.Read().ConsentLink(ctx, []byte("link-hash")); err == nil {
		t.Fatalf("marketing's confirmation link stayed: %v", err)
	}
}
