package gate

import (
	"context"
	"fmt"
	"time"

	"tresor"
	"tresor/policy"
)

// Tags on contacts and organizations (issue [2.3]). A tag is business data
// kept in plain text, so the gate screens it before anything is written: a
// tag that reveals a special category (Art. 9 GDPR) is refused with the
// reason in both languages. Tagging a contact is a change of the person's
// record: it needs a purpose that may see the person, and is audited
// (contact.tag, contact.untag) with the tag's key.

var _ tresor.TagService = (*Gate)(nil)

// TagContact puts a tag on a contact.
func (g *Gate) TagContact(ctx context.Context, contactID, tag string) (*tresor.Tag, error) {
	return g.changeTag(ctx, "contact", contactID, tag, true)
}

// UntagContact removes a tag from a contact; a tag it does not have is no error.
func (g *Gate) UntagContact(ctx context.Context, contactID, tag string) error {
	_, err := g.changeTag(ctx, "contact", contactID, tag, false)
	return err
}

// TagOrganization puts a tag on an organization.
func (g *Gate) TagOrganization(ctx context.Context, organizationID, tag string) (*tresor.Tag, error) {
	return g.changeTag(ctx, "organization", organizationID, tag, true)
}

// UntagOrganization removes a tag from an organization.
func (g *Gate) UntagOrganization(ctx context.Context, organizationID, tag string) error {
	_, err := g.changeTag(ctx, "organization", organizationID, tag, false)
	return err
}

// changeTag adds or removes a tag of a contact or an organization, in one
// transaction with its audit entry.
func (g *Gate) changeTag(ctx context.Context, object, id, text string, add bool) (*tresor.Tag, error) {
	action := object + ".untag"
	if add {
		action = object + ".tag"
	}
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	t, err := tresor.NormalizeTag(text)
	if err == nil && add {
		err = policy.ScreenTag(t.Display)
	}
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, object, []string{id}, nil, err))
		return nil, err
	}
	var done *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		var changed bool
		var err error
		switch object {
		case "contact":
			row, err := tx.Contact(ctx, id)
			if err != nil {
				return err
			}
			if err := contacts.guarded(ctx, g, tx, req, &row.Contact); err != nil {
				return err
			}
			if err := notArchived(&row.Contact); err != nil {
				return err
			}
			if add {
				changed, err = tx.AddContactTag(ctx, id, t, req.now)
			} else {
				changed, err = tx.RemoveContactTag(ctx, id, t.Key)
			}
			if err != nil {
				return err
			}
		default:
			if _, err := tx.Organization(ctx, id); err != nil {
				return err
			}
			if add {
				changed, err = tx.AddOrganizationTag(ctx, id, t, req.now)
			} else {
				changed, err = tx.RemoveOrganizationTag(ctx, id, t.Key)
			}
		}
		if err != nil {
			return err
		}
		done = g.entry(ctx, action, object, []string{id}, nil, nil)
		done.Detail = "tag=" + t.Key
		if !changed {
			done.Detail += " unchanged"
		}
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{done})
	})
	if err != nil {
		if object == "contact" && tresor.ErrorCode(err) == tresor.ECNotFound {
			err = g.erasedOr(ctx, g.store.Read(), id, err)
		}
		g.recordBestEffort(ctx, g.entry(ctx, action, object, []string{id}, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{done})
	return &t, nil
}

// Tags lists every tag in use with the number of contacts and
// organizations carrying it. A purpose that does not see restricted people
// does not count them either.
func (g *Gate) Tags(ctx context.Context) ([]tresor.TagCount, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	return g.store.Read().TagCounts(ctx, !req.pu.SeesRestricted)
}

// tagFilter turns the tag of a list's filter into its key.
func tagFilter(tag *string) error {
	if *tag == "" {
		return nil
	}
	t, err := tresor.NormalizeTag(*tag)
	if err != nil {
		return &tresor.Error{Code: tresor.ECInvalidParameter, Message: "tag: " + tresor.ErrorMessage(err),
			MessageDE: "tag: " + tresor.AsError(err).MessageDE}
	}
	*tag = t.Key
	return nil
}

// narrowContacts prepares the tag and segment of a contact list's filter:
// the tag by its key, the segment's conditions added to the filter's own.
// The list, the search and the export call it before checkContactFilter.
func (g *Gate) narrowContacts(ctx context.Context, req *request, f *tresor.ContactFilter) error {
	if f.Segment != "" {
		s, err := g.store.Read().Segment(ctx, f.Segment)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return &tresor.Error{Code: tresor.ECInvalidParameter, Message: fmt.Sprintf("segment: there is no segment with id %q.", f.Segment),
				MessageDE: fmt.Sprintf("segment: Ein Segment mit der Kennung %q gibt es nicht.", f.Segment)}
		} else if err != nil {
			return err
		}
		if err := combine(f, s.Rules.Filter(req.ownerID())); err != nil {
			return err
		}
	}
	return tagFilter(&f.Tag)
}

