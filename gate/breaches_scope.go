package gate

import (
	"context"
	"fmt"

	"tresor"
)

var _ tresor.BreachScopeLister = (*Gate)(nil)

// BreachScopeContacts lists the contacts the breach's counted scope
// concerns: those its actor touched in its window, without the ones erased
// since. Only the DPO may; the read is audited with the breach and the
// number of ids, and the ids are not opened (no name is read).
func (g *Gate) BreachScopeContacts(ctx context.Context, id string) ([]string, error) {
	if _, err := g.breachOfficer(ctx); err != nil {
		return nil, err
	}
	r := g.store.Read()
	row, err := r.Breach(ctx, id)
	if err != nil {
		return nil, err
	}
	sc := row.Scope
	if sc == nil {
		return nil, &tresor.Error{Code: tresor.ECConflict,
			Message:   "The scope of this breach has not been counted; count it from the audit trail first.",
			MessageDE: "Der Umfang dieser Datenpanne ist noch nicht gezählt; zählen Sie ihn zuerst aus dem Audit-Protokoll."}
	}
	touched, err := r.AuditTouched(ctx, sc.Actor, "contact", sc.Since, sc.Until)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(touched))
	for _, t := range touched {
		if _, err := r.Contact(ctx, t.ObjectID); tresor.ErrorCode(err) == tresor.ECNotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, t.ObjectID)
	}
	e := g.entry(ctx, "breach.read", "breach", []string{id}, nil, nil)
	e.Detail = fmt.Sprintf("scope contacts listed: %d", len(ids))
	return ids, g.record(ctx, e)
}
