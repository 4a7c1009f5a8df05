package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/mail"
	"tresor/policy"
	"tresor/server"
)

// errUsage marks an error already explained by the flag package's usage text.
var errUsage = errors.New("usage")

// Main is the program: its configuration, its output streams and the parts it
// wires together. Tests run it in-process with a temporary data directory.
type Main struct {
	Stdin  io.Reader // answers to questions (the Mastodon authorization code)
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// OnListen, if set, is called with the address once the server listens.
	OnListen func(addr string)
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Run runs the command in args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stderr, usage())
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, rest := m.lookup(args)
	if c == nil {
		return errUsage
	}
	// -h prints a command's flags; it is a success, not an error.
	if err := c.run(m, ctx, rest); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// config is the typed configuration shared by the commands.
type config struct {
	dataDir   string
	db        string
	addr      string
	logLevel  string
	logFormat string
	publicURL string
	// trustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	trustedProxies string
	tlsCert        string
	tlsKey         string
	oidc           server.OIDCConfig
	roleMap        string
	policy         string
	smtpAddr       string
	smtpFrom       string
	mailRetryMax   time.Duration
	// where the key-encryption key comes from
	kekFile     string
	transitAddr string
	transitKey  string
	kek         datadir.KEKConfig
	retention   time.Duration
	// key backups: where, how long, sealed under their own keys
	keyBackupDir  string
	keyBackupKeep string
	keyBackupOff  bool // key backups unsealed
	auditStream   string
	auditClient   string
	auditKeep     time.Duration
	// how often the server publishes due posts and reads the inboxes, and
	// the purpose it reads them under
	socialEvery   time.Duration
	drain         time.Duration
	socialPurpose string
	// how often serve signs an audit checkpoint (the record states it)
	checkpointEvery time.Duration
	// how often a server that does not lead the periodic jobs tries to
	// take the lead, and the leader checks that it still holds it
	leaderEvery time.Duration
	// the time zone of the working day, and the hour of it the task
	// reminders go out (negative: never)
	timeZone     string
	reminderHour int
	// the mailbox inbound mail is read from (inbox.go)
	inbox inboxConfig
	// the controller file of the record of processing activities (record.go)
	controller string
}

// flags returns a flag set with the storage flags every command shares;
// defaults come from the environment.
func (m *Main) flags(name string, cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("tresor "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&cfg.dataDir, "data-dir", m.env("TRESOR_DATA_DIR", "./tresor-data"), "data directory (TRESOR_DATA_DIR)")
	fs.StringVar(&cfg.db, "db", m.env("TRESOR_DB", ""), "database: empty for SQLite in the data directory, or a postgres:// URL (TRESOR_DB, or TRESOR_DB_FILE naming a file that holds it)")
	fs.StringVar(&cfg.policy, "policy", m.env("TRESOR_POLICY_FILE", ""), "policy file (TRESOR_POLICY_FILE; default: the built-in policy, see tresor policy show)")
	m.kekFlags(fs, cfg)
	return fs
}

// envDuration reads a duration from the environment; a malformed value is
// reported when the flag set parses it again from the default.
func (m *Main) envDuration(key string, def time.Duration) time.Duration {
	if v := m.Getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		fmt.Fprintf(m.Stderr, "tresor: %s=%q is not a duration such as 24h; using %s\n", key, v, def)
	}
	return def
}

func (m *Main) env(key, def string) string {
	if v := m.Getenv(key); v != "" {
		return v
	}
	return def
}

// parse parses flags and resolves TRESOR_DB_FILE. After -h it returns
// flag.ErrHelp, which Run turns into success.
func (m *Main) parse(fs *flag.FlagSet, cfg *config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "tresor %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	if cfg.db == "" {
		var err error
		if cfg.db, err = m.secret("TRESOR_DB", strings.TrimSpace); err != nil {
			return err
		}
	}
	return nil
}

func (cfg *config) gateConfig(migrate bool) datadir.Config {
	c := datadir.Config{DataDir: cfg.dataDir, DB: cfg.db, Migrate: migrate, KEK: cfg.kek,
		KeyBackupDir: cfg.keyBackupDir, KeyBackupUnsealed: cfg.keyBackupOff}
	c.KeyBackupKeep, _ = parseKeep(cfg.keyBackupKeep)
	return c
}

