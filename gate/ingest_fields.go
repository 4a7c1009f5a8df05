package gate

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"tresor"
)

// A person imported needs a name or an identifier, and their name as the
// file gives it: a name that is not valid text makes the row malformed.
// Every other field is optional: one that is not valid is dropped, with
// its reason in the report, and the person is stored with the rest. A
// malformed value is never stored.

// importInvalid are the reasons an optional field is dropped for, by the
// field's path (its first part) in a validation error, with their
// explanations.
var importInvalid = map[string]struct{ reason, why string }{
	"postal_address.country": {"invalid:postal_country", "postal address dropped: unknown country"},
	"postal_address":         {"invalid:postal_address", "postal address dropped: incomplete or not valid"},
	"phones":                 {"invalid:phone", "phone number dropped: not a valid number"},
	"emails":                 {"invalid:email", "e-mail address dropped: not valid or listed twice"},
	"social_handles":         {"invalid:handle", "social handle dropped: not valid"},
	"organization":           {"invalid:organization", "organisation dropped: not valid text"},
	"position":               {"invalid:position", "position dropped: not valid text"},
	"preferred_language":     {"invalid:language", "preferred language dropped: not a language tag"},
}

// validate validates the contact of a row (normalising its identifiers
// in place), dropping the optional fields that are not valid. It returns
// the error of what cannot be dropped.
func (in *ingest) validate(row int, c *tresor.Contact) error {
	d := &c.ContactDetails
	for {
		dropped := 0
		d.Emails, d.Phones, d.SocialHandles = nonNil(d.Emails), nonNil(d.Phones), nonNil(d.SocialHandles)
		err := c.Validate()
		e := tresor.AsError(err)
		if err == nil || e == nil || len(e.Fields) == 0 {
			return err
		}
		drops := map[string]map[int]bool{} // list or field → the items to drop (-1: all)
		for _, f := range e.Fields {
			field, index := importFieldPath(f.Field)
			if _, ok := importInvalid[field]; !ok {
				return err // a required field: the row is malformed
			}
			if drops[field] == nil {
				drops[field] = map[int]bool{}
			}
			drops[field][index] = true
		}
		if drops["postal_address.country"] != nil {
			delete(drops, "postal_address") // one reason for the address: its country
		}
		for _, field := range slices.Sorted(maps.Keys(drops)) {
			items := drops[field]
			n := 1
			switch field {
			case "postal_address", "postal_address.country":
				d.PostalAddress = nil
			case "phones":
				d.Phones, n = dropItems(d.Phones, items)
			case "emails":
				d.Emails, n = dropItems(d.Emails, items)
			case "social_handles":
				d.SocialHandles, n = dropItems(d.SocialHandles, items)
			case "organization":
				d.Organization = ""
			case "position":
				d.Position = ""
			case "preferred_language":
				d.PreferredLanguage = ""
			}
			x := importInvalid[field]
			for range n {
				in.drop(row, x.reason, x.why)
			}
			dropped += n
		}
		if dropped == 0 {
			return err // nothing left to drop: cannot happen, but never loop
		}
	}
}

// importFieldPath splits a field path of a validation error into the
// field the import drops and the index of a list's item (-1 for the
// whole field): "phones[2]" is phones, 2; "social_handles[0].network" is
// social_handles, 0; "postal_address.city" is postal_address, -1, but
// "postal_address.country" is its own.
func importFieldPath(path string) (string, int) {
	if path == "postal_address.country" {
		return path, -1
	}
	head, _, _ := strings.Cut(path, ".")
	name, rest, ok := strings.Cut(head, "[")
	if !ok {
		return name, -1
	}
	i, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil || i < 0 {
		return name, -1
	}
	return name, i
}

// dropItems removes the items at the indexes (all with -1) and returns
// what is left and how many went.
func dropItems[T any](list []T, items map[int]bool) ([]T, int) {
	if items[-1] {
		return []T{}, len(list)
	}
	out := make([]T, 0, len(list))
	for i, v := range list {
		if !items[i] {
			out = append(out, v)
		}
	}
	return out, len(list) - len(out)
}
