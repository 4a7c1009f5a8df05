package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"tresor"
)

// Retention configures how long data is kept and what erasure leaves.
type Retention struct {
	// Interactions and Cases say what erasing a person does to those records.
	Interactions, Cases tresor.ErasureMode
	// Categories are periods per purpose and category that differ from the
	// purpose's RetentionDays.
	Categories []CategoryRetention
	// Floors are the statutory retention periods of record classes.
	Floors []Floor
	// RequestYears is how long an answered or refused request of a data
	// subject is kept after it was closed, as proof of how it was handled;
	// then it is deleted (its key destroyed). The default,
	// DefaultRequestYears, is the regular limitation period (§195 BGB).
	RequestYears int
}

// DefaultRequestYears is the retention of closed requests when the policy
// names none: three years, the regular limitation period of §195 BGB,
// within which claims about the handling may be raised.
const DefaultRequestYears = 3

// RequestsKeptBefore returns the time before which a closed request was
// closed long enough ago to be deleted at now.
func (p *Policy) RequestsKeptBefore(now time.Time) time.Time {
	years := p.Retention.RequestYears
	if years == 0 {
		years = DefaultRequestYears
	}
	return now.AddDate(-years, 0, 0)
}

// CategoryRetention is the period of one category collected for one purpose.
type CategoryRetention struct {
	Purpose  string
	Category tresor.Category
	Days     int
}

// Floor is a statutory retention period (HGB §257, AO §147): records of its
// class are kept this many years after the end of the calendar year they
// were made in.
type Floor struct {
	ID     string
	Years  int
	Law    string
	DE, EN string
}

// Until returns the end of the floor for a record made at t: the end of the
// calendar year of t plus the floor's years (§257(5) HGB, §147(4) AO).
func (f *Floor) Until(t time.Time) time.Time {
	return time.Date(t.Year()+f.Years+1, time.January, 1, 0, 0, 0, 0, time.UTC)
}

// Floor returns the floor with the given id.
func (p *Policy) Floor(id string) (*Floor, bool) {
	for i := range p.Retention.Floors {
		if p.Retention.Floors[i].ID == id {
			return &p.Retention.Floors[i], true
		}
	}
	return nil, false
}

// FloorIDs lists the ids of the floors.
func (p *Policy) FloorIDs() []string {
	out := make([]string, len(p.Retention.Floors))
	for i, f := range p.Retention.Floors {
		out[i] = f.ID
	}
	return out
}

// RetentionDays returns how long a category collected for a purpose is kept;
// 0 for a purpose the policy no longer defines (the datum is kept until the
// policy says otherwise, and the run reports it).
func (p *Policy) RetentionDays(purpose string, c tresor.Category) int {
	for _, r := range p.Retention.Categories {
		if r.Purpose == purpose && r.Category == c {
			return r.Days
		}
	}
	if pu, ok := p.Purpose(purpose); ok {
		return pu.RetentionDays
	}
	return 0
}

// Datum is what retention knows of one stored personal field.
type Datum struct {
	Field       string
	Category    tresor.Category
	Purpose     string
	CollectedAt time.Time
}

// Expiry is a retention decision about one contact.
type Expiry struct {
	// Expired lists the fields whose period ended; All says every field did.
	Expired []string
	All     bool
	// Rules describes the periods that ended, for the report.
	Rules []string
	// Categories are the categories of the expired fields.
	Categories []tresor.Category
}

// Expire decides which of a contact's data outlived its purpose. Each datum's
// period counts from the latest of its collection and the last interaction
// with the person, or from the end of the customer relation once it was
// closed (archived).
func (p *Policy) Expire(data []Datum, lastInteraction, closed *time.Time, now time.Time) Expiry {
	var e Expiry
	for _, d := range data {
		days := p.RetentionDays(d.Purpose, d.Category)
		if days == 0 {
			continue
		}
		from, what := d.CollectedAt, "after the last interaction"
		if lastInteraction != nil && lastInteraction.After(from) {
			from = *lastInteraction
		}
		if closed != nil {
			from, what = *closed, "after the end of the customer relation"
		}
		if now.Before(from.Add(time.Duration(days) * 24 * time.Hour)) {
			continue
		}
		e.Expired = append(e.Expired, d.Field)
		if !slices.Contains(e.Categories, d.Category) {
			e.Categories = append(e.Categories, d.Category)
		}
		rule := fmt.Sprintf("%s: %s kept %d days %s", d.Purpose, d.Category, days, what)
		if !slices.Contains(e.Rules, rule) {
			e.Rules = append(e.Rules, rule)
		}
	}
	e.All = len(data) > 0 && len(e.Expired) == len(data)
	slices.Sort(e.Rules)
	return e
}

// RuleText joins the rules of an expiry for a report.
func (e *Expiry) RuleText() string { return strings.Join(e.Rules, "; ") }
