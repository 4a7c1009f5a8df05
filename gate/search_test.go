package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// found searches as ctx and returns the ids found.
func found(t *testing.T, g *gate.Gate, ctx context.Context, q string) []string {
	t.Helper()
	l, err := g.Contacts(ctx, tresor.ContactFilter{Query: q})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var ids []string
	for _, c := range l.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestSearchFindsPeopleUnderEncryption(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, marketing, dpo := e.ctx["sales"], e.ctx["marketing"], e.ctx["data_protection"]
		must(t, e.g.WaitSearch(bg))
		person := func(t *testing.T, given, family string) *tresor.Contact {
			t.Helper()
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: family,
				Emails: []string{strings.ToLower(given) + "." + strings.ToLower(family) + "@example.de"}, Phones: []string{"+49 89 7654321"},
				PostalAddress: &tresor.PostalAddress{Street: "Hauptstraße 1", PostalCode: "80331", City: "Neuötting", Country: "DE"},
				SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@" + strings.ToLower(given) + "@social.example"}},
				Organization:  "Brauerei Weißbier AG", Position: "Einkäuferin"},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, e.g.CreateContact(sales, c))
			return c
		}
		t.Run("a new contact is found at once by folded name, address, number, handle, employer and position", func(t *testing.T) {
			c := person(t, "Jürgen", "Größmann")
			for _, q := range []string{"jurgen", "juergen", "JÜRGEN GRÖSSMANN", "grossmann", "grosmann", "jürgen.größmann@example.de",
				"089 7654321", "+49 (89) 765-4321", "@jürgen@social", "weissbier", "einkaeuferin", "neuotting"} {
				if ids := found(t, e.g, sales, q); !slices.Contains(ids, c.ID) {
					t.Errorf("search %q did not find the contact (found %v)", q, ids)
				}
			}
		})
		t.Run("a purpose finds nobody by a field it may not see", func(t *testing.T) {
			c := person(t, "Ottilie", "Postweg")
			if ids := found(t, e.g, sales, "neuotting ottilie"); !slices.Contains(ids, c.ID) {
				t.Fatalf("sales, which sees postal addresses, did not find the contact by its city: %v", ids)
			}
			if ids := found(t, e.g, marketing, "neuotting ottilie"); len(ids) != 0 {
				t.Errorf("marketing found a contact by a postal city it may not see: %v", ids)
			}
			if ids := found(t, e.g, marketing, "ottilie postweg"); !slices.Contains(ids, c.ID) {
				t.Errorf("marketing did not find the contact by name: %v", ids)
			}
		})
		t.Run("a changed name is found by the new name, not the old", func(t *testing.T) {
			c := person(t, "Waltraud", "Vorname")
			_, err := e.g.UpdateContact(sales, c.ID, tresor.Update{Patch: json.RawMessage(`{"family_name":"Nachname","emails":["w.nachname@example.de"]}`)})
			must(t, err)
			if ids := found(t, e.g, sales, "waltraud vorname"); len(ids) != 0 {
				t.Errorf("the old name still finds the contact: %v", ids)
			}
			if ids := found(t, e.g, sales, "waltraud nachname"); !slices.Equal(ids, []string{c.ID}) {
				t.Errorf("the new name does not find the contact: %v", ids)
			}
		})
		t.Run("a restricted contact is found only by the data protection officer", func(t *testing.T) {
			c := person(t, "Rosemarie", "Einschränkung")
			_, err := e.g.Restrict(dpo, c.ID, true)
			must(t, err)
			if ids := found(t, e.g, sales, "rosemarie"); slices.Contains(ids, c.ID) {
				t.Errorf("sales found a restricted contact")
			}
			if ids := found(t, e.g, dpo, "rosemarie einschrankung"); !slices.Contains(ids, c.ID) {
				t.Errorf("the DPO did not find the restricted contact: %v", ids)
			}
		})
		t.Run("a person who objected is not found for marketing", func(t *testing.T) {
			c := person(t, "Wilhelmine", "Widerspruch")
			_, err := e.g.Object(dpo, c.ID)
			must(t, err)
			if ids := found(t, e.g, marketing, "wilhelmine"); len(ids) != 0 {
				t.Errorf("marketing found a person who objected: %v", ids)
			}
			if ids := found(t, e.g, sales, "wilhelmine"); !slices.Contains(ids, c.ID) {
				t.Errorf("sales, whose customer she stays, did not find her: %v", ids)
			}
		})
		t.Run("an erased person is found no more", func(t *testing.T) {
			c := person(t, "Gisela", "Vergessen")
			_, err := e.g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "Art. 17 request"})
			must(t, err)
			for _, ctx := range []context.Context{sales, dpo} {
				if ids := found(t, e.g, ctx, "gisela vergessen"); len(ids) != 0 {
					t.Errorf("the erased person is still found: %v", ids)
				}
			}
		})
		t.Run("a search is audited with its hits and a keyed hash, never the query", func(t *testing.T) {
			c := person(t, "Hildegard", "Protokoll")
			found(t, e.g, sales, "Hildegard Protokoll")
			found(t, e.g, sales, "hildegard   PROTOKOLL")
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "contact.search", Page: tresor.Page{Limit: tresor.MaxPageSize}})
			must(t, err)
			var details []string
			for _, a := range l.Items {
				if slices.Contains(a.ObjectIDs, c.ID) {
					details = append(details, a.Detail)
				}
				if strings.Contains(strings.ToLower(a.Detail), "hildegard") || strings.Contains(strings.ToLower(a.Detail), "protokoll") {
					t.Fatalf("the audit entry holds the query: %q", a.Detail)
				}
			}
			if len(details) != 2 {
				t.Fatalf("%d audited searches name the hit, want 2", len(details))
			}
			if details[0] != details[1] || !strings.HasPrefix(details[0], "query ") {
				t.Errorf("the same query, typed differently, is not recognisable: %q, %q", details[0], details[1])
			}
		})
		t.Run("a query too long is refused with a clear error", func(t *testing.T) {
			_, err := e.g.Contacts(sales, tresor.ContactFilter{Query: strings.Repeat("a", gate.MaxQueryLength+1)})
			wantCode(t, err, tresor.ECInvalidParameter)
		})
	})
}

