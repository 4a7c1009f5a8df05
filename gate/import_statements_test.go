package gate_test

import (
	"bytes"
	"sync/atomic"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/storetest"
)

// TestImportStatementsDoNotGrowWithRows holds the import on PostgreSQL to
// a number of statements per batch that does not depend on the batch's
// size: every statement is a round trip, and one per row (a notice, an
// object of the audit index, a suppression check, a chunk of the duplicate
// check) made an import of 100,000 rows wait on 100,000s of them. The
// rows of the tests fit one batch each, so the statements of 1,000 rows
// and of 5,000 must be the same up to a few that do not depend on the rows
// at all (the group commit of the audit trail takes its turns as it will).
func TestImportStatementsDoNotGrowWithRows(t *testing.T) {
	var n atomic.Int64
	g := openGate(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true, Statements: &n})
	// marketing hides people who objected: the suppression list is checked
	mk := as(t, g, "marketing@example.org", "marketing", tresor.RoleMarketing)
	req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects; public profiles"}
	const slack = 10

	// statements sends rows of a LinkedIn file (from offset) through the
	// import, lets the audit trail's object index catch up (a query by
	// contact does), and returns the statements it took.
	statements := func(t *testing.T, rows, offset, created int) int64 {
		t.Helper()
		var b bytes.Buffer
		must(t, linkedinRows(&b, rows, offset))
		before := n.Load()
		rep, err := g.Import(mk, &b, req)
		must(t, err)
		if rep.Created != created || rep.Notices != created || rep.Rows != rows {
			t.Fatalf("report: %+v", rep)
		}
		_, err = g.AuditLog(system(), tresor.AuditFilter{ContactID: "01a2529a-0000-7000-8000-000000000000"})
		must(t, err)
		t.Logf("%d rows: %d statements", rows, n.Load()-before)
		return n.Load() - before
	}

	t.Run("new people: per-row statements none", func(t *testing.T) {
		small := statements(t, 1000, 0, 1000)
		large := statements(t, 5000, 1000, 5000)
		if small == 0 {
			t.Fatal("no statements counted")
		}
		if large > small+slack {
			t.Fatalf("1,000 rows took %d statements, 5,000 took %d: statements grow with the rows", small, large)
		}
	})
	t.Run("duplicates of stored people: per-row statements none", func(t *testing.T) {
		small := statements(t, 1000, 0, 0)
		large := statements(t, 5000, 1000, 0)
		if large > small+slack {
			t.Fatalf("1,000 duplicates took %d statements, 5,000 took %d: statements grow with the rows", small, large)
		}
	})
}
