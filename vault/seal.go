package vault

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"tresor"
)

// DataKey is one subject's unwrapped data key with its cipher, built once and
// used for every field of every record of the subject.
type DataKey struct {
	Subject string
	Version int
	raw     []byte
	aead    cipher.AEAD
}

// NewDataKey returns a fresh data key for a subject.
func NewDataKey(subject string) *DataKey {
	dk, err := dataKey(subject, 1, RandomKey())
	if err != nil {
		panic(err) // a fresh key of the right size always builds
	}
	return dk
}

func dataKey(subject string, version int, raw []byte) (*DataKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("the data key of %s: %w", subject, ErrDamaged)
	}
	a, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &DataKey{Subject: subject, Version: version, raw: raw, aead: a}, nil
}

// Destroy overwrites the key's bytes. The cipher built from it is dropped
// with the DataKey; Go cannot promise that no copy stays in memory.
func (dk *DataKey) Destroy() {
	clear(dk.raw)
	dk.aead = nil
}

// FormatSealed marks a blob of fields sealed by a data key.
const FormatSealed byte = 2

// fieldAAD binds a sealed field to its kind of record, the record, the field
// and the data key's version: a ciphertext moved to another record or field,
// or left from an older key, does not open.
func fieldAAD(buf []byte, kind, record, field string, version int) []byte {
	buf = append(buf[:0], "tresor/field\x00"...)
	buf = append(buf, kind...)
	buf = append(buf, 0)
	buf = append(buf, record...)
	buf = append(buf, 0)
	buf = append(buf, field...)
	buf = append(buf, 0)
	return binary.BigEndian.AppendUint32(buf, uint32(version))
}

// sealedField is one personal field of a type, prepared once per type.
type sealedField struct {
	tresor.PersonalField
	str bool // a string: sealed as its bytes, not as JSON
}

var typeCache sync.Map // reflect.Type -> []sealedField

func fieldsOf(t reflect.Type) []sealedField {
	if v, ok := typeCache.Load(t); ok {
		return v.([]sealedField)
	}
	var out []sealedField
	for _, f := range tresor.PersonalFields(t) {
		out = append(out, sealedField{PersonalField: f, str: t.FieldByIndex(f.Index).Type.Kind() == reflect.String})
	}
	typeCache.Store(t, out)
	return out
}

func isEmpty(x reflect.Value) bool {
	switch x.Kind() {
	case reflect.Slice, reflect.Map:
		return x.Len() == 0
	}
	return x.IsZero()
}

// Seal encrypts every non-empty personal field of v (a pointer to a struct
// whose fields declare their categories) for the record of the kind. Each
// field gets its own fresh nonce and its own associated data.
func (dk *DataKey) Seal(kind, record string, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("vault: seal needs a pointer to a struct, not %T", v)
	}
	rv = rv.Elem()
	fields := fieldsOf(rv.Type())
	type plain struct {
		f sealedField
		b []byte
	}
	plains := make([]plain, 0, len(fields))
	size := 1 + binary.MaxVarintLen32
	for _, f := range fields {
		x := rv.FieldByIndex(f.Index)
		if isEmpty(x) {
			continue
		}
		var b []byte
		if f.str {
			b = []byte(x.String())
		} else {
			var err error
			if b, err = json.Marshal(x.Interface()); err != nil {
				return nil, fmt.Errorf("vault: seal %s: %w", f.Name, err)
			}
		}
		plains = append(plains, plain{f, b})
		size += 2*binary.MaxVarintLen32 + len(f.Name) + nonceSize + len(b) + dk.aead.Overhead()
	}
	nonces := make([]byte, nonceSize*len(plains))
	if _, err := rand.Read(nonces); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	out = append(out, FormatSealed)
	out = binary.AppendUvarint(out, uint64(dk.Version))
	var aad []byte
	for i, p := range plains {
		nonce := nonces[i*nonceSize : (i+1)*nonceSize]
		out = binary.AppendUvarint(out, uint64(len(p.f.Name)))
		out = append(out, p.f.Name...)
		out = append(out, nonce...)
		out = binary.AppendUvarint(out, uint64(len(p.b)+dk.aead.Overhead()))
		aad = fieldAAD(aad, kind, record, p.f.Name, dk.Version)
		out = dk.aead.Seal(out, nonce, p.b, aad)
	}
	return out, nil
}

