package gate_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/sqlite"
)

// mueller is a contact for the merge tests; one of them is spelled Müller.
func mueller(family, email string, basis tresor.LegalBasis) *tresor.Contact {
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Hans", FamilyName: family, Organization: "Acme AG"},
		Collection: tresor.Collection{LegalBasis: basis}}
	if email != "" {
		c.Emails = []string{email}
	}
	if basis == tresor.BasisLegitimateInterest {
		c.BalancingNote = "Business contact met at a fair; expects to be contacted about the product."
	}
	return c
}

// pairOf finds the duplicate pair of two contacts in a list.
func pairOf(l *tresor.List[*tresor.Duplicate], a, b string) *tresor.Duplicate {
	for _, d := range l.Items {
		ids := []string{d.Contacts[0].ID, d.Contacts[1].ID}
		if slices.Contains(ids, a) && slices.Contains(ids, b) {
			return d
		}
	}
	return nil
}

// TestDuplicates: candidates are found by a shared blind-index key and by
// the folded name at the same organization, only as the purpose may see.
func TestDuplicates(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales := e.ctx["sales"]
		must(t, e.g.WaitSearch(bg))
		a, b := erika(), erika()
		b.GivenName, b.FamilyName, b.Organization, b.Phones = "E.", "M.", "", nil
		must(t, e.g.CreateContact(sales, a))
		must(t, e.g.CreateContact(sales, b))
		m1, m2 := mueller("Müller", "", tresor.BasisContract), mueller("Mueller", "hans@acme.example", tresor.BasisContract)
		must(t, e.g.CreateContact(sales, m1))
		must(t, e.g.CreateContact(sales, m2))
		other := mueller("Müller", "", tresor.BasisContract)
		other.Organization = "Beta GmbH"
		must(t, e.g.CreateContact(sales, other))

		l, err := e.g.Duplicates(sales, tresor.Page{})
		must(t, err)
		t.Run("candidates by shared e-mail", func(t *testing.T) {
			d := pairOf(l, a.ID, b.ID)
			if d == nil || !slices.Contains(d.Reasons, tresor.DuplicateReason(tresor.LookupEmail)) {
				t.Fatalf("the pair sharing an e-mail address: %+v", d)
			}
			if d.Contacts[0].Emails[0] != "erika.mustermann@example.de" {
				t.Fatalf("the pair is not shown with its fields: %+v", d.Contacts[0])
			}
		})
		t.Run("candidates by folded name and organization", func(t *testing.T) {
			d := pairOf(l, m1.ID, m2.ID)
			if d == nil || !slices.Equal(d.Reasons, []tresor.DuplicateReason{tresor.DuplicateName}) {
				t.Fatalf("Müller and Mueller at Acme AG: %+v", d)
			}
			if pairOf(l, m1.ID, other.ID) != nil {
				t.Fatal("the same name at another organization is a candidate")
			}
			if l.Total != 2 || len(l.Items) != 2 {
				t.Fatalf("%d candidates (%d shown), want 2", l.Total, len(l.Items))
			}
		})
		t.Run("candidates are paged", func(t *testing.T) {
			first, err := e.g.Duplicates(sales, tresor.Page{Limit: 1})
			must(t, err)
			if len(first.Items) != 1 || first.Next == "" {
				t.Fatalf("first page: %d items, next %q", len(first.Items), first.Next)
			}
			after, err := tresor.DecodeCursor(first.Next)
			must(t, err)
			second, err := e.g.Duplicates(sales, tresor.Page{Limit: 1, After: after})
			must(t, err)
			if len(second.Items) != 1 || second.Next != "" || second.Items[0].Contacts[0].ID == first.Items[0].Contacts[0].ID {
				t.Fatalf("second page: %+v", second)
			}
		})
		t.Run("a restricted contact is no candidate for a purpose that may not see it", func(t *testing.T) {
			_, err := e.g.Restrict(e.ctx["data_protection"], b.ID, true)
			must(t, err)
			defer e.g.LiftRestriction(e.ctx["data_protection"], b.ID, "accuracy verified, ticket 4711")
			l, err := e.g.Duplicates(sales, tresor.Page{})
			must(t, err)
			if pairOf(l, a.ID, b.ID) != nil {
				t.Fatal("a restricted person is shown as a candidate")
			}
		})
		t.Run("the list is audited with the contacts shown", func(t *testing.T) {
			entries, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "contact.duplicates", Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(entries.Items) == 0 || !slices.Contains(entries.Items[0].ObjectIDs, m1.ID) && !slices.Contains(entries.Items[len(entries.Items)-1].ObjectIDs, m1.ID) {
				t.Fatalf("no audit entry of the list naming the contacts: %+v", entries.Items)
			}
		})
	})
}

