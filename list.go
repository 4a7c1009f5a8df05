package tresor

import (
	"encoding/base64"
	"strconv"
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
	// Total is the number of all matches, when Counted (a search counts).
	Total   int
	Counted bool
}

// offsetPrefix marks a cursor that continues a search at a position.
const offsetPrefix = "offset-"

// OffsetCursor makes the opaque cursor that continues a search at the hit
// numbered n (from 0).
func OffsetCursor(n int) string { return EncodeCursor(offsetPrefix + strconv.Itoa(n)) }

// OffsetOf returns where a search continues: 0 without a cursor, the
// position of an OffsetCursor, and an error for a list's cursor.
func OffsetOf(p Page) (int, error) {
	if p.After == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(p.After, offsetPrefix))
	if !strings.HasPrefix(p.After, offsetPrefix) || err != nil || n < 0 || n > maxOffset {
		return 0, Errorf(ECInvalidCursor, "The cursor is not one this search issued; start again without a cursor.")
	}
	return n, nil
}

// maxOffset bounds how far a search pages: nobody reads past the
// ten-thousandth hit; a narrower search finds it faster.
const maxOffset = 10000

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

// DecodeDealCursor reads a cursor of a list of deals: the order it was
// issued for, the sort key and the id it continues after. A cursor carries
// its order, so sort may be left "" to follow it; a cursor of another order
// than a sort that is given, or one Tresor did not issue, is ECInvalidCursor.
func DecodeDealCursor(sort, cursor string) (order, key, id string, err error) {
	if cursor == "" {
		return sort, "", "", nil
	}
	bad := Errorf(ECInvalidCursor, "The cursor is not one Tresor issued for this order; start again without a cursor.")
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", "", "", bad
	}
	rest, sorted := strings.CutPrefix(string(b), sortCursorPrefix)
	if !sorted {
		id, err := DecodeCursor(cursor)
		if err != nil || sort != "" {
			return "", "", "", bad
		}
		return "", "", id, nil
	}
	order, rest, _ = strings.Cut(rest, "\x00")
	i := strings.LastIndexByte(rest, 0)
	if order == "" || !ValidDealSort(order) || (sort != "" && sort != order) || i < 0 {
		return "", "", "", bad
	}
	key, id = rest[:i], rest[i+1:]
	if !ValidID(id) || !validSortKey(order, key) {
		return "", "", "", bad
	}
	return order, key, id, nil
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
