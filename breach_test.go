package tresor_test

import (
	"errors"
	"testing"
	"time"

	"tresor"
)

func TestBreachRules(t *testing.T) {
	aware := time.Date(2026, 3, 27, 23, 30, 0, 0, time.UTC) // the clock runs across the change to summer time in Europe
	valid := func() *tresor.Breach {
		return &tresor.Breach{Title: "Laptop", BreachContent: tresor.BreachContent{Description: "lost"}, AwareAt: aware,
			Risk: tresor.BreachRiskSome, State: tresor.BreachOpen}
	}

	t.Run("the deadline is 72 hours after aware_at, in absolute time", func(t *testing.T) {
		b := valid()
		b.Clock(aware.Add(time.Hour))
		if want := time.Date(2026, 3, 30, 23, 30, 0, 0, time.UTC); !b.Deadline.Equal(want) || b.Remaining != 71*3600 || b.Overdue {
			t.Fatalf("deadline %v remaining %d overdue %v", b.Deadline, b.Remaining, b.Overdue)
		}
	})

	t.Run("after the deadline the breach is overdue with negative time left", func(t *testing.T) {
		b := valid()
		b.Clock(aware.Add(72*time.Hour + 90*time.Minute))
		if !b.Overdue || b.Remaining != -90*60 {
			t.Fatalf("remaining %d overdue %v", b.Remaining, b.Overdue)
		}
		b.Clock(aware.Add(72 * time.Hour))
		if b.Overdue || b.Remaining != 0 {
			t.Fatalf("at the deadline itself: remaining %d overdue %v", b.Remaining, b.Overdue)
		}
	})

	t.Run("once the authority is notified the clock stops", func(t *testing.T) {
		b := valid()
		at := aware.Add(80 * time.Hour)
		b.State, b.NotifiedAt = tresor.BreachAuthorityNotified, &at
		b.Clock(aware.Add(100 * time.Hour))
		if b.Overdue || b.Remaining != 0 || b.Deadline.IsZero() {
			t.Fatalf("remaining %d overdue %v", b.Remaining, b.Overdue)
		}
	})

	t.Run("only a high risk requires telling the people", func(t *testing.T) {
		for _, r := range tresor.BreachRisks() {
			b := valid()
			b.Risk = r
			if b.PeopleMustBeTold() != (r == tresor.BreachRiskHigh) {
				t.Errorf("risk %s: people must be told = %v", r, b.PeopleMustBeTold())
			}
		}
	})

	t.Run("validation names every bad field", func(t *testing.T) {
		must := func(b *tresor.Breach, fields ...string) {
			t.Helper()
			err := b.Validate()
			for _, f := range fields {
				if err == nil || !containsField(err, f) {
					t.Errorf("%s: %v", f, err)
				}
			}
		}
		if err := valid().Validate(); err != nil {
			t.Fatal(err)
		}
		b := valid()
		b.AwareAt, b.Risk, b.Description, b.PeopleAffected = time.Time{}, "maybe", "", -1
		must(b, "aware_at", "risk", "description", "people_affected")
		b = valid()
		b.State = tresor.BreachAuthorityNotified
		must(b, "notified_at")
		b = valid()
		b.State = tresor.BreachClosed
		must(b, "closed_at")
	})
}

func containsField(err error, field string) bool {
	var e *tresor.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
