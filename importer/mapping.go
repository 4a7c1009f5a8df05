package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Mapping says which column of a generic CSV file holds which field.
//
// Columns maps a field name to the name of a column in the file's header
// (compared without regard to case and surrounding spaces). The field names
// are:
//
//	given_name, family_name, organization, position, profile_url,
//	birthday, notes, street, postal_code, city, region, country,
//	email, phone       — also email:<anything>, phone:<anything> for more
//	                     columns of e-mail addresses or phone numbers
//	handle:<network>   — a social handle, e.g. handle:mastodon, handle:bluesky
//
// A cell of an email, phone or handle column may hold several values
// separated by ":::" (as Google Contacts writes them). Columns the mapping
// does not name are not read.
type Mapping struct {
	Columns map[string]string `json:"columns"`
}

// mappingFields are the field names of a Mapping, in the order they are read.
var mappingFields = []string{
	"given_name", "family_name", "email", "phone", "organization", "position",
	"profile_url", "birthday", "notes", "street", "postal_code", "city", "region", "country",
}

// maxMappingBytes bounds the size of a mapping file.
const maxMappingBytes = 64 << 10

// ParseMapping reads a mapping from a small JSON file of this form:
//
//	{"columns": {
//	    "given_name": "Vorname",
//	    "family_name": "Nachname",
//	    "email": "E-Mail",
//	    "email:work": "E-Mail (geschäftlich)",
//	    "handle:mastodon": "Mastodon",
//	    "city": "Ort"
//	}}
//
// Unknown field names and unknown keys are errors, so that a typo does not
// silently drop a column.
func ParseMapping(r io.Reader) (*Mapping, error) {
	lr := &io.LimitedReader{R: r, N: maxMappingBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("importer: the mapping is larger than %d KiB", maxMappingBytes>>10)
		}
		return nil, fmt.Errorf("importer: mapping: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("importer: mapping: more than one JSON value")
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// check validates the field names and column names.
func (m *Mapping) check() error {
	if len(m.Columns) == 0 {
		return errors.New("importer: the mapping maps no columns")
	}
	for field, column := range m.Columns {
		if strings.TrimSpace(column) == "" {
			return fmt.Errorf("importer: the mapping gives no column for %q", field)
		}
		kind, sub, hasSub := strings.Cut(field, ":")
		switch {
		case !hasSub && slices.Contains(mappingFields, field):
		case hasSub && (kind == "email" || kind == "phone") && sub != "":
		case hasSub && kind == "handle" && validNetwork(sub):
		default:
			return fmt.Errorf("importer: the mapping has an unknown field %q", field)
		}
	}
	return nil
}

// validNetwork reports whether s can name a network in "handle:<network>".
func validNetwork(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(strings.ToLower(s)) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// fields returns the mapped field names in a fixed order: the plain fields in
// the order of mappingFields, then the others sorted.
func (m *Mapping) fields() []string {
	var plain, other []string
	for field := range m.Columns {
		if slices.Contains(mappingFields, field) {
			plain = append(plain, field)
		} else {
			other = append(other, field)
		}
	}
	slices.SortFunc(plain, func(a, b string) int {
		return slices.Index(mappingFields, a) - slices.Index(mappingFields, b)
	})
	slices.Sort(other)
	return append(plain, other...)
}
