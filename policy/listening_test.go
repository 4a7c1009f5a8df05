package policy_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"tresor"
	"tresor/policy"
)

func TestListeningPolicy(t *testing.T) {
	t.Run("only purposes marked listens may listen", func(t *testing.T) {
		p := policy.Default()
		if got := p.ListeningPurposes(); !slices.Equal(got, []string{"pr", "analytics"}) {
			t.Errorf("listening purposes = %v, want pr and analytics", got)
		}
		analyst := &tresor.Actor{Kind: tresor.ActorUser, Roles: []tresor.Role{tresor.RoleAnalyst}}
		if _, err := p.PermitListening(analyst, "analytics"); err != nil {
			t.Errorf("analytics (aggregates only) may listen: %v", err)
		}
		seller := &tresor.Actor{Kind: tresor.ActorUser, Roles: []tresor.Role{tresor.RoleSales}}
		_, err := p.PermitListening(seller, "sales")
		if tresor.ErrorCode(err) != tresor.ECPurposeNotAllowed || !strings.Contains(err.Error(), "pr, analytics") {
			t.Errorf("sales: %v, want purpose_not_permitted naming the listening purposes", err)
		}
		if e, ok := err.(*tresor.Error); !ok || e.MessageDE == "" {
			t.Errorf("the refusal has no German text: %#v", err)
		}
	})
	t.Run("k defaults to 10", func(t *testing.T) {
		text := bytes.Replace(policy.DefaultYAML(), []byte("listening:\n  k: 10\n"), []byte("listening:\n"), 1)
		if bytes.Equal(text, policy.DefaultYAML()) {
			t.Fatal("the default file does not name listening.k")
		}
		p, err := policy.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if p.Listening.K != 10 {
			t.Errorf("k = %d, want 10", p.Listening.K)
		}
	})
	t.Run("k below 5 is refused", func(t *testing.T) {
		_, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte("k: 10"), []byte("k: 4"), 1))
		if err == nil || !strings.Contains(err.Error(), "listening.k") {
			t.Errorf("k = 4: %v, want an error naming listening.k", err)
		}
		p, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte("k: 10"), []byte("k: 5"), 1))
		if err != nil || p.Listening.K != 5 {
			t.Errorf("k = 5: %v", err)
		}
	})
	t.Run("the settings survive policy show", func(t *testing.T) {
		p, q := shownAgain(t, "k: 10", "k: 12")
		if q.Listening.K != 12 || !slices.Equal(q.ListeningPurposes(), p.ListeningPurposes()) {
			t.Errorf("after marshal: k %d, purposes %v", q.Listening.K, q.ListeningPurposes())
		}
	})
	t.Run("differential privacy has defaults within bounds", func(t *testing.T) {
		p := policy.Default()
		if l := p.Listening; l.EpsilonPerQuery != 0.5 || l.EpsilonBudget != 10 || l.EpsilonBudgetMax != 20 {
			t.Errorf("dp = %+v, want 0.5 per read, a budget of 10, at most 20", l)
		}
		text := policy.DefaultYAML()
		for _, line := range []string{"  dp_epsilon_per_query: 0.5\n", "  dp_epsilon_budget: 10\n", "  dp_epsilon_budget_max: 20\n"} {
			text = bytes.Replace(text, []byte(line), nil, 1)
		}
		q, err := policy.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if q.Listening != p.Listening {
			t.Errorf("without the keys: %+v, want the defaults %+v", q.Listening, p.Listening)
		}
	})
	t.Run("differential privacy settings out of bounds are refused", func(t *testing.T) {
		for _, c := range []struct{ from, to, key string }{
			{"dp_epsilon_per_query: 0.5", "dp_epsilon_per_query: 6", "dp_epsilon_per_query"},
			{"dp_epsilon_per_query: 0.5", "dp_epsilon_per_query: -1", "dp_epsilon_per_query"},
			{"dp_epsilon_budget: 10", "dp_epsilon_budget: 0.1", "dp_epsilon_budget"},
			{"dp_epsilon_budget: 10", "dp_epsilon_budget: 30", "dp_epsilon_budget"},
			{"dp_epsilon_budget_max: 20", "dp_epsilon_budget_max: 1000", "dp_epsilon_budget_max"},
		} {
			_, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte(c.from), []byte(c.to), 1))
			if err == nil || !strings.Contains(err.Error(), c.key) {
				t.Errorf("%s: %v, want an error naming %s", c.to, err, c.key)
			}
		}
	})
	t.Run("the differential privacy settings survive policy show", func(t *testing.T) {
		p, q := shownAgain(t, "dp_epsilon_per_query: 0.5", "dp_epsilon_per_query: 0.25")
		if q.Listening != p.Listening || q.Listening.EpsilonPerQuery != 0.25 {
			t.Errorf("after marshal: %+v, want %+v", q.Listening, p.Listening)
		}
	})
}

// shownAgain parses the default policy with one setting changed, and that
// policy again after policy show (Marshal).
func shownAgain(t *testing.T, from, to string) (p, q *policy.Policy) {
	t.Helper()
	p, err := policy.Parse(bytes.Replace(policy.DefaultYAML(), []byte(from), []byte(to), 1))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if q, err = policy.Parse(out); err != nil {
		t.Fatal(err)
	}
	return p, q
}
