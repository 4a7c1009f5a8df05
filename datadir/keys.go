package datadir

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tresor/gate"
	"tresor/vault"
)

// These are the key tools of the CLI; they live here so that the CLI never
// handles vault itself.

// GenerateKey returns a new random 32-byte key in base64 (for TRESOR_KEK).
func GenerateKey() string { return base64.StdEncoding.EncodeToString(vault.RandomKey()) }

// NewBackupIdentity makes an age identity for backups: its secret form and
// its public recipient.
func NewBackupIdentity() (secret, recipient string, err error) { return vault.GenerateIdentity() }

// ExportKeys writes a key backup of the configuration's KEK (every version)
// and its index and link keys, encrypted with a passphrase, and returns the
// versions it holds.
func ExportKeys(ctx context.Context, w io.Writer, passphrase string, cfg Config) ([]int, error) {
	kr, err := vault.Open(ctx, kekSourceOf(cfg))
	if err != nil {
		return nil, fmt.Errorf("read the key-encryption key: %w", err)
	}
	keys, err := loadKeys(keyDirOf(cfg))
	if err != nil {
		return nil, err
	}
	auditKey, err := os.ReadFile(filepath.Join(keyDirOf(cfg), gate.AuditKeyFile))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return kr.Versions(), vault.ExportKeys(w, passphrase, kr.Export(), keys.Index, keys.Links, auditKey)
}

// ImportKeys writes the keys of a key backup into the key directory as files
// (the KEK as kek.keys). Files that exist and hold other keys are kept unless
// force. It returns the KEK versions restored.
func ImportKeys(r io.Reader, passphrase string, cfg Config, force bool) ([]int, error) {
	kek, index, links, auditKey, err := vault.ImportKeys(r, passphrase)
	if err != nil {
		return nil, err
	}
	dir := keyDirOf(cfg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files := map[string][]byte{
		KEKFile:     vault.FormatKeyLines(kek),
		"index.key": []byte(base64.StdEncoding.EncodeToString(index) + "\n"),
		"links.key": []byte(base64.StdEncoding.EncodeToString(links) + "\n"),
	}
	if len(auditKey) > 0 {
		files[gate.AuditKeyFile] = auditKey
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && !force && !sameKeys(name, old, data) {
			return nil, fmt.Errorf("%s exists and holds other keys; keep it, or replace it with --force", path)
		}
	}
	for name, data := range files {
		if err := vault.WriteFileAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	kr, err := vault.NewKeyring(kek)
	if err != nil {
		return nil, err
	}
	return kr.Versions(), nil
}

func sameKeys(name string, old, data []byte) bool {
	if name != KEKFile {
		return strings.TrimSpace(string(old)) == strings.TrimSpace(string(data))
	}
	a, err1 := vault.ParseKeyLines(old, name)
	b, err2 := vault.ParseKeyLines(data, name)
	if err1 != nil || err2 != nil || len(a) != len(b) {
		return false
	}
	for v, k := range a {
		if string(b[v]) != string(k) {
			return false
		}
	}
	return true
}

// OpenKEK loads the configuration's key-encryption key without a database,
// for verifying backups; nil and the reason when it is not at hand.
func OpenKEK(ctx context.Context, cfg Config) (*vault.Keyring, error) {
	return vault.Open(ctx, kekSourceOf(cfg))
}

// loadKeys reads the index and link key files in dir, creating dir (0700)
// and missing keys (0600) on first use. The KEK is loaded by Open, which
// checks it against the database first.
func loadKeys(dir string) (gate.Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return gate.Keys{}, fmt.Errorf("key directory: %w", err)
	}
	var k gate.Keys
	var err error
	if k.Index, err = loadKey(filepath.Join(dir, "index.key")); err != nil {
		return gate.Keys{}, err
	}
	if k.Links, err = loadKey(filepath.Join(dir, "links.key")); err != nil {
		return gate.Keys{}, err
	}
	return k, nil
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
		key := vault.RandomKey()
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
	if err != nil || len(key) != vault.KeySize {
		return nil, fmt.Errorf("key %s is not %d base64-encoded bytes", filepath.Base(path), vault.KeySize)
	}
	return key, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
