package tresor

import "context"

type ctxKey int

const (
	actorKey ctxKey = iota
	purposeKey
	requestIDKey
	clientKey
)

// WithActor returns a context carrying the authenticated actor.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor in ctx, or nil for an unauthenticated context.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey).(*Actor)
	return a
}

// WithPurpose returns a context carrying the purpose the caller declared for
// this request (header Tresor-Purpose).
func WithPurpose(ctx context.Context, purpose string) context.Context {
	return context.WithValue(ctx, purposeKey, purpose)
}

// PurposeFrom returns the declared purpose in ctx, or "".
func PurposeFrom(ctx context.Context) string {
	p, _ := ctx.Value(purposeKey).(string)
	return p
}

// WithClient returns a context carrying the network address of the client
// (host:port or host), for the audit trail.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey, addr)
}

// ClientFrom returns the client address in ctx, or "".
func ClientFrom(ctx context.Context) string {
	a, _ := ctx.Value(clientKey).(string)
	return a
}

// WithRequestID returns a context carrying the id of the request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
