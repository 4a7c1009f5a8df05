package storetest

import (
	"slices"
	"testing"

	"tresor"
)

// requestIntakeTests are the store's part of matching a verified request
// to contacts by blind index.
var requestIntakeTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"LookupContactIDsListsEveryContactUnderTheKey", testLookupContactIDs},
}

func testLookupContactIDs(t *testing.T, s tresor.Store) {
	a, b, other := contactRow("", "twin-key"), contactRow("", "twin-key"), contactRow("", "other-key")
	insertContacts(t, s, a, b, other)
	got, err := s.Read().LookupContactIDs(ctx, tresor.LookupKey{Kind: tresor.LookupEmail, Value: "twin-key"})
	must(t, err)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("twin key: %v, want %v", got, want)
	}
	got, err = s.Read().LookupContactIDs(ctx, tresor.LookupKey{Kind: tresor.LookupEmail, Value: "nobody"})
	must(t, err)
	if len(got) != 0 {
		t.Errorf("unknown key: %v, want none", got)
	}
	got, err = s.Read().LookupContactIDs(ctx, tresor.LookupKey{Kind: tresor.LookupPhone, Value: "twin-key"})
	must(t, err)
	if len(got) != 0 {
		t.Errorf("same value of another kind: %v, want none", got)
	}
}
