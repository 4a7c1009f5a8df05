package gate

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"tresor"
	"tresor/policy"
)

var _ tresor.CampaignService = (*Gate)(nil)

var campaigns = &kind[tresor.Campaign, *tresor.Campaign, *tresor.Campaign]{
	name:     "campaign",
	need:     accessPurpose,
	readOnly: []string{"sent_at", "purpose"},
	get: func(ctx context.Context, r tresor.Reader, id string) (*tresor.Campaign, error) {
		return r.Campaign(ctx, id)
	},
	insert: one(func(ctx context.Context, tx tresor.Tx, m *tresor.Campaign) error { return tx.InsertCampaign(ctx, m) }),
	update: func(ctx context.Context, tx tresor.Tx, m *tresor.Campaign, prev int64) error {
		return tx.UpdateCampaign(ctx, m, prev)
	},
	delete:  func(ctx context.Context, tx tresor.Tx, id string) error { return tx.DeleteCampaign(ctx, id) },
	toRow:   same[tresor.Campaign],
	fromRow: stored[tresor.Campaign],
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, m, old *tresor.Campaign) error {
		if old == nil {
			if m.SentAt != nil {
				return fieldError("campaign", "sent_at", "is set by Tresor when the campaign is sent; leave it out")
			}
			if m.Purpose == "" {
				m.Purpose = req.purpose
			}
			if m.OwnerID == "" {
				m.OwnerID = req.ownerID()
			}
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, m, old *tresor.Campaign) error {
		if m.Purpose != req.purpose {
			return fieldError("campaign", "purpose", "a campaign serves the purpose declared for the request (%s)", req.purpose)
		}
		// A campaign addresses many people at once: that is advertising, so
		// only a purpose whose outbound is advertising runs campaigns.
		if req.pu.Outbound != policy.OutboundAdvertising {
			return fieldError("campaign", "purpose", "the purpose %s does not advertise (outbound: %s), so it runs no campaigns", req.pu.ID, req.pu.Outbound)
		}
		if m.SegmentID != "" {
			if _, err := tx.Segment(ctx, m.SegmentID); err != nil {
				return fieldError("campaign", "segment_id", "there is no segment with id %q", m.SegmentID)
			}
		}
		return nil
	},
	guard: func(ctx context.Context, g *Gate, req *request, m *tresor.Campaign) error {
		if m.Purpose != req.purpose {
			return tresor.Errorf(tresor.ECForbidden, "This campaign serves the purpose %s; declare it to work with the campaign.", m.Purpose)
		}
		return nil
	},
	refs: func(m *tresor.Campaign) []ref {
		return []ref{{"owner_id", "user", m.OwnerID}, {"segment.owner_id", "user", m.Segment.OwnerID},
			{"segment.organization_id", "organization", m.Segment.OrganizationID}}
	},
}

// CreateCampaign stores a new campaign.
func (g *Gate) CreateCampaign(ctx context.Context, m *tresor.Campaign) error {
	return create(ctx, g, campaigns, []*tresor.Campaign{m})
}

// Campaign returns one campaign.
func (g *Gate) Campaign(ctx context.Context, id string) (*tresor.Campaign, error) {
	return read(ctx, g, campaigns, id)
}

// Campaigns lists the campaigns of the declared purpose.
func (g *Gate) Campaigns(ctx context.Context, f tresor.CampaignFilter) (*tresor.List[*tresor.Campaign], error) {
	req, limit, err := g.page(ctx, accessPurpose, &f.Page)
	if err != nil {
		return nil, err
	}
	rows, err := g.store.Read().Campaigns(ctx, f)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, campaigns, req, rows, limit)
}

// UpdateCampaign changes a campaign with a merge patch.
func (g *Gate) UpdateCampaign(ctx context.Context, id string, u tresor.Update) (*tresor.Campaign, error) {
	return change(ctx, g, campaigns, id, u)
}

// DeleteCampaign deletes a campaign.
func (g *Gate) DeleteCampaign(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, campaigns, id, ifVersion, nil)
}

