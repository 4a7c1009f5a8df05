package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test schemas
)

// PostgresEnv names the variable with the URL of a PostgreSQL database for tests.
const PostgresEnv = "TRESOR_TEST_POSTGRES"

// RequirePostgresEnv, when "1", turns a missing PostgresEnv into a test
// failure instead of a skip: CI sets it so the PostgreSQL suite cannot be
// skipped silently.
const RequirePostgresEnv = "TRESOR_TEST_REQUIRE_POSTGRES"

// PostgresURL returns the URL of a fresh, empty schema in the test database,
// dropped when the test ends. Without a database it skips the test, or fails it
// where RequirePostgresEnv is set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv(RequirePostgresEnv) == "1" {
			tb.Fatalf("%s is not set, but %s=1 requires the PostgreSQL suite", PostgresEnv, RequirePostgresEnv)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL to run them", PostgresEnv)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("t_%d", rand.Uint64())
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
