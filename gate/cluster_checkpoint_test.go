package gate_test

import (
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/storetest"
)

// TestCheckpointsOfSeveralServers: servers on one PostgreSQL database that
// write checkpoints at the same moment sign one checkpoint for a size, and
// the trail with it verifies.
func TestCheckpointsOfSeveralServers(t *testing.T) {
	url := storetest.PostgresURL(t)
	cfg := datadir.Config{DB: url, DataDir: t.TempDir(), Migrate: true} // one key directory, as the servers share their key files
	var gs []*gate.Gate
	for range 3 {
		gs = append(gs, openGate(t, cfg))
	}
	ctx := tresor.WithPurpose(system(), "sales")
	for i, g := range gs {
		c := erika()
		c.Emails = []string{fmt.Sprintf("server%d@example.org", i)}
		must(t, g.CreateContact(ctx, c))
	}
	sizes := make([]int64, len(gs))
	var wg sync.WaitGroup
	for i, g := range gs {
		wg.Go(func() {
			cp, err := g.Checkpoint(bg)
			if err != nil {
				t.Errorf("checkpoint of server %d: %v", i, err)
				return
			}
			sizes[i] = cp.Size
		})
	}
	wg.Wait()
	t.Run("one checkpoint is signed for the size, whichever server comes first", func(t *testing.T) {
		if sizes[0] == 0 || sizes[1] != sizes[0] || sizes[2] != sizes[0] {
			t.Fatalf("the servers' checkpoints are at %v, want one size", sizes)
		}
		raw, err := sql.Open("pgx", url)
		must(t, err)
		defer raw.Close()
		var n int
		must(t, raw.QueryRow("SELECT count(*) FROM audit_checkpoints WHERE size = $1", sizes[0]).Scan(&n))
		if n != 1 {
			t.Fatalf("%d checkpoints of size %d, want 1", n, sizes[0])
		}
	})
	t.Run("the trail of the three servers verifies against the checkpoint", func(t *testing.T) {
		rep, err := gs[1].VerifyAudit(bg, gs[1].AuditPublicKey())
		must(t, err)
		if rep.Problem != "" || rep.Checkpoints < 1 {
			t.Fatalf("verify: %+v", rep)
		}
	})
}
