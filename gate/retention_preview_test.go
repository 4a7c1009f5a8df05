package gate_test

import (
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/policy"
)

// TestPreviewRetentionCountsWhomAShorterPeriodWouldEraseAndChangesNothing
// proves the rule behind `tresor policy diff`: before a shorter period takes
// effect, the DPO learns how many people the next run would erase, counted
// from the data, and the count itself erases no one.
func TestPreviewRetentionCountsWhomAShorterPeriodWouldEraseAndChangesNothing(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, dpo := e.g, e.ctx["data_protection"]
		var ids []string
		for _, mail := range []string{"a@example.org", "b@example.org"} {
			c := erika()
			c.Emails = []string{mail}
			must(t, g.CreateContact(e.ctx["sales"], c))
			ids = append(ids, c.ID)
		}
		e.clock.advance(400 * 24 * time.Hour)

		shorter, err := policy.Parse([]byte(strings.Replace(string(policy.DefaultYAML()), "retention_days: 1095", "retention_days: 300", 1)))
		must(t, err)
		t.Run("the current policy erases no one yet", func(t *testing.T) {
			rep, err := g.PreviewRetention(dpo, policy.Default())
			must(t, err)
			if len(rep.Erased) != 0 {
				t.Fatalf("erased %d under 1095 days", len(rep.Erased))
			}
		})
		t.Run("the shorter period would erase both people", func(t *testing.T) {
			rep, err := g.PreviewRetention(dpo, shorter)
			must(t, err)
			if len(rep.Erased) != 2 || !rep.DryRun {
				t.Fatalf("report %+v, want 2 erased in a dry run", rep)
			}
		})
		t.Run("the preview changes nothing", func(t *testing.T) {
			for _, id := range ids {
				c, err := g.Contact(e.ctx["sales"], id)
				if err != nil {
					t.Fatalf("contact %s after the preview: %v", id, err)
				}
				if len(c.Emails) != 1 || len(c.Phones) != 1 {
					t.Fatalf("contact %s lost data in the preview: %+v", id, c.ContactDetails)
				}
			}
			rep, err := g.PreviewRetention(dpo, shorter)
			must(t, err)
			if len(rep.Erased) != 2 {
				t.Fatalf("a second preview erases %d, want the same 2", len(rep.Erased))
			}
		})
		t.Run("only data protection may preview", func(t *testing.T) {
			_, err := g.PreviewRetention(e.ctx["sales"], shorter)
			if err == nil {
				t.Fatal("sales previewed the retention run")
			}
			if code := tresor.ErrorCode(err); code == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
		})
	})
}
