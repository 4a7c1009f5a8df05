package gate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"tresor"
	"tresor/vault"
)

// Keys are the secrets the gate works with. They live in files outside the
// database, so a copy of the database alone cannot reverse a lookup hash or
// forge a withdrawal link. Every server of a cluster needs the same files.
type Keys struct {
	// Index keys the blind index of e-mail addresses, phone numbers, handles
	// and postal addresses, and the suppression list.
	Index []byte
	// Links signs withdrawal links in messages.
	Links []byte
	// KEK wraps the data keys: the versions of the key-encryption key.
	KEK *vault.Keyring
}

// blind returns the keyed hash under which an identifier is indexed.
func (g *Gate) blind(k tresor.LookupKey) tresor.LookupKey {
	m := hmac.New(sha256.New, g.keys.Index)
	m.Write([]byte(k.Kind))
	m.Write([]byte{0})
	m.Write([]byte(k.Value))
	return tresor.LookupKey{Kind: k.Kind, Value: base64.RawURLEncoding.EncodeToString(m.Sum(nil))}
}

// lookupKeys returns the blind-index keys of a contact's identifiers.
func (g *Gate) lookupKeys(d *tresor.ContactDetails) []tresor.LookupKey {
	keys := d.LookupKeys()
	for i, k := range keys {
		keys[i] = g.blind(k)
	}
	return keys
}
