package server

import (
	"context"
	"slices"

	"tresor"
)

// The fakes of the public request form and of the DPO's identity side: a
// link "good-link" verifies once; the contact testID exists.

func (f *fakeServices) SubmitRequest(ctx context.Context, s tresor.RequestSubmission) (*tresor.RequestReceipt, error) {
	if _, err := tresor.NormalizeEmail(s.Email); err != nil || !slices.Contains(tresor.RequestKinds(), s.Kind) {
		return nil, tresor.Errorf(tresor.ECValidation, "request: choose a kind and give an e-mail address")
	}
	if s.Email == "flood@example.org" {
		return nil, &tresor.Error{Code: tresor.ECThrottled, RetryAfter: 3600e9, Message: "Too many requests.", MessageDE: "Zu viele Anträge."}
	}
	f.submitted = append(f.submitted, s)
	return &tresor.RequestReceipt{Kind: s.Kind, Due: "2026-04-02", Language: s.Language}, nil
}

func (f *fakeServices) RequestVerification(ctx context.Context, token string) (*tresor.RequestReceipt, error) {
	if token != "good-link" || f.verified {
		return nil, tresor.Errorf(tresor.ECLinkInvalid, "This link is not valid.")
	}
	return &tresor.RequestReceipt{Kind: tresor.RequestAccess, Due: "2026-04-02", Language: "en"}, nil
}

func (f *fakeServices) VerifyRequest(ctx context.Context, token, client string) (*tresor.RequestReceipt, error) {
	r, err := f.RequestVerification(ctx, token)
	if err == nil {
		f.verified = true
	}
	return r, err
}

func (f *fakeServices) SendRequestVerification(ctx context.Context, id string) (*tresor.Request, error) {
	return f.DataRequest(ctx, id)
}

func (f *fakeServices) LinkRequestContact(ctx context.Context, id, contactID string) (*tresor.Request, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if contactID != testID {
		return nil, tresor.Errorf(tresor.ECInvalidReference, "contact_id: the contact %s does not exist.", contactID)
	}
	r.ContactIDs, r.Version = []string{contactID}, 2
	return r, nil
}

func (f *fakeServices) UnlinkRequestContact(ctx context.Context, id, contactID string) (*tresor.Request, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if contactID != testID {
		return nil, tresor.Errorf(tresor.ECNotFound, "The contact %s is not linked to this request.", contactID)
	}
	r.Version = 2
	return r, nil
}
