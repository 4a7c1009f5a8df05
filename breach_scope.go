package tresor

import "context"

// BreachScopeLister lists the contacts a breach's counted scope concerns,
// so the notice to the people can go to them without anyone copying ids.
type BreachScopeLister interface {
	// BreachScopeContacts returns the ids of the contacts the scope's
	// actor touched in the scope's window and that still exist.
	BreachScopeContacts(ctx context.Context, id string) ([]string, error)
}
