package gate_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"tresor"
	"tresor/gate"
)

// fill creates n contacts through the gate (untimed setup).
func fill(b *testing.B, g *gate.Gate, n int) []string {
	b.Helper()
	ctx := tresor.WithPurpose(system(), "sales")
	ids := make([]string, 0, n)
	for done := 0; done < n; done += chunk {
		cs := make([]*tresor.Contact, min(chunk, n-done))
		for i := range cs {
			cs[i] = sampleContact(done + i)
		}
		if err := g.CreateContacts(ctx, cs); err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// BenchmarkRotateKEK re-wraps the data keys of b.N contacts under a new
// version of the key-encryption key (the target: 1,000,000 in at most 60 s):
//
//	go test ./gate -run '^$' -bench RotateKEK -benchtime 1000000x
func BenchmarkRotateKEK(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			g, r := be.open(b, true)
			r.close()
			fill(b, g, b.N)
			b.ResetTimer()
			start := time.Now()
			rep, err := g.RotateKEK(system(), nil)
			if err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			b.StopTimer()
			if rep.Rewrapped != b.N || rep.Pending != 0 {
				b.Fatalf("rotation: %+v", rep)
			}
			b.ReportMetric(float64(b.N)/d.Seconds(), "keys/s")
			b.ReportMetric(d.Seconds()*1e6/float64(b.N), "s/1M_keys")
		})
	}
}

var eraseContacts = flag.Int("erase.contacts", 100000, "contacts in the database BenchmarkEraseContact erases from")

// BenchmarkEraseContact erases b.N contacts, one by one, each with two
// interactions and a consent event, from a database of -erase.contacts
// contacts (the target: at most 10 ms per erasure, journal file included):
//
//	go test ./gate -run '^$' -bench EraseContact -benchtime 1000x
func BenchmarkEraseContact(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			g, r := be.open(b, true)
			r.close()
			n := max(*eraseContacts, b.N)
			ids := fill(b, g, n)
			ctx := tresor.WithPurpose(system(), "sales")
			for _, id := range ids[:b.N] {
				for k := 0; k < 2; k++ {
					if err := g.CreateInteraction(ctx, &tresor.Interaction{Kind: tresor.KindNote, ContactID: id,
						InteractionContent: tresor.InteractionContent{Body: "Notiz"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := g.RecordConsent(tresor.WithPurpose(system(), "marketing"), id, tresor.ConsentRequest{Purpose: "marketing",
					Channel: "email", Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1", IP: "192.0.2.7"}}); err != nil {
					b.Fatal(err)
				}
			}
			dpo := tresor.WithPurpose(system(), "data_protection")
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := g.EraseContact(dpo, ids[i], tresor.EraseRequest{Reason: fmt.Sprintf("request %d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			d := time.Since(start)
			b.ReportMetric(d.Seconds()*1e3/float64(b.N), "ms/erasure")
		})
	}
}
