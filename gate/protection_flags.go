package gate

import (
	"context"

	"tresor"
)

// FlaggedContacts lists the contacts whose processing is restricted
// (Art. 18) or who objected to direct marketing (Art. 21), by id: the
// data-protection officer's lists of the cockpit. Only the data_protection
// purpose may; every contact listed is a read, recorded like any list.
func (g *Gate) FlaggedContacts(ctx context.Context, flag tresor.ContactFlag, p tresor.Page) (*tresor.List[*tresor.Contact], error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	if flag != tresor.FlagRestricted && flag != tresor.FlagObjected {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "The flag %q is unknown; the flags are restricted and objected.", flag)
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	limit := p.Limit
	p.Limit++
	// data_protection sees restricted and archived contacts: nothing is hidden.
	rows, err := g.store.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: p}, Flag: flag})
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, contacts, req, rows, limit)
}

// ActiveHolds lists the legal holds not released, of every contact, by id.
// Only the data_protection purpose may; the list is recorded as a read of
// the holds of the contacts it names.
func (g *Gate) ActiveHolds(ctx context.Context, p tresor.Page) (*tresor.List[tresor.LegalHold], error) {
	if _, err := g.dataProtection(ctx); err != nil {
		return nil, err
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	limit := p.Limit
	p.Limit++
	hs, err := g.store.Read().ActiveHolds(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[tresor.LegalHold]{Items: nonNil(hs)}
	if len(hs) > limit {
		out.Items = hs[:limit]
		out.Next = tresor.EncodeCursor(hs[limit-1].ID)
	}
	var ids []string
	for _, h := range out.Items {
		ids = append(ids, h.ContactID)
	}
	if err := g.record(ctx, g.entry(ctx, "contact.holds_read", "contact", ids, nil, nil)); err != nil {
		return nil, err
	}
	return out, nil
}