// combine adds the conditions of a segment to a filter; a condition both
// set differently is refused, since no contact could meet both.
func combine(f *tresor.ContactFilter, s tresor.ContactFilter) error {
	conflict := func(name string) error {
		return &tresor.Error{Code: tresor.ECInvalidParameter,
			Message:   fmt.Sprintf("%s: the segment has its own condition on %s; leave the parameter out or choose another segment.", name, name),
			MessageDE: fmt.Sprintf("%s: Das Segment hat selbst eine Bedingung für %s; lassen Sie den Parameter weg oder wählen Sie ein anderes Segment.", name, name)}
	}
	str := func(name string, dst *string, v string) error {
		if v == "" || *dst == v {
			return nil
		}
		if *dst != "" {
			return conflict(name)
		}
		*dst = v
		return nil
	}
	tm := func(name string, dst *time.Time, v time.Time) error {
		if v.IsZero() || dst.Equal(v) {
			return nil
		}
		if !dst.IsZero() {
			return conflict(name)
		}
		*dst = v
		return nil
	}
	if s.Tag != "" && f.Tag != "" {
		a, _ := tresor.NormalizeTag(s.Tag)
		b, _ := tresor.NormalizeTag(f.Tag)
		if a.Key != b.Key {
			return conflict("tag")
		}
	}
	for _, err := range []error{str("tag", &f.Tag, s.Tag), str("organization_id", &f.OrganizationID, s.OrganizationID),
		str("owner", &f.OwnerID, s.OwnerID), tm("created", &f.CreatedSince, s.CreatedSince), tm("created", &f.CreatedBefore, s.CreatedBefore),
		tm("updated_since", &f.UpdatedSince, s.UpdatedSince), tm("updated", &f.UpdatedBefore, s.UpdatedBefore)} {
		if err != nil {
			return err
		}
	}
	if s.Consent != nil {
		if f.Consent != nil && *f.Consent != *s.Consent {
			return conflict("consent")
		}
		f.Consent = s.Consent
	}
	return nil
}

// keepNarrowed is what a search keeps of its hits for the conditions the
// index does not hold (a tag, the creation time, the end of the updates):
// nil when the filter has none.
func (g *Gate) keepNarrowed(ctx context.Context, f tresor.ContactFilter) ([]string, bool, error) {
	if f.Tag == "" && f.CreatedSince.IsZero() && f.CreatedBefore.IsZero() && f.UpdatedBefore.IsZero() {
		return nil, false, nil
	}
	ids, err := g.store.Read().ContactIDs(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Tag: f.Tag,
		CreatedSince: f.CreatedSince, CreatedBefore: f.CreatedBefore, UpdatedBefore: f.UpdatedBefore}})
	return ids, true, err
}

// The people index reads a contact again after its tags change, and so do
// the other processes, through the change feed.

func (t watchedTx) AddContactTag(ctx context.Context, id string, tag tresor.Tag, at time.Time) (bool, error) {
	ok, err := t.Tx.AddContactTag(ctx, id, tag, at)
	if err == nil && ok {
		t.ch.reread = append(t.ch.reread, id)
	}
	return ok, err
}

func (t watchedTx) RemoveContactTag(ctx context.Context, id, key string) (bool, error) {
	ok, err := t.Tx.RemoveContactTag(ctx, id, key)
	if err == nil && ok {
		t.ch.reread = append(t.ch.reread, id)
	}
	return ok, err
}

func (t watchedTx) AddOrganizationTag(ctx context.Context, id string, tag tresor.Tag, at time.Time) (bool, error) {
	ok, err := t.Tx.AddOrganizationTag(ctx, id, tag, at)
	if err == nil && ok {
		err = t.orgChanged(ctx, id)
	}
	return ok, err
}

func (t watchedTx) RemoveOrganizationTag(ctx context.Context, id, key string) (bool, error) {
	ok, err := t.Tx.RemoveOrganizationTag(ctx, id, key)
	if err == nil && ok {
		err = t.orgChanged(ctx, id)
	}
	return ok, err
}

func (t watchedTx) orgChanged(ctx context.Context, id string) error {
	o, err := t.Tx.Organization(ctx, id)
	if err == nil {
		t.ch.orgs = append(t.ch.orgs, o)
	}
	return err
}
