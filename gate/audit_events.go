package gate

import (
	"context"
	"log/slog"
	"strings"

	"tresor"
)

// Event is a change to users, roles, tokens, sessions or configuration, or a
// sign-in. It carries ids, never personal data. The audit trail records
// every event; it also goes to the event sink, by default the log.
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
	g.recordBestEffort(ctx, g.eventEntry(ctx, action, target, detail))
	g.logEvent(ctx, action, target, detail)
}

// eventIn records an event inside the transaction of its change.
func (g *Gate) eventIn(ctx context.Context, tx tresor.AuditWriter, action, target, detail string) error {
	if err := g.appendTx(ctx, tx, []*tresor.AuditEntry{g.eventEntry(ctx, action, target, detail)}); err != nil {
		return err
	}
	g.logEvent(ctx, action, target, detail)
	return nil
}

func (g *Gate) eventEntry(ctx context.Context, action, target, detail string) *tresor.AuditEntry {
	var ids []string
	if target != "" {
		ids = []string{target}
	}
	e := g.entry(ctx, action, eventObject(action), ids, nil, nil)
	e.Detail = detail
	switch action {
	case "login.failed":
		e.Decision, e.Reason = tresor.Refused, string(tresor.ECLoginFailed)
	case "login.throttled":
		e.Decision, e.Reason = tresor.Refused, string(tresor.ECThrottled)
	}
	return e
}

// logEvent hands the event to the sink, or to the log.
func (g *Gate) logEvent(ctx context.Context, action, target, detail string) {
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

// eventObject is the type of object an event's target is: the part of its
// action before the dot ("user.created" → "user").
func eventObject(action string) string {
	if i := strings.IndexByte(action, '.'); i > 0 {
		switch o := action[:i]; o {
		case "login", "logout", "mfa", "password":
			return "user"
		default:
			return o
		}
	}
	return ""
}
