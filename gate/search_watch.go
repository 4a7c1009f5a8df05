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
		return fn(watchedTx{Tx: tx, ch: &ch})
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
