// Package vault is Tresor's envelope encryption. Every person has a data key
// of their own (AES-256-GCM); each personal field is sealed with it under a
// fresh nonce, bound by associated data to the record, the field and the key
// version. Data keys are stored only wrapped by a key-encryption key (KEK)
// that never lives in the database. Destroying a person's data key erases
// their data in every copy that lacks it, backups included.
//
// The package does no I/O of its own besides its key sources; the gate
// decides which keys to use and stores the wrapped forms.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"tresor"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

const nonceSize = 12

// ErrNoKeys says that a key source holds no key yet.
var ErrNoKeys = errors.New("vault: no key-encryption key")

// ErrDamaged says that a sealed value or a wrapped key does not open: its
// bytes or its key were changed.
var ErrDamaged = errors.New("vault: sealed data does not open")

// Keyring holds the versions of the key-encryption key. The highest version
// wraps new data keys; every version unwraps the keys wrapped under it.
type Keyring struct {
	mu      sync.RWMutex
	source  Source
	keys    map[int]cipher.AEAD
	raw     map[int][]byte
	current int
}

// NewKeyring returns a keyring of the given versions (version → 32-byte key).
func NewKeyring(versions map[int][]byte) (*Keyring, error) {
	kr := &Keyring{}
	if err := kr.set(versions); err != nil {
		return nil, err
	}
	return kr, nil
}

// NewTestKeyring returns a keyring with one fresh random version, for tests.
func NewTestKeyring() *Keyring {
	kr, err := NewKeyring(map[int][]byte{1: RandomKey()})
	if err != nil {
		panic(err)
	}
	return kr
}

// RandomKey returns a fresh random 32-byte key.
func RandomKey() []byte {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return b
}

