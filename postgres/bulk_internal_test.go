package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"tresor/storetest"
)

// TestBulkPlansWithoutStatistics: the queries of an import's batch probe
// the index once per value on tables a load has just filled and nobody has
// analysed (autovacuum off, or outrun), in custom and in generic plans. A
// scan of every row of a kind per batch is what made imports quadratic.
func TestBulkPlansWithoutStatistics(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	s, err := Open(ctx, url, Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`INSERT INTO contacts (id, created_at, updated_at, version, sealed) SELECT gen_random_uuid(), 0, 0, 1, '\x00' FROM generate_series(1, 50000)`,
		`INSERT INTO contact_lookup (kind, value, contact_id) SELECT 'handle:linkedin', md5(id::text), id FROM contacts`,
		`INSERT INTO suppressions (kind, value, scope, created_at) SELECT kind, value, 'marketing', 0 FROM contact_lookup`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var tuples float64
	if err := conn.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'contact_lookup'`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples > 0 {
		t.Fatalf("contact_lookup has statistics (reltuples %v): the test needs a table without", tuples)
	}
	values := make([]string, 2000)
	for i := range values {
		values[i] = fmt.Sprintf("%032x", i)
	}
	for _, c := range []struct {
		rule, query string
		args        []any
	}{
		{"the duplicate check probes contact_lookup per value", lookupArray, []any{"handle:linkedin", values}},
		{"the suppression check probes suppressions per value", suppressedArray, []any{"handle:linkedin", values, "marketing"}},
	} {
		t.Run(c.rule, func(t *testing.T) {
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = "+mode); err != nil {
					t.Fatal(err)
				}
				rows, err := conn.QueryContext(ctx, "EXPLAIN "+c.query, c.args...)
				if err != nil {
					t.Fatal(err)
				}
				var plan []string
				for rows.Next() {
					var line string
					if err := rows.Scan(&line); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, line)
				}
				if err := rows.Close(); err != nil {
					t.Fatal(err)
				}
				text := strings.Join(plan, "\n")
				if !strings.Contains(text, "Nested Loop") || !strings.Contains(text, "Index") ||
					strings.Contains(text, "Seq Scan") || strings.Contains(text, "Hash") || strings.Contains(text, "Bitmap") {
					t.Fatalf("%s: not one index probe per value:\n%s", mode, text)
				}
			}
		})
	}
}
