package gate_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/audit"
	"tresor/datadir"
	"tresor/sqlite"
	"tresor/storetest"
)

// oldFormatIDs are the objects of the entries written before migration
// 0027: UUIDs and an id that is none.
var oldFormatIDs = []string{"01a2243a-c5ff-7982-a0f7-3d62d15d8b71", "01a2243a-c5ff-7982-a0f7-3d62d15d8b72", "tag-7"}

// migrateBefore applies the migrations up to 0026 from the repository's
// files and writes three entries as Tresor wrote them then (text columns).
func migrateBefore(t *testing.T, raw *sql.DB, backend string) {
	t.Helper()
	_, err := raw.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	must(t, err)
	files, err := filepath.Glob(filepath.Join("..", backend, "migrations", "*.sql"))
	must(t, err)
	for i, f := range files {
		if i+1 >= 27 {
			break
		}
		b, err := os.ReadFile(f)
		must(t, err)
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		_, err = raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)", i+1, filepath.Base(f))
		must(t, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	es := []*tresor.AuditEntry{
		{At: at, Actor: "system", Purpose: "sales", Action: "contact.read", ObjectType: "contact", ObjectIDs: oldFormatIDs[:1],
			Categories: []tresor.Category{tresor.CatContactName}, Decision: tresor.Allowed, RequestID: "0123456789abcdef", Client: "203.0.113.0"},
		{At: at.Add(time.Second), Actor: "system", Purpose: "sales", Action: "contact.list", ObjectType: "contact", ObjectIDs: oldFormatIDs[:2],
			Categories: []tresor.Category{tresor.CatContactName, tresor.CatContactEmail}, Decision: tresor.Allowed},
		{At: at.Add(2 * time.Second), Actor: "system", Action: "contact.tag", ObjectType: "tag", ObjectIDs: oldFormatIDs[2:],
			Decision: "error", Reason: "not_found", Detail: "tag=messe"},
	}
	audit.Chain(0, audit.Genesis, es)
	for _, x := range es {
		cats := make([]string, len(x.Categories))
		for i, c := range x.Categories {
			cats[i] = string(c)
		}
		_, err := raw.Exec(`INSERT INTO audit_log (seq, at, actor, roles, purpose, action, object_type, object_ids, categories, decision,
			reason, request_id, client, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			x.Seq, x.At.UnixMicro(), x.Actor, x.Roles, x.Purpose, x.Action, x.ObjectType, strings.Join(x.ObjectIDs, ","),
			strings.Join(cats, ","), string(x.Decision), x.Reason, x.RequestID, x.Client, x.Detail, x.Hash)
		must(t, err)
	}
	_, err = raw.Exec("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", es[2].Seq, es[2].Hash)
	must(t, err)
}

// TestAuditCompactForm: entries written before migration 0027 keep their
// text and verify after it beside entries in the compact form, and a
// change of a compact entry's object list or of a term it names is found.
func TestAuditCompactForm(t *testing.T) {
	run := func(t *testing.T, backend string, open func(t *testing.T) (*sql.DB, datadir.Config)) {
		raw, cfg := open(t)
		migrateBefore(t, raw, backend)
		g := openGate(t, cfg)
		e := &auditEnv{g: g, raw: raw, backend: backend}
		ctx := tresor.WithPurpose(system(), "sales")
		var ids []string
		for i := 0; i < 3; i++ {
			c := erika()
			c.Emails = []string{"c" + string(rune('a'+i)) + "@example.org"}
			must(t, g.CreateContact(ctx, c))
			_, err := g.Contact(ctx, c.ID)
			must(t, err)
			ids = append(ids, c.ID)
		}
		_, err := g.Contacts(ctx, tresor.ContactFilter{})
		must(t, err)

		t.Run("an entry written before the migration verifies after it", func(t *testing.T) {
			rep := e.verify(t)
			if rep.Problem != "" || rep.Entries < 10 {
				t.Fatalf("verify: %+v", rep)
			}
			var old int
			must(t, raw.QueryRow("SELECT count(*) FROM audit_log WHERE objects IS NULL").Scan(&old))
			if old != 3 {
				t.Fatalf("%d entries in the old form, want 3", old)
			}
		})
		t.Run("old and new entries answer who accessed an object", func(t *testing.T) {
			if es := entriesOf(t, g, oldFormatIDs[0]); actions(es) != "contact.read:allow contact.list:allow" {
				t.Fatalf("old UUID: %s", actions(es))
			}
			if es := entriesOf(t, g, "tag-7"); len(es) != 1 || es[0].Detail != "tag=messe" || es[0].Reason != "not_found" {
				t.Fatalf("old id that is no UUID: %+v", es)
			}
			es := entriesOf(t, g, ids[1])
			if got := actions(es); !strings.HasPrefix(got, "contact.create:allow contact.read:allow contact.list:allow") {
				t.Fatalf("new: %s", got)
			}
			if es[1].ObjectIDs[0] != ids[1] || es[1].Purpose != "sales" || es[1].Actor != "system" || len(es[1].Categories) == 0 {
				t.Fatalf("a compact entry reads back as %+v", es[1])
			}
		})
		if backend == "sqlite" {
			t.Run("the rows of the object index stay bytes after appends", func(t *testing.T) {
				for range 2 { // a read, indexed; another read, appended to the same row
					_, err := g.Contact(ctx, ids[0])
					must(t, err)
					entriesOf(t, g, ids[0])
				}
				var text, blobs int
				must(t, raw.QueryRow("SELECT count(*) FILTER (WHERE typeof(seqs) <> 'blob'), count(*) FROM audit_refs").Scan(&text, &blobs))
				if text != 0 || blobs == 0 {
					t.Fatalf("%d of %d rows of audit_refs are no BLOB", text, blobs)
				}
			})
		}
		t.Run("a changed object list of a compact entry is found", func(t *testing.T) {
			e.untrigger(t)
			// The reads of two contacts (create, read, list each).
			read0, read1 := entriesOf(t, g, ids[0])[1].Seq, entriesOf(t, g, ids[2])[1].Seq
			e.exec(t, "UPDATE audit_log SET objects = (SELECT objects FROM audit_log WHERE seq = $1) WHERE seq = $2", read0, read1)
			rep := e.verify(t)
			if want := "entry " + itoa(read1) + " does not match its link"; !strings.Contains(rep.Problem, want) {
				t.Fatalf("verify: %q, want %q", rep.Problem, want)
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) {
		run(t, "sqlite", func(t *testing.T) (*sql.DB, datadir.Config) {
			dir := t.TempDir()
			raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
			must(t, err)
			t.Cleanup(func() { raw.Close() })
			return raw, datadir.Config{DataDir: dir, Migrate: true}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		run(t, "postgres", func(t *testing.T) (*sql.DB, datadir.Config) {
			url := storetest.PostgresURL(t)
			raw, err := sql.Open("pgx", url)
			must(t, err)
			t.Cleanup(func() { raw.Close() })
			return raw, datadir.Config{DB: url, DataDir: t.TempDir(), Migrate: true}
		})
	})
}

// TestAuditChangedTerm: a term of audit_terms changed by hand changes every
// compact entry that names it, and verification says so.
func TestAuditChangedTerm(t *testing.T) {
	auditBackends(t, func(t *testing.T, e *auditEnv) {
		auditFixture(t, e)
		stmt := "DROP TRIGGER audit_terms_no_update"
		if e.backend == "postgres" {
			stmt = "ALTER TABLE audit_terms DISABLE TRIGGER USER"
		}
		e.exec(t, stmt)
		e.exec(t, "UPDATE audit_terms SET term = 'marketing' WHERE term = 'sales'")
		if rep := e.verify(t); !strings.Contains(rep.Problem, "does not match its link") {
			t.Fatalf("verify: %q", rep.Problem)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAuditIDsNamedAgainByAFreshServer: a server whose memory of the audit
// dictionary is empty (just started) writes entries naming objects stored
// before — several at once, as a list page does — with the refs they have,
// and the trail answers who accessed them and verifies.
func TestAuditIDsNamedAgainByAFreshServer(t *testing.T) {
	run := func(t *testing.T, cfg datadir.Config) {
		first := openGate(t, cfg)
		ctx := tresor.WithPurpose(system(), "sales")
		var ids []string
		for i := range 5 {
			c := erika()
			c.Emails = []string{"fresh" + strconv.Itoa(i) + "@example.org"}
			must(t, first.CreateContact(ctx, c))
			ids = append(ids, c.ID)
		}
		first.Close()
		g := openGate(t, cfg)
		l, err := g.Contacts(ctx, tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 5 {
			t.Fatalf("listed %d contacts", len(l.Items))
		}
		t.Run("each object keeps its ref and its entries", func(t *testing.T) {
			for _, id := range ids {
				if got := actions(entriesOf(t, g, id)); got != "contact.create:allow contact.list:allow" {
					t.Fatalf("%s: %s", id, got)
				}
			}
		})
		t.Run("the trail verifies", func(t *testing.T) {
			rep, err := g.VerifyAudit(bg, "")
			must(t, err)
			if rep.Problem != "" {
				t.Fatalf("verify: %s", rep.Problem)
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}) })
	t.Run("postgres", func(t *testing.T) {
		run(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true})
	})
}
