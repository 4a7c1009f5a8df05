package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"tresor"
	"tresor/gate"
	"tresor/policy"
	"tresor/server"
)

// recordFlags are the settings the record states that serve and
// `tresor policy record` share, so both read them from the same flags and
// environment.
func (m *Main) recordFlags(fs *flag.FlagSet, cfg *config) {
	fs.DurationVar(&cfg.checkpointEvery, "audit-checkpoint-interval", m.envDuration("TRESOR_AUDIT_CHECKPOINT_INTERVAL", time.Minute), "how often the server signs an audit checkpoint, if entries came; the record of processing activities states it (TRESOR_AUDIT_CHECKPOINT_INTERVAL)")
	fs.StringVar(&cfg.controller, "controller", m.env("TRESOR_CONTROLLER_FILE", ""), "controller file: who the controller and the DPO are, recipients, third-country transfers per connector — the record of processing activities needs it (TRESOR_CONTROLLER_FILE; see docs/record.md)")
}

// readController reads and checks the controller file against the policy.
func readController(path string, p *policy.Policy) (*policy.Controller, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	c, err := policy.ParseController(b, p)
	if err != nil {
		return nil, fmt.Errorf("controller %s: %w", path, err)
	}
	return c, nil
}

// recordSettings states the settings of cfg as the record describes them.
func (m *Main) recordSettings(cfg *config) (policy.Settings, error) {
	s := policy.Settings{KEK: policy.KEKFile, RetentionRun: cfg.retention, AuditKeep: cfg.auditKeep, AuditClient: cfg.auditClient,
		Checkpoints: cfg.checkpointEvery, TLS: cfg.tlsCert != "", SSO: cfg.oidc.Issuer != "", SSOTrustsMFA: cfg.oidc.TrustMFA}
	switch {
	case cfg.transitAddr != "":
		s.KEK, s.TransitKey = policy.KEKTransit, cfg.transitKey
	case m.Getenv("TRESOR_KEK") != "":
		s.KEK = policy.KEKEnv
	}
	switch {
	case cfg.auditStream == "syslog":
		s.AuditStream = "syslog"
	case strings.HasPrefix(cfg.auditStream, "file:"):
		s.AuditStream = "file"
	}
	recipients, err := m.backupRecipients()
	if err != nil {
		return s, err
	}
	s.BackupTo = recipients
	if host := hostOf(cfg.smtpAddr); host != "" {
		s.InUse = append(s.InUse, policy.Connector{Kind: "mail", Endpoint: host})
	}
	if u, err := url.Parse(cfg.inbox.url); err == nil && u.Hostname() != "" {
		s.InUse = append(s.InUse, policy.Connector{Kind: "mail", Endpoint: u.Hostname()})
	}
	return s, nil
}

// backupRecipients are the age recipients of TRESOR_BACKUP_RECIPIENTS, the
// setting `tresor backup create` encrypts to: keys, or files of them.
func (m *Main) backupRecipients() ([]string, error) {
	var out []string
	for _, r := range strings.Split(m.Getenv("TRESOR_BACKUP_RECIPIENTS"), ",") {
		r = strings.TrimSpace(r)
		switch {
		case r == "":
		case strings.HasPrefix(r, "age1"):
			out = append(out, r)
		default:
			b, err := os.ReadFile(r)
			if err != nil {
				return nil, fmt.Errorf("TRESOR_BACKUP_RECIPIENTS: %w", err)
			}
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "age1") {
					out = append(out, l)
				}
			}
		}
	}
	return out, nil
}

