package gate_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"tresor/datadir"
	"tresor/gate"
	"tresor/storetest"
)

// leadingJob is a periodic job for LeadJobs that counts its starts and
// says whether it runs.
type leadingJob struct {
	starts  atomic.Int32
	running atomic.Bool
}

func (j *leadingJob) run(ctx context.Context) {
	j.starts.Add(1)
	j.running.Store(true)
	<-ctx.Done()
	j.running.Store(false)
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30s: %s", what)
		}
	}
}

// TestLeadJobs: the periodic jobs run on the server that leads; on SQLite
// that is the only server, on PostgreSQL one of those on the database, and
// a server that stops hands the lead to another.
func TestLeadJobs(t *testing.T) {
	t.Run("the only server on a SQLite database leads and runs the jobs", func(t *testing.T) {
		g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
		ctx, stop := context.WithCancel(bg)
		var j leadingJob
		done := make(chan struct{})
		go func() { defer close(done); g.LeadJobs(ctx, 50*time.Millisecond, j.run) }()
		eventually(t, "the job runs", func() bool { return g.Leading() && j.running.Load() })
		stop()
		<-done
		if g.Leading() || j.running.Load() {
			t.Fatal("the job still runs after the server stopped")
		}
	})
	t.Run("one of two servers on a PostgreSQL database leads; when it stops, the other takes over", func(t *testing.T) {
		cfg := datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true}
		gs := []*gate.Gate{openGate(t, cfg), openGate(t, cfg)}
		var jobs [2]leadingJob
		var stops [2]context.CancelFunc
		var dones [2]chan struct{}
		for i, g := range gs {
			ctx, stop := context.WithCancel(bg)
			stops[i], dones[i] = stop, make(chan struct{})
			go func() { defer close(dones[i]); g.LeadJobs(ctx, 50*time.Millisecond, jobs[i].run) }()
		}
		defer func() {
			for i := range stops {
				stops[i]()
				<-dones[i]
			}
		}()
		lead := -1
		eventually(t, "a server leads", func() bool {
			for i, g := range gs {
				if g.Leading() && jobs[i].running.Load() {
					lead = i
				}
			}
			return lead >= 0
		})
		other := 1 - lead
		time.Sleep(300 * time.Millisecond) // six tries of the other server
		if gs[other].Leading() || jobs[other].starts.Load() != 0 {
			t.Fatal("both servers lead")
		}
		stops[lead]()
		<-dones[lead]
		eventually(t, "the other server leads", func() bool { return gs[other].Leading() && jobs[other].running.Load() })
		if gs[lead].Leading() || jobs[lead].running.Load() {
			t.Fatal("the stopped server still leads")
		}
	})
}
