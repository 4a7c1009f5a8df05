package server

import (
	"context"
	"time"

	"tresor"
)

var fakeBreach = tresor.Breach{Meta: tresor.Meta{ID: testID, CreatedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC),
	UpdatedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), Version: 1},
	BreachContent: tresor.BreachContent{Description: "A laptop was lost"},
	Title:         "Laptop", AwareAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Risk: tresor.BreachRiskSome, State: tresor.BreachOpen}

func (f *fakeServices) CreateBreach(ctx context.Context, b *tresor.Breach) error {
	b.Meta, b.State = fakeBreach.Meta, tresor.BreachOpen
	return nil
}

func (f *fakeServices) Breach(ctx context.Context, id string) (*tresor.Breach, error) {
	b := fakeBreach
	return &b, nil
}

func (f *fakeServices) Breaches(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Breach], error) {
	f.filter = p
	b := fakeBreach
	return &tresor.List[*tresor.Breach]{Items: []*tresor.Breach{&b}}, nil
}

func (f *fakeServices) UpdateBreach(ctx context.Context, id string, u tresor.Update) (*tresor.Breach, error) {
	b := fakeBreach
	b.Version = 2
	return &b, nil
}

func (f *fakeServices) SetBreachState(ctx context.Context, id string, state tresor.BreachState, note string, ifVersion int64) (*tresor.Breach, error) {
	b := fakeBreach
	at := b.UpdatedAt
	b.Version, b.State, b.NotifiedAt = 2, tresor.BreachAuthorityNotified, &at
	return &b, nil
}

func (f *fakeServices) CountBreachScope(ctx context.Context, id, actor string, since, until time.Time) (*tresor.Breach, error) {
	b := fakeBreach
	b.Scope = &tresor.BreachScope{Actor: actor, Since: since, Until: until, Contacts: 2, Records: 3, CountedAt: until}
	return &b, nil
}

func (f *fakeServices) BreachDrafts(ctx context.Context, id, lang string) (*tresor.BreachDrafts, error) {
	f.filter = lang
	return &tresor.BreachDrafts{Lang: lang, Authority: "Notification", People: "Notice"}, nil
}

func (f *fakeServices) NotifyBreachPeople(ctx context.Context, id string, n tresor.BreachPeopleNotice) (*tresor.BreachPeopleNotified, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	b := fakeBreach
	b.Version = 2
	return &tresor.BreachPeopleNotified{Breach: &b, Sent: len(n.ContactIDs), NoAddress: []string{}, Failed: []string{}}, nil
}