// watchKeyBackups prunes the key backups with the retention run's rhythm,
// so that their keys are destroyed on time even when backups are rare.
func watchKeyBackups(ctx context.Context, log *slog.Logger, cfg datadir.Config, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if rep, err := datadir.PruneKeyBackups(cfg); err != nil {
			log.Error("prune key backups", "err", err)
		} else if len(rep.Removed) > 0 || rep.KeysDestroyed > 0 {
			log.Info("key backups pruned", "keep", rep.Keep.String(), "deleted", len(rep.Removed), "keys_destroyed", rep.KeysDestroyed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// keyBackupFlags are the settings of key backups.
func (m *Main) keyBackupFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.keyBackupDir, "key-backup-dir", m.env("TRESOR_KEY_BACKUP_DIR", ""), "directory of the key backups (TRESOR_KEY_BACKUP_DIR; default DATA_DIR/key-backups)")
	fs.StringVar(&cfg.keyBackupKeep, "key-backup-keep", m.env("TRESOR_KEY_BACKUP_KEEP", "35d"), "how long key backups and their keys are kept, e.g. 35d or 840h; after it, people erased before are gone from every backup (TRESOR_KEY_BACKUP_KEEP)")
	cfg.keyBackupOff = m.env("TRESOR_KEY_BACKUP_SEAL", "true") == "false"
	fs.BoolFunc("key-backup-seal", "true (default) or false: seal each key backup under a key of its own kept in DATA_DIR/keys and destroyed after the window, so that copies open no more (TRESOR_KEY_BACKUP_SEAL=false: key backups survive the loss of the key directory, copies must be deleted by whoever keeps them)", func(v string) error {
		b, err := strconv.ParseBool(v)
		cfg.keyBackupOff = !b
		return err
	})
}

// parseKeep reads the window of key backups: a duration (840h) or days (35d).
func parseKeep(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("key backup window %q: a number of days such as 35d, or a duration such as 840h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("key backup window %q: a number of days such as 35d, or a duration such as 840h", s)
	}
	return d, nil
}

// loadPolicy reads the configured policy file, or the built-in policy.
func (cfg *config) loadPolicy() (*policy.Policy, error) {
	if cfg.policy == "" {
		return policy.Default(), nil
	}
	return readPolicy(cfg.policy)
}

func readPolicy(path string) (*policy.Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// system is the context of the CLI's own actions: it runs on the server with
// access to the data directory, so it acts as Tresor itself. It is the
// break-glass path around the four-eyes rule, so its audit entries name the
// operating-system user and host that ran it.
func system(ctx context.Context) context.Context {
	return tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem, Operator: operator()})
}

// operator names the operating-system user and host of this process, and
// the user who called sudo, if any: "root@crm1 (sudo from kim)".
func operator() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	op := name + "@" + host
	if s := os.Getenv("SUDO_USER"); s != "" && s != name {
		op += " (sudo from " + s + ")"
	}
	return op
}

func (m *Main) logger(cfg *config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", cfg.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", cfg.logFormat)
}

