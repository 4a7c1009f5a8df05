package gate_test

import (
	"testing"

	"tresor"
)

// TestDataProtectionLists proves the lists of the data-protection
// officer's cockpit: restricted and objected contacts and the active legal
// holds, for the data_protection purpose only, each list recorded.
func TestDataProtectionLists(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		mk := func() *tresor.Contact {
			c := erika()
			c.Emails = nil
			c.LegalBasis = tresor.BasisContract
			must(t, g.CreateContact(sales, c))
			return c
		}
		free, held, objected := mk(), mk(), mk()
		_, err := g.Restrict(dpo, held.ID, true)
		must(t, err)
		_, err = g.Object(sales, objected.ID)
		must(t, err)
		h, err := g.PlaceHold(dpo, free.ID, "court case 4 O 123/26")
		must(t, err)
		gone, err := g.PlaceHold(dpo, held.ID, "closed case")
		must(t, err)
		_, err = g.ReleaseHold(dpo, gone.ID)
		must(t, err)

		t.Run("data protection lists the restricted and the objected contacts", func(t *testing.T) {
			l, err := g.FlaggedContacts(dpo, tresor.FlagRestricted, tresor.Page{})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != held.ID || l.Items[0].RestrictedAt == nil {
				t.Fatalf("restricted: %+v", l.Items)
			}
			l, err = g.FlaggedContacts(dpo, tresor.FlagObjected, tresor.Page{})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != objected.ID || l.Items[0].ObjectedAt == nil {
				t.Fatalf("objected: %+v", l.Items)
			}
			_, err = g.FlaggedContacts(dpo, "odd", tresor.Page{})
			wantCode(t, err, tresor.ECInvalidParameter)
		})
		t.Run("data protection lists the active legal holds", func(t *testing.T) {
			l, err := g.ActiveHolds(dpo, tresor.Page{})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != h.ID || l.Items[0].ContactID != free.ID {
				t.Fatalf("active holds: %+v", l.Items)
			}
		})
		t.Run("another purpose may not list them", func(t *testing.T) {
			_, err := g.FlaggedContacts(sales, tresor.FlagRestricted, tresor.Page{})
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.FlaggedContacts(sales, tresor.FlagObjected, tresor.Page{})
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.ActiveHolds(sales, tresor.Page{})
			wantCode(t, err, tresor.ECForbidden)
		})
		t.Run("listing them is recorded as a read of the contacts", func(t *testing.T) {
			l, err := g.AuditLog(dpo, tresor.AuditFilter{ContactID: held.ID, Action: "contact.list"})
			must(t, err)
			if len(l.Items) == 0 {
				t.Fatal("the list of restricted contacts left no read of the contact in the audit trail")
			}
			l, err = g.AuditLog(dpo, tresor.AuditFilter{ContactID: free.ID, Action: "contact.holds_read"})
			must(t, err)
			if len(l.Items) == 0 {
				t.Fatal("the list of legal holds left no entry naming the contact")
			}
		})
	})
}
