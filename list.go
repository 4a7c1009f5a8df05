package tresor

import (
	"encoding/base64"
	"strings"
)

// Page limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page is keyset pagination: the items after the object with id After, at most Limit of them.
type Page struct {
	After string
	Limit int
}

// List is one page of objects and the cursor of the next page ("" on the last).
type List[T any] struct {
	Items []T
	Next  string
}

const cursorPrefix = "c1:"

// EncodeCursor makes the opaque cursor that continues after the object with id.
func EncodeCursor(id string) string {
	if id == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id))
}

// DecodeCursor returns the id a cursor continues after, or ECInvalidCursor.
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return "", Errorf(ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
	}
	id := strings.TrimPrefix(string(b), cursorPrefix)
	if !ValidID(id) && !slug.MatchString(id) {
		return "", Errorf(ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
	}
	return id, nil
}

// Normalize applies the default and maximum page size.
func (p *Page) Normalize() error {
	if p.Limit == 0 {
		p.Limit = DefaultPageSize
	}
	if p.Limit < 1 || p.Limit > MaxPageSize {
		return Errorf(ECInvalidParameter, "limit must be between 1 and %d.", MaxPageSize)
	}
	if p.After != "" && !ValidID(p.After) && !slug.MatchString(p.After) {
		return Errorf(ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
	}
	return nil
}

func lower(s string) string { return strings.ToLower(s) }
