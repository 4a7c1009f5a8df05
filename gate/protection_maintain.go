package gate

import (
	"context"
	"fmt"
	"strings"

	"tresor"
)

// Maintain brings an opened database up to the gate's keys: it records the
// check value of every version of the key-encryption key the database does
// not know yet, then runs the maintenance tasks migrations leave: rebuilding
// the lookup index with the index key (migration 3 turned it into a blind
// index), and sealing the records written before protection at rest
// (migration 4) with data keys. It is idempotent; the data directory's Open
// runs it before the gate serves.
func (g *Gate) Maintain(ctx context.Context) error {
	known, err := g.store.Read().KEKVersions(ctx)
	if err != nil {
		return err
	}
	if err := registerKEK(ctx, g.store, g.keys.KEK, known); err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		run  func(context.Context) error
	}{{"reindex_lookup", g.Reindex}, {"seal", g.sealLegacy}} {
		pending, err := g.store.Read().MaintenancePending(ctx, t.name)
		if err != nil {
			return err
		}
		if !pending {
			continue
		}
		if err := t.run(ctx); err != nil {
			return err
		}
		if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.MaintenanceDone(ctx, t.name) }); err != nil {
			return err
		}
	}
	// Exports for requests of access whose link expired are deleted with
	// their keys (also every minute while serving: WatchAudit).
	_, err = g.PurgeSubjectExports(ctx)
	return err
}

// batches walks rows in id order, a page per transaction.
func batches[R any](ctx context.Context, g *Gate, list func(tresor.Page) ([]R, error), id func(R) string,
	fn func(tx tresor.Tx, row R) error) error {
	page := tresor.Page{Limit: 1000}
	for {
		rows, err := list(page)
		if err != nil {
			return err
		}
		err = g.store.Update(ctx, func(tx tresor.Tx) error {
			for _, row := range rows {
				if err := fn(tx, row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || len(rows) < page.Limit {
			return err
		}
		page.After = id(rows[len(rows)-1])
	}
}

// Reindex rebuilds every contact's lookup keys from its fields, in batches.
func (g *Gate) Reindex(ctx context.Context) error {
	r := g.store.Read()
	err := batches(ctx, g, func(p tresor.Page) ([]*tresor.ContactRow, error) {
		return r.Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: p}})
	}, func(row *tresor.ContactRow) string { return row.ID }, func(tx tresor.Tx, row *tresor.ContactRow) error {
		c, err := contacts.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		return tx.SetLookup(ctx, c.ID, g.lookupKeys(&c.ContactDetails))
	})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	return nil
}

// sealLegacy seals what was stored in the clear before protection at rest:
// contacts first (each gets its data key), then their interactions and
// cases, the addresses in their consent ledgers and the users' second-factor
// secrets. Versions stay as they were: nothing a user sees changes.
func (g *Gate) sealLegacy(ctx context.Context) error {
	r := g.store.Read()
	err := batches(ctx, g, func(p tresor.Page) ([]*tresor.ContactRow, error) {
		return r.Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: p}})
	}, func(row *tresor.ContactRow) string { return row.ID }, func(tx tresor.Tx, row *tresor.ContactRow) error {
		if row.Key == nil {
			c, err := contacts.fromRow(ctx, g, row, nil)
			if err != nil {
				return err
			}
			newRow, err := contacts.toRow(ctx, tx, g, c, nil)
			if err != nil {
				return err
			}
			if err := tx.UpdateContact(ctx, newRow, row.Version); err != nil {
				return err
			}
		}
		events, err := tx.ConsentEvents(ctx, row.ID)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.IP == "" || strings.HasPrefix(e.IP, sealedPrefix) {
				continue
			}
			dk, err := g.contactKey(ctx, tx, row.ID)
			if err != nil {
				return err
			}
			if err := tx.SetConsentEventIP(ctx, e.ID, sealValue(dk, "consent_event", e.ID, "ip", e.IP)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal contacts: %w", err)
	}
	err = batches(ctx, g, func(p tresor.Page) ([]*tresor.InteractionRow, error) {
		return r.Interactions(ctx, tresor.InteractionFilter{Page: p})
	}, func(row *tresor.InteractionRow) string { return row.ID }, func(tx tresor.Tx, row *tresor.InteractionRow) error {
		if row.Key != nil || len(row.Sealed) == 0 {
			return nil
		}
		in, err := interactions.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		newRow, err := interactions.toRow(ctx, tx, g, in, nil)
		if err != nil {
			return err
		}
		return tx.UpdateInteraction(ctx, newRow, row.Version)
	})
	if err != nil {
		return fmt.Errorf("seal interactions: %w", err)
	}
	err = batches(ctx, g, func(p tresor.Page) ([]*tresor.CaseRow, error) {
		return r.Cases(ctx, tresor.CaseFilter{Page: p})
	}, func(row *tresor.CaseRow) string { return row.ID }, func(tx tresor.Tx, row *tresor.CaseRow) error {
		if row.Key != nil || len(row.Sealed) == 0 {
			return nil
		}
		c, err := cases.fromRow(ctx, g, row, nil)
		if err != nil {
			return err
		}
		newRow, err := cases.toRow(ctx, tx, g, c, nil)
		if err != nil {
			return err
		}
		return tx.UpdateCase(ctx, newRow, row.Version)
	})
	if err != nil {
		return fmt.Errorf("seal cases: %w", err)
	}
	err = batches(ctx, g, func(p tresor.Page) ([]*tresor.User, error) { return r.Users(ctx, p) },
		func(u *tresor.User) string { return u.ID }, func(tx tresor.Tx, u *tresor.User) error {
			if u.TOTPSecret == "" || strings.HasPrefix(u.TOTPSecret, sealedPrefix) {
				return nil
			}
			dk, err := g.systemKey(ctx, tx)
			if err != nil {
				return err
			}
			u.TOTPSecret = sealValue(dk, "user", u.ID, "totp_secret", u.TOTPSecret)
			return tx.UpdateUser(ctx, u, u.Version)
		})
	if err != nil {
		return fmt.Errorf("seal second-factor secrets: %w", err)
	}
	// The clear copies are in free pages and the log now: rebuild the file.
	return g.store.Compact(ctx, true)
}
