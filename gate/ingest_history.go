package gate

import (
	"context"
	"errors"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"tresor"
)

// The history of imports and the progress of those running (issue [2.2],
// page 8). Every real import has a record: written as running before the
// first row is read, updated in the transaction of every batch it stores
// (its counts are those of what is stored), and closed as done, failed or
// interrupted. A dry run stores nothing, so it has none.

// importStale is how long a running import may go without storing a batch
// before the history calls it interrupted: a server that ran it has
// stopped (a crash leaves the record running). A batch takes about a
// second; reading rows that store nothing is faster still.
const importStale = 10 * time.Minute

// importRuns are the imports this gate runs in the background, with their
// progress, and what stops them when the gate closes.
type importRuns struct {
	mu      sync.Mutex
	runs    map[string]*importRun
	closing bool
	wg      sync.WaitGroup
}

// importRun is the progress of one import this gate runs.
type importRun struct {
	rows   atomic.Int64
	read   atomic.Int64
	bytes  int64
	cancel context.CancelFunc
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// StartImport checks the request and the file's beginning as Import does
// (a refusal stores nothing, not even a record), records the import as
// running and runs it in the background, detached from the caller's
// request but with its actor and purpose. Closing the gate stops it: the
// batch under way rolls back and the record says interrupted.
func (g *Gate) StartImport(ctx context.Context, r io.ReadCloser, size int64, req tresor.ImportRequest) (rec *tresor.ImportRecord, err error) {
	started := false
	defer func() {
		if !started {
			r.Close()
		}
	}()
	if req.DryRun {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "A dry run is not started in the background: it stores nothing, its report is the answer.")
	}
	run := &importRun{bytes: max(size, 0)}
	in, src, err := g.prepareImport(ctx, countingReader{r, &run.read}, req)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run.cancel = cancel
	g.imports.mu.Lock()
	if g.imports.closing {
		g.imports.mu.Unlock()
		cancel()
		return nil, tresor.Errorf(tresor.ECUnavailable, "The server is stopping; start the import again in a moment.")
	}
	if g.imports.runs == nil {
		g.imports.runs = map[string]*importRun{}
	}
	g.imports.runs[in.rep.ID] = run
	g.imports.wg.Add(1)
	g.imports.mu.Unlock()
	forget := func() {
		g.imports.mu.Lock()
		delete(g.imports.runs, in.rep.ID)
		g.imports.mu.Unlock()
		cancel()
		g.imports.wg.Done()
	}
	if err := in.begin(ctx); err != nil {
		forget()
		return nil, err
	}
	rec = in.record(tresor.ImportRunning, "", in.rep.Created, in.rep.StartedAt)
	started = true
	go func() {
		defer forget()
		defer r.Close()
		err := in.run(bg, src, func(rows int) { run.rows.Store(int64(rows)) })
		in.end(bg, err)
		if err != nil {
			g.log.Warn("import", "id", in.rep.ID, "code", tresor.ErrorCode(err))
		}
	}()
	return rec, nil
}

// stopImports stops the imports running in the background and waits until
// each has recorded how it ended.
func (g *Gate) stopImports() {
	g.imports.mu.Lock()
	g.imports.closing = true
	for _, r := range g.imports.runs {
		r.cancel()
	}
	g.imports.mu.Unlock()
	g.imports.wg.Wait()
}

// record is the import's history entry as it stands, with created as the
// number of contacts stored.
func (in *ingest) record(state tresor.ImportState, code tresor.Code, created int, at time.Time) *tresor.ImportRecord {
	rep := in.rep
	r := &tresor.ImportRecord{ID: rep.ID, Format: in.imp.Format, Network: in.network, Purpose: in.req.pu.ID,
		LegalBasis: in.imp.LegalBasis, FileName: in.imp.FileName, Actor: in.req.actor.String(), State: state, Error: code,
		Rows: rep.Rows, Created: created, Duplicates: rep.Duplicates, Refused: sum(rep.Refused),
		RefusedBy: maps.Clone(rep.Refused), Dropped: maps.Clone(rep.Dropped), StartedAt: rep.StartedAt, UpdatedAt: at}
	if in.req.actor.Kind == tresor.ActorUser || in.req.actor.Kind == tresor.ActorToken {
		r.ActorName = in.req.actor.Email
	}
	if state != tresor.ImportRunning {
		r.FinishedAt = &at
	}
	return r
}

