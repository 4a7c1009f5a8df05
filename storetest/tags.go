package storetest

import (
	"slices"
	"testing"
	"time"

	"tresor"
)

// tagTests are the store's part of tags and segments (issue [2.3]).
var tagTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"TagsTravelWithTheirContact", testTagsTravelWithContact},
	{"TagFilterKeepsOnlyTaggedContacts", testTagFilter},
	{"TagCountsLeaveOutRestrictedContactsOnRequest", testTagCounts},
	{"ErasureRemovesTags", testErasureRemovesTags},
	{"OrganizationTags", testOrganizationTags},
	{"CreatedAndUpdatedRanges", testContactRanges},
	{"SegmentsRoundTrip", testSegmentsRoundTrip},
	{"SegmentCampaignsAreTheUnsentOnes", testSegmentCampaigns},
}

func tag(display string) tresor.Tag {
	t, err := tresor.NormalizeTag(display)
	if err != nil {
		panic(err)
	}
	return t
}

func addTag(t *testing.T, s tresor.Store, contactID, display string) bool {
	t.Helper()
	var added bool
	update(t, s, func(tx tresor.Tx) error {
		var err error
		added, err = tx.AddContactTag(ctx, contactID, tag(display), epoch)
		return err
	})
	return added
}

func testTagsTravelWithContact(t *testing.T, s tresor.Store) {
	a, b := contactRow("", "a@example.org"), contactRow("", "b@example.org")
	insertContacts(t, s, a, b)
	if !addTag(t, s, a.ID, "Messe 2026") || !addTag(t, s, a.ID, "Key Account") {
		t.Fatal("a new tag was not reported as added")
	}
	if addTag(t, s, a.ID, "messe 2026") {
		t.Error("the same tag in another case was added twice")
	}
	want := []string{"Key Account", "Messe 2026"}
	got, err := s.Read().Contact(ctx, a.ID)
	must(t, err)
	if !slices.Equal(got.Tags, want) {
		t.Errorf("Contact: tags %v, want %v", got.Tags, want)
	}
	rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{})
	must(t, err)
	rows2, err := s.Read().ContactsByID(ctx, []string{a.ID, b.ID})
	must(t, err)
	for _, r := range append(rows, rows2...) {
		w := want
		if r.ID == b.ID {
			w = nil
		}
		if !slices.Equal(r.Tags, w) {
			t.Errorf("list: %s has tags %v, want %v", r.ID, r.Tags, w)
		}
	}
	var removed bool
	update(t, s, func(tx tresor.Tx) error {
		var err error
		removed, err = tx.RemoveContactTag(ctx, a.ID, "key account")
		return err
	})
	if !removed {
		t.Error("removing a tag the contact has reported nothing removed")
	}
	got, err = s.Read().Contact(ctx, a.ID)
	must(t, err)
	if !slices.Equal(got.Tags, []string{"Messe 2026"}) {
		t.Errorf("after removal: %v", got.Tags)
	}
	err = s.Update(ctx, func(tx tresor.Tx) error {
		_, err := tx.AddContactTag(ctx, newID(), tag("x"), epoch)
		return err
	})
	wantCode(t, err, tresor.ECInvalidReference)
}

func testTagFilter(t *testing.T, s tresor.Store) {
	a, b, c := contactRow("", "a@example.org"), contactRow("", "b@example.org"), contactRow("", "c@example.org")
	insertContacts(t, s, a, b, c)
	addTag(t, s, a.ID, "Messe")
	addTag(t, s, c.ID, "Messe")
	addTag(t, s, b.ID, "Other")
	want := []string{a.ID, c.ID}
	slices.Sort(want)
	rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Tag: "messe"}})
	must(t, err)
	if got := ids(rows); !slices.Equal(got, want) {
		t.Errorf("Contacts tag=messe: %v, want %v", got, want)
	}
	got, err := s.Read().ContactIDs(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Tag: "messe"}})
	must(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("ContactIDs tag=messe: %v, want %v", got, want)
	}
}

func testTagCounts(t *testing.T, s tresor.Store) {
	a, b := contactRow("", "a@example.org"), contactRow("", "b@example.org")
	at := epoch
	b.RestrictedAt = &at
	insertContacts(t, s, a, b)
	o := organizationOf("ACME")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOrganization(ctx, o) })
	addTag(t, s, a.ID, "Messe")
	addTag(t, s, b.ID, "Messe")
	update(t, s, func(tx tresor.Tx) error {
		_, err := tx.AddOrganizationTag(ctx, o.ID, tag("MESSE"), epoch)
		return err
	})
	for _, tc := range []struct {
		hide     bool
		contacts int
	}{{false, 2}, {true, 1}} {
		counts, err := s.Read().TagCounts(ctx, tc.hide)
		must(t, err)
		if len(counts) != 1 || counts[0].Key != "messe" || counts[0].Contacts != tc.contacts || counts[0].Organizations != 1 {
			t.Errorf("hideRestricted=%v: %+v, want messe with %d contacts and 1 organization", tc.hide, counts, tc.contacts)
		}
	}
}

func testErasureRemovesTags(t *testing.T, s tresor.Store) {
	a, b := contactRow("", "a@example.org"), contactRow("", "b@example.org")
	insertContacts(t, s, a, b)
	addTag(t, s, a.ID, "Messe")
	addTag(t, s, b.ID, "Messe")
	update(t, s, func(tx tresor.Tx) error {
		_, err := tx.EraseContact(ctx, a.ID, tresor.EraseRecords, tresor.EraseRecords)
		return err
	})
	counts, err := s.Read().TagCounts(ctx, false)
	must(t, err)
	if len(counts) != 1 || counts[0].Contacts != 1 {
		t.Errorf("after erasure: %+v, want messe on 1 contact", counts)
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, b.ID) })
	counts, err = s.Read().TagCounts(ctx, false)
	must(t, err)
	if len(counts) != 0 {
		t.Errorf("after deleting the last tagged contact: %+v", counts)
	}
}

