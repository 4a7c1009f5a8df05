package gate

import (
	"context"
	"fmt"

	"tresor"
)

// maintain runs the maintenance tasks migrations leave: rebuilding the
// lookup index with the index key (migration 3 turned it into a blind index).
func (g *Gate) maintain(ctx context.Context) error {
	pending, err := g.store.Read().MaintenancePending(ctx, "reindex_lookup")
	if err != nil || !pending {
		return err
	}
	return g.Reindex(ctx)
}

// Reindex rebuilds every contact's lookup keys from its fields, in batches.
func (g *Gate) Reindex(ctx context.Context) error {
	page := tresor.Page{Limit: 1000}
	for {
		rows, err := g.store.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: page}})
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		err = g.store.Update(ctx, func(tx tresor.Tx) error {
			for _, row := range rows {
				c, err := contacts.fromRow(g, row)
				if err != nil {
					return err
				}
				if err := tx.SetLookup(ctx, c.ID, g.lookupKeys(&c.ContactDetails)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		if len(rows) < page.Limit {
			break
		}
		page.After = rows[len(rows)-1].ID
	}
	return g.store.Update(ctx, func(tx tresor.Tx) error { return tx.MaintenanceDone(ctx, "reindex_lookup") })
}
