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

const sortCursorPrefix = "s1:"

// EncodeSortCursor makes the opaque cursor of a sorted list that continues
// after the object with id, whose sort key is key.
func EncodeSortCursor(sort, key, id string) string {
	if id == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(sortCursorPrefix + sort + "\x00" + key + "\x00" + id))
}

// DecodeDealCursor returns the sort key and the id a cursor of a list of
// deals sorted by sort continues after, or ECInvalidCursor (also for a
// cursor of a list in another order).
func DecodeDealCursor(sort, cursor string) (key, id string, err error) {
	if cursor == "" {
		return "", "", nil
	}
	bad := Errorf(ECInvalidCursor, "The cursor is not one Tresor issued for this order; start again without a cursor.")
	if sort == "" {
		id, err := DecodeCursor(cursor)
		if err != nil {
			return "", "", bad
		}
		return "", id, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", "", bad
	}
	rest, ok := strings.CutPrefix(string(b), sortCursorPrefix+sort+"\x00")
	i := strings.LastIndexByte(rest, 0)
	if !ok || i < 0 {
		return "", "", bad
	}
	key, id = rest[:i], rest[i+1:]
	if !ValidID(id) || !validSortKey(sort, key) {
		return "", "", bad
	}
	return key, id, nil
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
