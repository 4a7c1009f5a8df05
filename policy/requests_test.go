package policy_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tresor/policy"
)

// TestClosedRequestsKeptThreeYearsByDefault: the retention of answered and
// refused requests is a policy setting; without one it is three years
// (§195 BGB), and a period outside 1–30 years is refused with its line.
func TestClosedRequestsKeptThreeYearsByDefault(t *testing.T) {
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	t.Run("the default policy keeps closed requests three years", func(t *testing.T) {
		p := policy.Default()
		if p.Retention.RequestYears != 3 || !p.RequestsKeptBefore(now).Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("years = %d, before = %v", p.Retention.RequestYears, p.RequestsKeptBefore(now))
		}
	})
	t.Run("a policy without the setting gets the default", func(t *testing.T) {
		text := bytes.Replace(policy.DefaultYAML(), []byte("  requests_years: 3\n"), nil, 1)
		if bytes.Equal(text, policy.DefaultYAML()) {
			t.Fatal("the default file does not name requests_years")
		}
		p, err := policy.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if p.Retention.RequestYears != policy.DefaultRequestYears {
			t.Fatalf("years = %d", p.Retention.RequestYears)
		}
	})
	t.Run("a period the company sets is used", func(t *testing.T) {
		p, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte("requests_years: 3"), []byte("requests_years: 5"), 1))
		if err != nil {
			t.Fatal(err)
		}
		if !p.RequestsKeptBefore(now).Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("before = %v", p.RequestsKeptBefore(now))
		}
	})
	t.Run("a period outside 1 to 30 years is refused", func(t *testing.T) {
		_, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte("requests_years: 3"), []byte("requests_years: 31"), 1))
		if err == nil || !strings.Contains(err.Error(), "requests_years") {
			t.Fatalf("err = %v", err)
		}
	})
}
