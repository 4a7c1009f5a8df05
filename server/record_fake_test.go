package server

import (
	"context"

	"tresor"
	"tresor/policy"
)

// record is the record of the default policy with a small controller file,
// for the API description's live calls; it keeps the language it was asked
// for as the filter.
func (f *fakeServices) record(ctx context.Context, lang string) (*tresor.ProcessingRecord, error) {
	f.filter = lang
	p := policy.Default()
	c, err := policy.ParseController([]byte(`
controller: {name: Beispiel GmbH, address: "Musterstraße 1, 10115 Berlin", email: datenschutz@example.org}
dpo: {name: Dr. Erika Beispiel, email: dsb@example.org}
transfers: [{connector: bluesky, endpoint: bsky.social, country: US, safeguard: scc}]
`), p)
	if err != nil {
		return nil, err
	}
	return p.Record(c, policy.Settings{KEK: policy.KEKFile, InUse: []policy.Connector{{Kind: "mastodon", Endpoint: "mastodon.social"}}}, lang), nil
}