func hostOf(addr string) string {
	if addr == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// channelConnectors are the company's channels as connectors: the server of
// a Mastodon account, the handle of a Bluesky one.
func channelConnectors(ctx context.Context, g *gate.Gate) ([]policy.Connector, error) {
	chs, err := g.Channels(system(ctx))
	if err != nil {
		return nil, err
	}
	var out []policy.Connector
	for _, ch := range chs {
		end := strings.TrimPrefix(ch.Account, "@")
		if i := strings.LastIndexByte(end, '@'); i >= 0 {
			end = end[i+1:]
		}
		out = append(out, policy.Connector{Kind: ch.Network, Endpoint: strings.ToLower(end)})
	}
	return out, nil
}

// recordMaker holds what the record is made of but the channels, checked
// before the server opens its database.
type recordMaker struct {
	pol      *policy.Policy
	ctl      *policy.Controller
	settings policy.Settings
}

// recordMaker reads the controller file; nil when none is configured.
func (m *Main) recordMaker(cfg *config, pol *policy.Policy) (*recordMaker, error) {
	if cfg.controller == "" {
		return nil, nil
	}
	ctl, err := readController(cfg.controller, pol)
	if err != nil {
		return nil, err
	}
	s, err := m.recordSettings(cfg)
	if err != nil {
		return nil, err
	}
	return &recordMaker{pol, ctl, s}, nil
}

// source is the record of serve: built on each request, so a channel added
// since shows at once. Nil without a controller file.
func (rm *recordMaker) source(g *gate.Gate) server.RecordSource {
	if rm == nil {
		return nil
	}
	return func(ctx context.Context, lang string) (*tresor.ProcessingRecord, error) {
		st := rm.settings
		chs, err := channelConnectors(ctx, g)
		if err != nil {
			return nil, err
		}
		st.InUse = append(chs, st.InUse...)
		st.GeneratedAt = time.Now().UTC().Truncate(time.Second)
		return rm.pol.Record(rm.ctl, st, lang), nil
	}
}

// policyRecord prints the record of processing activities.
func (m *Main) policyRecord(ctx context.Context, args []string) error {
	var cfg config
	var format, lang string
	fs := m.flags("policy record", &cfg)
	m.recordFlags(fs, &cfg)
	fs.StringVar(&format, "format", "md", "md, html or json")
	fs.StringVar(&lang, "lang", "de", "de or en")
	// The settings serve runs with, from the same environment.
	fs.DurationVar(&cfg.retention, "retention-interval", m.envDuration("TRESOR_RETENTION_INTERVAL", 24*time.Hour), "how often the server runs retention (TRESOR_RETENTION_INTERVAL)")
	fs.DurationVar(&cfg.auditKeep, "audit-retention", m.envDuration("TRESOR_AUDIT_RETENTION", 87600*time.Hour), "how long audit entries are kept (TRESOR_AUDIT_RETENTION)")
	fs.StringVar(&cfg.auditClient, "audit-client", m.env("TRESOR_AUDIT_CLIENT", "truncated"), "client addresses in the audit trail (TRESOR_AUDIT_CLIENT)")
	fs.StringVar(&cfg.auditStream, "audit-stream", m.env("TRESOR_AUDIT_STREAM", ""), "the audit stream (TRESOR_AUDIT_STREAM)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if format != "md" && format != "html" && format != "json" {
		return fmt.Errorf("--format %q: use md, html or json", format)
	}
	if lang != "de" && lang != "en" {
		return fmt.Errorf("--lang %q: use de or en", lang)
	}
	if cfg.controller == "" {
		return errors.New("the record needs the controller's data: --controller FILE (TRESOR_CONTROLLER_FILE); see docs/record.md")
	}
	cfg.tlsCert, cfg.smtpAddr, cfg.inbox.url = m.Getenv("TRESOR_TLS_CERT"), m.Getenv("TRESOR_SMTP_ADDR"), m.Getenv("TRESOR_INBOX_URL")
	cfg.oidc.Issuer, cfg.oidc.TrustMFA = m.Getenv("TRESOR_OIDC_ISSUER"), m.Getenv("TRESOR_OIDC_TRUST_MFA") == "true"
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	rm, err := m.recordMaker(&cfg, pol)
	if err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		rec, err := rm.source(g)(ctx, lang)
		if err != nil {
			return err
		}
		switch format {
		case "json":
			enc := json.NewEncoder(m.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rec)
		case "html":
			return server.WriteRecordHTML(m.Stdout, rec)
		}
		return server.WriteRecordMarkdown(m.Stdout, rec)
	})
}

