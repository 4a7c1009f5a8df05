package tresor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// LegalBasis is the GDPR Art. 6(1) ground on which personal data is processed.
type LegalBasis string

// The legal bases of DESIGN §3.
const (
	BasisConsent            LegalBasis = "consent"             // Art. 6(1)(a)
	BasisContract           LegalBasis = "contract"            // Art. 6(1)(b)
	BasisLegalObligation    LegalBasis = "legal_obligation"    // Art. 6(1)(c)
	BasisLegitimateInterest LegalBasis = "legitimate_interest" // Art. 6(1)(f), needs a balancing note
)

// LegalBases lists every legal basis.
func LegalBases() []LegalBasis {
	return []LegalBasis{BasisConsent, BasisContract, BasisLegalObligation, BasisLegitimateInterest}
}

// Source says how a datum came into Tresor.
type Source string

// The sources of data.
const (
	SourceManual    Source = "manual"    // typed in by a user, or sent through the API
	SourceWebForm   Source = "web_form"  // the person filled in a form
	SourceImport    Source = "import"    // a file import
	SourceConnector Source = "connector" // a social network connector
	// SourceThirdParty: typed in by a user, but told by someone other than
	// the person (a colleague, a partner, a register): an Art. 14 notice is due.
	SourceThirdParty Source = "third_party"
)

// Sources lists every source.
func Sources() []Source {
	return []Source{SourceManual, SourceWebForm, SourceImport, SourceConnector, SourceThirdParty}
}

// Contact is a natural person the company is in touch with.
type Contact struct {
	Meta
	OwnerID        string `json:"owner_id,omitempty" category:"none"`
	OrganizationID string `json:"organization_id,omitempty" category:"none"`
	Archive
	Integrity
	ContactDetails
	// Collection says how the personal fields of this write were collected;
	// when read, it repeats the latest provenance record.
	Collection
	// Provenance says, field by field, where the data came from (R8); set by Tresor.
	Provenance Provenance `json:"provenance,omitzero" category:"none"`
	// RestrictedAt: processing is restricted (Art. 18 GDPR); only the DPO sees the contact.
	RestrictedAt *time.Time `json:"restricted_at,omitempty" category:"none"`
	// ObjectedAt: the person objected to marketing (Art. 21 GDPR).
	ObjectedAt *time.Time `json:"objected_at,omitempty" category:"none"`
	// LastInteractionAt is the time of the latest interaction with the person;
	// consent lapses and retention counts from it.
	LastInteractionAt *time.Time `json:"last_interaction_at,omitempty" category:"none"`
	// Withheld names the categories the declared purpose may not see; their
	// fields are empty in this copy.
	Withheld []Category `json:"withheld,omitempty" category:"none"`
	// Tags are the contact's tags (business data), in their display form.
	Tags []string `json:"tags,omitempty" category:"none"`
}

// ContactDetails are the personal fields of a contact. Every field declares its
// data category here, once; the gate seals, withholds and audits by these tags.
type ContactDetails struct {
	GivenName         string         `json:"given_name" category:"contact.name"`
	FamilyName        string         `json:"family_name" category:"contact.name"`
	Emails            []string       `json:"emails" category:"contact.email"`
	Phones            []string       `json:"phones" category:"contact.phone"`
	PostalAddress     *PostalAddress `json:"postal_address,omitempty" category:"contact.postal"`
	SocialHandles     []SocialHandle `json:"social_handles" category:"social.handle"`
	Organization      string         `json:"organization" category:"professional.employer"`
	Position          string         `json:"position" category:"professional.position"`
	PreferredLanguage string         `json:"preferred_language" category:"contact.language"`
}

// Visibility is who could see a datum where it was collected on a social network.
type Visibility string

// The visibilities. Only public data may be imported (R9).
const (
	VisibilityPublic      Visibility = "public"
	VisibilityConnections Visibility = "connections" // after a contact or friend request
	VisibilityFollowers   Visibility = "followers"
	VisibilityPrivate     Visibility = "private"
)

// Visibilities lists every visibility.
func Visibilities() []Visibility {
	return []Visibility{VisibilityPublic, VisibilityConnections, VisibilityFollowers, VisibilityPrivate}
}