// Open decrypts the fields of a sealed blob into v (a pointer to the struct
// Seal was given). Fields whose category allow refuses are not decrypted at
// all; allow nil opens every field. A changed byte anywhere fails with
// ErrDamaged and leaves no field of the record half-open.
func (dk *DataKey) Open(kind, record string, blob []byte, v any, allow func(tresor.Category) bool) error {
	rv := reflect.ValueOf(v).Elem()
	fields := fieldsOf(rv.Type())
	var aad []byte
	type opened struct {
		f *sealedField
		b []byte
	}
	var done []opened
	err := walk(blob, func(name string, nonce, ct []byte, version int) error {
		if version != dk.Version {
			return ErrDamaged
		}
		var f *sealedField
		for i := range fields {
			if fields[i].Name == name {
				f = &fields[i]
				break
			}
		}
		if f == nil || (allow != nil && !allow(f.Category)) {
			return nil // a field this version no longer has, or one the caller may not see
		}
		aad = fieldAAD(aad, kind, record, name, dk.Version)
		b, err := dk.aead.Open(nil, nonce, ct, aad)
		if err != nil {
			return ErrDamaged
		}
		done = append(done, opened{f, b})
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range done {
		x := rv.FieldByIndex(o.f.Index)
		if o.f.str {
			x.SetString(string(o.b))
			continue
		}
		if err := json.Unmarshal(o.b, x.Addr().Interface()); err != nil {
			return fmt.Errorf("vault: open %s: %w", o.f.Name, ErrDamaged)
		}
	}
	return nil
}

// SealValue encrypts one value that is not a struct field (an address that
// confirmed a consent, a second-factor secret).
func (dk *DataKey) SealValue(kind, record, field string, b []byte) []byte {
	return seal(dk.aead, b, fieldAAD(nil, kind, record, field, dk.Version))
}

// OpenValue reverses SealValue.
func (dk *DataKey) OpenValue(kind, record, field string, b []byte) ([]byte, error) {
	return open(dk.aead, b, fieldAAD(nil, kind, record, field, dk.Version))
}

// walk visits the fields of a sealed blob without decrypting them.
func walk(blob []byte, fn func(name string, nonce, ct []byte, version int) error) error {
	if len(blob) == 0 || blob[0] != FormatSealed {
		return fmt.Errorf("vault: not a sealed blob: %w", ErrDamaged)
	}
	b := blob[1:]
	version, n := binary.Uvarint(b)
	if n <= 0 || version > 1<<31 {
		return ErrDamaged
	}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return ErrDamaged
		}
		name := string(b[n : n+int(l)])
		b = b[n+int(l):]
		if len(b) < nonceSize {
			return ErrDamaged
		}
		nonce := b[:nonceSize]
		b = b[nonceSize:]
		l, n = binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return ErrDamaged
		}
		ct := b[n : n+int(l)]
		b = b[n+int(l):]
		if err := fn(name, nonce, ct, int(version)); err != nil {
			return err
		}
	}
	return nil
}

// SealedFields lists the names of the fields a sealed blob holds, without a key.
func SealedFields(blob []byte) ([]string, error) {
	var out []string
	err := walk(blob, func(name string, _, _ []byte, _ int) error {
		out = append(out, name)
		return nil
	})
	return out, err
}

// Strip returns the blob without the fields drop names. It needs no key:
// retention removes categories of data this way without decrypting the rest.
func Strip(blob []byte, drop func(field string) bool) ([]byte, error) {
	if len(blob) == 0 || blob[0] != FormatSealed {
		return nil, fmt.Errorf("vault: not a sealed blob: %w", ErrDamaged)
	}
	version, n := binary.Uvarint(blob[1:])
	if n <= 0 {
		return nil, ErrDamaged
	}
	out := append([]byte{FormatSealed}, binary.AppendUvarint(nil, version)...)
	err := walk(blob, func(name string, nonce, ct []byte, _ int) error {
		if drop(name) {
			return nil
		}
		out = binary.AppendUvarint(out, uint64(len(name)))
		out = append(out, name...)
		out = append(out, nonce...)
		out = binary.AppendUvarint(out, uint64(len(ct)))
		out = append(out, ct...)
		return nil
	})
	return out, err
}