func (m *Main) serve(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("serve", &cfg)
	fs.StringVar(&cfg.addr, "addr", m.env("TRESOR_ADDR", "127.0.0.1:8080"), "address to listen on (TRESOR_ADDR)")
	fs.StringVar(&cfg.logLevel, "log-level", m.env("TRESOR_LOG_LEVEL", "info"), "debug, info, warn or error (TRESOR_LOG_LEVEL)")
	fs.StringVar(&cfg.logFormat, "log-format", m.env("TRESOR_LOG_FORMAT", "text"), "text or json (TRESOR_LOG_FORMAT)")
	fs.StringVar(&cfg.publicURL, "public-url", m.env("TRESOR_PUBLIC_URL", ""), "the address people reach Tresor at, for links and the sign-on callback (TRESOR_PUBLIC_URL; default from --addr)")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxy", m.env("TRESOR_TRUSTED_PROXIES", ""), "reverse proxies, CIDR[,CIDR]: only a request from one of them is taken to come from the right-most untrusted address of its X-Forwarded-For, for the rate limits of sign-in and the request form (TRESOR_TRUSTED_PROXIES; default none: the peer is the client)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", m.env("TRESOR_TLS_CERT", ""), "PEM certificate file: serve HTTPS only (TRESOR_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", m.env("TRESOR_TLS_KEY", ""), "PEM key file of the certificate (TRESOR_TLS_KEY)")
	fs.StringVar(&cfg.oidc.Issuer, "oidc-issuer", m.env("TRESOR_OIDC_ISSUER", ""), "OpenID provider for single sign-on (TRESOR_OIDC_ISSUER)")
	fs.StringVar(&cfg.oidc.ClientID, "oidc-client-id", m.env("TRESOR_OIDC_CLIENT_ID", ""), "client id at the provider (TRESOR_OIDC_CLIENT_ID; the secret comes from TRESOR_OIDC_CLIENT_SECRET or TRESOR_OIDC_CLIENT_SECRET_FILE)")
	fs.StringVar(&cfg.oidc.RolesClaim, "oidc-roles-claim", m.env("TRESOR_OIDC_ROLES_CLAIM", "tresor_roles"), "claim that lists the Tresor roles (TRESOR_OIDC_ROLES_CLAIM)")
	fs.StringVar(&cfg.roleMap, "oidc-role-map", m.env("TRESOR_OIDC_ROLE_MAP", ""), "map claim values to roles, e.g. crm-sales=sales,crm-admins=admin (TRESOR_OIDC_ROLE_MAP)")
	fs.BoolVar(&cfg.oidc.TrustMFA, "oidc-trust-mfa", m.env("TRESOR_OIDC_TRUST_MFA", "") == "true", "accept the provider's second factor (amr claim) for roles that need one (TRESOR_OIDC_TRUST_MFA=true)")
	fs.StringVar(&cfg.smtpAddr, "smtp-addr", m.env("TRESOR_SMTP_ADDR", ""), "SMTP server host:port for consent confirmations and campaigns (TRESOR_SMTP_ADDR; user and password from TRESOR_SMTP_USERNAME and TRESOR_SMTP_PASSWORD or _FILE)")
	fs.StringVar(&cfg.smtpFrom, "smtp-from", m.env("TRESOR_SMTP_FROM", ""), "sender address of mail (TRESOR_SMTP_FROM)")
	fs.DurationVar(&cfg.mailRetryMax, "mail-retry-max", m.envDuration("TRESOR_MAIL_RETRY_MAX", 5*time.Minute), "longest wait between two attempts to send a queued mail while the mail server is away; the wait doubles from 2s up to this (TRESOR_MAIL_RETRY_MAX)")
	fs.StringVar(&cfg.auditStream, "audit-stream", m.env("TRESOR_AUDIT_STREAM", ""), "also send every audit entry as a JSON line to file:PATH or syslog, e.g. for a SIEM (TRESOR_AUDIT_STREAM)")
	fs.StringVar(&cfg.auditClient, "audit-client", m.env("TRESOR_AUDIT_CLIENT", "truncated"), "client addresses in the audit trail: full, truncated (IPv4 /24, IPv6 /48) or none (TRESOR_AUDIT_CLIENT)")
	fs.DurationVar(&cfg.auditKeep, "audit-retention", m.envDuration("TRESOR_AUDIT_RETENTION", 87600*time.Hour), "keep audit entries this long (default 10 years), then prune them after a signed checkpoint; 0 keeps them forever (TRESOR_AUDIT_RETENTION)")
	fs.DurationVar(&cfg.retention, "retention-interval", m.envDuration("TRESOR_RETENTION_INTERVAL", 24*time.Hour), "how often the retention policy runs inside the server; 0 turns it off (TRESOR_RETENTION_INTERVAL)")
	fs.DurationVar(&cfg.socialEvery, "social-interval", m.envDuration("TRESOR_SOCIAL_INTERVAL", time.Minute), "how often scheduled posts go out, the channels' inboxes are read and the listening topics' streams are kept running (and, with a mail server, hourly, Art. 14 notices due within 7 days are mailed); 0 turns this off (TRESOR_SOCIAL_INTERVAL)")
	fs.DurationVar(&cfg.leaderEvery, "leader-interval", m.envDuration("TRESOR_LEADER_INTERVAL", 10*time.Second), "with several servers on one PostgreSQL database, one leads and runs the periodic jobs (retention, audit checkpoints, the social loop, the mailbox, reminders): how often the others try to take the lead and the leader checks that it still holds it (TRESOR_LEADER_INTERVAL)")
	fs.DurationVar(&cfg.drain, "drain", m.envDuration("TRESOR_DRAIN", 0), "on SIGTERM or SIGINT, first answer /readyz with 503 for this long while still serving every request, so that a load balancer takes the server out before it stops (TRESOR_DRAIN; 0: stop at once)")
	fs.StringVar(&cfg.socialPurpose, "social-purpose", m.env("TRESOR_SOCIAL_PURPOSE", ""), "the purpose inboxes are read under (TRESOR_SOCIAL_PURPOSE; default: the policy's first purpose that answers people, service in the built-in policy)")
	fs.StringVar(&cfg.timeZone, "time-zone", m.env("TRESOR_TIME_ZONE", "Europe/Berlin"), "time zone of the working day: when a task is due or overdue and when reminders go out (TRESOR_TIME_ZONE)")
	fs.IntVar(&cfg.reminderHour, "reminder-hour", m.envInt("TRESOR_REMINDER_HOUR", 7), "hour of the day (in --time-zone) the daily task reminder mails and the DPO's reminders of request deadlines go out, with a mail server; -1 turns them off (TRESOR_REMINDER_HOUR)")
	m.inboxFlags(fs, &cfg)
	m.keyBackupFlags(fs, &cfg)
	m.recordFlags(fs, &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.timeZone)
	if err != nil {
		return fmt.Errorf("--time-zone %q: %w", cfg.timeZone, err)
	}
	if cfg.checkpointEvery <= 0 {
		return fmt.Errorf("--audit-checkpoint-interval %s: use a duration above 0, e.g. 1m", cfg.checkpointEvery)
	}
	if cfg.leaderEvery <= 0 {
		return fmt.Errorf("--leader-interval %s: use a duration above 0, e.g. 10s", cfg.leaderEvery)
	}
	if cfg.reminderHour > 23 {
		return fmt.Errorf("--reminder-hour %d: use an hour from 0 to 23, or -1 for none", cfg.reminderHour)
	}
	log, err := m.logger(&cfg)
	if err != nil {
		return err
	}
	opts, err := m.serverOptions(&cfg, log)
	if err != nil {
		return err
	}
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	records, err := m.recordMaker(&cfg, pol)
	if err != nil {
		return err
	}
	if _, err := parseKeep(cfg.keyBackupKeep); err != nil {
		return err
	}
	if !slices.Contains([]string{"full", "truncated", "none"}, cfg.auditClient) {
		return fmt.Errorf("--audit-client %q: use full, truncated or none", cfg.auditClient)
	}
	stream, closeStream, err := auditStream(cfg.auditStream)
	if err != nil {
		return err
	}
	defer closeStream()
	gopts := []gate.Option{gate.WithLogger(log), gate.WithPolicy(pol), gate.WithPublicURL(opts.PublicURL),
		gate.WithAuditClient(cfg.auditClient), gate.WithAuditStream(stream), gate.WithConnectors(connectors(log))}
	if cfg.socialPurpose == "" {
		if cfg.socialPurpose, err = replyPurpose(&cfg); err != nil {
			return err
		}
	} else if _, ok := pol.Purpose(cfg.socialPurpose); !ok {
		return fmt.Errorf("--social-purpose %q: the policy has no such purpose", cfg.socialPurpose)
	}
	if cfg.smtpAddr != "" {
		mailer, err := m.mailer(&cfg)
		if err != nil {
			return err
		}
		gopts = append(gopts, gate.WithMailer(mailer), gate.WithMailRetry(cfg.mailRetryMax))
	}
	if cfg.inbox.url != "" {
		box, err := m.inbox(&cfg)
		if err != nil {
			return err
		}
		gopts = append(gopts, gate.WithMailbox(box, cfg.inbox.keep))
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	g, err := datadir.Open(ctx, cfg.gateConfig(true), gopts...)
	if err != nil {
		return err
	}
	defer g.Close()
	release, err := datadir.Lock(cfg.gateConfig(true))
	if err != nil {
		return err
	}
	defer release()
	cur, _, err := g.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	log.Info("database ready", "backend", g.Backend(), "schema", cur)
	if n, err := g.CountUsers(system(ctx)); err != nil {
		return err
	} else if n == 0 {
		fmt.Fprintf(m.Stderr, `
Tresor has no users yet. In another shell, create the first administrator
and a user who works with contacts, then an API token:

  tresor user create --email admin@example.org --role admin
  tresor user create --email you@example.org --role sales
  tresor token create --email you@example.org

(with the same --data-dir / TRESOR_DATA_DIR or --db / TRESOR_DB as this server)

`)
	}
	opts.Purposes, opts.Catalogue, opts.TimeZone = g.PurposesOf, g.Catalogue(), loc
	opts.Record = records.source(g)
	srv := server.New(server.Services{Tasks: g, Merges: g, Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g, Mail: g}, opts)
	if err := srv.Open(cfg.addr); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	log.Info("listening", "url", scheme+"://"+srv.Addr(), "version", tresor.Version, "sso", cfg.oidc.Issuer != "")
	if m.OnListen != nil {
		m.OnListen(srv.Addr())
	}
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	// Every server keeps what it holds in memory current: its search index
	// (it follows the change feed of the others' writes) and the
	// key-encryption key (reloaded after a rotation).
	g.StartSearch(bg)
	go g.WatchKEK(bg, 30*time.Second)
	// The jobs on the shared data run once for all servers on the
	// database, on the one that leads (on SQLite, the only one).
	go g.LeadJobs(bg, cfg.leaderEvery, clusterJobs(g, &cfg, loc)...)
	// The key backups are files in this server's data directory: each
	// server prunes its own.
	if cfg.retention > 0 {
		go watchKeyBackups(bg, log, cfg.gateConfig(false), cfg.retention)
	}
	if cfg.smtpAddr != "" {
		// The outbox's sender, on every server: mail queued while the mail
		// server was away, or by another server on the database, goes out
		// from here; each mail is claimed by one sender.
		go g.WatchOutbox(bg, 30*time.Second)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if cfg.drain > 0 {
		// Not ready any more, but still serving: the load balancer's
		// health check sees the 503 and sends no new requests here.
		srv.Drain()
		log.Info("draining: /readyz answers 503 while requests are still served", "for", cfg.drain.String())
		select {
		case err := <-errc:
			return err
		case <-time.After(cfg.drain):
		}
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// clusterJobs are the periodic jobs of serve that act on the shared data
// and so run on the leading server only: the audit checkpoints and the
// purge of expired exports, the retention run (with the requests it closes
// and the audit pruning), the daily reminders, the mailbox, and the social
// loop (posts, inboxes, listening streams, Art. 14 notice mail).
func clusterJobs(g *gate.Gate, cfg *config, loc *time.Location) []func(context.Context) {
	jobs := []func(context.Context){func(ctx context.Context) { g.WatchAudit(ctx, cfg.checkpointEvery) }}
	if cfg.retention > 0 {
		jobs = append(jobs, func(ctx context.Context) { g.WatchRetention(ctx, cfg.retention, cfg.auditKeep) })
	}
	if cfg.smtpAddr != "" && cfg.reminderHour >= 0 {
		jobs = append(jobs, func(ctx context.Context) { g.WatchTaskReminders(ctx, loc, cfg.reminderHour, 5*time.Minute) },
			func(ctx context.Context) { g.WatchRequestReminders(ctx, loc, cfg.reminderHour, 5*time.Minute) })
	}
	if cfg.inbox.url != "" && cfg.inbox.every > 0 {
		jobs = append(jobs, func(ctx context.Context) { g.WatchMailbox(ctx, cfg.inbox.every, cfg.socialPurpose) })
	}
	if cfg.socialEvery > 0 {
		jobs = append(jobs, func(ctx context.Context) { g.WatchSocial(ctx, cfg.socialEvery, cfg.socialPurpose, cfg.smtpAddr != "") })
	}
	return jobs
}

// serverOptions checks the transport settings of serve.
func (m *Main) serverOptions(cfg *config, log *slog.Logger) (server.Options, error) {
	opts := server.Options{Log: log, TLSCert: cfg.tlsCert, TLSKey: cfg.tlsKey, PublicURL: cfg.publicURL}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return opts, errors.New("--tls-cert and --tls-key go together")
	}
	proxies, err := server.ParseTrustedProxies(cfg.trustedProxies)
	if err != nil {
		return opts, fmt.Errorf("--trusted-proxy: %w", err)
	}
	opts.TrustedProxies = proxies
	if opts.PublicURL == "" {
		scheme := "http"
		if cfg.tlsCert != "" {
			scheme = "https"
		}
		opts.PublicURL = scheme + "://" + cfg.addr
	}
	if cfg.oidc.Issuer == "" {
		return opts, nil
	}
	o := cfg.oidc
	secret, err := m.secret("TRESOR_OIDC_CLIENT_SECRET", strings.TrimSpace)
	if err != nil {
		return opts, err
	}
	o.ClientSecret = secret
	if o.ClientID == "" || o.ClientSecret == "" {
		return opts, errors.New("single sign-on needs --oidc-client-id and TRESOR_OIDC_CLIENT_SECRET (or _FILE)")
	}
	if cfg.roleMap != "" {
		o.RoleMap = map[string]tresor.Role{}
		for _, pair := range strings.Split(cfg.roleMap, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			rs, err := tresor.ParseRoles(v)
			if !ok || err != nil || len(rs) != 1 {
				return opts, fmt.Errorf("--oidc-role-map: %q is not VALUE=ROLE with a known role", pair)
			}
			o.RoleMap[k] = rs[0]
		}
	}
	opts.OIDC = &o
	return opts, nil
}

// mailer is the SMTP configuration of serve.
func (m *Main) mailer(cfg *config) (*mail.SMTP, error) {
	if cfg.smtpFrom == "" {
		return nil, errors.New("--smtp-addr needs --smtp-from (TRESOR_SMTP_FROM), the sender address")
	}
	password, err := m.secret("TRESOR_SMTP_PASSWORD", strings.TrimSpace)
	if err != nil {
		return nil, err
	}
	return &mail.SMTP{Addr: cfg.smtpAddr, From: cfg.smtpFrom, Username: m.Getenv("TRESOR_SMTP_USERNAME"), Password: password}, nil
}

// policyCmd prints or checks a policy file.
func (m *Main) policyShow(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("policy show", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if cfg.policy == "" {
		_, err := m.Stdout.Write(policy.DefaultYAML())
		return err
	}
	p, err := readPolicy(cfg.policy)
	if err != nil {
		return err
	}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(b)
	return err
}

func (m *Main) policyCheck(ctx context.Context, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(m.Stderr, "tresor policy check FILE")
		return errUsage
	}
	p, err := readPolicy(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "%s is a valid policy: %d purposes, %d roles with purposes.\n", args[0], len(p.Purposes), len(p.Roles))
	return nil
}

func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("migrate", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	mig, err := datadir.Migrate(ctx, cfg.gateConfig(true))
	if err != nil {
		return err
	}
	if mig.From == mig.To {
		fmt.Fprintf(m.Stderr, "The %s database is up to date (schema version %d).\n", mig.Backend, mig.To)
	} else {
		fmt.Fprintf(m.Stderr, "Migrated the %s database from schema version %d to %d.\n", mig.Backend, mig.From, mig.To)
	}
	return nil
}

func (m *Main) version(args []string) error {
	if len(args) > 0 {
		fmt.Fprintln(m.Stderr, "tresor version takes no arguments")
		return errUsage
	}
	fmt.Fprintf(m.Stdout, "tresor %s (%s, %s/%s)\n", tresor.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func (m *Main) userCreate(ctx context.Context, args []string) error {
	var cfg config
	var email, roles string
	fs := m.flags("user create", &cfg)
	fs.StringVar(&email, "email", "", "e-mail address of the user (required)")
	fs.StringVar(&roles, "role", "", "role, or several separated by commas: "+strings.Join(roleNames(), ", ")+" (required)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if email == "" || roles == "" {
		fmt.Fprintln(m.Stderr, "tresor user create: --email and --role are required")
		return errUsage
	}
	rs, err := tresor.ParseRoles(roles)
	if err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		u, password, err := g.CreateUser(system(ctx), email, rs)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "Created user %s (id %s) with the roles %s.\nThe password follows; it is shown only this once:\n", u.Email, u.ID, roles)
		fmt.Fprintln(m.Stdout, password)
		return nil
	})
}

// withGate opens the gate on the configured database (which must be migrated) for fn.
func (m *Main) withGate(ctx context.Context, cfg config, fn func(g *gate.Gate) error) error {
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	g, err := datadir.Open(ctx, cfg.gateConfig(false), gate.WithLogger(slog.New(slog.DiscardHandler)), gate.WithPolicy(pol))
	if err != nil {
		return err
	}
	defer g.Close()
	return fn(g)
}

func roleNames() []string {
	var out []string
	for _, r := range tresor.Roles() {
		out = append(out, string(r))
	}
	return out
}

func (m *Main) userList(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("user list", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tE-MAIL\tROLES\tSECOND FACTOR\tSTATE")
		p := tresor.Page{Limit: tresor.MaxPageSize}
		for {
			l, err := g.Users(system(ctx), p)
			if err != nil {
				return err
			}
			for _, u := range l.Items {
				mfa, state := "-", "active"
				if u.MFAEnabledAt != nil {
					mfa = "totp"
				}
				if u.ExternalSubject != "" {
					mfa += " (sso)"
				}
				if u.DisabledAt != nil {
					state = "disabled " + u.DisabledAt.Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, joinRoleList(u.Roles), mfa, state)
			}
			if l.Next == "" {
				return w.Flush()
			}
			if p.After, err = tresor.DecodeCursor(l.Next); err != nil {
				return err
			}
		}
	})
}

// userGrants lists grants of roles that reach personal data.
func (m *Main) userGrants(ctx context.Context, args []string) error {
	var cfg config
	var state string
	fs := m.flags("user grants", &cfg)
	fs.StringVar(&state, "state", "pending", "pending, approved, rejected, expired, withdrawn, or all")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if state == "all" {
		state = ""
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		gs, err := g.RoleGrants(system(ctx), tresor.GrantState(state))
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSER\tROLES\tSTATE\tASKED BY\tEXPIRES")
		for _, gr := range gs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", gr.ID, gr.UserID, joinRoleList(gr.Roles), gr.State, gr.RequestedBy,
				gr.ExpiresAt.Format(time.RFC3339))
		}
		return w.Flush()
	})
}