// Collection is how personal data was collected: the legal basis (with the
// balancing note legitimate interest needs), the source and, for imports and
// social networks, the import, network and visibility.
type Collection struct {
	LegalBasis    LegalBasis `json:"legal_basis,omitempty" category:"none"`
	BalancingNote string     `json:"balancing_note,omitempty" category:"none"`
	Source        Source     `json:"source,omitempty" category:"none"`
	ImportID      string     `json:"import_id,omitempty" category:"none"`
	Network       string     `json:"source_network,omitempty" category:"none"`
	Visibility    Visibility `json:"visibility,omitempty" category:"none"`
	// Art9Exception confirms, for text that reveals a special category
	// (Art. 9 GDPR), the letter of the Art. 9(2) exception the purpose
	// names; without it such text is refused.
	Art9Exception string `json:"art9_exception,omitempty" category:"none"`
}

// ProvenanceRecord is the provenance of some fields of a record: how and for
// which purpose they were collected, when and by whom.
type ProvenanceRecord struct {
	Fields []string `json:"fields"`
	Collection
	Purpose     string    `json:"purpose"`
	CollectedAt time.Time `json:"collected_at"`
	CollectedBy string    `json:"collected_by"` // an actor, never a name
}

// validate checks the collection's own fields; the legal basis is the
// privacy engine's to judge (an unknown one is a 400 that lists the bases).
func (c *Collection) validate(p *Problems) {
	checkOneOf(p, "source", c.Source, Sources(), false)
	checkText(p, "balancing_note", c.BalancingNote, 4000, false, true)
	checkText(p, "import_id", c.ImportID, 100, false, false)
	if c.Network != "" && !ValidNetwork(c.Network) {
		p.Add("source_network", "%q is not a network id such as mastodon or linkedin", c.Network)
	}
	checkOneOf(p, "visibility", c.Visibility, Visibilities(), false)
	if e := c.Art9Exception; e != "" && (len(e) != 1 || e[0] < 'a' || e[0] > 'j') {
		p.Add("art9_exception", "%q is not a letter of Art. 9(2) GDPR (a to j)", e)
	}
}

// Record returns the provenance of fields collected now.
func (c Collection) Record(fields []string, purpose string, at time.Time, by string) ProvenanceRecord {
	return ProvenanceRecord{Fields: fields, Collection: c, Purpose: purpose, CollectedAt: at, CollectedBy: by}
}

// Provenance is the provenance of a record's fields, as a list of records.
// It keeps the JSON the store holds and decodes it only when asked, so reads
// pass it to the caller without decoding it.
type Provenance struct {
	raw     []byte
	records []ProvenanceRecord
	decoded bool // records holds the list (decoded from raw, or set)
}

// NewProvenance returns provenance of the records.
func NewProvenance(records []ProvenanceRecord) Provenance {
	return Provenance{records: records, decoded: true}
}

// ProvenanceJSON returns provenance held as JSON (from the store).
func ProvenanceJSON(raw []byte) Provenance { return Provenance{raw: raw} }

// Records decodes the list.
func (p Provenance) Records() ([]ProvenanceRecord, error) {
	if p.decoded || len(p.raw) == 0 {
		return p.records, nil
	}
	decoded.Lock()
	cached, ok := decoded.m[string(p.raw)]
	decoded.Unlock()
	if !ok {
		if err := json.Unmarshal(p.raw, &cached); err != nil {
			return nil, fmt.Errorf("provenance: %w", err)
		}
		decoded.Lock()
		if len(decoded.m) >= decodedMax {
			clear(decoded.m)
		}
		decoded.m[string(p.raw)] = cached
		decoded.Unlock()
	}
	// A copy: the caller may change what it gets.
	out := slices.Clone(cached)
	for i := range out {
		out[i].Fields = slices.Clone(out[i].Fields)
	}
	return out, nil
}

// decoded remembers the lists of the provenance most recently decoded, by
// their JSON: the people of one import, or of one form, share the same
// provenance, and a list page decodes it for each of them. Provenance holds
// no personal data (who collected is an actor id), so keeping it is safe.
var decoded = struct {
	sync.Mutex
	m map[string][]ProvenanceRecord
}{m: map[string][]ProvenanceRecord{}}

// decodedMax bounds the lists remembered; the map starts afresh when full.
const decodedMax = 1024

// IsZero reports whether there is no provenance.
func (p Provenance) IsZero() bool {
	if p.decoded {
		return len(p.records) == 0
	}
	return len(p.raw) == 0 || string(p.raw) == "[]" || string(p.raw) == "null"
}

// MarshalJSON writes the list; held JSON goes out as it came in.
func (p Provenance) MarshalJSON() ([]byte, error) {
	if !p.decoded && len(p.raw) > 0 {
		return p.raw, nil
	}
	if len(p.records) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(p.records)
}

// UnmarshalJSON keeps the JSON for later decoding.
func (p *Provenance) UnmarshalJSON(b []byte) error {
	if !json.Valid(b) {
		return errors.New("provenance: not JSON")
	}
	*p = Provenance{raw: append([]byte(nil), b...)}
	return nil
}

