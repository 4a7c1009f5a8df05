package server

import (
	"context"

	"tresor"
	"tresor/policy"
)

// mergedID is a contact the fakes answer for as absorbed by a merge into testID.
const mergedID = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a70"

func (f *fakeServices) Duplicates(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Duplicate], error) {
	if tresor.PurposeFrom(ctx) == "" {
		return nil, tresor.Errorf(tresor.ECPurposeMissing, "Declare a purpose.")
	}
	f.filter = p
	a, b := fakeContact(), fakeContact()
	b.ID = emptyID
	return &tresor.List[*tresor.Duplicate]{Items: []*tresor.Duplicate{{Reasons: []tresor.DuplicateReason{"email", tresor.DuplicateName},
		Contacts: [2]*tresor.Contact{a, b}}}, Total: 1, Counted: true}, nil
}

func (f *fakeServices) MergeContact(ctx context.Context, id, from string) (*tresor.MergeResult, error) {
	switch {
	case id == from:
		var p tresor.Problems
		p.Add("from", "a contact cannot be merged into itself")
		return nil, p.Err("merge")
	case id == mergedID || from == mergedID:
		return nil, &tresor.Error{Code: tresor.ECConflict, Message: "The contact was already merged.", MessageDE: "Der Kontakt wurde bereits zusammengeführt."}
	case id == refusedID || from == refusedID:
		return nil, policy.Refuse(policy.RLegalHold, fakeHold.Reason)
	}
	c := fakeContact()
	c.ID = id
	return &tresor.MergeResult{Contact: c, Merge: tresor.Merge{From: from, Into: id, MergedAt: fakeTime, Actor: "user:" + testUserID},
		Fields: []string{"phones"}, Interactions: 1, Deals: 1}, nil
}