func (m *Main) userApprove(ctx context.Context, args []string) error {
	return m.decideGrant(ctx, args, true)
}
func (m *Main) userReject(ctx context.Context, args []string) error {
	return m.decideGrant(ctx, args, false)
}

// decideGrant approves or rejects a grant as the system: the break-glass
// path, audited with the operating-system user and host.
func (m *Main) decideGrant(ctx context.Context, args []string, approve bool) error {
	var cfg config
	var id string
	name := "user reject"
	if approve {
		name = "user approve"
	}
	fs := m.flags(name, &cfg)
	fs.StringVar(&id, "id", "", "the id of the grant (required)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" {
		fmt.Fprintf(m.Stderr, "tresor %s: --id is required\n", name)
		return errUsage
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		gr, err := g.DecideRoleGrant(system(ctx), id, approve)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "The grant of %s to user %s is %s.\n", joinRoleList(gr.Roles), gr.UserID, gr.State)
		return nil
	})
}

func joinRoleList(rs []tresor.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// userFlag is the common shape of the commands that act on one user.
func (m *Main) oneUser(name string, args []string, extra func(fs *flag.FlagSet)) (config, string, error) {
	var cfg config
	var email string
	fs := m.flags(name, &cfg)
	fs.StringVar(&email, "email", "", "e-mail address or id of the user (required)")
	if extra != nil {
		extra(fs)
	}
	if err := m.parse(fs, &cfg, args); err != nil {
		return cfg, "", err
	}
	if email == "" {
		fmt.Fprintf(m.Stderr, "tresor %s: --email is required\n", name)
		return cfg, "", errUsage
	}
	return cfg, email, nil
}

func (m *Main) userDisable(ctx context.Context, args []string) error {
	return m.setDisabled(ctx, args, true)
}
func (m *Main) userEnable(ctx context.Context, args []string) error {
	return m.setDisabled(ctx, args, false)
}

func (m *Main) setDisabled(ctx context.Context, args []string, disabled bool) error {
	name := "user enable"
	if disabled {
		name = "user disable"
	}
	cfg, email, err := m.oneUser(name, args, nil)
	if err != nil || email == "" {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		u, err := g.SetDisabled(system(ctx), email, disabled)
		if err != nil {
			return err
		}
		if disabled {
			fmt.Fprintf(m.Stderr, "Disabled %s: its sessions ended and its tokens stopped working.\n", u.Email)
		} else {
			fmt.Fprintf(m.Stderr, "Enabled %s.\n", u.Email)
		}
		return nil
	})
}

