package tresor

import "testing"

func TestRequestDeadline(t *testing.T) {
	for _, c := range []struct {
		received, due, extended Date
	}{
		{"2026-03-15", "2026-04-15", "2026-06-15"}, // an ordinary day
		{"2026-01-31", "2026-02-28", "2026-04-28"}, // 31 January: February has no 31st
		{"2028-01-31", "2028-02-29", "2028-04-29"}, // the same in a leap year
		{"2028-02-29", "2028-03-29", "2028-05-29"}, // from 29 February of a leap year
		{"2027-02-28", "2027-03-28", "2027-05-28"}, // the last day of February, not leap
		{"2026-03-31", "2026-04-30", "2026-06-30"}, // a month end into a shorter month
		{"2026-04-30", "2026-05-30", "2026-07-30"}, // the 30th stays the 30th, not the month end
		{"2026-08-31", "2026-09-30", "2026-11-30"},
		{"2026-12-31", "2027-01-31", "2027-03-31"}, // over the year end
		{"2026-12-15", "2027-01-15", "2027-03-15"},
		{"2026-11-30", "2026-12-30", "2027-02-28"}, // the extension over the year end into February
		{"2027-11-30", "2027-12-30", "2028-02-29"}, // … of a leap year
		{"2027-12-31", "2028-01-31", "2028-03-31"},
	} {
		if got := RequestDue(c.received); got != c.due {
			t.Errorf("due of %s: %s, want %s", c.received, got, c.due)
		}
		if got := RequestExtendedDue(c.received); got != c.extended {
			t.Errorf("extended due of %s: %s, want %s", c.received, got, c.extended)
		}
	}
	if got := RequestDue("2026-02-30"); got != "" {
		t.Errorf("due of an invalid day: %q", got)
	}
	if got := AddLegalMonths("2026-01-31", 13); got != "2027-02-28" {
		t.Errorf("13 months from 31 January 2026: %s", got)
	}
}

func TestRequestMoves(t *testing.T) {
	if !RequestMoveAllowed(RequestReceived, RequestIdentityVerified) || RequestMoveAllowed(RequestReceived, RequestAnswered) {
		t.Error("an unverified requester may not be answered")
	}
	if RequestMoveAllowed(RequestAnswered, RequestInProgress) || RequestMoveAllowed(RequestRefused, RequestAnswered) {
		t.Error("answered and refused are final")
	}
	for from := range requestMoves {
		if RequestMoveAllowed(from, RequestExtended) {
			t.Errorf("%s → extended without a reason", from)
		}
	}
}
