package server

import (
	"context"
	"encoding/json"
	"time"

	"tresor"
)

// The fakes answer the decisions on requests like the gate would: only
// under data_protection, on the sample request, for its sample contact.

func fakeDecided(action tresor.RequestAction) *tresor.Request {
	r := fakeRequest(testID)
	r.ContactIDs = []string{testID}
	r.State = tresor.RequestInProgress
	r.History = append(r.History, tresor.RequestEvent{At: r.CreatedAt, State: tresor.RequestInProgress, By: testUserID,
		Action: action, ContactID: testID})
	return r
}

func fakeDecision(ctx context.Context, id string) error {
	if err := dataProtectionOnly(ctx); err != nil {
		return err
	}
	if id != testID {
		return tresor.Errorf(tresor.ECNotFound, "No request %s.", id)
	}
	return nil
}

func (f *fakeServices) Rectify(ctx context.Context, id string, in tresor.Rectification) (*tresor.Rectified, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	if len(in.Changes) == 0 {
		return nil, tresor.Errorf(tresor.ECValidation, "Name at least one field.")
	}
	ch := tresor.FieldChange{Field: "family_name", Old: json.RawMessage(`"Mustermann"`), New: json.RawMessage(`"Musterfrau"`)}
	r := fakeDecided(tresor.ActionRectified)
	r.History[len(r.History)-1].Changes = []tresor.FieldChange{ch}
	return &tresor.Rectified{Request: r, Contact: fakeContact(), Changes: []tresor.FieldChange{ch}}, nil
}

func (f *fakeServices) RequestRecipients(ctx context.Context, id string) ([]tresor.Recipient, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return []tresor.Recipient{{ContactID: testID, Kind: "email", Count: 2, First: at, Last: at.Add(time.Hour)}}, nil
}

func (f *fakeServices) NotifyRecipients(ctx context.Context, id string, n tresor.RecipientsNotice) (*tresor.Request, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	if n.Note == "" {
		return nil, tresor.Errorf(tresor.ECValidation, "The note is required.")
	}
	return fakeDecided(tresor.ActionRecipientsNotified), nil
}

func (f *fakeServices) ApplyObjection(ctx context.Context, id string) (*tresor.Request, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	return fakeDecided(tresor.ActionObjected), nil
}

func (f *fakeServices) RecordCompellingGrounds(ctx context.Context, id string, c tresor.CompellingGrounds) (*tresor.Request, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	if c.Purpose == "marketing" {
		return nil, &tresor.Error{Code: tresor.ECForbidden, Message: "Direct marketing: an objection is absolute (Art. 21(2) GDPR).",
			MessageDE: "Direktwerbung: Ein Widerspruch gilt ausnahmslos (Art. 21 Abs. 2 DSGVO)."}
	}
	return fakeDecided(tresor.ActionCompellingGrounds), nil
}

func (f *fakeServices) ApplyRestriction(ctx context.Context, id string) (*tresor.Request, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	return fakeDecided(tresor.ActionRestricted), nil
}

func (f *fakeServices) Lift(ctx context.Context, id string, l tresor.Lift) (*tresor.Request, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	if l.Reason == "" {
		return nil, tresor.Errorf(tresor.ECValidation, "Say why.")
	}
	return fakeDecided(tresor.ActionRestrictionLifted), nil
}

func (f *fakeServices) EraseForRequest(ctx context.Context, id string) (*tresor.Erased, error) {
	if err := fakeDecision(ctx, id); err != nil {
		return nil, err
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := &tresor.Erasure{ContactID: testID, ErasedAt: at, Actor: "user:" + testUserID, Origin: tresor.ErasureRequest,
		Reason: "data-subject request " + id, Records: tresor.ErasedRecords{InteractionsRetained: 1}}
	return &tresor.Erased{Request: fakeDecided(tresor.ActionErased), Outcomes: []tresor.ErasureOutcome{
		{ContactID: testID, Result: "erased", Erasure: e, Retained: []tresor.RetainedKept{{Class: "business_letter", Count: 1, Until: "2033-03-02"}}},
		{ContactID: unknownID, Result: "kept_legal_hold", Holds: []string{testID},
			Explanation: &tresor.Reason{Code: string(tresor.ECLegalHold), Message: "A legal hold keeps this contact.", MessageDE: "Eine Aufbewahrungssperre hält diesen Kontakt."}},
	}}, nil
}
