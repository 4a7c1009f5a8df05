package gate

import (
	"context"

	"tresor"
)

// expireRequests deletes the answered and refused requests whose retention
// after closing ended (the policy's retention.requests_years, by default
// three years, §195 BGB): the row goes, and its own key is destroyed, so
// the sealed address, reasons and answers are gone from backups too. Each
// deletion is audited as request.expire in its transaction.
func (g *Gate) expireRequests(ctx context.Context, req *request, rep *tresor.RetentionReport) error {
	before := g.policy.RequestsKeptBefore(req.now)
	after := ""
	for {
		ids, err := g.store.Read().ClosedRequests(ctx, before, after, 500)
		if err != nil {
			return err
		}
		if !rep.DryRun && len(ids) > 0 {
			var entry *tresor.AuditEntry
			err = g.store.Update(ctx, func(tx tresor.Tx) error {
				for _, id := range ids {
					if err := tx.DeleteDataRequest(ctx, id); err != nil && tresor.ErrorCode(err) != tresor.ECNotFound {
						return err
					}
					if err := tx.DeleteDataKey(ctx, id); err != nil {
						return err
					}
				}
				entry = g.entry(ctx, "request.expire", "request", ids, nil, nil)
				entry.Detail = "retention after closing ended"
				return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
			})
			if err != nil {
				return err
			}
			g.committed([]*tresor.AuditEntry{entry})
		}
		rep.RequestsExpired += len(ids)
		if len(ids) < 500 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}
