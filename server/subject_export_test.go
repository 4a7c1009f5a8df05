package server_test

import (
	"tresor"
)

// verifiedAccessRequest makes a request of access about a new contact, with
// the requester identified: one the DPO may answer with an export.
func verifiedAccessRequest(a *api) string {
	dpo := tresor.WithPurpose(sys, "data_protection")
	rq, err := a.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
		Address: "fixture@example.org", ReceivedAt: "2026-03-02", ContactIDs: []string{a.fixture("contacts")}})
	must(a.t, err)
	_, err = a.g.RequestState(dpo, rq.ID, tresor.RequestIdentityVerified, "")
	must(a.t, err)
	return rq.ID
}
