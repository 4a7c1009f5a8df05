package gate

import (
	"context"
	"fmt"
	"strings"

	"tresor"
	"tresor/policy"
)

// Segments are saved filters of contacts (issue [2.3]). A segment holds
// conditions, never people: its members are computed when they are asked
// for, through the contact list, so under the declared purpose, with the
// restricted, archived and objected people left out as that purpose
// demands. A campaign may take its audience from a segment; the outbound
// gate still decides about every person when the campaign is sent.

var _ tresor.SegmentService = (*Gate)(nil)

var segments = &kind[tresor.SavedSegment, *tresor.SavedSegment, *tresor.SavedSegment]{
	name: "segment",
	need: accessPurpose,
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.SavedSegment, error) {
		return r.Segment(ctx, id)
	},
	insert: one(func(ctx context.Context, tx tresor.Tx, m *tresor.SavedSegment) error { return tx.InsertSegment(ctx, m) }),
	update: func(ctx context.Context, tx tresor.Tx, m *tresor.SavedSegment, prev int64) error {
		return tx.UpdateSegment(ctx, m, prev)
	},
	delete:  func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeleteSegment(ctx, id) },
	toRow:   same[tresor.SavedSegment],
	fromRow: stored[tresor.SavedSegment],
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, m, old *tresor.SavedSegment) error {
		if old == nil && m.OwnerID == "" {
			m.OwnerID = req.ownerID()
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, m, old *tresor.SavedSegment) error {
		r := m.Rules
		if r.Tag != "" {
			if err := policy.ScreenTag(r.Tag); err != nil {
				return err
			}
		}
		if r.OrganizationID != "" {
			if _, err := tx.Organization(ctx, r.OrganizationID); tresor.ErrorCode(err) == tresor.ECNotFound {
				return fieldError("segment", "rules.organization_id", "there is no organization with id %q", r.OrganizationID)
			} else if err != nil {
				return err
			}
		}
		if c := r.Consent; c != nil {
			if _, ok := req.g.policy.Purpose(c.Purpose); !ok {
				return fieldError("segment", "rules.consent.purpose", "%q is not a purpose of the policy", c.Purpose)
			}
		}
		return nil
	},
	refs: func(m *tresor.SavedSegment) []ref { return []ref{{"owner_id", "user", m.OwnerID}} },
}

// CreateSegment stores a new segment.
func (g *Gate) CreateSegment(ctx context.Context, m *tresor.SavedSegment) error {
	return create(ctx, g, segments, []*tresor.SavedSegment{m})
}

// Segment returns one segment.
func (g *Gate) Segment(ctx context.Context, id string) (*tresor.SavedSegment, error) {
	return read(ctx, g, segments, id)
}

// Segments lists the segments.
func (g *Gate) Segments(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.SavedSegment], error) {
	req, limit, err := g.page(ctx, accessPurpose, &p)
	if err != nil {
		return nil, err
	}
	rows, err := g.store.Read().Segments(ctx, p)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, segments, req, rows, limit)
}

// UpdateSegment changes a segment with a merge patch.
func (g *Gate) UpdateSegment(ctx context.Context, id string, u tresor.Update) (*tresor.SavedSegment, error) {
	return change(ctx, g, segments, id, u)
}

// DeleteSegment deletes a segment unless a campaign not yet sent takes its
// audience from it: that campaign would lose its audience unnoticed.
func (g *Gate) DeleteSegment(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, segments, id, ifVersion, func(tx tresor.Tx) error {
		ids, err := tx.SegmentCampaigns(ctx, id)
		if err != nil || len(ids) == 0 {
			return err
		}
		return &tresor.Error{Code: tresor.ECConflict,
			Message: fmt.Sprintf("The segment is the audience of %d campaign(s) not yet sent (%s); give them another audience or delete them first.",
				len(ids), strings.Join(ids, ", ")),
			MessageDE: fmt.Sprintf("Das Segment ist die Zielgruppe von %d noch nicht versandten Kampagne(n) (%s); geben Sie ihnen eine andere Zielgruppe oder löschen Sie sie zuerst.",
				len(ids), strings.Join(ids, ", "))}
	})
}

// SegmentMembers lists the contacts of a segment, a page at a time, like
// the contact list under the declared purpose.
func (g *Gate) SegmentMembers(ctx context.Context, id string, p tresor.Page) (*tresor.List[*tresor.Contact], error) {
	if _, err := g.authorize(ctx, accessPurpose); err != nil {
		return nil, err
	}
	if _, err := g.store.Read().Segment(ctx, id); err != nil {
		return nil, err
	}
	return g.Contacts(ctx, tresor.ContactFilter{Segment: id, Page: p})
}

// segmentAudience narrows a campaign's audience rows to the members of its
// segment. Every person of the segment stays in the rows with their reason:
// the outbound gate decides about them, the segment only chooses whom to ask.
func (g *Gate) segmentAudience(ctx context.Context, req *request, m *tresor.Campaign, rows []tresor.AudienceRow) ([]tresor.AudienceRow, error) {
	if m.SegmentID == "" {
		return rows, nil
	}
	s, err := g.store.Read().Segment(ctx, m.SegmentID)
	if err != nil {
		return nil, err
	}
	me := m.OwnerID
	if me == "" {
		me = req.ownerID()
	}
	f := s.Rules.Filter(me)
	if err := tagFilter(&f.Tag); err != nil {
		return nil, err
	}
	ids, err := g.store.Read().ContactIDs(ctx, tresor.ContactQuery{ContactFilter: f})
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	kept := rows[:0]
	for _, r := range rows {
		if set[r.ContactID] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
