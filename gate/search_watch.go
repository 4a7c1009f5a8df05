package gate

import (
	"context"
	"time"

	"tresor"
)

// contactChanges are the contacts one transaction wrote: rows written with
// their sealed fields, ids removed, and ids whose state changed otherwise
// and that are read again after the commit.
type contactChanges struct {
	rows    []*tresor.ContactRow
	removed []string
	reread  []string
	// organizations written and removed
	orgs        []*tresor.Organization
	orgsRemoved []string
}

func (c *contactChanges) empty() bool {
	return len(c.rows) == 0 && len(c.removed) == 0 && len(c.reread) == 0 && len(c.orgs) == 0 && len(c.orgsRemoved) == 0
}

// feedEntry is the entry of the change feed that tells other processes
// which contacts and organizations to read again.
func (c *contactChanges) feedEntry(origin string, at time.Time) *tresor.Change {
	e := &tresor.Change{Origin: origin, At: at}
	seen := map[string]bool{}
	add := func(to *[]string, id string) {
		if !seen[id] {
			seen[id] = true
			*to = append(*to, id)
		}
	}
	for _, r := range c.rows {
		add(&e.Contacts, r.ID)
	}
	for _, id := range append(c.removed, c.reread...) {
		add(&e.Contacts, id)
	}
	for _, o := range c.orgs {
		add(&e.Organizations, o.ID)
	}
	for _, id := range c.orgsRemoved {
		add(&e.Organizations, id)
	}
	return e
}

// followChanges keeps the index current with the writes of other processes
// on the same database: it reads the change feed when PostgreSQL notifies
// and at least every poll, and reads again what others wrote. It starts
// after the feed entry from, so that the loader covers what came before.
func (g *Gate) followChanges(ctx context.Context, from int64, poll time.Duration) {
	wake := make(chan struct{}, 1)
	go g.store.ListenChanges(ctx, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	// On PostgreSQL a transaction that took a lower seq may commit after
	// one with a higher seq: the feed is read again from a little before the
	// last seen entry, and entries already handled are skipped.
	const lookback = 256
	seen := map[int64]bool{}
	last := from
	tick := time.NewTicker(poll)
	defer tick.Stop()
	prune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		for {
			entries, err := g.store.Read().Changes(ctx, max(from, last-lookback), 500)
			if err != nil {
				if ctx.Err() == nil {
					g.log.Error("search index: reading the change feed failed", "err", err)
				}
				break
			}
			fresh := 0
			for _, e := range entries {
				if seen[e.Seq] {
					continue
				}
				seen[e.Seq], last, fresh = true, max(last, e.Seq), fresh+1
				if e.Origin == g.origin {
					continue // this process indexed its own writes at commit
				}
				for _, id := range e.Contacts {
					g.reindex(ctx, id)
				}
				for _, id := range e.Organizations {
					g.reindexOrganization(ctx, id)
				}
			}
			for s := range seen {
				if s < last-lookback {
					delete(seen, s)
				}
			}
			if fresh == 0 || len(entries) < 500 {
				break
			}
		}
		if time.Since(prune) > 10*time.Minute {
			prune = time.Now()
			err := g.store.Update(ctx, func(tx tresor.Tx) error {
				_, err := tx.PruneChanges(ctx, g.now().Add(-time.Hour))
				return err
			})
			if err != nil && ctx.Err() == nil {
				g.log.Error("search index: pruning the change feed failed", "err", err)
			}
		}
	}
}

// watchedStore is the store as the gate uses it: after every committed
// write transaction it tells the people index what changed.
type watchedStore struct {
	tresor.Store
	g *Gate
}

func (s watchedStore) Update(ctx context.Context, fn func(tx tresor.Tx) error) error {
	var ch contactChanges
	err := s.Store.Update(ctx, func(tx tresor.Tx) error {
		ch = contactChanges{} // a retried transaction starts again
		if err := fn(watchedTx{Tx: tx, ch: &ch}); err != nil {
			return err
		}
		if ch.empty() {
			return nil
		}
		// The other processes on the database learn of it from the feed.
		return tx.NoteChange(ctx, ch.feedEntry(s.g.origin, s.g.now()))
	})
	if err == nil {
		s.g.indexChanged(context.WithoutCancel(ctx), &ch)
	}
	return err
}

// watchedTx notes the contacts a transaction writes.
type watchedTx struct {
	tresor.Tx
	ch *contactChanges
}

func (t watchedTx) InsertContacts(ctx context.Context, rows []*tresor.ContactRow) error {
	err := t.Tx.InsertContacts(ctx, rows)
	if err == nil {
		t.ch.rows = append(t.ch.rows, rows...)
	}
	return err
}

func (t watchedTx) UpdateContact(ctx context.Context, row *tresor.ContactRow, prev int64) error {
	err := t.Tx.UpdateContact(ctx, row, prev)
	if err == nil {
		t.ch.rows = append(t.ch.rows, row)
	}
	return err
}

func (t watchedTx) DeleteContact(ctx context.Context, id string) error {
	err := t.Tx.DeleteContact(ctx, id)
	if err == nil {
		t.ch.removed = append(t.ch.removed, id)
	}
	return err
}

func (t watchedTx) EraseContact(ctx context.Context, id string, interactions, cases tresor.ErasureMode) (tresor.ErasedRecords, error) {
	n, err := t.Tx.EraseContact(ctx, id, interactions, cases)
	if err == nil {
		t.ch.removed = append(t.ch.removed, id)
	}
	return n, err
}

func (t watchedTx) ArchiveContact(ctx context.Context, id string, at time.Time) error {
	err := t.Tx.ArchiveContact(ctx, id, at)
	if err == nil {
		t.ch.reread = append(t.ch.reread, id)
	}
	return err
}

func (t watchedTx) InsertOrganization(ctx context.Context, o *tresor.Organization) error {
	err := t.Tx.InsertOrganization(ctx, o)
	if err == nil {
		t.ch.orgs = append(t.ch.orgs, o)
	}
	return err
}

func (t watchedTx) UpdateOrganization(ctx context.Context, o *tresor.Organization, prev int64) error {
	err := t.Tx.UpdateOrganization(ctx, o, prev)
	if err == nil {
		t.ch.orgs = append(t.ch.orgs, o)
	}
	return err
}

func (t watchedTx) DeleteOrganization(ctx context.Context, id string) error {
	err := t.Tx.DeleteOrganization(ctx, id)
	if err == nil {
		t.ch.orgsRemoved = append(t.ch.orgsRemoved, id)
	}
	return err
}
