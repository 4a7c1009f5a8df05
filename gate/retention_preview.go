package gate

import (
	"context"
	"fmt"

	"tresor"
	"tresor/policy"
)

// PreviewRetention says what the next retention run would do if the policy
// pol were in force: whom it would erase and from whom it would strip
// categories. It changes nothing — no person, no retention report — and
// records only that the preview ran (`tresor policy diff`).
func (g *Gate) PreviewRetention(ctx context.Context, pol *policy.Policy) (*tresor.RetentionReport, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	rep := &tresor.RetentionReport{ID: newID(), DryRun: true, StartedAt: req.now,
		Erased: []tresor.RetentionAction{}, Stripped: []tresor.RetentionAction{}, Held: []string{}, Errors: []string{}}
	if err := g.retainAll(ctx, req, rep, pol); err != nil {
		return nil, err
	}
	rep.FinishedAt = tresor.Truncate(g.now())
	g.event(ctx, "retention.preview", rep.ID, fmt.Sprintf("erased=%d stripped=%d held=%d errors=%d",
		len(rep.Erased), len(rep.Stripped), len(rep.Held), len(rep.Errors)))
	return rep, nil
}