// Reprovenance returns provenance in which fields now come from rec: they
// leave older records, records left without fields go, and rec is appended.
func Reprovenance(old []ProvenanceRecord, rec ProvenanceRecord) []ProvenanceRecord {
	var out []ProvenanceRecord
	for _, r := range old {
		var keep []string
		for _, f := range r.Fields {
			if !slices.Contains(rec.Fields, f) {
				keep = append(keep, f)
			}
		}
		if len(keep) > 0 {
			r.Fields = keep
			out = append(out, r)
		}
	}
	if len(rec.Fields) > 0 {
		out = append(out, rec)
	}
	return out
}

// PostalAddress is a postal address.
type PostalAddress struct {
	Street     string `json:"street"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country"` // ISO 3166-1 alpha-2
}

// SocialHandle is a person's handle on one social network.
type SocialHandle struct {
	Network string `json:"network"` // e.g. mastodon, bluesky, linkedin, xing
	Handle  string `json:"handle"`
}

// Validate checks the contact and normalises e-mails and phones in place.
func (c *Contact) Validate() error {
	var p Problems
	checkID(&p, "owner_id", c.OwnerID)
	checkID(&p, "organization_id", c.OrganizationID)
	d := &c.ContactDetails
	checkText(&p, "given_name", d.GivenName, maxShortText, false, false)
	checkText(&p, "family_name", d.FamilyName, maxShortText, false, false)
	if d.GivenName == "" && d.FamilyName == "" && len(d.Emails) == 0 && len(d.Phones) == 0 && len(d.SocialHandles) == 0 {
		p.Add("family_name", "a contact needs a name, an e-mail address, a phone number or a social handle")
	}
	normalizeList(&p, "emails", d.Emails, NormalizeEmail)
	normalizeList(&p, "phones", d.Phones, NormalizePhone)
	if a := d.PostalAddress; a != nil {
		a.validate(&p, "postal_address.")
	}
	checkList(&p, "social_handles", len(d.SocialHandles))
	for i, h := range d.SocialHandles {
		f := fmt.Sprintf("social_handles[%d]", i)
		if !ValidNetwork(h.Network) {
			p.Add(f+".network", "%q is not a network id; use lower-case letters such as mastodon, bluesky, linkedin", h.Network)
		}
		checkText(&p, f+".handle", h.Handle, maxShortText, true, false)
		for _, r := range h.Handle {
			if r == ' ' {
				p.Add(f+".handle", "a handle contains no spaces")
				break
			}
		}
	}
	checkText(&p, "organization", d.Organization, maxShortText, false, false)
	checkText(&p, "position", d.Position, maxShortText, false, false)
	if d.PreferredLanguage != "" && !ValidLanguage(d.PreferredLanguage) {
		p.Add("preferred_language", "%q is not a language tag such as de or en-GB", d.PreferredLanguage)
	}
	c.Collection.validate(&p)
	return p.Err("contact")
}

func (a *PostalAddress) validate(p *Problems, prefix string) {
	checkText(p, prefix+"street", a.Street, maxShortText, false, false)
	checkText(p, prefix+"postal_code", a.PostalCode, 20, false, false)
	checkText(p, prefix+"city", a.City, maxShortText, true, false)
	checkText(p, prefix+"region", a.Region, maxShortText, false, false)
	if !countryCode.MatchString(a.Country) {
		p.Add(prefix+"country", "%q is not an ISO 3166-1 alpha-2 country code such as DE or AT", a.Country)
	}
}

// normalizeList validates and normalises each identifier of a list in place,
// refusing duplicates (after normalisation) and overlong lists.
func normalizeList(p *Problems, field string, list []string, normalize func(string) (string, error)) {
	checkList(p, field, len(list))
	for i, v := range list {
		n, err := normalize(v)
		if err != nil {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "%s", err)
			continue
		}
		if slices.Contains(list[:i], n) {
			p.Add(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", n)
		}
		list[i] = n
	}
}

func checkList(p *Problems, field string, n int) {
	if n > maxListItems {
		p.Add(field, "has %d entries; at most %d are allowed", n, maxListItems)
	}
}

