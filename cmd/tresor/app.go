package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"tresor"
	"tresor/gate"
	"tresor/server"
)

// errUsage marks an error already explained by the flag package's usage text.
var errUsage = errors.New("usage")

// Main is the program: its configuration, its output streams and the parts it
// wires together. Tests run it in-process with a temporary data directory.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// OnListen, if set, is called with the address once the server listens.
	OnListen func(addr string)
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

const usage = `Tresor — the privacy-by-design social CRM.

Usage:
  tresor serve                             start the server; migrates the database forward
  tresor migrate                           apply database migrations
  tresor version                           print the version
  tresor user create --email E --role R    create a user; prints a generated password once
  tresor token create --email E            create an API token; prints only the token on stdout

Run "tresor COMMAND -h" for the flags of a command. Every flag has a TRESOR_*
environment variable; secrets may also come from a file named by *_FILE.
`

// Run runs the command in args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stderr, usage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "migrate":
		return m.migrate(ctx, rest)
	case "version":
		return m.version(rest)
	case "user":
		return m.sub(ctx, "user", rest, map[string]func(context.Context, []string) error{"create": m.userCreate})
	case "token":
		return m.sub(ctx, "token", rest, map[string]func(context.Context, []string) error{"create": m.tokenCreate})
	default:
		fmt.Fprintf(m.Stderr, "tresor: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}

func (m *Main) sub(ctx context.Context, name string, args []string, cmds map[string]func(context.Context, []string) error) error {
	if len(args) > 0 {
		if f, ok := cmds[args[0]]; ok {
			return f(ctx, args[1:])
		}
	}
	fmt.Fprintf(m.Stderr, "tresor: %s needs a subcommand\n\n%s", name, usage)
	return errUsage
}

// config is the typed configuration shared by the commands.
type config struct {
	dataDir   string
	db        string
	addr      string
	logLevel  string
	logFormat string
}

// flags returns a flag set with the storage flags every command shares;
// defaults come from the environment.
func (m *Main) flags(name string, cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("tresor "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&cfg.dataDir, "data-dir", m.env("TRESOR_DATA_DIR", "./tresor-data"), "data directory (TRESOR_DATA_DIR)")
	fs.StringVar(&cfg.db, "db", m.env("TRESOR_DB", ""), "database: empty for SQLite in the data directory, or a postgres:// URL (TRESOR_DB, or TRESOR_DB_FILE naming a file that holds it)")
	return fs
}

func (m *Main) env(key, def string) string {
	if v := m.Getenv(key); v != "" {
		return v
	}
	return def
}

// parse parses flags and resolves TRESOR_DB_FILE.
func (m *Main) parse(fs *flag.FlagSet, cfg *config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "tresor %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	if cfg.db == "" {
		if f := m.Getenv("TRESOR_DB_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("TRESOR_DB_FILE: %w", err)
			}
			cfg.db = strings.TrimSpace(string(b))
		}
	}
	return nil
}

func (cfg *config) gateConfig(migrate bool) gate.Config {
	return gate.Config{DataDir: cfg.dataDir, DB: cfg.db, Migrate: migrate}
}

// system is the context of the CLI's own actions: it runs on the server with
// access to the data directory, so it acts as Tresor itself.
func system(ctx context.Context) context.Context {
	return tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
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
	if err := m.parse(fs, &cfg, args); err != nil || helpAsked(args) {
		return err
	}
	log, err := m.logger(&cfg)
	if err != nil {
		return err
	}
	g, err := gate.Open(ctx, cfg.gateConfig(true))
	if err != nil {
		return err
	}
	defer g.Close()
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
	srv := server.New(server.Services{Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Auth: g, Health: g}, log)
	if err := srv.Open(cfg.addr); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	log.Info("listening", "url", "http://"+srv.Addr(), "version", tresor.Version)
	if m.OnListen != nil {
		m.OnListen(srv.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
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
	if err := m.parse(fs, &cfg, args); err != nil || helpAsked(args) {
		return err
	}
	store, err := gate.OpenStore(ctx, cfg.gateConfig(true))
	if err != nil {
		return err
	}
	defer store.Close()
	from, to, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if from == to {
		fmt.Fprintf(m.Stderr, "The %s database is up to date (schema version %d).\n", store.Backend(), to)
	} else {
		fmt.Fprintf(m.Stderr, "Migrated the %s database from schema version %d to %d.\n", store.Backend(), from, to)
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
	if err := m.parse(fs, &cfg, args); err != nil || helpAsked(args) {
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
	g, err := gate.Open(ctx, cfg.gateConfig(false))
	if err != nil {
		return err
	}
	defer g.Close()
	u, password, err := g.CreateUser(system(ctx), email, rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Created user %s (id %s) with the roles %s.\nThe password follows; it is shown only this once:\n", u.Email, u.ID, roles)
	fmt.Fprintln(m.Stdout, password)
	return nil
}

func roleNames() []string {
	var out []string
	for _, r := range tresor.Roles() {
		out = append(out, string(r))
	}
	return out
}

func (m *Main) tokenCreate(ctx context.Context, args []string) error {
	var cfg config
	var email, name string
	var ttl time.Duration
	fs := m.flags("token create", &cfg)
	fs.StringVar(&email, "email", "", "e-mail address of the user the token acts for (required)")
	fs.StringVar(&name, "name", "cli", "a name to recognise the token by")
	fs.DurationVar(&ttl, "ttl", gate.DefaultTokenTTL, "lifetime of the token, at most 8784h (366 days)")
	if err := m.parse(fs, &cfg, args); err != nil || helpAsked(args) {
		return err
	}
	if email == "" {
		fmt.Fprintln(m.Stderr, "tresor token create: --email is required")
		return errUsage
	}
	g, err := gate.Open(ctx, cfg.gateConfig(false))
	if err != nil {
		return err
	}
	defer g.Close()
	t, secret, err := g.CreateToken(system(ctx), email, name, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Created token %q (id %s), valid until %s. Only its hash is stored; the token follows, shown only this once:\n",
		t.Name, t.ID, t.ExpiresAt.Format(time.DateOnly))
	fmt.Fprintln(m.Stdout, secret)
	return nil
}
