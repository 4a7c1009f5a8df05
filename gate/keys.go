package gate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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

const keySize = 32

// LoadKeys reads the index and link key files in dir, creating dir (0700)
// and missing keys (0600) on first use. The KEK is loaded by Open, which
// checks it against the database first.
func LoadKeys(dir string) (Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Keys{}, fmt.Errorf("key directory: %w", err)
	}
	var k Keys
	var err error
	if k.Index, err = loadKey(filepath.Join(dir, "index.key")); err != nil {
		return Keys{}, err
	}
	if k.Links, err = loadKey(filepath.Join(dir, "links.key")); err != nil {
		return Keys{}, err
	}
	return k, nil
}

// NewKeys returns fresh random keys, for tests.
func NewKeys() Keys {
	return Keys{Index: randomBytes(keySize), Links: randomBytes(keySize), KEK: vault.NewTestKeyring()}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// loadKey reads a key file (base64), or creates it exclusively, so that two
// servers starting at once cannot write different keys.
func loadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(cerr, fs.ErrExist) {
			return loadKey(path)
		}
		if cerr != nil {
			return nil, fmt.Errorf("create key %s: %w", filepath.Base(path), cerr)
		}
		key := randomBytes(keySize)
		if _, werr := f.Write([]byte(base64.StdEncoding.EncodeToString(key) + "\n")); werr != nil {
			f.Close()
			return nil, werr
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", filepath.Base(path), err)
	}
	key, err := base64.StdEncoding.DecodeString(string(trimSpace(b)))
	if err != nil || len(key) != keySize {
		return nil, fmt.Errorf("key %s is not %d base64-encoded bytes", filepath.Base(path), keySize)
	}
	return key, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
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