func TestSearchLoadsStoredContactsAtStart(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales := e.ctx["sales"]
		var want []string
		for _, n := range []string{"Annegret", "Annemarie", "Annika"} {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: n, FamilyName: "Vorhanden"},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, e.g.CreateContact(sales, c))
			want = append(want, c.ID)
		}
		// The index starts after the contacts were written: it loads them.
		must(t, e.g.WaitSearch(bg))
		ids := found(t, e.g, sales, "anne vorhanden")
		if len(ids) != 2 || !slices.Contains(ids, want[0]) || !slices.Contains(ids, want[1]) {
			t.Errorf("found %v, want the first two of %v", ids, want)
		}
		if st := e.g.SearchState(); !st.Ready || st.Loaded != 3 || st.Total != 3 {
			t.Errorf("state %+v", st)
		}
	})
}

func TestSearchSaysItIsWarmingUp(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales := e.ctx["sales"]
		cs := make([]*tresor.Contact, 3000)
		for i := range cs {
			cs[i] = &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Viele", FamilyName: fmt.Sprintf("Person%d", i)},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		}
		must(t, e.g.CreateContacts(sales, cs))
		// The first search starts the index; loading 3,000 people takes
		// longer than the search takes to answer.
		_, err := e.g.Contacts(sales, tresor.ContactFilter{Query: "viele"})
		wantCode(t, err, tresor.ECSearchWarming)
		if e := tresor.AsError(err); e.RetryAfter <= 0 || !strings.Contains(e.Message, "being prepared") {
			t.Errorf("the answer does not say how far the index is or when to retry: %+v", e)
		}
		must(t, e.g.WaitSearch(bg))
		l, err := e.g.Contacts(sales, tresor.ContactFilter{Query: "viele", Page: tresor.Page{Limit: 10}})
		must(t, err)
		if l.Total != 3000 || len(l.Items) != 10 {
			t.Errorf("found %d of %d", len(l.Items), l.Total)
		}
	})
}

