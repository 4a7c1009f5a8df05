package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"tresor"
)

// Signer signs checkpoints with an Ed25519 key kept outside the database.
type Signer struct {
	priv ed25519.PrivateKey
	// KeyID names the public key: the first 8 bytes of its SHA-256, in hex.
	KeyID string
}

// Public returns the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewSigner returns a signer with a fresh key, for tests.
func NewSigner() *Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &Signer{priv: priv, KeyID: keyID(priv.Public().(ed25519.PublicKey))}
}

// LoadSigner reads the signing key file (base64 of the 32-byte seed),
// creating it (mode 0600) when create is set and it is missing.
func LoadSigner(path string, create bool) (*Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadSigner(path, false)
		}
		if err != nil {
			return nil, fmt.Errorf("create the audit signing key: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(seed) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, werr
		}
		b = []byte(base64.StdEncoding.EncodeToString(seed))
	} else if err != nil {
		return nil, fmt.Errorf("the audit signing key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("the audit signing key %s is not %d base64-encoded bytes", path, ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Signer{priv: priv, KeyID: keyID(priv.Public().(ed25519.PublicKey))}, nil
}

// PublicKeyText is the public key as the verifier reads it: "ed25519 BASE64".
func (s *Signer) PublicKeyText() string {
	return "ed25519 " + base64.StdEncoding.EncodeToString(s.Public())
}

// ParsePublicKey reads a public key written by PublicKeyText.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(text), "ed25519 ")
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if !ok || err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New(`an audit public key reads "ed25519 BASE64"`)
	}
	return ed25519.PublicKey(k), nil
}

// signed is the text a checkpoint's signature covers.
func signed(c *tresor.AuditCheckpoint) []byte {
	return fmt.Appendf(nil, "tresor audit checkpoint v1\n%d\n%s\n%s\n%d\n", c.Size,
		base64.StdEncoding.EncodeToString(c.Root), base64.StdEncoding.EncodeToString(c.Chain), c.At.UnixMicro())
}

// Sign makes a checkpoint of a tree and its chain link at a time.
func (s *Signer) Sign(t *Tree, chain []byte, at time.Time) *tresor.AuditCheckpoint {
	c := &tresor.AuditCheckpoint{Size: t.Size(), At: at, Root: t.Root(), Chain: chain, Range: t.Marshal(), KeyID: s.KeyID}
	c.Signature = ed25519.Sign(s.priv, signed(c))
	return c
}

// VerifyCheckpoint checks a checkpoint's signature with the public key.
func VerifyCheckpoint(pub ed25519.PublicKey, c *tresor.AuditCheckpoint) error {
	if c.KeyID != keyID(pub) {
		return fmt.Errorf("checkpoint at size %d is signed by key %s, not by %s", c.Size, c.KeyID, keyID(pub))
	}
	if !ed25519.Verify(pub, signed(c), c.Signature) {
		return fmt.Errorf("checkpoint at size %d: the signature does not match", c.Size)
	}
	return nil
}

// CheckpointLine is a checkpoint as one JSON line, for a second location.
func CheckpointLine(c *tresor.AuditCheckpoint) []byte {
	out := *c
	out.Range = nil // the range is for the database; the line proves size, root and chain
	b, err := json.Marshal(&out)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// ReadCheckpointLines reads a file of checkpoint lines; a missing file has none.
func ReadCheckpointLines(path string) ([]tresor.AuditCheckpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []tresor.AuditCheckpoint
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var c tresor.AuditCheckpoint
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			if i == len(lines)-1 {
				continue // torn by a crash while appending
			}
			return nil, fmt.Errorf("%s, line %d: %w", path, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}
