package gate

import (
	"context"
	"time"

	"tresor"
)

// The watchers are the server's background work on the gate; each returns
// when ctx ends. `tresor serve` starts them beside its HTTP server.

// WatchKEK reloads the key-encryption key when a rotation (by `tresor keys
// rotate`, beside this server) registered a newer version, so that new data
// keys are wrapped under it.
func (g *Gate) WatchKEK(ctx context.Context, every time.Duration) {
	ticking(ctx, every, func() {
		known, err := g.store.Read().KEKVersions(ctx)
		if err != nil {
			return
		}
		for _, k := range known {
			if k.Version > g.keys.KEK.Current() {
				if err := g.keys.KEK.Reload(ctx); err != nil {
					g.log.Error("reload the key-encryption key", "error", err)
				} else {
					g.log.Info("key-encryption key reloaded", "version", g.keys.KEK.Current())
				}
				return
			}
		}
	})
}

// WatchAudit writes a checkpoint every interval (if entries came) and
// deletes the exports for requests of access whose link expired.
func (g *Gate) WatchAudit(ctx context.Context, every time.Duration) {
	ticking(ctx, every, func() {
		if !g.turn(ctx, "audit checkpoint") {
			return
		}
		if _, err := g.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("audit checkpoint", "error", err)
		}
		if _, err := g.PurgeSubjectExports(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("purge expired subject exports", "error", err)
		}
	})
}

// WatchRetention runs the retention policy once per interval: it checks
// hourly (or every interval, if shorter) whether a run is due by the time
// of the last run in the database, so that a restart or a new leader does
// not skip a day nor run it twice. After each run it prunes
// the audit entries older than auditKeep (0 keeps them).
func (g *Gate) WatchRetention(ctx context.Context, interval, auditKeep time.Duration) {
	check := min(time.Hour, interval)
	t := time.NewTimer(min(time.Minute, interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(check)
		if !g.turn(ctx, "retention") {
			continue
		}
		due, err := g.RetentionDue(ctx, interval)
		if err != nil || !due {
			continue
		}
		rep, err := g.RunRetention(dataProtection(ctx), false)
		if err != nil {
			g.log.Error("retention run failed", "error", err)
			continue
		}
		g.log.Info("retention run", "id", rep.ID, "checked", rep.Checked, "erased", len(rep.Erased),
			"stripped", len(rep.Stripped), "records_expired", rep.RecordsExpired, "held", len(rep.Held), "errors", len(rep.Errors))
		if auditKeep > 0 {
			if n, err := g.PruneAudit(asSystem(ctx), time.Now().Add(-auditKeep)); err != nil {
				g.log.Error("audit pruning failed", "error", err)
			} else if n > 0 {
				g.log.Info("audit entries pruned", "entries", n)
			}
		}
	}
}

// NoticeLead is how long before its deadline the server mails an open
// Art. 14 notice: the time left to inform the person another way first.
const NoticeLead = 7 * 24 * time.Hour

// WatchSocial publishes the posts whose time has come and reads the inboxes
// of all channels under purpose ("" reads none), every interval; with mail,
// it sends, hourly, the Art. 14 notices whose deadline is less than
// NoticeLead away. It keeps the streams of the listening topics running.
func (g *Gate) WatchSocial(ctx context.Context, interval time.Duration, purpose string, mail bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sys := asSystem(ctx)
	var noticesAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !g.turn(ctx, "social") {
			continue
		}
		if mail && time.Since(noticesAt) >= time.Hour {
			noticesAt = time.Now()
			sent, other, err := g.SendNotices(dataProtection(ctx), time.Now().Add(NoticeLead))
			switch {
			case err != nil:
				g.log.Error("sending Art. 14 notices failed", "error", err)
			case sent > 0 || other > 0:
				g.log.Info("Art. 14 notices sent", "sent", sent, "without_email", other)
			}
			if other > 0 {
				g.log.Warn("people without an e-mail address need their Art. 14 notice another way; see tresor notices list", "open", other)
			}
		}
		if n, err := g.PublishDue(sys); err != nil {
			g.log.Error("publishing scheduled posts failed", "error", err)
		} else if n > 0 {
			g.log.Info("scheduled posts published", "posts", n)
		}
		if err := g.SyncListening(sys); err != nil {
			g.log.Error("social listening failed", "error", err)
		}
		if purpose == "" {
			continue
		}
		chans, err := g.Channels(sys)
		if err != nil {
			g.log.Error("listing channels failed", "error", err)
			continue
		}
		for _, ch := range chans {
			rep, err := g.PollInbox(tresor.WithPurpose(sys, purpose), ch.ID)
			if err != nil {
				g.log.Warn("reading a channel's inbox failed", "channel", ch.ID, "network", ch.Network, "error", err)
				continue
			}
			if rep.Read > 0 {
				g.log.Info("inbox read", "channel", ch.ID, "read", rep.Read, "interactions", rep.Interactions, "cases", rep.Cases)
			}
		}
	}
}

// asSystem is the context of the watchers' own actions: Tresor itself.
func asSystem(ctx context.Context) context.Context {
	return tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
}

// dataProtection is the context of the scheduled data-protection duties:
// the system, declaring the purpose of the built-in policy that sees
// restricted contacts (as the CLI's commands do).
func dataProtection(ctx context.Context) context.Context {
	return tresor.WithPurpose(asSystem(ctx), "data_protection")
}

// ticking calls fn every interval until ctx ends.
func ticking(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
