package gate

import (
	"context"
	"time"

	"tresor"
	"tresor/policy"
)

// contactReadOnly are the fields a change may not touch: provenance, the
// state of restriction and objection, which have their own calls.
var contactReadOnly = append([]string{"provenance", "restricted_at", "objected_at", "last_interaction_at", "withheld", "tags"}, tresor.StateFields...)

var contacts = &kind[tresor.Contact, *tresor.Contact, *tresor.ContactRow]{
	name:     "contact",
	need:     accessPurpose,
	readOnly: contactReadOnly,
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.ContactRow, error) {
		return r.Contact(ctx, id)
	},
	insert: func(ctx context.Context, tx tresor.Tx, rows []*tresor.ContactRow) error {
		return tx.InsertContacts(ctx, rows)
	},
	update: func(ctx context.Context, tx tresor.Tx, row *tresor.ContactRow, prev int64) error {
		return tx.UpdateContact(ctx, row, prev)
	},
	toRow: func(ctx context.Context, tx tresor.Tx, g *Gate, c *tresor.Contact, old *tresor.ContactRow) (*tresor.ContactRow, error) {
		return g.contactRow(ctx, c, old, g.lookupKeys(&c.ContactDetails))
	},
	fromRow: func(ctx context.Context, g *Gate, row *tresor.ContactRow, allow func(tresor.Category) bool) (*tresor.Contact, error) {
		c := row.Contact
		skipped, err := g.openRecord(ctx, "contact", c.ID, row.Key, row.Sealed, &c.ContactDetails, allow)
		if err != nil {
			c.ContactDetails, c.Damaged = tresor.ContactDetails{}, true
		}
		c.Withheld = skipped
		// Lists are always arrays in the API, never null.
		d := &c.ContactDetails
		d.Emails, d.Phones, d.SocialHandles = nonNil(d.Emails), nonNil(d.Phones), nonNil(d.SocialHandles)
		return &c, err
	},
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, c, old *tresor.Contact) error {
		if old == nil {
			var p tresor.Problems
			for field, set := range map[string]bool{"withheld": len(c.Withheld) > 0, "provenance": !c.Provenance.IsZero(),
				"restricted_at": c.RestrictedAt != nil, "objected_at": c.ObjectedAt != nil, "last_interaction_at": c.LastInteractionAt != nil} {
				if set {
					p.Add(field, "is set by Tresor; leave it out")
				}
			}
			if err := p.Err("contact"); err != nil {
				return err
			}
			if c.OwnerID == "" {
				c.OwnerID = req.ownerID()
			}
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, c, old *tresor.Contact) error {
		var before any
		var was tresor.ContactDetails
		if old != nil {
			before, was = old, old.ContactDetails
		}
		if err := screenTyped(req, &c.Collection, typed{field: "position", text: c.Position, was: was.Position},
			typed{field: "organization", text: c.Organization, was: was.Organization, employer: true}); err != nil {
			return err
		}
		if err := req.g.collect(req, c, before, &c.Collection, &c.Provenance); err != nil {
			return err
		}
		// A change that brings what a third party told gives the Art. 14
		// duty too, unless one is still open for the person.
		if old != nil && c.Collection.Source == tresor.SourceThirdParty && len(changedFields(old, c)) > 0 {
			open, err := tx.Notices(ctx, tresor.NoticeQuery{Open: true, ContactID: c.ID, Page: tresor.Page{Limit: 1}})
			if err != nil {
				return err
			}
			if len(open) == 0 {
				if err := thirdPartyNotices(ctx, tx, []*tresor.Contact{c}, req.now); err != nil {
					return err
				}
			}
		}
		// A person who objected to marketing is not brought back for it: not by
		// an import, not by a new record (Art. 21(3)).
		if req.pu.HidesObjected {
			suppressed, err := tx.Suppressed(ctx, req.g.lookupKeys(&c.ContactDetails), suppressionScope)
			if err != nil {
				return err
			}
			if suppressed {
				return policy.Refuse(policy.RSuppressed)
			}
		}
		return nil
	},
	refs: func(c *tresor.Contact) []ref {
		return []ref{{"owner_id", "user", c.OwnerID}, {"organization_id", "organization", c.OrganizationID}}
	},
	guard: func(ctx context.Context, g *Gate, req *request, c *tresor.Contact) error {
		if c.RestrictedAt != nil && !req.pu.SeesRestricted {
			return policy.Refuse(policy.RRestricted)
		}
		if c.ArchivedAt != nil && !req.pu.SeesRestricted {
			return policy.Refuse(policy.RArchived, c.ArchivedAt.Format(time.DateOnly))
		}
		if req.pu.HidesObjected {
			if c.ObjectedAt != nil {
				return policy.Refuse(policy.RSuppressed)
			}
			suppressed, err := g.store.Read().ContactSuppressed(ctx, c.ID, suppressionScope)
			if err != nil {
				return err
			}
			if suppressed {
				return policy.Refuse(policy.RSuppressed)
			}
		}
		return g.interestAllowed(ctx, g.store.Read(), req, c.ID, c.Provenance)
	},
	present: func(req *request, c *tresor.Contact) {
		c.Withheld = mergeCategories(c.Withheld, withhold(c, req.pu))
		d := &c.ContactDetails // lists stay arrays when withheld
		d.Emails, d.Phones, d.SocialHandles = nonNil(d.Emails), nonNil(d.Phones), nonNil(d.SocialHandles)
	},
}