// begin records a real import as running, before its first row is read.
func (in *ingest) begin(ctx context.Context) error {
	rec := in.record(tresor.ImportRunning, "", 0, in.rep.StartedAt)
	return in.g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertImport(ctx, rec) })
}

// end records how a real import ended: done, failed with the error's
// code, or interrupted when the gate stopped it. It is written even when
// the import's context has ended.
func (in *ingest) end(ctx context.Context, err error) {
	state, code := tresor.ImportDone, tresor.Code("")
	switch {
	case err == nil:
	case ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		state, code = tresor.ImportInterrupted, tresor.ECUnavailable
	default:
		state, code = tresor.ImportFailed, tresor.ErrorCode(err)
	}
	rec := in.record(state, code, in.rep.Created, tresor.Truncate(in.g.now()))
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if werr := in.g.store.Update(wctx, func(tx tresor.Tx) error { return tx.UpdateImport(wctx, rec) }); werr != nil {
		in.g.log.Warn("import record", "id", rec.ID, "state", state, "error", werr)
	}
}

// importReader authorises reading the history: any purpose sees the
// imports made for it; data_protection sees all of them.
func (g *Gate) importReader(ctx context.Context) (*request, error) {
	return g.authorize(ctx, accessPurpose)
}

// Imports lists the import records the caller's purpose may see, newest
// first: those of its own purpose, or, under data_protection, all (or
// those of the purpose asked for). The records name no person of a file;
// listing them is not a read of personal data and leaves no audit entry.
func (g *Gate) Imports(ctx context.Context, q tresor.ImportQuery) (*tresor.List[*tresor.ImportRecord], error) {
	req, err := g.importReader(ctx)
	if err != nil {
		return nil, err
	}
	if !req.pu.SeesRestricted {
		if q.Purpose != "" && q.Purpose != req.pu.ID {
			return nil, tresor.Errorf(tresor.ECForbidden, "The imports of the purpose %s are seen under that purpose or data_protection, not under %s.", q.Purpose, req.pu.ID)
		}
		q.Purpose = req.pu.ID
	}
	if err := q.Page.Normalize(); err != nil {
		return nil, err
	}
	limit := q.Limit
	q.Limit++
	rows, err := g.store.Read().Imports(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.ImportRecord]{Items: nonNil(rows)}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.Next = tresor.EncodeCursor(rows[limit-1].ID)
	}
	for _, r := range out.Items {
		g.importNow(r, req.now)
	}
	return out, nil
}

// ImportRecord returns one import record, with its progress while this
// server runs it. A record of another purpose is not found (outside
// data_protection).
func (g *Gate) ImportRecord(ctx context.Context, id string) (*tresor.ImportRecord, error) {
	req, err := g.importReader(ctx)
	if err != nil {
		return nil, err
	}
	r, err := g.store.Read().ImportRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if !req.pu.SeesRestricted && r.Purpose != req.pu.ID {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no import with id %q.", id)
	}
	g.importNow(r, req.now)
	return r, nil
}

// importNow adds the progress of an import this gate runs, and calls a
// running import interrupted when none has moved it for importStale.
func (g *Gate) importNow(r *tresor.ImportRecord, now time.Time) {
	if r.State != tresor.ImportRunning {
		return
	}
	g.imports.mu.Lock()
	run := g.imports.runs[r.ID]
	g.imports.mu.Unlock()
	if run != nil {
		r.Progress = &tresor.ImportProgress{Rows: int(run.rows.Load()), Read: run.read.Load(), Bytes: run.bytes}
		if r.Progress.Rows < r.Rows {
			r.Progress.Rows = r.Rows
		}
		return
	}
	if now.Sub(r.UpdatedAt) > importStale {
		r.State, r.Error = tresor.ImportInterrupted, tresor.ECUnavailable
	}
}
