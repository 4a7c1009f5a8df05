package gate_test

import (
	"slices"
	"testing"
	"time"

	"tresor"
	"tresor/gate"
)

// TestBreachScopeContactsAreTheTouchedOnes: the contacts of a breach's
// scope are those its actor touched in the window, without the erased;
// only the DPO lists them, and only once the scope was counted.
func TestBreachScopeContactsAreTheTouchedOnes(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		sales := as(t, g, "ann@example.org", "sales", tresor.RoleSales)
		b := breach("Konto von Ann kompromittiert", "Fremder Zugriff", time.Now(), tresor.BreachRiskHigh)
		must(t, g.CreateBreach(dpo, b))

		t.Run("without a counted scope the list is refused", func(t *testing.T) {
			_, err := g.BreachScopeContacts(dpo, b.ID)
			wantCode(t, err, tresor.ECConflict)
		})
		since := time.Now().Add(-time.Second)
		var ids []string
		for _, mail := range []string{"a@example.org", "b@example.org", "c@example.org"} {
			c := erika()
			c.Emails = []string{mail}
			must(t, g.CreateContact(sales, c))
			ids = append(ids, c.ID)
		}
		must(t, g.DeleteContact(sales, ids[2], 0))
		until := time.Now().Add(time.Second)
		_, err := g.CountBreachScope(dpo, b.ID, tresor.ActorFrom(sales).String(), since, until)
		must(t, err)

		t.Run("the DPO gets the touched contacts that still exist", func(t *testing.T) {
			got, err := g.BreachScopeContacts(dpo, b.ID)
			must(t, err)
			slices.Sort(got)
			want := slices.Clone(ids[:2])
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("scope contacts = %v, want %v", got, want)
			}
		})
		t.Run("anyone else is refused", func(t *testing.T) {
			_, err := g.BreachScopeContacts(sales, b.ID)
			wantCode(t, err, tresor.ECForbidden)
		})
	})
}
