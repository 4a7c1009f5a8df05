package vault

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"tresor"
)

// A key backup holds the wrapped data keys of a database, apart from the
// data backup (which carries none). It is encrypted to the backup's age
// recipients and, unless sealing is off, sealed inside under a key of its
// own (AES-256-GCM) that lives only in the live key directory and is
// destroyed when the key backup leaves its window: after that, a copy of
// the file opens with no identity and no KEK.

// KeyBackupFormat names the format of a key backup.
const KeyBackupFormat = "tresor-data-keys/1"

// KeyBackupHeader describes a key backup.
type KeyBackupHeader struct {
	Format    string    `json:"format"`
	ID        string    `json:"id"`
	Backend   string    `json:"backend"`
	CreatedAt time.Time `json:"created_at"`
	Keys      int       `json:"keys"`
	// Sealed says the keys are sealed under the key backup's own key, kept
	// in the live key directory (its name is ID).
	Sealed bool `json:"sealed"`
}

// keyBackupFile is the plaintext inside the age layer.
type keyBackupFile struct {
	KeyBackupHeader
	Nonce   string           `json:"nonce,omitempty"`
	Payload string           `json:"payload,omitempty"` // sealed JSON of Entries
	Entries []keyBackupEntry `json:"entries,omitempty"` // when not sealed
}

type keyBackupEntry struct {
	Subject    string `json:"s"`
	Version    int    `json:"v"`
	KEKVersion int    `json:"k"`
	Wrapped    string `json:"w"`
}

// WriteKeyBackup writes the wrapped data keys to w, encrypted to the
// recipients; with a seal key (32 bytes) they are sealed under it first.
func WriteKeyBackup(w io.Writer, recipients []age.Recipient, h KeyBackupHeader, keys []tresor.WrappedKey, seal []byte) error {
	h.Format, h.Keys, h.Sealed = KeyBackupFormat, len(keys), seal != nil
	f := keyBackupFile{KeyBackupHeader: h}
	entries := make([]keyBackupEntry, len(keys))
	for i, k := range keys {
		entries[i] = keyBackupEntry{Subject: k.Subject, Version: k.Version, KEKVersion: k.KEKVersion, Wrapped: base64.StdEncoding.EncodeToString(k.Wrapped)}
	}
	if seal == nil {
		f.Entries = entries
	} else {
		plain, err := json.Marshal(entries)
		if err != nil {
			return err
		}
		aead, err := sealAEAD(seal)
		if err != nil {
			return err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		f.Nonce = base64.StdEncoding.EncodeToString(nonce)
		f.Payload = base64.StdEncoding.EncodeToString(aead.Seal(nil, nonce, plain, []byte(KeyBackupFormat+"\x00"+h.ID)))
	}
	enc, err := EncryptBackup(w, recipients)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(enc).Encode(f); err != nil {
		return err
	}
	return enc.Close()
}

// ErrKeyBackupShredded says that a key backup's own key is destroyed: it
// left its window, and the data keys in it are gone for good.
var ErrKeyBackupShredded = errors.New("the key backup's own key is destroyed (it left its window): its data keys cannot be read by anyone")

// ReadKeyBackup decrypts a key backup and returns its header and keys.
// sealKey returns the seal key of a sealed backup by its ID, or
// ErrKeyBackupShredded when it is gone.
func ReadKeyBackup(r io.Reader, ids []age.Identity, sealKey func(id string) ([]byte, error)) (*KeyBackupHeader, []tresor.WrappedKey, error) {
	plain, err := age.Decrypt(bufio.NewReaderSize(r, 1<<16), ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("the key backup does not decrypt with this identity, or it was changed: %w", err)
	}
	var f keyBackupFile
	if err := json.NewDecoder(plain).Decode(&f); err != nil || f.Format != KeyBackupFormat {
		return nil, nil, errors.New("not a Tresor key backup of data keys")
	}
	entries := f.Entries
	if f.Sealed {
		key, err := sealKey(f.ID)
		if err != nil {
			return &f.KeyBackupHeader, nil, err
		}
		aead, err := sealAEAD(key)
		if err != nil {
			return nil, nil, err
		}
		nonce, err1 := base64.StdEncoding.DecodeString(f.Nonce)
		sealed, err2 := base64.StdEncoding.DecodeString(f.Payload)
		if err1 != nil || err2 != nil || len(nonce) != aead.NonceSize() {
			return nil, nil, errors.New("the key backup is damaged")
		}
		plain, err := aead.Open(nil, nonce, sealed, []byte(KeyBackupFormat+"\x00"+f.ID))
		if err != nil {
			return &f.KeyBackupHeader, nil, errors.New("the key backup does not open with its key: the key or the file was changed")
		}
		if err := json.Unmarshal(plain, &entries); err != nil {
			return nil, nil, errors.New("the key backup is damaged")
		}
	}
	keys := make([]tresor.WrappedKey, len(entries))
	for i, e := range entries {
		wrapped, err := base64.StdEncoding.DecodeString(e.Wrapped)
		if err != nil {
			return nil, nil, fmt.Errorf("the key backup is damaged at %s", e.Subject)
		}
		keys[i] = tresor.WrappedKey{Subject: e.Subject, Version: e.Version, KEKVersion: e.KEKVersion, Wrapped: wrapped}
	}
	if len(keys) != f.Keys {
		return nil, nil, fmt.Errorf("the key backup holds %d keys, its header says %d", len(keys), f.Keys)
	}
	return &f.KeyBackupHeader, keys, nil
}

func sealAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a key backup's key has %d bytes, not %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// ParseSealKeys reads the file of key backups' own keys: "ID base64" lines.
func ParseSealKeys(b []byte, where string) (map[string][]byte, error) {
	out := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, value, ok := strings.Cut(text, " ")
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if !ok || err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("%s, line %d: expected \"<key backup id> <base64 key>\"", where, line)
		}
		out[id] = k
	}
	return out, sc.Err()
}

// FormatSealKeys writes the file of key backups' own keys.
func FormatSealKeys(keys map[string][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# Tresor: the keys of the key backups in their window. Each is destroyed when its key backup leaves the window.\n")
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "%s %s\n", id, base64.StdEncoding.EncodeToString(keys[id]))
	}
	return b.Bytes()
}
