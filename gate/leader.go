package gate

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"tresor"
)

// Several servers may share one PostgreSQL database. The periodic jobs that
// act on the shared data — the retention run, the audit checkpoints, the
// social loop, the mailbox, the reminders — run on one of them, the leader,
// once per interval for all; what each server keeps in its own memory (the
// search index, the key-encryption key) is kept current on every server.
// The store says who leads (tresor.Store.Lead); here is the policy: try to
// take the lead every interval, run the jobs while it is held, check it
// before every run and every interval, and stop the jobs at once when it is
// lost, so that another server can take over.

// leadership is this server's part in it.
type leadership struct {
	leading atomic.Bool
}

// Leading reports whether this server leads the periodic jobs now.
func (g *Gate) Leading() bool { return g.lead.leading.Load() }

// LeadJobs runs jobs while this server leads the servers on its database,
// until ctx ends. Each job is a watcher that returns when its context ends.
// A server that does not lead tries to take the lead every interval; the
// leader checks every interval, and every job before each of its runs, that
// the lead is still held; when it is lost, the jobs' context ends and they
// stop (they are started again if the lead comes back). Changes of the lead
// are logged: they are facts of operation, not processing of personal data,
// and the jobs' own work leaves its entries in the audit trail as before.
func (g *Gate) LeadJobs(ctx context.Context, every time.Duration, jobs ...func(context.Context)) {
	for ctx.Err() == nil {
		lease, err := g.store.Lead(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			g.log.Warn("cluster: cannot try to take the lead of the periodic jobs", "error", err)
		case lease != nil:
			g.leadWith(ctx, lease, every, jobs)
		}
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// errShutdown is why the lead ends when the server stops.
var errShutdown = errors.New("the server stops")

// leadWith runs the jobs under the lease until it is lost or ctx ends.
func (g *Gate) leadWith(ctx context.Context, lease tresor.Lease, every time.Duration, jobs []func(context.Context)) {
	jctx, stop := context.WithCancelCause(ctx)
	defer stop(errShutdown)
	l := &heldLead{lease: lease, g: g, stop: stop}
	jctx = context.WithValue(jctx, leadKey{}, l)
	g.lead.leading.Store(true)
	g.log.Info("cluster: this server now leads the periodic jobs", "backend", g.store.Backend(), "jobs", len(jobs))
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(func() { job(jctx) })
	}
	t := time.NewTicker(every)
	for jctx.Err() == nil {
		select {
		case <-jctx.Done():
		case <-t.C:
			l.check(jctx)
		}
	}
	t.Stop()
	g.lead.leading.Store(false)
	wg.Wait()
	if err := lease.Release(); err != nil && ctx.Err() == nil {
		g.log.Warn("cluster: giving up the lead", "error", err)
	}
	if ctx.Err() != nil {
		g.log.Info("cluster: this server gave up the lead of the periodic jobs", "reason", errShutdown.Error())
		return
	}
	g.log.Warn("cluster: this server lost the lead of the periodic jobs; their runs stopped here, another server takes over",
		"reason", context.Cause(jctx).Error())
}

// heldLead is the lead the jobs run under, found in their context.
type heldLead struct {
	g     *Gate
	lease tresor.Lease
	stop  context.CancelCauseFunc
	mu    sync.Mutex
}

type leadKey struct{}

// check asks the store whether the lead is still held; if not, it stops the
// jobs and reports false.
func (l *heldLead) check(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := l.lease.Held(cctx); err != nil {
		l.g.lead.leading.Store(false)
		l.stop(err)
		return false
	}
	return true
}

// turn is called by a periodic job before each run: under LeadJobs it
// checks that this server still leads (a job started by itself, as the
// tests do, always runs). It logs the run at level debug.
func (g *Gate) turn(ctx context.Context, job string) bool {
	if l, ok := ctx.Value(leadKey{}).(*heldLead); ok && !l.check(ctx) {
		return false
	}
	if ctx.Err() != nil {
		return false
	}
	g.log.Debug("periodic job runs", "job", job)
	return true
}
