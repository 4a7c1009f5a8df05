package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to look into the target

	"tresor"
	"tresor/datadir"
	"tresor/storetest"
)

// migrationSource builds a SQLite data directory with people in it: three
// contacts, a consent, an objection (the suppression list), an erasure (the
// journal), two imported people (an import and its Art. 14 notices), audit
// entries and a signed checkpoint. It returns the data directory, the id of
// the erased person and the family names of the three by id.
func migrationSource(t *testing.T) (dir, erased string, names map[string]string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	names = map[string]string{}
	for _, n := range []string{"Amsel", "Buchfink", "Zaunkoenig"} {
		names[seedContact(t, dir, n)] = n
	}
	erased = seedContact(t, dir, "Quastenflosser")
	env := map[string]string{"TRESOR_DATA_DIR": dir}
	vcf := writeFile(t, "people.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erika Mustermann\r\nN:Mustermann;Erika;;;\r\nEMAIL:erika@example.org\r\nEND:VCARD\r\n"+
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Max Meier\r\nN:Meier;Max;;;\r\nEMAIL:max@example.org\r\nEND:VCARD\r\n")
	expect(t, env, 0, "created 2 contacts", "import", "vcard", vcf, "--purpose", "sales", "--legal-basis", "contract")
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sys := tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem})
	var first, second string
	for id, n := range names {
		switch n {
		case "Amsel":
			first = id
		case "Buchfink":
			second = id
		}
	}
	if _, err := g.RecordConsent(tresor.WithPurpose(sys, "marketing"), first, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
		Action: tresor.ConsentGrant, Method: tresor.MethodPaper, Proof: tresor.ConsentProof{TextVersion: "Newsletter v1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Object(tresor.WithPurpose(sys, "sales"), second); err != nil {
		t.Fatal(err)
	}
	g.Close()
	expect(t, env, 0, "its data key is destroyed", "erase", "--contact", erased, "--reason", "ticket 7")
	expect(t, env, 0, "", "audit", "checkpoint")
	return dir, erased, names
}