// LookupKeys returns the keys under which the contact can be found exactly:
// its normalised e-mail addresses, phone numbers and social handles. Call after Validate.
func (d *ContactDetails) LookupKeys() []LookupKey {
	keys := make([]LookupKey, 0, len(d.Emails)+len(d.Phones)+len(d.SocialHandles))
	for _, e := range d.Emails {
		keys = append(keys, LookupKey{Kind: LookupEmail, Value: e})
	}
	for _, ph := range d.Phones {
		keys = append(keys, LookupKey{Kind: LookupPhone, Value: ph})
	}
	for _, h := range d.SocialHandles {
		keys = append(keys, LookupKey{Kind: HandleKind(h.Network), Value: NormalizeHandle(h)})
	}
	if a := d.PostalAddress; a != nil {
		keys = append(keys, LookupKey{Kind: LookupPostal, Value: lower(strings.Join([]string{a.Country, a.PostalCode, a.City, a.Street}, "|"))})
	}
	return keys
}

// HandleKind is the lookup kind of handles on a network: "handle:mastodon".
func HandleKind(network string) LookupKind { return LookupKind("handle:" + network) }

// AddressKind is the lookup kind that holds an address for a channel, or ""
// for a channel without one (none that can be checked).
func AddressKind(c ConsentChannel) LookupKind {
	switch c {
	case ChannelEmailMsg:
		return LookupEmail
	case ChannelPhoneCall:
		return LookupPhone
	case ChannelPostal:
		return LookupPostal
	}
	if n := c.Network(); n != "" {
		return HandleKind(n)
	}
	return ""
}

// NormalizeHandle returns the lookup form of a social handle: "network:handle"
// in lower case without a leading "@".
func NormalizeHandle(h SocialHandle) string {
	handle := h.Handle
	for len(handle) > 0 && handle[0] == '@' {
		handle = handle[1:]
	}
	return lower(h.Network + ":" + handle)
}

// LookupKind is the kind of identifier a lookup key is derived from.
type LookupKind string

// The lookup kinds.
const (
	LookupEmail  LookupKind = "email"
	LookupPhone  LookupKind = "phone"
	LookupPostal LookupKind = "postal"
)

// LookupKey is an identifier under which a contact can be found. The gate
// stores it as a keyed hash (a blind index): the store indexes it and can
// match it, but cannot read it.
type LookupKey struct {
	Kind  LookupKind
	Value string
}

// Identifies reports whether the key tells one person from another: an
// e-mail address, phone number or handle does; a postal address is shared
// (colleagues at the company's) and finds a person without telling two apart.
func (k LookupKey) Identifies() bool { return k.Kind != LookupPostal }

// ContactFilter selects contacts in a list.
type ContactFilter struct {
	OwnerID        string
	OrganizationID string
	UpdatedSince   time.Time
	Email          string // exact lookup by e-mail address
	// Query finds contacts by the words of their names, addresses, numbers,
	// handles, employer and position (what the purpose may see), best first.
	Query string
	// Sort orders the list: SortName, SortOrganization, SortUpdated, or
	// SortCreated ("" is SortCreated for a list, best match for a search).
	Sort string
	// Consent keeps only contacts whose recorded consent for one purpose
	// and channel is in a state.
	Consent *ConsentFilter
	// Tag keeps only contacts with the tag; Segment (an id) only the members
	// of a saved segment; the times bound creation and the last change
	// (Since inclusive, Before exclusive).
	Tag                         string
	Segment                     string
	CreatedSince, CreatedBefore time.Time
	UpdatedBefore               time.Time
	Page
}

// The orders of a contact list.
const (
	SortName         = "name"
	SortOrganization = "organization"
	SortUpdated      = "updated" // the most recently changed first
	SortCreated      = "created"
)

// ContactSorts lists the orders of a contact list.
func ContactSorts() []string { return []string{SortName, SortOrganization, SortUpdated, SortCreated} }

// ConsentFilter selects contacts by the state of their consent for one
// purpose on one channel, as the ledger records it: ConsentUnknown is no
// event at all. A consent lapsed by inactivity still shows as granted here;
// the outbound gate checks the lapse when anything is sent.
type ConsentFilter struct {
	Purpose string
	Channel ConsentChannel
	State   ConsentState
}

// ContactService is the gate's interface for contacts.
type ContactService interface {
	CreateContact(ctx context.Context, c *Contact) error
	// CreateContacts creates all contacts in one transaction, or none.
	CreateContacts(ctx context.Context, cs []*Contact) error
	Contact(ctx context.Context, id string) (*Contact, error)
	Contacts(ctx context.Context, f ContactFilter) (*List[*Contact], error)
	UpdateContact(ctx context.Context, id string, u Update) (*Contact, error)
	DeleteContact(ctx context.Context, id string, ifVersion int64) error
	// ExportContacts writes a selection or a list as CSV or vCard, with
	// only the fields the purpose may see; nothing is written on an error.
	ExportContacts(ctx context.Context, req ExportRequest, w io.Writer) (*ExportResult, error)
}
