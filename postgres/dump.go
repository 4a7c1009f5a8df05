package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"tresor"
	"tresor/sqlstore"
)

// Backups of PostgreSQL are pg_dump archives (custom format), taken online
// in one snapshot transaction, and restored with pg_restore. Both programs
// come with the PostgreSQL client packages (Debian: postgresql-client); they
// must match the server's major version or be newer.

// target is how the client programs reach the database: libpq environment
// variables (so that no password appears on a command line) and the schema
// Tresor's tables live in, when the URL names one (search_path).
type target struct {
	env    []string
	schema string
	dbname string
}

func targetOf(rawURL string) (target, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return target{}, fmt.Errorf("postgres: the database URL is invalid: %w", redact(err))
	}
	t := target{dbname: cfg.Database, schema: cfg.RuntimeParams["search_path"]}
	t.env = append(os.Environ(), "PGHOST="+cfg.Host, "PGPORT="+strconv.Itoa(int(cfg.Port)), "PGUSER="+cfg.User,
		"PGDATABASE="+cfg.Database)
	if cfg.Password != "" {
		t.env = append(t.env, "PGPASSWORD="+cfg.Password)
	}
	if u, err := url.Parse(rawURL); err == nil {
		if mode := u.Query().Get("sslmode"); mode != "" {
			t.env = append(t.env, "PGSSLMODE="+mode)
		}
	}
	return t, nil
}

// tool finds a client program, with a message that says how to get it.
func tool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("postgres: %s is not installed; backups of PostgreSQL need the PostgreSQL client programs "+
			"(Debian and Ubuntu: apt-get install postgresql-client)", name)
	}
	return p, nil
}

func run(ctx context.Context, t target, stdin io.Reader, stdout io.Writer, name string, args ...string) error {
	path, err := tool(name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env, cmd.Stdin, cmd.Stdout = t.env, stdin, stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		return fmt.Errorf("postgres: %s: %w: %s", name, err, msg)
	}
	return nil
}

// dump writes a pg_dump archive of the database (or of its schema) to w;
// the data of the tables named in without is left out (their definitions
// stay).
func dump(ctx context.Context, rawURL string, w io.Writer, without ...string) error {
	t, err := targetOf(rawURL)
	if err != nil {
		return err
	}
	args := []string{"--format=custom", "--compress=0", "--no-owner", "--no-privileges", "--serializable-deferrable"}
	if t.schema != "" {
		args = append(args, "--schema="+t.schema)
	}
	for _, table := range without {
		if t.schema != "" {
			table = t.schema + "." + table
		}
		args = append(args, "--exclude-table-data="+table)
	}
	return run(ctx, t, nil, w, "pg_dump", args...)
}

// snapshot dumps the database without the data of data_keys and then reads
// the data keys: a key made during the dump is in the list (harmless), a
// key destroyed during it is not (its person was erased).
func snapshot(ctx context.Context, db *sql.DB, rawURL string, w io.Writer) ([]tresor.WrappedKey, error) {
	if err := dump(ctx, rawURL, w, "data_keys"); err != nil {
		return nil, err
	}
	return sqlstore.ReadDataKeys(ctx, db)
}

// Restore replaces the database's objects (or its schema's) with those of a
// pg_dump archive, in one transaction.
func Restore(ctx context.Context, rawURL string, archive io.Reader) error {
	t, err := targetOf(rawURL)
	if err != nil {
		return err
	}
	if t.schema != "" {
		db, err := sql.Open("pgx", rawURL)
		if err != nil {
			return err
		}
		defer db.Close()
		// The archive creates the schema; an existing one goes first.
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{t.schema}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("postgres: drop schema before restore: %w", err)
		}
	}
	args := []string{"--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname=" + t.dbname}
	if t.schema == "" {
		args = append(args, "--clean", "--if-exists")
	}
	return run(ctx, t, archive, io.Discard, "pg_restore", args...)
}

// TempDatabase creates an empty database beside the URL's, for verifying a
// backup, and returns its URL (with the same search_path) and a function that
// drops it. The role needs the CREATEDB privilege.
func TempDatabase(ctx context.Context, rawURL string) (string, func() error, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: the database URL is invalid: %w", redact(err))
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	name := "tresor_verify_" + hex.EncodeToString(b)
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("postgres: create a temporary database to verify into (the role needs CREATEDB): %w", err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() error {
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		_, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}