// audience computes a campaign's audience in one query and explains every exclusion.
func (g *Gate) audience(ctx context.Context, req *request, m *tresor.Campaign) (*tresor.Audience, error) {
	rows, err := g.store.Read().Audience(ctx, tresor.AudienceQuery{
		ConsentPurpose: policy.AdvertisingConsentPurpose, Channel: m.Channel, AddressKind: string(tresor.AddressKind(m.Channel)),
		ExpiredBefore:    req.now.AddDate(0, 0, -g.policy.Consent.ExpiryDays),
		SuppressionScope: suppressionScope, Segment: m.Segment,
	})
	if err == nil {
		rows, err = g.segmentAudience(ctx, req, m, rows)
	}
	if err != nil {
		return nil, err
	}
	a := &tresor.Audience{Recipients: []string{}, Excluded: map[string]int{}, Reasons: []tresor.Reason{}}
	for _, r := range rows {
		if r.Reason == "" {
			a.Recipients = append(a.Recipients, r.ContactID)
		} else {
			a.Excluded[r.Reason]++
		}
	}
	a.Eligible = len(a.Recipients)
	for _, code := range slices.Sorted(maps.Keys(a.Excluded)) {
		a.Reasons = append(a.Reasons, g.policy.ExclusionReason(code, m.Channel))
	}
	return a, nil
}

// campaignFor authorizes the declared purpose and loads a campaign it may
// act on.
func (g *Gate) campaignFor(ctx context.Context, id string) (*request, *tresor.Campaign, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, nil, err
	}
	m, err := g.store.Read().Campaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := campaigns.guarded(ctx, g, g.store.Read(), req, m); err != nil {
		return nil, nil, err
	}
	return req, m, nil
}

// Audience computes who the campaign may reach now, and who not, per reason.
func (g *Gate) Audience(ctx context.Context, id string) (*tresor.Audience, error) {
	req, m, err := g.campaignFor(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := g.audience(ctx, req, m)
	if err != nil {
		return nil, err
	}
	// The audience names people: recorded like a list of them.
	e := g.entry(ctx, "campaign.audience", "contact", a.Recipients, nil, nil)
	e.Detail = "campaign=" + m.ID
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return a, nil
}

// SendCampaign sends an e-mail campaign to its audience. Each message passes
// the outbound gate once more, with the person's current facts, just before
// it goes out.
func (g *Gate) SendCampaign(ctx context.Context, id string) (*tresor.SendReport, error) {
	req, m, err := g.campaignFor(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Channel != tresor.ChannelEmailMsg {
		return nil, tresor.Errorf(tresor.ECConflict, "Tresor sends campaigns by e-mail; the channel %s is not supported yet.", m.Channel)
	}
	if g.mailer == nil {
		return nil, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured (TRESOR_SMTP_ADDR).")
	}
	a, err := g.audience(ctx, req, m)
	if err != nil {
		return nil, err
	}
	rep := &tresor.SendReport{Excluded: a.Excluded}
	var sentTo []string
	for _, contactID := range a.Recipients {
		row, err := g.store.Read().Contact(ctx, contactID)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			continue // deleted meanwhile
		} else if err != nil {
			return nil, err
		}
		c, err := contacts.fromRow(ctx, g, row, nil)
		if err != nil {
			return nil, err
		}
		d, err := g.reach(ctx, req, c, m.Channel, true)
		if err != nil {
			return nil, err
		}
		if !d.Allowed {
			rep.Excluded[d.Reasons[0].Code]++
			continue
		}
		// The first contact with a person whose data came from elsewhere
		// brings the information of Art. 14(3)(b) GDPR first.
		if err := g.noticesAtFirstContact(ctx, req, c); err != nil {
			rep.Failed++ // no campaign mail before the notice
			continue
		}
		if err := g.mailer.Send(ctx, g.campaignMail(c, m)); err != nil {
			rep.Failed++
			continue
		}
		rep.Sent++
		sentTo = append(sentTo, contactID)
	}
	sent := req.now
	m.SentAt = &sent
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		prev := m.Version
		m.Version, m.UpdatedAt = prev+1, req.now
		return tx.UpdateCampaign(ctx, m, prev)
	})
	if err != nil {
		return nil, err
	}
	e := g.entry(ctx, "campaign.send", "contact", sentTo, nil, nil)
	e.Detail = fmt.Sprintf("campaign=%s sent=%d failed=%d", m.ID, rep.Sent, rep.Failed)
	g.recordBestEffort(ctx, e)
	return rep, nil
}