// TestMerge: the rules of merging two contacts.
func TestMerge(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, service, marketing, dpo := e.ctx["sales"], e.ctx["service"], e.ctx["marketing"], e.ctx["data_protection"]
		// The survivor: given under contract, no phone. The absorbed: a
		// phone and a position under legitimate interest, consent history.
		s := mueller("Müller", "hans@acme.example", tresor.BasisContract)
		a := mueller("Mueller", "h.mueller@private.example", tresor.BasisLegitimateInterest)
		a.Phones, a.Position = []string{"+49 30 555 0101"}, "Einkauf"
		must(t, e.g.CreateContact(sales, s))
		must(t, e.g.CreateContact(sales, a))
		consent := func(id string, action tresor.ConsentAction, channel string) {
			t.Helper()
			_, err := e.g.RecordConsent(marketing, id, tresor.ConsentRequest{Purpose: "marketing", Channel: channel, Action: action,
				Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1", IP: "203.0.113.9"}})
			must(t, err)
		}
		consent(s.ID, tresor.ConsentGrant, "email")
		consent(a.ID, tresor.ConsentGrant, "email")
		consent(a.ID, tresor.ConsentWithdraw, "email")
		consent(a.ID, tresor.ConsentGrant, "phone")
		in := note(a.ID, "Rahmenvertrag Zitronenfalter besprochen.")
		must(t, e.g.CreateInteraction(sales, in))
		k := serviceCase(a.ID)
		must(t, e.g.CreateCase(service, k))
		d := &tresor.Deal{Title: "Rahmenvertrag", Stage: "lead", ContactID: a.ID}
		must(t, e.g.CreateDeal(sales, d))
		tk := task("Rückruf zum Rahmenvertrag", "2026-03-20")
		tk.ContactID = a.ID
		must(t, e.g.CreateTask(sales, tk))
		_, err := e.g.TagContact(sales, a.ID, "Messe 2026")
		must(t, err)
		_, err = e.g.TagContact(sales, s.ID, "Kunde")
		must(t, err)

		t.Run("merging into itself is refused", func(t *testing.T) {
			_, err := e.g.MergeContact(sales, s.ID, s.ID)
			wantCode(t, err, tresor.ECValidation)
		})
		t.Run("a restricted contact is not merged", func(t *testing.T) {
			_, err := e.g.Restrict(dpo, a.ID, true)
			must(t, err)
			_, err = e.g.MergeContact(dpo, s.ID, a.ID)
			wantRestricted(t, err)
			_, err = e.g.LiftRestriction(dpo, a.ID, "accuracy verified, ticket 4711")
			must(t, err)
		})
		t.Run("a contact under legal hold is not merged", func(t *testing.T) {
			h, err := e.g.PlaceHold(dpo, a.ID, "Klage 7 O 1/26")
			must(t, err)
			_, err = e.g.MergeContact(sales, s.ID, a.ID)
			wantCode(t, err, tresor.ECLegalHold)
			_, err = e.g.ReleaseHold(dpo, h.ID)
			must(t, err)
		})
		t.Run("an archived contact is not merged", func(t *testing.T) {
			x := erika()
			must(t, e.g.CreateContact(sales, x))
			_, err := e.g.CloseContact(dpo, x.ID)
			must(t, err)
			_, err = e.g.MergeContact(dpo, s.ID, x.ID)
			wantCode(t, err, tresor.ECArchived)
		})

		res, err := e.g.MergeContact(sales, s.ID, a.ID)
		must(t, err)
		got, err := e.g.Contact(sales, s.ID)
		must(t, err)

		t.Run("fields keep their legal basis", func(t *testing.T) {
			if len(got.Phones) != 1 || got.Position != "Einkauf" || got.FamilyName != "Müller" {
				t.Fatalf("merged fields: %+v", got.ContactDetails)
			}
			if !slices.Equal(got.Emails, []string{"hans@acme.example", "h.mueller@private.example"}) {
				t.Fatalf("e-mail addresses: %v", got.Emails)
			}
			basisOf := func(field string) []tresor.LegalBasis {
				var out []tresor.LegalBasis
				for _, r := range records(t, got.Provenance) {
					if slices.Contains(r.Fields, field) {
						out = append(out, r.LegalBasis)
					}
				}
				return out
			}
			if b := basisOf("phones"); !slices.Equal(b, []tresor.LegalBasis{tresor.BasisLegitimateInterest}) {
				t.Fatalf("phones taken from the absorbed contact have bases %v, want legitimate_interest", b)
			}
			if b := basisOf("family_name"); !slices.Equal(b, []tresor.LegalBasis{tresor.BasisContract}) {
				t.Fatalf("the survivor's name has bases %v, want contract", b)
			}
			if b := basisOf("emails"); !slices.Contains(b, tresor.BasisContract) || !slices.Contains(b, tresor.BasisLegitimateInterest) {
				t.Fatalf("the joined e-mail list names bases %v, want both", b)
			}
			if !slices.Contains(res.Fields, "phones") || !slices.Contains(res.Fields, "position") {
				t.Fatalf("fields taken: %v", res.Fields)
			}
		})
		t.Run("consent union: withdrawal wins", func(t *testing.T) {
			h, err := e.g.Consents(marketing, s.ID)
			must(t, err)
			state := map[tresor.ConsentChannel]tresor.ConsentState{}
			for _, st := range h.States {
				state[st.Channel] = st.State
			}
			if state["email"] != tresor.ConsentWithdrawn {
				t.Fatalf("e-mail consent after the merge: %q, want withdrawn (the absorbed contact withdrew)", state["email"])
			}
			if state["phone"] != tresor.ConsentGranted {
				t.Fatalf("phone consent after the merge: %q, want granted (only the absorbed contact had one)", state["phone"])
			}
			merged := 0
			for _, ev := range h.Events {
				if ev.Method == tresor.MethodMerge {
					merged++
				}
				if ev.Method != tresor.MethodMerge && ev.IP != "203.0.113.9" {
					t.Fatalf("a moved proof address does not open under the survivor's key: %+v", ev)
				}
			}
			if len(h.Events) != 5 || merged != 1 {
				t.Fatalf("ledger after the merge: %d events, %d by the merge; want 4 joined and 1 merge withdrawal", len(h.Events), merged)
			}
		})
		t.Run("interactions, cases, deals and tasks move", func(t *testing.T) {
			gotIn, err := e.g.Interaction(sales, in.ID)
			must(t, err)
			if gotIn.ContactID != s.ID || gotIn.Body != "Rahmenvertrag Zitronenfalter besprochen." {
				t.Fatalf("the moved note: %+v", gotIn)
			}
			gotK, err := e.g.Case(service, k.ID)
			must(t, err)
			if gotK.ContactID != s.ID || gotK.Subject != "Invoice unclear" {
				t.Fatalf("the moved case: %+v", gotK)
			}
			gotD, err := e.g.Deal(sales, d.ID)
			must(t, err)
			if gotD.ContactID != s.ID {
				t.Fatalf("the moved deal: %+v", gotD)
			}
			gotT, err := e.g.Task(sales, tk.ID)
			must(t, err)
			if gotT.ContactID != s.ID || gotT.Title != "Rückruf zum Rahmenvertrag" {
				t.Fatalf("the moved task: %+v", gotT)
			}
			if res.Interactions != 1 || res.Cases != 1 || res.Deals != 1 || res.Tasks != 1 {
				t.Fatalf("counts: %+v", res)
			}
		})
		t.Run("the survivor has the tags of both", func(t *testing.T) {
			if !slices.Contains(got.Tags, "Messe 2026") || !slices.Contains(got.Tags, "Kunde") {
				t.Fatalf("tags after the merge: %v", got.Tags)
			}
			l, err := e.g.Contacts(sales, tresor.ContactFilter{Tag: "messe 2026"})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != s.ID {
				t.Fatalf("the absorbed contact's tag finds %v", idsOfContacts(l.Items))
			}
		})
		t.Run("blind-index lookups move", func(t *testing.T) {
			l, err := e.g.Contacts(sales, tresor.ContactFilter{Email: "h.mueller@private.example"})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != s.ID {
				t.Fatalf("the absorbed address finds %v", idsOfContacts(l.Items))
			}
		})
		t.Run("tombstone redirects to the survivor", func(t *testing.T) {
			_, err := e.g.Contact(sales, a.ID)
			wantCode(t, err, tresor.ECMerged)
			if into := tresor.AsError(err).MergedInto; into != s.ID {
				t.Fatalf("merged into %q, want %q", into, s.ID)
			}
			_, err = e.g.MergeContact(sales, s.ID, a.ID)
			wantCode(t, err, tresor.ECConflict) // a merge names the survivor itself, no redirect
		})
		t.Run("the merged pair is no candidate any more", func(t *testing.T) {
			must(t, e.g.WaitSearch(bg))
			l, err := e.g.Duplicates(sales, tresor.Page{})
			must(t, err)
			for _, d := range l.Items {
				if d.Contacts[0].ID == a.ID || d.Contacts[1].ID == a.ID {
					t.Fatalf("the absorbed contact is still a candidate: %+v", d)
				}
			}
		})
		t.Run("audit entry names both contacts", func(t *testing.T) {
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "contact.merge", Page: tresor.Page{Limit: 10}})
			must(t, err)
			var ok bool
			for _, en := range l.Items {
				if en.Decision == tresor.Allowed && slices.Contains(en.ObjectIDs, s.ID) && slices.Contains(en.ObjectIDs, a.ID) &&
					strings.Contains(en.Detail, "into="+s.ID) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("no allowed contact.merge entry naming both: %+v", l.Items)
			}
		})
	})
}

