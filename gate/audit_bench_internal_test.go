package gate

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"tresor"
	"tresor/sqlite"
	"tresor/vault"
)

func benchGate(b *testing.B) *Gate {
	b.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tresor.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	g := New(store, testKeys(), WithLogger(slog.New(slog.DiscardHandler)))
	b.Cleanup(func() { g.Close() })
	return g
}

// testKeys returns fresh random keys: the data of a benchmark is thrown away.
func testKeys() Keys {
	return Keys{Index: vault.RandomKey(), Links: vault.RandomKey(), KEK: vault.NewTestKeyring()}
}

func benchEntry(g *Gate, i int) *tresor.AuditEntry {
	ctx := tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorUser, UserID: "01a2243a-c5ff-7982-a0f7-3d62d15d8b71",
		Roles: []tresor.Role{tresor.RoleSales}}), "sales")
	return g.entry(ctx, "contact.read", "contact", []string{fmt.Sprintf("01a2243a-c5ff-7982-a0f7-%012d", i)},
		[]tresor.Category{tresor.CatContactName, tresor.CatContactEmail}, nil)
}

// appendAll appends n entries in transactions of batch entries.
func appendAll(b *testing.B, g *Gate, n, batch int) {
	b.Helper()
	for done := 0; done < n; done += batch {
		es := make([]*tresor.AuditEntry, min(batch, n-done))
		for i := range es {
			es[i] = benchEntry(g, done+i)
		}
		if err := g.store.Update(context.Background(), func(tx tresor.Tx) error { return g.appendTx(context.Background(), tx, es) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditAppend appends b.N entries on SQLite in batches of 1,000
// (hashing, chaining, the entry and its object index row):
//
//	go test ./gate -run '^$' -bench AuditAppend -benchtime 1000000x
func BenchmarkAuditAppend(b *testing.B) {
	g := benchGate(b)
	b.ResetTimer()
	start := time.Now()
	appendAll(b, g, b.N, 1000)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}

// BenchmarkAuditVerify verifies a trail of b.N entries (with a checkpoint
// every 100,000):
//
//	go test ./gate -run '^$' -bench AuditVerify -benchtime 1000000x
func BenchmarkAuditVerify(b *testing.B) {
	g := benchGate(b)
	for done := 0; done < b.N; done += 100000 {
		appendAll(b, g, min(100000, b.N-done), 1000)
		if _, err := g.Checkpoint(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	// The object index is kept up to date while a server runs; here it is
	// built before the clock starts.
	if err := g.indexAudit(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	rep, err := g.VerifyAudit(context.Background(), "")
	d := time.Since(start)
	cpu := processCPU() - cpu0
	if err != nil || rep.Problem != "" || rep.Entries != int64(b.N) {
		b.Fatalf("verify: %+v %v", rep, err)
	}
	b.ReportMetric(d.Seconds(), "s")
	b.ReportMetric(d.Seconds()*1e6/float64(b.N), "s/1M_entries")
	// The processor time of the whole process (user and system), steadier
	// than the clock on a machine shared with other work.
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu_s/1M_entries")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var auditReaders = flag.Int("audit.readers", 32, "concurrent readers of BenchmarkAuditedRead")

// BenchmarkAuditedRead reads contacts by id from -audit.readers goroutines (requests), b.N reads
// with an audit entry each (group commit) and b.N without, alternating in
// chunks of 2,000 on the same database:
//
//	go test ./gate -run '^$' -bench AuditedRead -benchtime 200000x
func BenchmarkAuditedRead(b *testing.B) {
	g := benchGate(b)
	ctx := tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem}), "sales")
	const contacts = 10000
	readers := *auditReaders
	ids := make([]string, 0, contacts)
	for done := 0; done < contacts; done += 1000 {
		cs := make([]*tresor.Contact, 1000)
		for i := range cs {
			cs[i] = &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: fmt.Sprintf("M-%d", done+i),
				Emails: []string{fmt.Sprintf("e%d@example.org", done+i)}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		}
		if err := g.CreateContacts(ctx, cs); err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	run := func(n int, audited bool) time.Duration {
		g.unaudited = !audited
		var wg sync.WaitGroup
		per := n / readers
		start := time.Now()
		for w := 0; w < readers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					if _, err := g.Contact(ctx, ids[rand.IntN(len(ids))]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	var with, without time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += 2000 {
		n := min(2000, b.N-done)
		without += run(n, false)
		with += run(n, true)
	}
	g.unaudited = false
	rw, rwo := float64(b.N)/with.Seconds(), float64(b.N)/without.Seconds()
	b.ReportMetric(rw, "audited_reads/s")
	b.ReportMetric(rwo, "unaudited_reads/s")
	b.ReportMetric(rw/rwo, "audited/unaudited")
	a := g.auditor
	if c := a.commits.Load(); c > 0 {
		b.ReportMetric(float64(a.committedEntries.Load())/float64(c), "entries/commit")
		b.ReportMetric(float64(a.commitNanos.Load())/float64(c)/1e3, "µs/commit")
	}
}