// rowCount counts a table's rows in the PostgreSQL database at u.
func rowCount(t *testing.T, u, table string) int {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// execPG runs a statement in the PostgreSQL database at u.
func execPG(t *testing.T, u, stmt string) {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// sqliteDB opens the SQLite database of dir read-only (the driver is
// registered by the storage adapter datadir opens).
func sqliteDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, datadir.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sourceCount counts a table's rows in the SQLite database of dir.
func sourceCount(t *testing.T, dir, table string) int {
	t.Helper()
	var n int
	if err := sqliteDB(t, dir).QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pgString runs a query of one text value in the PostgreSQL database at u.
func pgString(t *testing.T, u, query string) string {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s sql.NullString
	if err := db.QueryRow(query).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s.String
}

// auditHashes lists the hashes of the first n audit entries at u.
func auditHashes(t *testing.T, u string, n int) string {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow("SELECT string_agg(encode(hash, 'hex'), ' ' ORDER BY seq) FROM audit_log WHERE seq <= $1", n).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMigrateData moves a SQLite data directory to PostgreSQL, one rule per
// subtest.
func TestMigrateData(t *testing.T) {
	t.Run("the copy verifies, reads back the same and chains on", func(t *testing.T) {
		dir, erased, names := migrationSource(t)
		target := storetest.PostgresURL(t)
		env := map[string]string{"TRESOR_DATA_DIR": dir}
		before := sourceCount(t, dir, "audit_log")
		out := expect(t, env, 0, "migrated to PostgreSQL", "migrate-data", "--to", target)
		if after := sourceCount(t, dir, "audit_log"); after != before {
			t.Errorf("the SQLite trail grew from %d to %d entries: the source was written", before, after)
		}
		for _, want := range []string{"contacts", "data_keys", "audit_log", "audit_checkpoints", "erasures", "suppressions", "consent_events", "imports", "notices"} {
			if !strings.Contains(out, "\n"+want+" ") {
				t.Errorf("the report lacks the table %s:\n%s", want, out)
			}
		}
		if strings.Contains(out, "DIFFERS") || strings.Contains(out, "PROBLEM") {
			t.Fatalf("the report shows a difference:\n%s", out)
		}
		if !strings.Contains(out, "data keys: 5, 5 unwrap") {
			t.Errorf("not every data key was unwrapped:\n%s", out)
		}

		// Sealed fields, wrapped keys and the chain's hashes arrive byte for byte.
		for _, c := range []struct{ table, key, col string }{
			{"contacts", "id", "sealed"}, {"data_keys", "subject", "wrapped"}, {"audit_log", "seq", "hash"}, {"audit_checkpoints", "size", "root"},
		} {
			var a, b string
			if err := sqliteDB(t, dir).QueryRow(fmt.Sprintf("SELECT group_concat(lower(hex(%s)), ' ') FROM (SELECT %s FROM %s ORDER BY %s)", c.col, c.col, c.table, c.key)).Scan(&a); err != nil {
				t.Fatal(err)
			}
			// The verification's reads added entries and checkpoints after the copied ones.
			var last int64
			if strings.HasPrefix(c.table, "audit") {
				if err := sqliteDB(t, dir).QueryRow(fmt.Sprintf("SELECT max(%s) FROM %s", c.key, c.table)).Scan(&last); err != nil {
					t.Fatal(err)
				}
			}
			where := "true"
			if last > 0 {
				where = fmt.Sprintf("%s <= %d", c.key, last)
			}
			b = pgString(t, target, fmt.Sprintf("SELECT string_agg(encode(%s, 'hex'), ' ' ORDER BY %s) FROM %s WHERE %s", c.col, c.key, c.table, where))
			if a == "" || a != b {
				t.Errorf("%s.%s differs:\nSQLite     %.80s\nPostgreSQL %.80s", c.table, c.col, a, b)
			}
		}

		pg := map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_DB": target}
		g, err := datadir.Open(context.Background(), datadir.Config{DataDir: dir, DB: target})
		if err != nil {
			t.Fatal(err)
		}
		sales := tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem}), "sales")
		for id, name := range names {
			c, err := g.Contact(sales, id)
			if err != nil {
				t.Fatalf("%s on PostgreSQL: %v", name, err)
			}
			if c.FamilyName != name || len(c.Emails) != 1 || c.Emails[0] != strings.ToLower(name)+"@example.org" {
				t.Errorf("%s reads back as %q %v", name, c.FamilyName, c.Emails)
			}
		}
		if _, err := g.Contact(sales, erased); err == nil {
			t.Error("the erased person reads back on PostgreSQL")
		}
		// A change on the target: its audit entry chains onto the copied head.
		if err := g.CreateContact(sales, &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Neuzugang"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}); err != nil {
			t.Fatal(err)
		}
		g.Close()
		expect(t, pg, 0, "intact", "audit", "verify")
		expect(t, pg, 1, "was erased on", "erase", "--contact", erased, "--reason", "ticket 7")
	})

	t.Run("a target that is not empty is refused", func(t *testing.T) {
		dir, _, _ := migrationSource(t)
		target := storetest.PostgresURL(t)
		seedPG := t.TempDir()
		g, err := datadir.Open(context.Background(), datadir.Config{DataDir: seedPG, DB: target, Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.CreateContact(tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem}), "sales"),
			&tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Vorhanden"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}); err != nil {
			t.Fatal(err)
		}
		g.Close()
		expect(t, map[string]string{"TRESOR_DATA_DIR": dir}, 1, "not empty", "migrate-data", "--to", target)
		if n := rowCount(t, target, "contacts"); n != 1 {
			t.Errorf("the refused target holds %d contacts, want its own 1", n)
		}
	})

	t.Run("a table on one side only is an error, not skipped", func(t *testing.T) {
		dir, _, _ := migrationSource(t)
		target := storetest.PostgresURL(t)
		expect(t, map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_DB": target}, 0, "", "migrate")
		execPG(t, target, "CREATE TABLE notes_extra (id BIGINT PRIMARY KEY)")
		expect(t, map[string]string{"TRESOR_DATA_DIR": dir}, 1, "notes_extra (only in PostgreSQL)", "migrate-data", "--to", target)
	})

	t.Run("a target of another schema version is refused", func(t *testing.T) {
		dir, _, _ := migrationSource(t)
		target := storetest.PostgresURL(t)
		expect(t, map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_DB": target}, 0, "", "migrate")
		execPG(t, target, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
		expect(t, map[string]string{"TRESOR_DATA_DIR": dir}, 1, "schema version 999", "migrate-data", "--to", target)
	})

	t.Run("an interrupted migration resumes to the same result", func(t *testing.T) {
		dir, _, _ := migrationSource(t)
		env := map[string]string{"TRESOR_DATA_DIR": dir}
		whole := storetest.PostgresURL(t)
		expect(t, env, 0, "migrated to PostgreSQL", "migrate-data", "--to", whole)

		target := storetest.PostgresURL(t)
		migrateStopAfter = 7
		_, msg, code := run(t, env, "migrate-data", "--to", target)
		migrateStopAfter = 0
		if code != 1 || !strings.Contains(msg, "interrupted") {
			t.Fatalf("the interrupted run: exit %d, %q", code, msg)
		}
		if n := rowCount(t, target, "tresor_migrate_progress"); n != 7 {
			t.Fatalf("%d tables recorded as copied, want 7", n)
		}
		out := expect(t, env, 0, "migrated to PostgreSQL", "migrate-data", "--to", target)
		if strings.Contains(out, "DIFFERS") {
			t.Fatalf("the resumed copy differs:\n%s", out)
		}
		for _, table := range []string{"contacts", "data_keys", "audit_checkpoints", "erasures", "suppressions", "consent_events", "contact_lookup"} {
			if a, b := rowCount(t, whole, table), rowCount(t, target, table); a != b {
				t.Errorf("%s: %d rows after one run, %d after an interrupted one and its resumption", table, a, b)
			}
		}
		// The copied part of the audit trail is the same entry for entry;
		// after it, each target holds its own verification's reads.
		copied := sourceCount(t, dir, "audit_log")
		if a, b := auditHashes(t, whole, copied), auditHashes(t, target, copied); a != b {
			t.Errorf("the copied audit trail differs after resuming:\n%s\n%s", a, b)
		}
		expect(t, map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_DB": target}, 0, "intact", "audit", "verify")
	})

	t.Run("a dry run writes nothing to the target", func(t *testing.T) {
		dir, _, _ := migrationSource(t)
		target := storetest.PostgresURL(t)
		env := map[string]string{"TRESOR_DATA_DIR": dir}
		expect(t, env, 0, "dry run", "migrate-data", "--to", target, "--dry-run")
		if n := rowCount(t, target+"", "information_schema.tables WHERE table_schema = current_schema()"); n != 0 {
			t.Errorf("the dry run left %d tables in the target", n)
		}
		expect(t, env, 0, "migrated to PostgreSQL", "migrate-data", "--to", target)
	})
}
