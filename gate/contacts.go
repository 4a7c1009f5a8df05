package gate

import (
	"context"

	"tresor"
)

var contacts = &kind[tresor.Contact, *tresor.Contact, *tresor.ContactRow]{
	name:     "contact",
	need:     accessPurpose,
	readOnly: []string{"purpose", "collected_by", "withheld"},
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.ContactRow, error) {
		return r.Contact(ctx, id)
	},
	insert: func(ctx context.Context, tx tresor.Tx, rows []*tresor.ContactRow) error {
		return tx.InsertContacts(ctx, rows)
	},
	update: func(ctx context.Context, tx tresor.Tx, row *tresor.ContactRow, prev int64) error {
		return tx.UpdateContact(ctx, row, prev)
	},
	delete: func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeleteContact(ctx, id) },
	toRow: func(g *Gate, c *tresor.Contact) (*tresor.ContactRow, error) {
		sealed, err := g.seal(&c.ContactDetails)
		if err != nil {
			return nil, err
		}
		row := &tresor.ContactRow{Contact: *c, Sealed: sealed, Lookup: c.LookupKeys()}
		row.ContactDetails, row.Withheld = tresor.ContactDetails{}, nil
		return row, nil
	},
	fromRow: func(g *Gate, row *tresor.ContactRow) (*tresor.Contact, error) {
		c := row.Contact
		if err := g.open(row.Sealed, &c.ContactDetails); err != nil {
			return nil, err
		}
		// Lists are always arrays in the API, never null.
		d := &c.ContactDetails
		d.Emails, d.Phones, d.SocialHandles = nonNil(d.Emails), nonNil(d.Phones), nonNil(d.SocialHandles)
		return &c, nil
	},
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, c, old *tresor.Contact) error {
		if old != nil {
			return nil
		}
		var p tresor.Problems
		if len(c.Withheld) > 0 {
			p.Add("withheld", "is set by Tresor; leave it out")
		}
		if c.Purpose != "" && c.Purpose != req.purpose {
			p.Add("purpose", "is the purpose declared in the Tresor-Purpose header (%s); leave it out", req.purpose)
		}
		if c.CollectedBy != "" {
			p.Add("collected_by", "is set by Tresor; leave it out")
		}
		if c.OwnerID == "" {
			c.OwnerID = req.ownerID()
		}
		if c.Source == "" {
			c.Source = tresor.SourceManual
		}
		c.Purpose, c.CollectedBy = req.purpose, req.actor.String()
		return p.Err("contact")
	},
	refs: func(c *tresor.Contact) []ref {
		return []ref{{"owner_id", "user", c.OwnerID}, {"organization_id", "organization", c.OrganizationID}}
	},
}

// CreateContact stores a new contact.
func (g *Gate) CreateContact(ctx context.Context, c *tresor.Contact) error {
	return create(ctx, g, contacts, []*tresor.Contact{c})
}

// CreateContacts stores many contacts in one transaction: all or none.
// Imports use it; on PostgreSQL it writes with COPY.
func (g *Gate) CreateContacts(ctx context.Context, cs []*tresor.Contact) error {
	return create(ctx, g, contacts, cs)
}

// Contact returns one contact.
func (g *Gate) Contact(ctx context.Context, id string) (*tresor.Contact, error) {
	return read(ctx, g, contacts, id)
}

// Contacts lists contacts, or finds them by exact e-mail address.
func (g *Gate) Contacts(ctx context.Context, f tresor.ContactFilter) (*tresor.List[*tresor.Contact], error) {
	limit, err := g.page(ctx, accessPurpose, &f.Page)
	if err != nil {
		return nil, err
	}
	q := tresor.ContactQuery{ContactFilter: f}
	if f.Email != "" {
		email, err := tresor.NormalizeEmail(f.Email)
		if err != nil {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "The email parameter is invalid: %s.", err)
		}
		q.Lookup = &tresor.LookupKey{Kind: tresor.LookupEmail, Value: email}
	}
	rows, err := g.store.Read().Contacts(ctx, q)
	if err != nil {
		return nil, err
	}
	return listOf(g, contacts, rows, limit)
}

// UpdateContact changes a contact with a merge patch.
func (g *Gate) UpdateContact(ctx context.Context, id string, u tresor.Update) (*tresor.Contact, error) {
	return change(ctx, g, contacts, id, u)
}

// DeleteContact deletes a contact with its interactions.
func (g *Gate) DeleteContact(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, contacts, id, ifVersion, nil)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