func (m *Main) userSetRoles(ctx context.Context, args []string) error {
	var roles string
	cfg, email, err := m.oneUser("user set-roles", args, func(fs *flag.FlagSet) {
		fs.StringVar(&roles, "role", "", "the new roles, separated by commas (required)")
	})
	if err != nil || email == "" {
		return err
	}
	rs, err := tresor.ParseRoles(roles)
	if err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		u, err := g.SetRoles(system(ctx), email, rs)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "%s now has the roles %s.\n", u.Email, joinRoleList(u.Roles))
		return nil
	})
}

func (m *Main) userResetPassword(ctx context.Context, args []string) error {
	var publicURL string
	cfg, email, err := m.oneUser("user reset-password", args, func(fs *flag.FlagSet) {
		fs.StringVar(&publicURL, "public-url", m.env("TRESOR_PUBLIC_URL", "http://127.0.0.1:8080"), "the address users reach Tresor at (TRESOR_PUBLIC_URL)")
	})
	if err != nil || email == "" {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		secret, expires, err := g.CreatePasswordReset(system(ctx), email)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "Send this one-time link to the user; it works once, until %s:\n", expires.Local().Format("2006-01-02 15:04 MST"))
		fmt.Fprintf(m.Stdout, "%s/reset-password?token=%s\n", strings.TrimRight(publicURL, "/"), secret)
		return nil
	})
}