// suppressionScope is the scope of objections to marketing (Art. 21(2)).
const suppressionScope = "marketing"

// CreateContact stores a new contact.
func (g *Gate) CreateContact(ctx context.Context, c *tresor.Contact) error {
	return g.CreateContacts(ctx, []*tresor.Contact{c})
}

// CreateContacts stores many contacts in one transaction: all or none.
// Imports use it; on PostgreSQL it writes with COPY.
func (g *Gate) CreateContacts(ctx context.Context, cs []*tresor.Contact) error {
	_, err := createWith(ctx, g, contacts, cs, nil, func(tx tresor.Tx, vs []*tresor.Contact) error {
		return thirdPartyNotices(ctx, tx, vs, time.Time{}) // Art. 14 for what a third party told
	})
	return err
}

// Contact returns one contact, with what the purpose may see.
func (g *Gate) Contact(ctx context.Context, id string) (*tresor.Contact, error) {
	c, err := read(ctx, g, contacts, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, g.goneContact(ctx, g.store.Read(), id, err)
	}
	return c, err
}

// Contacts lists contacts, finds them by words (f.Query) or by exact e-mail address.
func (g *Gate) Contacts(ctx context.Context, f tresor.ContactFilter) (*tresor.List[*tresor.Contact], error) {
	req, limit, err := g.page(ctx, accessPurpose, &f.Page)
	if err != nil {
		return nil, err
	}
	if err := g.narrowContacts(ctx, req, &f); err != nil {
		return nil, err
	}
	if err := g.checkContactFilter(req, &f); err != nil {
		return nil, err
	}
	if f.Query != "" || f.Sort == tresor.SortName || f.Sort == tresor.SortOrganization || f.Sort == tresor.SortUpdated {
		if f.Email != "" {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "Give q or sort, or email, not both.")
		}
		return g.searchContacts(ctx, req, f, limit)
	}
	q, err := g.contactQuery(req, f)
	if err != nil {
		return nil, err
	}
	rows, err := g.store.Read().Contacts(ctx, q)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, contacts, req, rows, limit)
}

// contactQuery is the store's query of a plain contact list under the
// request's purpose: restricted, archived and objected people left out as
// the purpose demands, an exact e-mail looked up by its blind index.
func (g *Gate) contactQuery(req *request, f tresor.ContactFilter) (tresor.ContactQuery, error) {
	q := tresor.ContactQuery{ContactFilter: f, HideRestricted: !req.pu.SeesRestricted, HideArchived: !req.pu.SeesRestricted}
	if req.pu.HidesObjected {
		q.HideObjectedScope = suppressionScope
	}
	if f.Email != "" {
		if !req.pu.Allows(tresor.CatContactEmail) {
			return q, req.pu.RefuseCategory(tresor.CatContactEmail)
		}
		email, err := tresor.NormalizeEmail(f.Email)
		if err != nil {
			return q, tresor.Errorf(tresor.ECInvalidParameter, "The email parameter is invalid: %s.", err)
		}
		k := g.blind(tresor.LookupKey{Kind: tresor.LookupEmail, Value: email})
		q.Lookup = &k
	}
	return q, nil
}

// UpdateContact changes a contact with a merge patch.
func (g *Gate) UpdateContact(ctx context.Context, id string, u tresor.Update) (*tresor.Contact, error) {
	c, err := change(ctx, g, contacts, id, u)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, g.goneContact(ctx, g.store.Read(), id, err)
	}
	return c, err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// contactRow prepares the stored form of a contact: its fields sealed under
// its data key (a new one for a new contact), and lookup, the blind-index
// keys of its identifiers, which the caller has computed.
func (g *Gate) contactRow(ctx context.Context, c *tresor.Contact, old *tresor.ContactRow, lookup []tresor.LookupKey) (*tresor.ContactRow, error) {
	row := &tresor.ContactRow{Contact: *c, Lookup: lookup}
	row.ContactDetails, row.Withheld, row.Collection = tresor.ContactDetails{}, nil, tresor.Collection{}
	var s *sealer
	if old != nil && old.Key != nil {
		dk, err := g.unwrap(ctx, old.Key)
		if err != nil {
			return nil, damaged("contact", c.ID, err)
		}
		s = &sealer{dk: dk, key: old.Key}
	} else {
		// A new contact gets a new key: no lookup of a stored one.
		dk, w, err := g.newKey(c.ID)
		if err != nil {
			return nil, err
		}
		s = &sealer{dk: dk, key: w, new: true}
	}
	var err error
	row.Sealed, row.Sealing, err = s.seal("contact", c.ID, &c.ContactDetails)
	return row, err
}
