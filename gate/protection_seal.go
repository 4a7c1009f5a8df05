package gate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"tresor"
	"tresor/policy"
	"tresor/vault"
)

// sealFormatJSON marks a blob written before protection at rest: the
// personal fields as JSON. It is still read; the "seal" maintenance task
// seals such rows with data keys.
const sealFormatJSON byte = 1

// newKey makes a data key for a subject and wraps it under the current KEK.
func (g *Gate) newKey(subject string) (*vault.DataKey, *tresor.WrappedKey, error) {
	dk := vault.NewDataKey(subject)
	w, err := g.keys.KEK.Wrap(dk)
	if err != nil {
		return nil, nil, err
	}
	return dk, &w, nil
}

// unwrap opens a wrapped data key.
func (g *Gate) unwrap(ctx context.Context, w *tresor.WrappedKey) (*vault.DataKey, error) {
	dk, err := g.keys.KEK.Unwrap(ctx, *w)
	if err != nil {
		if errors.Is(err, vault.ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	return dk, nil
}

// sealer seals the records of one subject under its data key, reusing the
// row's key when it has one and making a new one otherwise.
type sealer struct {
	dk  *vault.DataKey
	key *tresor.WrappedKey
	new bool
}

// sealerFor returns the sealer for a subject: the key already stored with
// the row (have), the stored key of the subject, or a new key.
func (g *Gate) sealerFor(ctx context.Context, tx tresor.ProtectionReader, subject string, have *tresor.WrappedKey) (*sealer, error) {
	if have != nil && have.Subject == subject {
		dk, err := g.unwrap(ctx, have)
		if err != nil {
			return nil, err
		}
		return &sealer{dk: dk, key: have}, nil
	}
	stored, err := tx.DataKey(ctx, subject)
	if err == nil {
		dk, err := g.unwrap(ctx, stored)
		if err != nil {
			return nil, err
		}
		return &sealer{dk: dk, key: stored}, nil
	}
	if tresor.ErrorCode(err) != tresor.ECNotFound {
		return nil, err
	}
	dk, w, err := g.newKey(subject)
	if err != nil {
		return nil, err
	}
	return &sealer{dk: dk, key: w, new: true}, nil
}

func (s *sealer) seal(kind, id string, v any) ([]byte, tresor.Sealing, error) {
	b, err := s.dk.Seal(kind, id, v)
	return b, tresor.Sealing{Key: s.key, KeyIsNew: s.new}, err
}

// openRecord decrypts a row's sealed fields into v, skipping the fields whose
// category allow refuses (nil opens all), and returns the categories of the
// fields it skipped. A record that does not open is ECDamaged.
func (g *Gate) openRecord(ctx context.Context, kind, id string, key *tresor.WrappedKey, blob []byte, v any,
	allow func(tresor.Category) bool) ([]tresor.Category, error) {
	switch {
	case len(blob) == 0:
		return nil, nil // anonymised: the content is gone
	case blob[0] == sealFormatJSON:
		if err := json.Unmarshal(blob[1:], v); err != nil {
			return nil, damaged(kind, id, err)
		}
		return nil, nil
	case blob[0] != vault.FormatSealed:
		return nil, damaged(kind, id, errors.New("unknown seal format"))
	case key == nil:
		return nil, damaged(kind, id, errors.New("its data key is gone"))
	}
	dk, err := g.unwrap(ctx, key)
	if err != nil {
		return nil, damaged(kind, id, err)
	}
	defer dk.Destroy()
	var skipped []tresor.Category
	if allow != nil {
		names, _ := vault.SealedFields(blob)
		for _, f := range personalFields(v) {
			if !allow(f.Category) && slices.Contains(names, f.Name) {
				skipped = appendCategory(skipped, f.Category)
			}
		}
	}
	if err := dk.Open(kind, id, blob, v, allow); err != nil {
		return nil, damaged(kind, id, err)
	}
	return skipped, nil
}

func appendCategory(cats []tresor.Category, c tresor.Category) []tresor.Category {
	if slices.Contains(cats, c) {
		return cats
	}
	return append(cats, c)
}

// mergeCategories returns the union of two category lists in taxonomy order.
func mergeCategories(a, b []tresor.Category) []tresor.Category {
	if len(a) == 0 {
		return b
	}
	var out []tresor.Category
	for _, c := range tresor.Categories() {
		if slices.Contains(a, c) || slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}

// damaged is the error of a record whose sealed fields do not open. Its
// message names the record, never its content.
func damaged(kind, id string, cause error) error {
	e := tresor.AsError(policy.Refuse(policy.RDamaged, kind, id))
	e.Err = cause
	return e
}

// sealedPrefix marks a single value sealed by sealValue in a text column.
const sealedPrefix = "s2:"

// sealValue seals one value that lives in a text column (a confirming IP
// address, a second-factor secret) under a subject's data key.
func sealValue(dk *vault.DataKey, kind, id, field, value string) string {
	if value == "" {
		return ""
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(dk.SealValue(kind, id, field, []byte(value)))
}

// openValue reverses sealValue; a value without the prefix was stored before
// protection at rest and is returned as it is.
func openValue(dk *vault.DataKey, kind, id, field, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if dk == nil {
		return "", damaged(kind, id, errors.New("its data key is gone"))
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", damaged(kind, id, err)
	}
	plain, err := dk.OpenValue(kind, id, field, b)
	if err != nil {
		return "", damaged(kind, id, err)
	}
	return string(plain), nil
}
