package gate_test

import (
	"slices"
	"strings"
	"testing"

	"tresor"
)

// TestTagsAndSegments holds the rules of tags and segments (issue [2.3]),
// one t.Run per rule, on both backends.
func TestTagsAndSegments(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, mk, dpo := e.g, e.ctx["sales"], e.ctx["marketing"], e.ctx["data_protection"]
		person := func(name, email string) *tresor.Contact {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: name, FamilyName: "Kundin", Emails: []string{email}},
				Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
			must(t, g.CreateContact(mk, c))
			return c
		}
		tagged := func(t *testing.T, id string) []string {
			t.Helper()
			c, err := g.Contact(mk, id)
			must(t, err)
			return c.Tags
		}
		counts := func(t *testing.T, ctx_ string) map[string]int {
			t.Helper()
			ts, err := g.Tags(e.ctx[ctx_])
			must(t, err)
			out := map[string]int{}
			for _, tc := range ts {
				out[tc.Key] = tc.Contacts
			}
			return out
		}

		t.Run("a tag that reveals a special category is refused in both languages", func(t *testing.T) {
			c := person("Hanna", "hanna@example.org")
			for _, bad := range []string{"Diabetiker", "Gewerkschaft_Kontakt", "Katholisch", "SPD", "cancer-survivor"} {
				_, err := g.TagContact(mk, c.ID, bad)
				wantCode(t, err, tresor.ECSpecialCategory)
				if ae := tresor.AsError(err); ae.Message == "" || ae.MessageDE == "" || !strings.Contains(ae.MessageDE, "Art. 9") {
					t.Errorf("%q: refusal not explained in both languages: %+v", bad, ae)
				}
			}
			if got := tagged(t, c.ID); len(got) != 0 {
				t.Errorf("a refused tag was stored: %v", got)
			}
			l, err := g.AuditLog(system(), tresor.AuditFilter{ContactID: c.ID, Action: "contact.tag", Page: tresor.Page{Limit: 20}})
			must(t, err)
			if len(l.Items) != 5 || l.Items[0].Decision != tresor.Refused || l.Items[0].Reason == "" {
				t.Errorf("refusals not audited: %+v", l.Items)
			}
		})

		t.Run("tags are normalised, matched without case and checked", func(t *testing.T) {
			c := person("Ida", "ida@example.org")
			tg, err := g.TagContact(mk, c.ID, "  Messe   2026 ")
			must(t, err)
			if tg.Display != "Messe 2026" || tg.Key != "messe 2026" {
				t.Errorf("tag = %+v", tg)
			}
			_, err = g.TagContact(mk, c.ID, "MESSE 2026")
			must(t, err)
			if got := tagged(t, c.ID); !slices.Equal(got, []string{"Messe 2026"}) {
				t.Errorf("tags = %v, want one", got)
			}
			for _, bad := range []string{"", "<b>", strings.Repeat("x", tresor.MaxTagLength+1), "a\x00b"} {
				_, err := g.TagContact(mk, c.ID, bad)
				wantCode(t, err, tresor.ECValidation)
			}
		})

		t.Run("tag and untag are audited with the tag", func(t *testing.T) {
			c := person("Jana", "jana@example.org")
			_, err := g.TagContact(mk, c.ID, "Newsletter")
			must(t, err)
			must(t, g.UntagContact(mk, c.ID, "newsletter"))
			for _, action := range []string{"contact.tag", "contact.untag"} {
				l, err := g.AuditLog(system(), tresor.AuditFilter{ContactID: c.ID, Action: action, Page: tresor.Page{Limit: 5}})
				must(t, err)
				if len(l.Items) != 1 || l.Items[0].Detail != "tag=newsletter" || l.Items[0].Decision != tresor.Allowed {
					t.Errorf("%s: %+v", action, l.Items)
				}
			}
			if got := tagged(t, c.ID); len(got) != 0 {
				t.Errorf("untagged contact still has %v", got)
			}
		})

		t.Run("the tag filter keeps only tagged contacts, in the list and in a search", func(t *testing.T) {
			a, b := person("Karla", "karla@example.org"), person("Karl", "karl@example.org")
			_, err := g.TagContact(mk, a.ID, "Filtertest")
			must(t, err)
			for _, f := range []tresor.ContactFilter{{Tag: "FILTERTEST"}, {Tag: "filtertest", Query: "Kundin"}, {Tag: "filtertest", Sort: tresor.SortName}} {
				if f.Query != "" || f.Sort != "" {
					must(t, g.WaitSearch(bg))
				}
				l, err := g.Contacts(mk, f)
				must(t, err)
				if len(l.Items) != 1 || l.Items[0].ID != a.ID {
					t.Errorf("%+v: %v, want only %s (not %s)", f, ids(l.Items), a.ID, b.ID)
				}
			}
			_, err = g.Contacts(mk, tresor.ContactFilter{Tag: "<x>"})
			wantCode(t, err, tresor.ECInvalidParameter)
		})

		t.Run("a tag is found by search", func(t *testing.T) {
			must(t, g.WaitSearch(bg))
			c := person("Lena", "lena@example.org")
			_, err := g.TagContact(mk, c.ID, "Wiederverkäufer")
			must(t, err)
			l, err := g.Contacts(mk, tresor.ContactFilter{Query: "wiederverkaeufer"})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != c.ID {
				t.Errorf("search by tag: %v, want %s", ids(l.Items), c.ID)
			}
			must(t, g.UntagContact(mk, c.ID, "Wiederverkäufer"))
			l, err = g.Contacts(mk, tresor.ContactFilter{Query: "wiederverkaeufer"})
			must(t, err)
			if len(l.Items) != 0 {
				t.Errorf("an untagged contact is still found by the tag: %v", ids(l.Items))
			}
		})

		t.Run("tags follow the purposes that may see the contact", func(t *testing.T) {
			c := person("Mia", "mia@example.org")
			_, err := g.TagContact(mk, c.ID, "Sichtbar")
			must(t, err)
			if counts(t, "marketing")["sichtbar"] != 1 {
				t.Fatalf("tag counts: %v", counts(t, "marketing"))
			}
			_, err = g.Restrict(dpo, c.ID, true)
			must(t, err)
			_, err = g.TagContact(mk, c.ID, "Mehr")
			wantCode(t, err, tresor.ECRestricted)
			if n := counts(t, "marketing")["sichtbar"]; n != 0 {
				t.Errorf("marketing counts a restricted person's tag: %d", n)
			}
			if n := counts(t, "data_protection")["sichtbar"]; n != 1 {
				t.Errorf("the DPO does not count it: %d", n)
			}
			l, err := g.Contacts(mk, tresor.ContactFilter{Tag: "sichtbar"})
			must(t, err)
			if len(l.Items) != 0 {
				t.Errorf("the tag filter shows a restricted person: %v", ids(l.Items))
			}
		})

		t.Run("erasure removes the contact's tags", func(t *testing.T) {
			c := person("Nora", "nora@example.org")
			_, err := g.TagContact(mk, c.ID, "Vergänglich")
			must(t, err)
			_, err = g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "Art. 17 request"})
			must(t, err)
			if n, ok := counts(t, "data_protection")["vergänglich"]; ok {
				t.Errorf("the erased person's tag is still counted: %d", n)
			}
			_, err = g.TagContact(mk, c.ID, "Neu")
			wantCode(t, err, tresor.ECErased)
		})

		t.Run("organizations carry tags and filter by them", func(t *testing.T) {
			o := &tresor.Organization{Name: "Tag AG"}
			must(t, g.CreateOrganization(sales, o))
			_, err := g.TagOrganization(sales, o.ID, "Partner")
			must(t, err)
			_, err = g.TagOrganization(sales, o.ID, "Moschee-Verein")
			wantCode(t, err, tresor.ECSpecialCategory)
			l, err := g.Organizations(sales, tresor.OrganizationFilter{Tag: "partner"})
			must(t, err)
			if len(l.Items) != 1 || !slices.Equal(l.Items[0].Tags, []string{"Partner"}) {
				t.Errorf("organizations tagged partner: %+v", l.Items)
			}
			ae, err := g.AuditLog(system(), tresor.AuditFilter{ContactID: o.ID, Action: "organization.tag", Page: tresor.Page{Limit: 5}})
			must(t, err)
			if len(ae.Items) != 2 {
				t.Errorf("organization.tag entries: %d, want 2 (one refused)", len(ae.Items))
			}
		})

		t.Run("segment membership respects the purpose and the consent", func(t *testing.T) {
			granted, pending, objector, restricted := person("Olga", "olga@example.org"), person("Paula", "paula@example.org"),
				person("Quinn", "quinn@example.org"), person("Rosa", "rosa@example.org")
			for _, c := range []*tresor.Contact{granted, pending, objector, restricted} {
				_, err := g.TagContact(mk, c.ID, "Segmenttest")
				must(t, err)
				_, err = g.RecordConsent(mk, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
					Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1"}})
				must(t, err)
			}
			_, err := g.RecordConsent(mk, pending.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentWithdraw, Method: tresor.MethodRequest})
			must(t, err)
			_, err = g.Object(mk, objector.ID)
			must(t, err)
			_, err = g.Restrict(dpo, restricted.ID, true)
			must(t, err)
			s := &tresor.SavedSegment{Name: "Messe mit Einwilligung", Rules: tresor.SegmentRules{Tag: "segmenttest",
				Consent: &tresor.SegmentConsent{Purpose: "marketing", Channel: tresor.ChannelEmailMsg, State: tresor.ConsentGranted}}}
			must(t, g.CreateSegment(mk, s))
			l, err := g.SegmentMembers(mk, s.ID, tresor.Page{})
			must(t, err)
			if got := ids(l.Items); !slices.Equal(got, []string{granted.ID}) {
				t.Errorf("members under marketing: %v, want only %s", got, granted.ID)
			}
			l, err = g.SegmentMembers(dpo, s.ID, tresor.Page{})
			must(t, err)
			// The DPO sees the restricted person too; the objection withdrew the objector's consent.
			if got, want := ids(l.Items), []string{granted.ID, restricted.ID}; !slices.Equal(got, want) {
				t.Errorf("members under data_protection: %v, want %v", got, want)
			}
			l, err = g.Contacts(mk, tresor.ContactFilter{Segment: s.ID})
			must(t, err)
			if len(l.Items) != 1 {
				t.Errorf("?segment= on the list: %v", ids(l.Items))
			}
			_, err = g.Contacts(mk, tresor.ContactFilter{Segment: s.ID, Tag: "other"})
			wantCode(t, err, tresor.ECInvalidParameter)
			bad := &tresor.SavedSegment{Name: "x", Rules: tresor.SegmentRules{Tag: "Krebs-Hilfe"}}
			wantCode(t, g.CreateSegment(mk, bad), tresor.ECSpecialCategory)
		})

		t.Run("a segment an unsent campaign uses cannot be deleted", func(t *testing.T) {
			in, out, withdrawn := person("Sara", "sara@example.org"), person("Tina", "tina@example.org"), person("Uta", "uta@example.org")
			for _, c := range []*tresor.Contact{in, out, withdrawn} {
				_, err := g.RecordConsent(mk, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
					Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1"}})
				must(t, err)
			}
			for _, c := range []*tresor.Contact{in, withdrawn} {
				_, err := g.TagContact(mk, c.ID, "Kampagne")
				must(t, err)
			}
			_, err := g.RecordConsent(mk, withdrawn.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
				Action: tresor.ConsentWithdraw, Method: tresor.MethodRequest})
			must(t, err)
			s := &tresor.SavedSegment{Name: "Kampagnenziel", Rules: tresor.SegmentRules{Tag: "Kampagne"}}
			must(t, g.CreateSegment(mk, s))
			m := &tresor.Campaign{Name: "Einladung", Channel: tresor.ChannelEmailMsg, SegmentID: s.ID,
				Content: tresor.CampaignContent{SubjectDE: "Einladung", BodyDE: "Hallo!"}}
			must(t, g.CreateCampaign(mk, m))
			a, err := g.Audience(mk, m.ID)
			must(t, err)
			if !slices.Equal(a.Recipients, []string{in.ID}) || a.Excluded["consent_withdrawn"] != 1 || len(a.Excluded) != 1 {
				t.Errorf("audience from the segment: %+v", a)
			}
			err = g.DeleteSegment(mk, s.ID, 0)
			wantCode(t, err, tresor.ECConflict)
			if ae := tresor.AsError(err); !strings.Contains(ae.Message, m.ID) || ae.MessageDE == "" {
				t.Errorf("the refusal does not name the campaign: %+v", ae)
			}
			must(t, g.DeleteCampaign(mk, m.ID, 0))
			must(t, g.DeleteSegment(mk, s.ID, 0))
			wantCode(t, g.CreateCampaign(mk, &tresor.Campaign{Name: "x", Channel: tresor.ChannelEmailMsg, SegmentID: s.ID,
				Content: tresor.CampaignContent{SubjectDE: "x", BodyDE: "x"}}), tresor.ECValidation)
		})
	})
}

func ids[T interface{ Base() *tresor.Meta }](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Base().ID
	}
	return out
}
