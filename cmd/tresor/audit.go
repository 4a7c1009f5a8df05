package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tresor"
	"tresor/gate"
)

// errTampered makes `tresor audit verify` exit 1 after its report.
var errTampered = errors.New("the audit trail is not intact")

func (m *Main) auditVerify(ctx context.Context, args []string) error {
	var cfg config
	var pubFile string
	fs := m.flags("audit verify", &cfg)
	fs.StringVar(&pubFile, "public-key", "", "file with the checkpoints' public key (default: this server's key)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	pub := ""
	if pubFile != "" {
		b, err := os.ReadFile(pubFile)
		if err != nil {
			return err
		}
		pub = string(b)
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		rep, err := g.VerifyAudit(ctx, pub)
		if err != nil {
			return err
		}
		from := "the first entry"
		if rep.PrunedUpto > 0 {
			from = fmt.Sprintf("the pruning up to entry %d", rep.PrunedUpto)
		}
		if rep.Problem != "" {
			fmt.Fprintf(m.Stdout, "TAMPERED: %s\n", rep.Problem)
			fmt.Fprintf(m.Stdout, "checked from %s: %d entries, %d signed checkpoints matched before it\n", from, rep.Entries, rep.Checkpoints)
			return errTampered
		}
		fmt.Fprintf(m.Stdout, "intact: %d entries (%d to %d) from %s; %d signed checkpoints matched (%d from the copy); the object index matches\n",
			rep.Entries, rep.From, rep.To, from, rep.Checkpoints, rep.Copies)
		return nil
	})
}

func (m *Main) auditProve(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("audit prove", &cfg)
	arg, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || seq < 1 {
		return m.missing("tresor audit prove needs the number of an entry (see tresor audit log)")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		p, err := g.ProveAudit(ctx, seq)
		if err != nil {
			return err
		}
		if err := gate.VerifyProof(p, g.AuditPublicKey()); err != nil {
			return fmt.Errorf("the proof does not verify: %w", err)
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*gate.AuditProof
			PublicKey string `json:"public_key"`
		}{p, g.AuditPublicKey()})
	})
}

func (m *Main) auditCheckpoint(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("audit checkpoint", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		cp, err := g.Checkpoint(ctx)
		if err != nil {
			return err
		}
		if cp == nil {
			fmt.Fprintln(m.Stdout, "the audit trail is empty: no checkpoint")
			return nil
		}
		fmt.Fprintf(m.Stdout, "checkpoint at size %d, signed by key %s\n", cp.Size, cp.KeyID)
		return nil
	})
}

func (m *Main) auditPublicKey(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("audit public-key", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		fmt.Fprintln(m.Stdout, g.AuditPublicKey())
		return nil
	})
}

// auditFilterFlags adds the filter flags of log and export.
func auditFilterFlags(fs interface {
	StringVar(*string, string, string, string)
}, f *auditFlags) {
	fs.StringVar(&f.contact, "contact", "", "entries that name this contact (who accessed it)")
	fs.StringVar(&f.actor, "actor", "", "entries of this actor: user:ID, token:ID or system (what did it access)")
	fs.StringVar(&f.action, "action", "", `an action ("contact.read"), or a prefix ending in "." ("contact.")`)
	fs.StringVar(&f.purpose, "purpose", "", "entries made for this purpose")
	fs.StringVar(&f.since, "since", "", "from this time (RFC 3339 or 2006-01-02)")
	fs.StringVar(&f.until, "until", "", "before this time (RFC 3339 or 2006-01-02)")
}

type auditFlags struct{ contact, actor, action, purpose, since, until string }

func parseWhen(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q is not a time such as 2026-11-28 or 2026-11-28T09:00:00Z", name, s)
}

func (f *auditFlags) filter() (tresor.AuditFilter, error) {
	out := tresor.AuditFilter{ContactID: f.contact, Actor: f.actor, Action: f.action, Purpose: f.purpose}
	var err error
	if out.Since, err = parseWhen(f.since, "since"); err != nil {
		return out, err
	}
	out.Until, err = parseWhen(f.until, "until")
	return out, err
}

func (m *Main) auditLog(ctx context.Context, args []string) error {
	var cfg config
	var af auditFlags
	var limit int
	var asJSON bool
	fs := m.flags("audit log", &cfg)
	auditFilterFlags(fs, &af)
	fs.IntVar(&limit, "limit", 50, "at most this many entries, newest first")
	fs.BoolVar(&asJSON, "json", false, "print JSON lines")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	f, err := af.filter()
	if err != nil {
		return err
	}
	f.Limit = min(max(limit, 1), tresor.MaxPageSize)
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		l, err := g.AuditLog(system(ctx), f)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(m.Stdout)
			for _, e := range l.Items {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tPURPOSE\tACTION\tDECISION\tOBJECTS")
		for _, e := range l.Items {
			decision := string(e.Decision)
			if e.Reason != "" {
				decision += " (" + e.Reason + ")"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format("2006-01-02 15:04:05"), e.Actor, e.Purpose,
				e.Action, decision, objectsOf(e.ObjectIDs))
		}
		return tw.Flush()
	})
}

func objectsOf(ids []string) string {
	switch len(ids) {
	case 0:
		return "-"
	case 1:
		return ids[0]
	}
	return fmt.Sprintf("%s and %d more", ids[0], len(ids)-1)
}

func (m *Main) auditExport(ctx context.Context, args []string) error {
	var cfg config
	var af auditFlags
	fs := m.flags("audit export", &cfg)
	auditFilterFlags(fs, &af)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	f, err := af.filter()
	if err != nil {
		return err
	}
	if f.Actor == "" || f.Since.IsZero() || f.Until.IsZero() {
		return m.missing("tresor audit export needs --actor, --since and --until")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		return g.AuditExport(dataProtection(ctx), f, m.Stdout)
	})
}

func (m *Main) auditPrune(ctx context.Context, args []string) error {
	var cfg config
	var keep time.Duration
	fs := m.flags("audit prune", &cfg)
	fs.DurationVar(&keep, "keep", 0, "remove entries older than this, e.g. 87600h (10 years); after a signed checkpoint")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if keep <= 0 {
		return m.missing("tresor audit prune needs --keep DURATION, e.g. 87600h")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		n, err := g.PruneAudit(system(ctx), time.Now().Add(-keep))
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "pruned %d audit entries older than %s; verification starts from the checkpoint at the last of them\n",
			n, time.Now().Add(-keep).Format(time.DateOnly))
		return nil
	})
}

// auditStream opens the destination of the entry stream: "file:PATH"
// (appended) or "syslog".
func auditStream(dest string) (io.Writer, func(), error) {
	switch {
	case dest == "":
		return nil, func() {}, nil
	case dest == "syslog":
		w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_AUTHPRIV, "tresor-audit")
		if err != nil {
			return nil, nil, fmt.Errorf("audit stream: %w", err)
		}
		return w, func() { w.Close() }, nil
	case strings.HasPrefix(dest, "file:"):
		f, err := os.OpenFile(strings.TrimPrefix(dest, "file:"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("audit stream: %w", err)
		}
		return f, func() { f.Close() }, nil
	}
	return nil, nil, fmt.Errorf("audit stream %q: use file:PATH or syslog", dest)
}
