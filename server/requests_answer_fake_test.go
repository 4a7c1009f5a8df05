package server

import (
	"context"
	"time"

	"tresor"
)

// The fakes write and give answers like the gate would: only under
// data_protection, for the sample request.

func (f *fakeServices) RequestAnswerDraft(ctx context.Context, id, lang string, outcome tresor.RequestOutcome) (*tresor.RequestAnswerDraft, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	f.filter = struct {
		Lang    string
		Outcome tresor.RequestOutcome
	}{lang, outcome} // both documented parameters reach the service
	if lang == "" {
		lang = "de"
	}
	if outcome == "" {
		outcome = tresor.OutcomeAnswered
	}
	return &tresor.RequestAnswerDraft{Lang: lang, Outcome: outcome, Via: tresor.AnswerByEmail,
		Subject: "Ihr Antrag " + r.ID, Body: "Guten Tag,\n\nVorgang: " + r.ID + "\n"}, nil
}

func (f *fakeServices) AnswerRequest(ctx context.Context, id string, a tresor.RequestAnswerSend) (*tresor.Request, error) {
	r, err := f.DataRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Outcome == "" {
		a.Outcome = tresor.OutcomeAnswered
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	at := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	r.State, r.ClosedAt, r.Version = tresor.RequestAnswered, &at, 2
	r.Answers = []tresor.RequestAnswer{{At: at, Outcome: a.Outcome, Lang: a.Lang, Via: tresor.AnswerByEmail,
		Subject: a.Subject, Body: a.Body, By: testUserID}}
	return r, nil
}