// policyDiff says what a new policy file would change before it takes
// effect, and for a shorter period whom the next retention run would erase.
func (m *Main) policyDiff(ctx context.Context, args []string) error {
	var cfg config
	var format string
	fs := m.flags("policy diff", &cfg)
	fs.StringVar(&format, "format", "text", "text or json")
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor policy diff needs the NEW.yaml to compare")
	}
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: use text or json", format)
	}
	next, err := readPolicy(file)
	if err != nil {
		return err
	}
	cur, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	out := struct {
		*policy.Diff
		// The next retention run under each policy, counted from the data.
		Now  *retentionCount `json:"retention_now,omitempty"`
		Then *retentionCount `json:"retention_then,omitempty"`
	}{Diff: policy.DiffPolicies(cur, next)}
	// count asks the data what the next retention run would do under each
	// policy; nothing is changed.
	count := func() error {
		if !out.Shortens() {
			return nil
		}
		return m.withGate(ctx, cfg, func(g *gate.Gate) error {
			for _, x := range []struct {
				p   *policy.Policy
				dst **retentionCount
			}{{cur, &out.Now}, {next, &out.Then}} {
				rep, err := g.PreviewRetention(dataProtection(ctx), x.p)
				if err != nil {
					return err
				}
				*x.dst = &retentionCount{Erase: len(rep.Erased), Strip: len(rep.Stripped), Held: len(rep.Held), Checked: rep.Checked}
			}
			return nil
		})
	}
	if format == "json" {
		if err := count(); err != nil {
			return err
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	d := out.Diff
	if d.Empty() {
		fmt.Fprintln(m.Stdout, "No change to purposes, categories, legal bases or retention periods.")
		return nil
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	for _, id := range d.Added {
		fmt.Fprintf(w, "purpose added:\t%s\n", id)
	}
	for _, id := range d.Removed {
		fmt.Fprintf(w, "purpose removed:\t%s (its data is kept until a policy names a period for it)\n", id)
	}
	for _, c := range d.Categories {
		if len(c.Gained) > 0 {
			fmt.Fprintf(w, "%s gains:\t%s\n", c.Purpose, joinCats(c.Gained))
		}
		if len(c.Lost) > 0 {
			fmt.Fprintf(w, "%s loses:\t%s (no longer shown or stored for it)\n", c.Purpose, joinCats(c.Lost))
		}
	}
	for _, b := range d.LegalBases {
		fmt.Fprintf(w, "%s legal bases:\t%s → %s\n", b.Purpose, joinBasisList(b.Old), joinBasisList(b.New))
	}
	for _, r := range d.Retention {
		what, verb := r.Purpose, "lengthened"
		if r.Category != "" {
			what += " " + string(r.Category)
		}
		if r.Shortened() {
			verb = "shortened"
		}
		fmt.Fprintf(w, "%s retention %s:\t%d → %d days\n", what, verb, r.OldDays, r.NewDays)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// The changes are printed first: when the data cannot be read, the
	// reader still learns what the file changes.
	if err := count(); err != nil {
		return fmt.Errorf("counting whom the shorter period would erase: %w", err)
	}
	if out.Then != nil {
		fmt.Fprintf(m.Stdout, "\nThe next retention run under the new policy would erase %d and strip data from %d of %d people (under the current policy: erase %d, strip %d); legal holds keep %d. Nothing was changed.\n",
			out.Then.Erase, out.Then.Strip, out.Then.Checked, out.Now.Erase, out.Now.Strip, out.Then.Held)
	}
	return nil
}

// retentionCount is what a retention run would do, in numbers of people.
type retentionCount struct {
	Erase   int `json:"erase"`
	Strip   int `json:"strip"`
	Held    int `json:"held"`
	Checked int `json:"checked"`
}

func joinCats(cs []tresor.Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func joinBasisList(bs []tresor.LegalBasis) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}