func (kr *Keyring) set(versions map[int][]byte) error {
	if len(versions) == 0 {
		return ErrNoKeys
	}
	keys := make(map[int]cipher.AEAD, len(versions))
	raw := make(map[int][]byte, len(versions))
	current := 0
	for v, k := range versions {
		if v < 1 {
			return fmt.Errorf("vault: key-encryption key version %d: versions start at 1", v)
		}
		if len(k) != KeySize {
			return fmt.Errorf("vault: key-encryption key version %d has %d bytes, not %d", v, len(k), KeySize)
		}
		a, err := newAEAD(k)
		if err != nil {
			return err
		}
		keys[v], raw[v] = a, slices.Clone(k)
		current = max(current, v)
	}
	kr.mu.Lock()
	kr.keys, kr.raw, kr.current = keys, raw, current
	kr.mu.Unlock()
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Current returns the version that wraps new data keys.
func (kr *Keyring) Current() int {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.current
}

// Versions lists the versions the keyring holds, ascending.
func (kr *Keyring) Versions() []int {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	out := make([]int, 0, len(kr.keys))
	for v := range kr.keys {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Export returns a copy of every version's key, for a key backup.
func (kr *Keyring) Export() map[int][]byte {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	out := make(map[int][]byte, len(kr.raw))
	for v, k := range kr.raw {
		out[v] = slices.Clone(k)
	}
	return out
}

// Source returns where the keyring was loaded from (nil for one built in memory).
func (kr *Keyring) Source() Source { return kr.source }

// Reload reads the source again: another process may have added a version
// (key rotation runs beside a serving Tresor). It is a no-op without a source.
func (kr *Keyring) Reload(ctx context.Context) error {
	if kr.source == nil {
		return nil
	}
	versions, err := kr.source.Load(ctx)
	if err != nil {
		return err
	}
	return kr.set(versions)
}

func (kr *Keyring) aead(ctx context.Context, version int) (cipher.AEAD, error) {
	kr.mu.RLock()
	a := kr.keys[version]
	kr.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	if err := kr.Reload(ctx); err != nil {
		return nil, err
	}
	kr.mu.RLock()
	a = kr.keys[version]
	kr.mu.RUnlock()
	if a == nil {
		return nil, fmt.Errorf("vault: the key-encryption key version %d is missing from %s", version, describe(kr.source))
	}
	return a, nil
}

func describe(s Source) string {
	if s == nil {
		return "the keyring"
	}
	return s.Describe()
}

// wrapAAD binds a wrapped data key to its subject and version.
func wrapAAD(subject string, version int) []byte {
	b := make([]byte, 0, 16+len(subject))
	b = append(b, "tresor/dek\x00"...)
	b = append(b, subject...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint32(b, uint32(version))
}

// Wrap encrypts a data key under the current KEK version.
func (kr *Keyring) Wrap(dk *DataKey) (tresor.WrappedKey, error) {
	kr.mu.RLock()
	v, a := kr.current, kr.keys[kr.current]
	kr.mu.RUnlock()
	if a == nil {
		return tresor.WrappedKey{}, ErrNoKeys
	}
	return tresor.WrappedKey{Subject: dk.Subject, Version: dk.Version, KEKVersion: v,
		Wrapped: seal(a, dk.raw, wrapAAD(dk.Subject, dk.Version))}, nil
}

// Unwrap decrypts a wrapped data key and prepares its cipher.
func (kr *Keyring) Unwrap(ctx context.Context, w tresor.WrappedKey) (*DataKey, error) {
	a, err := kr.aead(ctx, w.KEKVersion)
	if err != nil {
		return nil, err
	}
	raw, err := open(a, w.Wrapped, wrapAAD(w.Subject, w.Version))
	if err != nil {
		return nil, fmt.Errorf("the data key of %s does not open: %w", w.Subject, ErrDamaged)
	}
	return dataKey(w.Subject, w.Version, raw)
}

// Rewrap re-encrypts a wrapped data key under the current KEK version
// without touching the data it protects (and without building its cipher).
func (kr *Keyring) Rewrap(ctx context.Context, w tresor.WrappedKey) (tresor.WrappedKey, error) {
	old, err := kr.aead(ctx, w.KEKVersion)
	if err != nil {
		return tresor.WrappedKey{}, err
	}
	aad := wrapAAD(w.Subject, w.Version)
	raw, err := open(old, w.Wrapped, aad)
	if err != nil {
		return tresor.WrappedKey{}, fmt.Errorf("the data key of %s does not open: %w", w.Subject, ErrDamaged)
	}
	defer clear(raw)
	kr.mu.RLock()
	v, a := kr.current, kr.keys[kr.current]
	kr.mu.RUnlock()
	return tresor.WrappedKey{Subject: w.Subject, Version: w.Version, KEKVersion: v, Wrapped: seal(a, raw, aad)}, nil
}

// checkPlain is what a check value holds: a constant that proves a KEK version.
var checkPlain = []byte("tresor key-encryption key check")

func checkAAD(version int) []byte {
	return binary.BigEndian.AppendUint32([]byte("tresor/kek-check\x00"), uint32(version))
}

// Check returns a check value of a version: stored in the database, it lets
// a later start tell whether it was given the right key.
func (kr *Keyring) Check(version int) ([]byte, error) {
	kr.mu.RLock()
	a := kr.keys[version]
	kr.mu.RUnlock()
	if a == nil {
		return nil, fmt.Errorf("vault: no key-encryption key version %d", version)
	}
	return seal(a, checkPlain, checkAAD(version)), nil
}

// Verify reports whether the keyring's version opens a check value.
func (kr *Keyring) Verify(ctx context.Context, version int, check []byte) error {
	a, err := kr.aead(ctx, version)
	if err != nil {
		return err
	}
	if _, err := open(a, check, checkAAD(version)); err != nil {
		return fmt.Errorf("the key-encryption key version %d in %s is not the one this database was sealed with", version, describe(kr.source))
	}
	return nil
}

// seal encrypts with a fresh random nonce, prefixed to the result.
func seal(a cipher.AEAD, plain, aad []byte) []byte {
	out := make([]byte, nonceSize, nonceSize+len(plain)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic(err)
	}
	return a.Seal(out, out, plain, aad)
}

func open(a cipher.AEAD, b, aad []byte) ([]byte, error) {
	if len(b) < nonceSize+a.Overhead() {
		return nil, ErrDamaged
	}
	out, err := a.Open(nil, b[:nonceSize], b[nonceSize:], aad)
	if err != nil {
		return nil, ErrDamaged
	}
	return out, nil
}
