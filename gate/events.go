package gate

import (
	"context"
	"log/slog"

	"tresor"
)

// Event is a change to users, roles, tokens, sessions or configuration, or a
// sign-in. It carries ids, never personal data. The audit trail (issue [5/6])
// records these; until then they go to the log.
type Event struct {
	Action string // e.g. "user.roles_changed"
	Target string // the id of the object acted on
	Detail string // a short, PII-free detail such as the new roles
}

// WithEventSink sets where events go (default: the structured log).
func WithEventSink(sink func(ctx context.Context, actor *tresor.Actor, e Event)) Option {
	return func(g *Gate) { g.events = sink }
}

// WithLogger sets the logger of the default event sink.
func WithLogger(l *slog.Logger) Option { return func(g *Gate) { g.log = l } }

func (g *Gate) event(ctx context.Context, action, target, detail string) {
	actor := tresor.ActorFrom(ctx)
	if g.events != nil {
		g.events(ctx, actor, Event{Action: action, Target: target, Detail: detail})
		return
	}
	level := slog.LevelInfo
	if action == "login.throttled" || action == "login.failed" {
		level = slog.LevelWarn
	}
	g.log.LogAttrs(ctx, level, "event", slog.String("action", action), slog.String("actor", actor.String()),
		slog.String("target", target), slog.String("detail", detail), slog.String("request_id", tresor.RequestIDFrom(ctx)))
}