// TestSearchFollowsTheWritesOfOtherProcesses: two servers on one database
// (two gates in this test) each keep their own index; a contact written by
// one is found by the other, through the change feed (PostgreSQL: woken by
// NOTIFY; SQLite: polled every second).
func TestSearchFollowsTheWritesOfOtherProcesses(t *testing.T) {
	run := func(t *testing.T, cfg func() datadir.Config) {
		one, other := openGate(t, cfg()), openGate(t, cfg())
		must(t, one.WaitSearch(bg))
		must(t, other.WaitSearch(bg))
		salesOne := as(t, one, "one@example.org", "sales", tresor.RoleSales)
		salesOther := tresor.WithPurpose(tresor.WithActor(bg, tresor.ActorFrom(salesOne)), "sales")
		dpo := as(t, one, "dpo@example.org", "data_protection", tresor.RoleDPO)
		// eventually waits until the other server's search gives want, and
		// reports how long that took (a figure for the benchmarks, not a
		// condition of this test beyond its generous bound).
		eventually := func(t *testing.T, q string, want int) {
			t.Helper()
			start := time.Now()
			for {
				l, err := other.Contacts(salesOther, tresor.ContactFilter{Query: q})
				must(t, err)
				if len(l.Items) == want {
					t.Logf("the other server's index followed in %v", time.Since(start).Round(time.Millisecond))
					return
				}
				if time.Since(start) > 15*time.Second {
					t.Fatalf("the other server finds %d for %q, want %d", len(l.Items), q, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Fernanda", FamilyName: "Übertragung"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		t.Run("a contact created on one server is found on the other", func(t *testing.T) {
			must(t, one.CreateContact(salesOne, c))
			eventually(t, "fernanda uebertragung", 1)
		})
		t.Run("a name changed on one server is found by the new name on the other", func(t *testing.T) {
			_, err := one.UpdateContact(salesOne, c.ID, tresor.Update{Patch: json.RawMessage(`{"family_name":"Umbenannt"}`)})
			must(t, err)
			eventually(t, "fernanda umbenannt", 1)
			eventually(t, "fernanda uebertragung", 0)
		})
		t.Run("a person erased on one server is found no more on the other", func(t *testing.T) {
			_, err := one.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "Art. 17 request"})
			must(t, err)
			eventually(t, "fernanda", 0)
		})
	}
	sharedDatabase(t, run)
}

func TestContactListsSortAndFilterUnderEncryption(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, marketing := e.ctx["sales"], e.ctx["marketing"]
		must(t, e.g.WaitSearch(bg))
		byName := map[string]string{}
		for _, p := range []struct{ given, family, org string }{
			{"Zora", "Özkan", "Beta GmbH"}, {"Anton", "Zeller", "Alpha AG"}, {"Berta", "Adam", ""}, {"Carl", "Müller", "Alpha AG"},
		} {
			c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: p.given, FamilyName: p.family, Organization: p.org,
				Emails: []string{strings.ToLower(p.given) + "@example.org"}},
				Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
			must(t, e.g.CreateContact(marketing, c))
			byName[c.ID] = p.given
		}
		names := func(t *testing.T, ctx context.Context, f tresor.ContactFilter) []string {
			t.Helper()
			l, err := e.g.Contacts(ctx, f)
			must(t, err)
			var out []string
			for _, c := range l.Items {
				out = append(out, byName[c.ID])
			}
			return out
		}
		t.Run("a list sorts by the sealed family name, folded", func(t *testing.T) {
			if got := names(t, sales, tresor.ContactFilter{Sort: tresor.SortName}); !slices.Equal(got, []string{"Berta", "Carl", "Zora", "Anton"}) {
				t.Errorf("got %v", got)
			}
		})
		t.Run("a list sorts by organization, those without one last", func(t *testing.T) {
			if got := names(t, sales, tresor.ContactFilter{Sort: tresor.SortOrganization}); !slices.Equal(got, []string{"Carl", "Anton", "Zora", "Berta"}) {
				t.Errorf("got %v", got)
			}
		})
		t.Run("a list keeps only contacts in a consent state, searched or not", func(t *testing.T) {
			for id, n := range byName {
				if n == "Carl" {
					_, err := e.g.RecordConsent(marketing, id, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
						Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}})
					must(t, err)
				}
			}
			granted := &tresor.ConsentFilter{Purpose: "marketing", Channel: "email", State: tresor.ConsentGranted}
			if got := names(t, marketing, tresor.ContactFilter{Consent: granted}); !slices.Equal(got, []string{"Carl"}) {
				t.Errorf("list: got %v", got)
			}
			if got := names(t, marketing, tresor.ContactFilter{Consent: granted, Query: "alpha"}); !slices.Equal(got, []string{"Carl"}) {
				t.Errorf("search: got %v", got)
			}
			unknown := &tresor.ConsentFilter{Purpose: "marketing", Channel: "email", State: tresor.ConsentUnknown}
			if got := names(t, marketing, tresor.ContactFilter{Consent: unknown, Sort: tresor.SortName}); !slices.Equal(got, []string{"Berta", "Zora", "Anton"}) {
				t.Errorf("without any consent: got %v", got)
			}
		})
		t.Run("an unknown order or consent state is a bad parameter", func(t *testing.T) {
			_, err := e.g.Contacts(sales, tresor.ContactFilter{Sort: "shoe_size"})
			wantCode(t, err, tresor.ECInvalidParameter)
			_, err = e.g.Contacts(sales, tresor.ContactFilter{Consent: &tresor.ConsentFilter{Purpose: "marketing", Channel: "email", State: "maybe"}})
			wantCode(t, err, tresor.ECInvalidParameter)
		})
	})
}