func testOrganizationTags(t *testing.T, s tresor.Store) {
	o, p := organizationOf("ACME"), organizationOf("Beta")
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertOrganization(ctx, o); err != nil {
			return err
		}
		if err := tx.InsertOrganization(ctx, p); err != nil {
			return err
		}
		_, err := tx.AddOrganizationTag(ctx, o.ID, tag("Partner"), epoch)
		return err
	})
	got, err := s.Read().Organization(ctx, o.ID)
	must(t, err)
	if !slices.Equal(got.Tags, []string{"Partner"}) {
		t.Errorf("Organization: tags %v", got.Tags)
	}
	os, err := s.Read().Organizations(ctx, tresor.OrganizationFilter{Tag: "partner"})
	must(t, err)
	if len(os) != 1 || os[0].ID != o.ID || !slices.Equal(os[0].Tags, []string{"Partner"}) {
		t.Errorf("Organizations tag=partner: %v", ids(os))
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteOrganization(ctx, o.ID) })
	counts, err := s.Read().TagCounts(ctx, false)
	must(t, err)
	if len(counts) != 0 {
		t.Errorf("tags survived their organization: %+v", counts)
	}
}

func testContactRanges(t *testing.T, s tresor.Store) {
	old, mid, recent := contactRow("", "old@example.org"), contactRow("", "mid@example.org"), contactRow("", "new@example.org")
	old.CreatedAt, old.UpdatedAt = epoch.AddDate(0, 0, -10), epoch.AddDate(0, 0, -10)
	mid.CreatedAt, mid.UpdatedAt = epoch.AddDate(0, 0, -5), epoch
	insertContacts(t, s, old, mid, recent)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		f    tresor.ContactFilter
		want []*tresor.ContactRow
	}{
		{"created since", tresor.ContactFilter{CreatedSince: epoch.Add(-6 * day)}, []*tresor.ContactRow{mid, recent}},
		{"created before", tresor.ContactFilter{CreatedBefore: epoch.Add(-day)}, []*tresor.ContactRow{old, mid}},
		{"updated before", tresor.ContactFilter{UpdatedBefore: epoch.Add(-day)}, []*tresor.ContactRow{old}},
	} {
		rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tc.f})
		must(t, err)
		want := ids(tc.want)
		slices.Sort(want)
		if got := ids(rows); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.name, got, want)
		}
	}
}

func segmentOf(name string) *tresor.SavedSegment {
	return &tresor.SavedSegment{Meta: meta(epoch), Name: name, Rules: tresor.SegmentRules{Tag: "Messe", Owner: "me",
		Consent: &tresor.SegmentConsent{Purpose: "marketing", Channel: tresor.ChannelEmailMsg, State: tresor.ConsentGranted}, CreatedFrom: "2026-01-01"}}
}

func testSegmentsRoundTrip(t *testing.T, s tresor.Store) {
	m := segmentOf("Messe-Leads")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertSegment(ctx, m) })
	got, err := s.Read().Segment(ctx, m.ID)
	must(t, err)
	if got.Name != m.Name || got.Rules.Tag != "Messe" || got.Rules.Consent == nil || *got.Rules.Consent != *m.Rules.Consent ||
		got.Rules.CreatedFrom != "2026-01-01" || !got.CreatedAt.Equal(epoch) || got.Version != 1 {
		t.Errorf("round trip: %+v", got)
	}
	m.Name, m.Version, m.UpdatedAt = "Renamed", 2, epoch.Add(time.Hour)
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateSegment(ctx, m, 1) })
	err = s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateSegment(ctx, m, 1) })
	wantCode(t, err, tresor.ECVersionMismatch)
	list, err := s.Read().Segments(ctx, tresor.Page{Limit: 10})
	must(t, err)
	if len(list) != 1 || list[0].Name != "Renamed" {
		t.Errorf("Segments: %+v", list)
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteSegment(ctx, m.ID) })
	_, err = s.Read().Segment(ctx, m.ID)
	wantCode(t, err, tresor.ECNotFound)
}

func testSegmentCampaigns(t *testing.T, s tresor.Store) {
	m := segmentOf("Messe")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertSegment(ctx, m) })
	campaign := func(sent bool) *tresor.Campaign {
		c := &tresor.Campaign{Meta: meta(epoch), Name: "Einladung", Purpose: "marketing", Channel: tresor.ChannelEmailMsg, SegmentID: m.ID,
			Content: tresor.CampaignContent{SubjectDE: "Hallo", BodyDE: "Text"}}
		if sent {
			at := epoch
			c.SentAt = &at
		}
		return c
	}
	unsent, sent := campaign(false), campaign(true)
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertCampaign(ctx, unsent); err != nil {
			return err
		}
		return tx.InsertCampaign(ctx, sent)
	})
	got, err := s.Read().Campaign(ctx, unsent.ID)
	must(t, err)
	if got.SegmentID != m.ID {
		t.Errorf("campaign segment_id = %q, want %q", got.SegmentID, m.ID)
	}
	in, err := s.Read().SegmentCampaigns(ctx, m.ID)
	must(t, err)
	if !slices.Equal(in, []string{unsent.ID}) {
		t.Errorf("SegmentCampaigns = %v, want only the unsent %s", in, unsent.ID)
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteCampaign(ctx, unsent.ID) })
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteSegment(ctx, m.ID) })
	got, err = s.Read().Campaign(ctx, sent.ID)
	must(t, err)
	if got.SegmentID != "" {
		t.Errorf("a sent campaign still names the deleted segment %q", got.SegmentID)
	}
}
