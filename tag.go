package tresor

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxTagLength bounds a tag, in characters.
const MaxTagLength = 40

// Tag is a label a team puts on contacts and organizations ("Messe 2026",
// "Key account"). Tags are business data, stored in plain text: a tag that
// would reveal a special category of personal data is refused (the gate
// screens it). Key is the folded form tags are matched by; Display is the
// form as first typed.
type Tag struct {
	Key     string `json:"tag"`
	Display string `json:"display"`
}

// NormalizeTag checks a tag and returns it with its folded key: spaces
// trimmed and collapsed, at most MaxTagLength characters, letters, digits,
// spaces and - _ . & + only; the key is the lower-case form.
func NormalizeTag(s string) (Tag, error) {
	if !utf8.ValidString(s) {
		return Tag{}, tagError("is not valid UTF-8", "ist kein gültiges UTF-8")
	}
	display := strings.Join(strings.Fields(s), " ")
	if display == "" {
		return Tag{}, tagError("is empty", "ist leer")
	}
	if n := utf8.RuneCountInString(display); n > MaxTagLength {
		return Tag{}, tagError(fmt.Sprintf("has %d characters; at most %d are allowed", n, MaxTagLength),
			fmt.Sprintf("hat %d Zeichen; erlaubt sind höchstens %d", n, MaxTagLength))
	}
	for _, r := range display {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" -_.&+", r) {
			return Tag{}, tagError(fmt.Sprintf("contains %q; a tag has letters, digits, spaces and - _ . & + only", r),
				fmt.Sprintf("enthält %q; ein Schlagwort besteht nur aus Buchstaben, Ziffern, Leerzeichen und - _ . & +", r))
		}
	}
	return Tag{Key: strings.ToLower(display), Display: display}, nil
}

func tagError(en, de string) error {
	return &Error{Code: ECValidation, Message: "The tag " + en + ".", MessageDE: "Das Schlagwort " + de + ".",
		Fields: Problems{FieldError{Field: "tag", Message: en}}}
}

// TagCount is a tag with the number of contacts and organizations that carry it.
type TagCount struct {
	Tag
	Contacts      int `json:"contacts"`
	Organizations int `json:"organizations"`
}

// TagService puts tags on contacts and organizations and lists them.
type TagService interface {
	// TagContact puts a tag on a contact; a tag it has already is kept.
	TagContact(ctx context.Context, contactID, tag string) (*Tag, error)
	UntagContact(ctx context.Context, contactID, tag string) error
	TagOrganization(ctx context.Context, organizationID, tag string) (*Tag, error)
	UntagOrganization(ctx context.Context, organizationID, tag string) error
	// Tags lists every tag in use, with its counts.
	Tags(ctx context.Context) ([]TagCount, error)
}

// SegmentRules are the conditions of a segment; every condition set must
// hold. Owner is "" (anyone) or "me" (the user who asks).
type SegmentRules struct {
	Tag            string          `json:"tag,omitempty"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Owner          string          `json:"owner,omitempty"`
	Consent        *SegmentConsent `json:"consent,omitempty"`
	CreatedFrom    Date            `json:"created_from,omitempty"`
	CreatedTo      Date            `json:"created_to,omitempty"`
	UpdatedFrom    Date            `json:"updated_from,omitempty"`
	UpdatedTo      Date            `json:"updated_to,omitempty"`
}

// SegmentConsent is a segment's condition on the consent for one purpose
// and channel.
type SegmentConsent struct {
	Purpose string         `json:"purpose"`
	Channel ConsentChannel `json:"channel"`
	State   ConsentState   `json:"state"`
}

// SavedSegment is a saved filter of contacts: a team's target group. It
// holds conditions, never a list of people: its members are computed when
// asked, under the purpose of the request.
type SavedSegment struct {
	Meta
	Name    string       `json:"name" category:"none"`
	OwnerID string       `json:"owner_id,omitempty" category:"none"`
	Rules   SegmentRules `json:"rules" category:"none"`
}

// Validate checks the segment.
func (s *SavedSegment) Validate() error {
	var p Problems
	checkText(&p, "name", s.Name, maxShortText, true, false)
	checkID(&p, "owner_id", s.OwnerID)
	r := &s.Rules
	if r.Tag != "" {
		t, err := NormalizeTag(r.Tag)
		if err != nil {
			p.Add("rules.tag", "%s", ErrorMessage(err))
		} else {
			r.Tag = t.Display
		}
	}
	checkID(&p, "rules.organization_id", r.OrganizationID)
	if r.Owner != "" && r.Owner != "me" {
		p.Add("rules.owner", "is %q; it is empty (anyone) or \"me\"", r.Owner)
	}
	if c := r.Consent; c != nil {
		if !ValidSlug(c.Purpose) {
			p.Add("rules.consent.purpose", "is required")
		}
		if _, err := ParseConsentChannel(string(c.Channel)); err != nil {
			p.Add("rules.consent.channel", "%s", ErrorMessage(err))
		}
		checkOneOf(&p, "rules.consent.state", c.State, []ConsentState{ConsentGranted, ConsentPending, ConsentWithdrawn, ConsentUnknown}, true)
	}
	for _, d := range []struct {
		field string
		v     Date
	}{{"rules.created_from", r.CreatedFrom}, {"rules.created_to", r.CreatedTo}, {"rules.updated_from", r.UpdatedFrom}, {"rules.updated_to", r.UpdatedTo}} {
		if d.v != "" && !d.v.Valid() {
			p.Add(d.field, "%q is not a date (YYYY-MM-DD)", d.v)
		}
	}
	return p.Err("segment")
}

// Filter turns the rules into a contact filter; me is the id of the user
// who asks.
func (r SegmentRules) Filter(me string) ContactFilter {
	f := ContactFilter{Tag: r.Tag, OrganizationID: r.OrganizationID}
	if r.Owner == "me" {
		f.OwnerID = me
		if me == "" {
			f.OwnerID = "00000000-0000-0000-0000-000000000000" // a program has no contacts of its own
		}
	}
	if c := r.Consent; c != nil {
		f.Consent = &ConsentFilter{Purpose: c.Purpose, Channel: c.Channel, State: c.State}
	}
	day := func(d Date, next bool) time.Time {
		t, err := time.Parse(time.DateOnly, string(d))
		if err != nil {
			return time.Time{}
		}
		if next {
			t = t.AddDate(0, 0, 1) // "to" includes its day
		}
		return t
	}
	f.CreatedSince, f.CreatedBefore = day(r.CreatedFrom, false), day(r.CreatedTo, true)
	f.UpdatedSince, f.UpdatedBefore = day(r.UpdatedFrom, false), day(r.UpdatedTo, true)
	return f
}

// SegmentService manages segments and lists their members.
type SegmentService interface {
	CreateSegment(ctx context.Context, s *SavedSegment) error
	Segment(ctx context.Context, id string) (*SavedSegment, error)
	Segments(ctx context.Context, p Page) (*List[*SavedSegment], error)
	UpdateSegment(ctx context.Context, id string, u Update) (*SavedSegment, error)
	// DeleteSegment deletes a segment; one that an unsent campaign takes its
	// audience from is refused (ECConflict).
	DeleteSegment(ctx context.Context, id string, ifVersion int64) error
	// SegmentMembers lists the contacts of a segment under the declared
	// purpose, like the contact list.
	SegmentMembers(ctx context.Context, id string, p Page) (*List[*Contact], error)
}
