package gate_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/sqlite"
)

var audienceContacts = flag.Int("audience.contacts", 1000000, "contacts in the audience benchmark")

// BenchmarkAudience computes a campaign's audience over many contacts on
// SQLite — half with consent, a tenth withdrawn, a hundredth objected, the
// rest without — and, in the same run, a plain SELECT of the same rows with the
// raw driver. Setup (inserting the contacts) is not timed.
//
//	go test ./gate -run '^$' -bench Audience -benchtime 5x
func BenchmarkAudience(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	g, err := datadir.Open(ctx, datadir.Config{DataDir: dir, Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	mk := tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
	mk = tresor.WithPurpose(mk, "marketing")
	n := *audienceContacts
	for done := 0; done < n; done += chunk {
		cs := make([]*tresor.Contact, min(chunk, n-done))
		for i := range cs {
			cs[i] = &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Kunde",
				Emails: []string{fmt.Sprintf("k%d@example.org", done+i)}}, Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
		}
		if err := g.CreateContacts(mk, cs); err != nil {
			b.Fatal(err)
		}
	}
	// Consent states and objections in bulk, straight into the database.
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	now := time.Now().UnixMicro()
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO consent_states (contact_id, purpose, channel, state, changed_at) SELECT id, 'marketing', 'email', CASE WHEN rowid %% 10 = 1 THEN 'withdrawn' ELSE 'granted' END, %d FROM contacts WHERE rowid %% 2 = 1 OR rowid %% 10 = 1`, now),
		fmt.Sprintf(`UPDATE contacts SET objected_at = %d WHERE rowid %% 100 = 3`, now),
	} {
		if _, err := raw.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	m := &tresor.Campaign{Name: "Bench", Channel: tresor.ChannelEmailMsg, Content: tresor.CampaignContent{SubjectDE: "S", BodyDE: "B"}}
	if err := g.CreateCampaign(mk, m); err != nil {
		b.Fatal(err)
	}
	var plain, audience time.Duration
	var eligible int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		rows, err := raw.Query(`SELECT c.id FROM contacts c ORDER BY c.id`)
		if err != nil {
			b.Fatal(err)
		}
		count := 0
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				b.Fatal(err)
			}
			count++
		}
		rows.Close()
		t1 := time.Now()
		a, err := g.Audience(mk, m.ID)
		if err != nil {
			b.Fatal(err)
		}
		audience += time.Since(t1)
		plain += t1.Sub(t0)
		if count != n {
			b.Fatalf("select read %d rows", count)
		}
		eligible = a.Eligible
	}
	b.ReportMetric(plain.Seconds()/float64(b.N), "select_s")
	b.ReportMetric(audience.Seconds()/float64(b.N), "audience_s")
	b.ReportMetric(audience.Seconds()/plain.Seconds(), "audience/select")
	b.ReportMetric(float64(eligible), "eligible")
}
