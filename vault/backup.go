package vault

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
)

// Backups are encrypted to age recipients (X25519): whoever holds a matching
// identity can read them, and nobody else; the format authenticates every
// chunk, so a changed byte fails decryption. Key backups are encrypted with
// a passphrase (age's scrypt recipient) and kept apart from data backups.

// ParseRecipients reads age recipients ("age1…"), one per entry; entries may
// also be files that list recipients one per line.
func ParseRecipients(entries []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.HasPrefix(e, "age1") {
			r, err := age.ParseX25519Recipient(e)
			if err != nil {
				return nil, fmt.Errorf("backup recipient %q: %w", e, err)
			}
			out = append(out, r)
			continue
		}
		f, err := os.Open(e)
		if err != nil {
			return nil, fmt.Errorf("backup recipient %q is neither an age public key (age1…) nor a readable file: %w", e, err)
		}
		rs, err := age.ParseRecipients(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("backup recipients in %s: %w", e, err)
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, errors.New("no backup recipient: give the age public key (age1…) of whoever may restore, " +
			"e.g. from `tresor backup keygen`, with --recipient or TRESOR_BACKUP_RECIPIENTS")
	}
	return out, nil
}

// ReadIdentities reads age identities (AGE-SECRET-KEY-1…) from a file.
func ReadIdentities(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup identity: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("backup identity %s: %w", path, err)
	}
	return ids, nil
}

// GenerateIdentity makes a new age identity and returns its secret form (for
// a file only its owner reads) and its public recipient.
func GenerateIdentity() (secret, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return id.String(), id.Recipient().String(), nil
}

// EncryptBackup returns a writer that encrypts to the recipients; Close
// finishes the file.
func EncryptBackup(w io.Writer, recipients []age.Recipient) (io.WriteCloser, error) {
	return age.Encrypt(w, recipients...)
}

// DecryptBackup returns a reader of a backup's plaintext. Reading fails if
// any byte of the file was changed.
func DecryptBackup(r io.Reader, identities []age.Identity) (io.Reader, error) {
	out, err := age.Decrypt(bufio.NewReaderSize(r, 1<<16), identities...)
	if err != nil {
		return nil, fmt.Errorf("the backup does not decrypt with this identity, or it was changed: %w", err)
	}
	return out, nil
}

// KeyBundle is what a key backup holds: every KEK version, and the keys of
// the blind index and of withdrawal links.
type KeyBundle struct {
	Format string         `json:"format"`
	KEK    map[int]string `json:"kek"` // version → base64 key
	Index  string         `json:"index"`
	Links  string         `json:"links"`
	// Audit is the audit trail's signing key file, as it is.
	Audit string `json:"audit,omitempty"`
}

const keyBundleFormat = "tresor-keys/1"

// MinPassphrase is the shortest passphrase a key backup accepts.
const MinPassphrase = 16

// ExportKeys writes a key backup encrypted with a passphrase.
func ExportKeys(w io.Writer, passphrase string, kek map[int][]byte, index, links, auditKey []byte) error {
	if utf8.RuneCountInString(passphrase) < MinPassphrase {
		return fmt.Errorf("the passphrase of a key backup needs at least %d characters", MinPassphrase)
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return err
	}
	b := KeyBundle{Format: keyBundleFormat, KEK: map[int]string{}, Index: base64.StdEncoding.EncodeToString(index),
		Links: base64.StdEncoding.EncodeToString(links), Audit: string(auditKey)}
	for v, k := range kek {
		b.KEK[v] = base64.StdEncoding.EncodeToString(k)
	}
	enc, err := age.Encrypt(w, r)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(enc).Encode(b); err != nil {
		return err
	}
	return enc.Close()
}

// ImportKeys reads a key backup.
func ImportKeys(r io.Reader, passphrase string) (kek map[int][]byte, index, links, auditKey []byte, err error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	plain, err := age.Decrypt(r, id)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("the key backup does not open with this passphrase, or it was changed: %w", err)
	}
	var b KeyBundle
	if err := json.NewDecoder(plain).Decode(&b); err != nil || b.Format != keyBundleFormat {
		return nil, nil, nil, nil, errors.New("not a Tresor key backup")
	}
	kek = map[int][]byte{}
	for v, s := range b.KEK {
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(k) != KeySize {
			return nil, nil, nil, nil, fmt.Errorf("key backup: version %d is damaged", v)
		}
		kek[v] = k
	}
	if index, err = base64.StdEncoding.DecodeString(b.Index); err != nil || len(index) != KeySize {
		return nil, nil, nil, nil, errors.New("key backup: the index key is damaged")
	}
	if links, err = base64.StdEncoding.DecodeString(b.Links); err != nil || len(links) != KeySize {
		return nil, nil, nil, nil, errors.New("key backup: the link key is damaged")
	}
	return kek, index, links, []byte(b.Audit), nil
}