// TestMergeObjectionWins: an objection (Art. 21) on the absorbed contact
// holds for the survivor.
func TestMergeObjectionWins(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, marketing := e.ctx["sales"], e.ctx["marketing"]
		s, a := mueller("Müller", "hans@acme.example", tresor.BasisContract), mueller("Mueller", "h@other.example", tresor.BasisContract)
		must(t, e.g.CreateContact(sales, s))
		must(t, e.g.CreateContact(sales, a))
		_, err := e.g.RecordConsent(marketing, s.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant,
			Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1"}})
		must(t, err)
		_, err = e.g.Object(sales, a.ID)
		must(t, err)
		_, err = e.g.MergeContact(sales, s.ID, a.ID)
		must(t, err)
		t.Run("objection wins", func(t *testing.T) {
			got, err := e.g.Contact(sales, s.ID)
			must(t, err)
			if got.ObjectedAt == nil {
				t.Fatal("the survivor lost the objection of the absorbed contact")
			}
			_, err = e.g.Contact(marketing, s.ID)
			wantCode(t, err, tresor.ECSuppressed)
			d, err := e.g.Reach(sales, s.ID, "marketing", "email", true)
			if err == nil && d.Allowed {
				t.Fatal("the survivor may still be reached for marketing")
			}
		})
	})
}

