package gate_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// benchGate opens a gate on a new SQLite data directory for a benchmark.
func benchGate(b *testing.B) *gate.Gate {
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: b.TempDir(), Migrate: true}, gate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	return g
}

// BenchmarkDuplicates lists the first page of duplicate candidates among
// 10,000 contacts on SQLite, of which every tenth shares an e-mail address
// with the one before and every tenth has a namesake at its organization.
//
//	go test ./gate -run '^$' -bench 'Duplicates|Merge' -benchtime 20x
func BenchmarkDuplicates(b *testing.B) {
	g := benchGate(b)
	sales := tresor.WithPurpose(system(), "sales")
	const n = 10000
	cs := make([]*tresor.Contact, n)
	for i := range cs {
		cs[i] = sampleContact(i)
		if i%10 == 1 {
			cs[i].Emails = []string{fmt.Sprintf("erika.%d@example.org", i-1)}
		}
		if i%10 == 5 {
			cs[i].FamilyName = fmt.Sprintf("Mustermann-%d", i-1)
		}
	}
	for i := 0; i < n; i += 1000 {
		if err := g.CreateContacts(sales, cs[i:i+1000]); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.WaitSearch(bg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		l, err := g.Duplicates(sales, tresor.Page{Limit: 50})
		if err != nil || l.Total != 2*n/10 {
			b.Fatalf("%v: %d candidates", err, l.Total)
		}
	}
}

// BenchmarkMerge merges pairs of contacts, each absorbed contact with two
// interactions and a case, on SQLite: one merge per iteration.
func BenchmarkMerge(b *testing.B) {
	g := benchGate(b)
	sales, service := tresor.WithPurpose(system(), "sales"), tresor.WithPurpose(system(), "service")
	pairs := make([][2]string, b.N)
	for i := range pairs {
		s, a := sampleContact(2*i), sampleContact(2*i+1)
		if err := g.CreateContacts(sales, []*tresor.Contact{s, a}); err != nil {
			b.Fatal(err)
		}
		for range 2 {
			if err := g.CreateInteraction(sales, note(a.ID, "Rückruf wegen Angebot")); err != nil {
				b.Fatal(err)
			}
		}
		if err := g.CreateCase(service, serviceCase(a.ID)); err != nil {
			b.Fatal(err)
		}
		pairs[i] = [2]string{s.ID, a.ID}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := g.MergeContact(sales, pairs[i][0], pairs[i][1]); err != nil {
			b.Fatal(err)
		}
	}
}
