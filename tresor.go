// Package tresor holds the domain of Tresor, the privacy-by-design social CRM:
// its objects, their validation, the data category of every personal field,
// the errors every layer speaks, and the interfaces the layers meet at.
//
// It imports nothing of Tresor's own and nothing outside the standard library,
// so every other package can depend on it and it depends on none of them.
package tresor

import "time"

// Version is the release of this build; the linker may overwrite it.
var Version = "0.1.0-dev"

// Truncate rounds t to the precision both storage backends keep (microseconds, UTC),
// so a value read back compares equal to the value written.
func Truncate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Meta is what every stored object has: an id, its creation and last change,
// and a version that grows by one with every change (for If-Match).
type Meta struct {
	ID        string    `json:"id" category:"none"`
	CreatedAt time.Time `json:"created_at" category:"none"`
	UpdatedAt time.Time `json:"updated_at" category:"none"`
	Version   int64     `json:"version" category:"none"`
}

// Archive is embedded by the records that are archived with their customer
// relation: contacts, interactions, cases and deals.
type Archive struct {
	// ArchivedAt: the customer relation was closed; the record is read-only
	// and seen only under the data-protection purpose until retention ends.
	ArchivedAt *time.Time `json:"archived_at,omitempty" category:"none"`
}

// Archived returns when the record was archived, or nil.
func (a *Archive) Archived() *time.Time { return a.ArchivedAt }

// Integrity is embedded by the records with sealed fields.
type Integrity struct {
	// Damaged: the record's sealed fields did not decrypt (changed bytes or a
	// destroyed key); only its plain fields are shown.
	Damaged bool `json:"damaged,omitempty" category:"none"`
}

// IsDamaged reports whether the record's sealed fields did not decrypt.
func (i *Integrity) IsDamaged() bool { return i.Damaged }

// Base returns the object's Meta; every domain object has it by embedding.
func (m *Meta) Base() *Meta { return m }

// MetaFields are the JSON names of Meta, set by Tresor and never by a client.
var MetaFields = []string{"id", "created_at", "updated_at", "version"}

// StateFields are the JSON names of Archive and Integrity: set by Tresor on
// the records that embed them, never by a client.
var StateFields = []string{"archived_at", "damaged"}