func idsOfContacts(cs []*tresor.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// TestMergeDestroysTheAbsorbedKey: the absorbed contact's data key and rows
// are gone from the SQLite file, its plaintext is nowhere in it, and what
// moved is sealed under the survivor's key and still reads.
func TestMergeDestroysTheAbsorbedKey(t *testing.T) {
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	sales := tresor.WithPurpose(system(), "sales")
	s, a := mueller("Müller", "hans@acme.example", tresor.BasisContract), mueller("Mueller", "h.quastenflosser@example.org", tresor.BasisContract)
	a.Position = "Quastenflosserzüchter"
	must(t, g.CreateContact(sales, s))
	must(t, g.CreateContact(sales, a))
	in := note(a.ID, "Notiz über Pfauenaugenbutter")
	must(t, g.CreateInteraction(sales, in))
	_, err := g.MergeContact(sales, s.ID, a.ID)
	must(t, err)

	t.Run("absorbed key destroyed", func(t *testing.T) {
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		defer raw.Close()
		for _, q := range []string{"SELECT count(*) FROM data_keys WHERE subject = ?", "SELECT count(*) FROM contacts WHERE id = ?",
			"SELECT count(*) FROM contact_lookup WHERE contact_id = ?", "SELECT count(*) FROM interactions WHERE key_subject = ?"} {
			var n int
			must(t, raw.QueryRow(q, a.ID).Scan(&n))
			if n != 0 {
				t.Fatalf("%s: %d rows after the merge", q, n)
			}
		}
		var subject string
		must(t, raw.QueryRow("SELECT key_subject FROM interactions WHERE id = ?", in.ID).Scan(&subject))
		if subject != s.ID {
			t.Fatalf("the moved note is sealed under %q, want the survivor %q", subject, s.ID)
		}
	})
	top := t
	t.Run("plaintext of absorbed data not in the database file", func(t *testing.T) {
		must(t, g.Close())
		b := readAll(t, filepath.Join(dir, datadir.DatabaseFile), filepath.Join(dir, datadir.DatabaseFile+"-wal"))
		for _, s := range []string{"Quastenflosser", "quastenflosser@example.org", "Pfauenaugenbutter"} {
			if strings.Contains(strings.ToLower(string(b)), strings.ToLower(s)) {
				t.Fatalf("%q is in the database file", s)
			}
		}
		g = openGate(top, datadir.Config{DataDir: dir})
	})
	t.Run("moved data re-sealed under the survivor still reads", func(t *testing.T) {
		got, err := g.Interaction(sales, in.ID)
		must(t, err)
		if got.Body != "Notiz über Pfauenaugenbutter" {
			t.Fatalf("the moved note reads %q", got.Body)
		}
		c, err := g.Contact(sales, s.ID)
		must(t, err)
		if c.Position != "Quastenflosserzüchter" {
			t.Fatalf("the taken position reads %q", c.Position)
		}
	})
}
