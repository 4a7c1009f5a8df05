package vault

import (
	"context"
	"testing"

	"tresor"
)

func benchContact() *tresor.ContactDetails {
	return &tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann-123456",
		Emails: []string{"erika.123456@example.org"}, Phones: []string{"+49 30 0123456"},
		Organization: "Muster GmbH", Position: "Head of Purchasing"}
}

// BenchmarkSealContact: what a write pays per contact for encryption — a new
// data key, its wrapping under the KEK, and sealing six fields.
//
//	go test ./vault -run '^$' -bench . -benchtime 2s -count 3
func BenchmarkSealContact(b *testing.B) {
	kr := NewTestKeyring()
	d := benchContact()
	for b.Loop() {
		dk := NewDataKey("01a2243a-c5ff-7982-a0f7-3d62d15d8b71")
		if _, err := kr.Wrap(dk); err != nil {
			b.Fatal(err)
		}
		if _, err := dk.Seal("contact", dk.Subject, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenContact: the crypto a decrypting read pays per contact —
// unwrapping the data key under the KEK, building its cipher, and opening
// six fields (including decoding the two list fields from JSON).
func BenchmarkOpenContact(b *testing.B) {
	kr := NewTestKeyring()
	dk := NewDataKey("01a2243a-c5ff-7982-a0f7-3d62d15d8b71")
	w, err := kr.Wrap(dk)
	if err != nil {
		b.Fatal(err)
	}
	blob, err := dk.Seal("contact", dk.Subject, benchContact())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		k, err := kr.Unwrap(ctx, w)
		if err != nil {
			b.Fatal(err)
		}
		var d tresor.ContactDetails
		if err := k.Open("contact", k.Subject, blob, &d, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewrap: one data key moved under a new KEK version.
func BenchmarkRewrap(b *testing.B) {
	kr, err := NewKeyring(map[int][]byte{1: RandomKey(), 2: RandomKey()})
	if err != nil {
		b.Fatal(err)
	}
	dk := NewDataKey("01a2243a-c5ff-7982-a0f7-3d62d15d8b71")
	w, err := kr.Wrap(dk)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := kr.Rewrap(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
}
