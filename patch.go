package tresor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Update is a change to a stored object: a JSON merge patch (RFC 7396) and,
// optionally, the version the caller last saw (If-Match); 0 means any version.
type Update struct {
	Patch     json.RawMessage
	IfVersion int64
}

// DecodeJSON decodes exactly one JSON value from r into v, refusing unknown
// fields and trailing data, and translates decoding failures into *Error with
// ECMalformedJSON or ECUnknownField.
func DecodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return Errorf(ECMalformedJSON, "The body holds more than one JSON value.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(ECMalformedJSON, "The body holds data after the JSON value.")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxBytes interface{ MaxBytesLimit() int64 }
	switch {
	case errors.As(err, &maxBytes):
		return err
	case errors.Is(err, io.EOF):
		return Errorf(ECMalformedJSON, "The body is empty; a JSON object is expected.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(ECMalformedJSON, "The JSON body ends too early.")
	case errors.As(err, &syn):
		return Errorf(ECMalformedJSON, "The body is not valid JSON (at byte %d).", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return Errorf(ECMalformedJSON, "The body must be a JSON %s, not %s.", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return &Error{Code: ECValidation, Message: fmt.Sprintf("The field %s must be %s, not %s.", typ.Field, jsonKind(typ.Type.String()), typ.Value),
			Fields: []FieldError{{Field: typ.Field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.String()), typ.Value)}}}
	}
	// encoding/json reports unknown fields only as text; this is the one place that reads it.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &Error{Code: ECUnknownField, Message: fmt.Sprintf("The field %s does not exist here.", name),
			Fields: []FieldError{{Field: strings.Trim(name, `"`), Message: "unknown field"}}}
	}
	if errors.As(err, new(*Error)) {
		return err
	}
	return &Error{Code: ECMalformedJSON, Message: "The body is not JSON of the expected shape.", Err: err}
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "string") || goType == "tresor.Date":
		return "a string"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "time.Time":
		return "a time in RFC 3339 form"
	}
	return "an object"
}

// ApplyPatch applies a JSON merge patch (RFC 7396) to v, a pointer to a domain
// object. The fields in readOnly may appear in the patch only with their
// current value. The result is decoded strictly: unknown fields are refused.
func ApplyPatch(v any, patch json.RawMessage, readOnly ...string) error {
	var p any
	if err := DecodeJSON(bytes.NewReader(patch), &p); err != nil {
		return err
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return Errorf(ECMalformedJSON, "A merge patch is a JSON object.")
	}
	cur, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("apply patch: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(cur, &doc); err != nil {
		return fmt.Errorf("apply patch: %w", err)
	}
	var probs Problems
	for _, f := range readOnly {
		pv, inPatch := pm[f]
		if !inPatch {
			continue
		}
		a, _ := json.Marshal(pv)
		b, _ := json.Marshal(doc[f])
		if !bytes.Equal(a, b) {
			probs.Add(f, "is set by Tresor and cannot be changed")
		}
		delete(pm, f)
	}
	if err := probs.Err("change"); err != nil {
		return err
	}
	merged, err := json.Marshal(mergePatch(doc, pm))
	if err != nil {
		return fmt.Errorf("apply patch: %w", err)
	}
	// Decode into a zero value: keys the patch removed must not keep their old value.
	reflect.ValueOf(v).Elem().SetZero()
	return DecodeJSON(bytes.NewReader(merged), v)
}

func mergePatch(target any, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, pv := range pm {
		if pv == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], pv)
	}
	return tm
}
