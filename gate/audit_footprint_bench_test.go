package gate_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
)

var (
	footprintContacts = flag.Int("audit.contacts", 20000, "contacts of BenchmarkAuditFootprint")
	footprintLists    = flag.Int("audit.lists", 10000, "list pages of 50 of BenchmarkAuditFootprint")
)

// BenchmarkAuditFootprint measures the bytes the audit trail grows by per
// entry, with its indexes and the who-accessed-what index: b.N single
// reads of random contacts (16 readers, group commit) and then
// -audit.lists list pages of 50 through the gate, as a signed-in user with
// a request id and a client address, as over HTTP. The bytes are the
// pages of every audit table and index (SQLite: dbstat; PostgreSQL:
// pg_total_relation_size) before and after, divided by the entries added:
//
//	go test ./gate -run '^$' -bench AuditFootprint -benchtime 100000x
func BenchmarkAuditFootprint(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		benchAuditFootprint(b, datadir.Config{DataDir: dir, Migrate: true}, raw, `SELECT name, sum(pgsize), sum(unused) FROM dbstat
			WHERE name LIKE 'audit%' OR name LIKE 'sqlite_autoindex_audit%' GROUP BY name`)
	})
	b.Run("postgres", func(b *testing.B) {
		url := storetest.PostgresURL(b)
		raw, err := sql.Open("pgx", url)
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		benchAuditFootprint(b, datadir.Config{DB: url, DataDir: b.TempDir(), Migrate: true}, raw, `SELECT relname, pg_total_relation_size(oid), 0
			FROM pg_class WHERE relkind = 'r' AND relname LIKE 'audit%'`)
		// What of that is dead row versions (the machine's PostgreSQL runs
		// without autovacuum): the live rows, rewritten compactly.
		if _, err := raw.Exec("VACUUM FULL"); err != nil {
			b.Fatal(err)
		}
		var live, entries int64
		if err := raw.QueryRow(`SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'audit%'`).Scan(&live); err != nil {
			b.Fatal(err)
		}
		if err := raw.QueryRow("SELECT count(*) FROM audit_log").Scan(&entries); err != nil {
			b.Fatal(err)
		}
		b.Logf("after VACUUM FULL: all audit tables %d bytes for %d entries (creates, reads, lists)", live, entries)
	})
}

func benchAuditFootprint(b *testing.B, cfg datadir.Config, raw *sql.DB, sizes string) {
	contacts, lists := *footprintContacts, *footprintLists
	if b.N == 1 { // the round before the one asked for with -benchtime Nx
		contacts, lists = 100, 1
	}
	g, err := datadir.Open(context.Background(), cfg, gate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	u, _, err := g.CreateUser(system(), "sales@acme.example", []tresor.Role{tresor.RoleSales})
	if err != nil {
		b.Fatal(err)
	}
	user := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles}), "sales")
	request := func(i int) context.Context {
		return tresor.WithClient(tresor.WithRequestID(user, fmt.Sprintf("%016x", rand.Uint64())), fmt.Sprintf("192.0.2.%d:%d", i%200, 40000+i%20000))
	}
	var ids []string
	for done := 0; done < contacts; done += 1000 {
		cs := make([]*tresor.Contact, min(1000, contacts-done))
		for i := range cs {
			cs[i] = &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: fmt.Sprintf("M-%d", done+i),
				Emails: []string{fmt.Sprintf("e%d@example.org", done+i)}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		}
		if err := g.CreateContacts(user, cs); err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	unused := map[string]int64{}
	measure := func() (total int64, by map[string]int64, entries int64) {
		// Queries by object bring the object index up to date first.
		if _, err := g.AuditLog(system(), tresor.AuditFilter{ContactID: ids[0], Page: tresor.Page{Limit: 1}}); err != nil {
			b.Fatal(err)
		}
		by = map[string]int64{}
		rows, err := raw.Query(sizes)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var n, free int64
			if err := rows.Scan(&name, &n, &free); err != nil {
				b.Fatal(err)
			}
			by[name], total, unused[name] = n, total+n, free
		}
		if err := raw.QueryRow("SELECT count(*) FROM audit_log").Scan(&entries); err != nil {
			b.Fatal(err)
		}
		return total, by, entries
	}
	report := func(what string, t0, t1 int64, by0, by1 map[string]int64, n int64) float64 {
		var parts []string
		for name, v := range by1 {
			if d := v - by0[name]; d != 0 {
				parts = append(parts, fmt.Sprintf("%s %.0f", name, float64(d)/float64(n)))
			}
		}
		sort.Strings(parts)
		per := float64(t1-t0) / float64(n)
		b.Logf("%s: %d entries, %.0f bytes per entry (%s); unused in the pages of audit_log %d%%, of audit_refs %d%%", what, n, per,
			strings.Join(parts, ", "), 100*unused["audit_log"]/max(1, by1["audit_log"]), 100*unused["audit_refs"]/max(1, by1["audit_refs"]))
		return per
	}

	b.ResetTimer()
	t0, by0, n0 := measure()
	var wg sync.WaitGroup
	const readers = 16
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += readers {
				if _, err := g.Contact(request(i), ids[rand.IntN(len(ids))]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t1, by1, n1 := measure()
	b.ReportMetric(report("single reads", t0, t1, by0, by1, n1-n0), "B/read_entry")

	after := ""
	for i := 0; i < lists; i++ {
		l, err := g.Contacts(request(i), tresor.ContactFilter{Page: tresor.Page{Limit: 50, After: after}})
		if err != nil {
			b.Fatal(err)
		}
		if after, err = tresor.DecodeCursor(l.Next); err != nil {
			b.Fatal(err)
		}
	}
	t2, by2, n2 := measure()
	b.ReportMetric(report("lists of 50", t1, t2, by1, by2, n2-n1), "B/list50_entry")
	var all []string
	for name, v := range by2 {
		all = append(all, fmt.Sprintf("%s %d", name, v))
	}
	sort.Strings(all)
	b.Logf("all audit tables and indexes at the end, bytes: %s", strings.Join(all, ", "))
}