func (m *Main) tokenCreate(ctx context.Context, args []string) error {
	var name, purposes string
	var ttl time.Duration
	cfg, email, err := m.oneUser("token create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "cli", "a name to recognise the token by")
		fs.StringVar(&purposes, "purpose", "", "the purposes the token may declare, separated by commas (default: all the user's roles allow)")
		fs.DurationVar(&ttl, "ttl", gate.DefaultTokenTTL, "lifetime of the token, at most 8784h (366 days)")
	})
	if err != nil || email == "" {
		return err
	}
	var ps []string
	for _, p := range strings.Split(purposes, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		t, secret, err := g.CreateToken(system(ctx), tresor.TokenRequest{UserEmail: email, Name: name, Purposes: ps, TTL: ttl})
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "Created token %q (id %s) for the purposes %s, valid until %s. Only its hash is stored; the token follows, shown only this once:\n",
			t.Name, t.ID, strings.Join(t.Purposes, ", "), t.ExpiresAt.Format(time.DateOnly))
		fmt.Fprintln(m.Stdout, secret)
		return nil
	})
}

func (m *Main) tokenList(ctx context.Context, args []string) error {
	cfg, email, err := m.oneUser("token list", args, nil)
	if err != nil || email == "" {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		ts, err := g.Tokens(system(ctx), email)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tPURPOSES\tEXPIRES\tLAST USED\tSTATE")
		for _, t := range ts {
			last, state := "never", "active"
			if t.LastUsedAt != nil {
				last = t.LastUsedAt.Format(time.DateTime)
			}
			if t.RevokedAt != nil {
				state = "revoked"
			} else if t.ExpiresAt != nil && time.Now().After(*t.ExpiresAt) {
				state = "expired"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Purposes, ","), t.ExpiresAt.Format(time.DateOnly), last, state)
		}
		return w.Flush()
	})
}

func (m *Main) tokenRevoke(ctx context.Context, args []string) error {
	var cfg config
	var id string
	fs := m.flags("token revoke", &cfg)
	fs.StringVar(&id, "id", "", "id of the token (required; see tresor token list)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" {
		fmt.Fprintln(m.Stderr, "tresor token revoke: --id is required")
		return errUsage
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		if err := g.RevokeToken(system(ctx), id); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "Revoked token %s.\n", id)
		return nil
	})
}

// secret returns the environment variable name or, when it is empty, the
// content of the file that name_FILE names, through trim; "" when neither
// is set.
func (m *Main) secret(name string, trim func(string) string) (string, error) {
	if v := m.Getenv(name); v != "" {
		return v, nil
	}
	f := m.Getenv(name + "_FILE")
	if f == "" {
		return "", nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return trim(string(b)), nil
}
