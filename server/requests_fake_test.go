package server

import (
	"context"
	"time"

	"tresor"
)

// The fakes answer the request register like the gate would: only under
// data_protection, with one sample request.

func fakeRequest(id string) *tresor.Request {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := &tresor.Request{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail, ReceivedAt: "2026-03-02",
		State: tresor.RequestReceived, Due: "2026-04-02"}
	r.ID, r.CreatedAt, r.UpdatedAt, r.Version = id, at, at, 1
	r.Address = "erika@example.org"
	r.History = []tresor.RequestEvent{{At: at, State: tresor.RequestReceived, By: testUserID}}
	return r
}

func (f *fakeServices) CreateRequest(ctx context.Context, n tresor.NewRequest) (*tresor.Request, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	r := fakeRequest(testID)
	r.Kind, r.Channel, r.ReceivedAt, r.Address, r.ContactIDs = n.Kind, n.Channel, n.ReceivedAt, n.Address, n.ContactIDs
	r.Due = tresor.RequestDue(n.ReceivedAt)
	return r, r.Validate()
}

func (f *fakeServices) DataRequest(ctx context.Context, id string) (*tresor.Request, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if id != testID {
		return nil, tresor.Errorf(tresor.ECNotFound, "No request %s.", id)
	}
	return fakeRequest(id), nil
}

func (f *fakeServices) DataRequests(ctx context.Context, fl tresor.RequestFilter) (*tresor.List[*tresor.Request], error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	f.filter = fl
	return &tresor.List[*tresor.Request]{Items: []*tresor.Request{fakeRequest(testID)}}, nil
}

func (f *fakeServices) RequestState(ctx context.Context, id string, to tresor.RequestState, reason string) (*tresor.Request, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if !tresor.RequestMoveAllowed(r.State, to) {
		return nil, tresor.Errorf(tresor.ECConflict, "A request that is %s cannot become %s.", r.State, to)
	}
	r.State, r.Reason, r.Version = to, reason, 2
	return r, nil
}

func (f *fakeServices) ExtendRequest(ctx context.Context, id, reason string) (*tresor.Request, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	r.State, r.Extended, r.ExtensionReason, r.Due, r.Version = tresor.RequestExtended, true, reason, tresor.RequestExtendedDue(r.ReceivedAt), 2
	return r, nil
}
