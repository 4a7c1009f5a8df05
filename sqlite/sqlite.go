// Package sqlite is Tresor's embedded storage backend: SQLite through the
// pure-Go driver modernc.org/sqlite, in WAL mode, with one writer connection
// and a pool of read-only connections. The queries are shared with the
// PostgreSQL backend in package sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"tresor"
	"tresor/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the connection pools.
type Options struct {
	// Readers is the size of the read-only pool; 0 means max(4, 2×CPUs).
	Readers int
}

// Open opens (and creates, with mode 0600) the SQLite database at path.
func Open(ctx context.Context, path string, opt Options) (*sqlstore.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction that
	// reads before it writes can never fail to upgrade its lock.
	writerDSN := DSN(path, "cache_size(-65536)") + "&_txlock=immediate"
	// The readers do not map the file (mmap_size 0): every read is audited,
	// so the database changes all the time, and a read transaction that
	// finds it changed unmaps the whole mapping before it starts; over HTTP
	// a single-contact GET served 55–97 % more requests without it
	// (docs/benchmarks.md, issue [2.6]).
	readerDSN := DSN(path, "cache_size(-16384)", "query_only(1)", "mmap_size(0)")

	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", filepath.Base(path), err)
	}

	n := opt.Readers
	if n <= 0 {
		n = max(4, 2*runtime.NumCPU())
	}
	reader, err := sql.Open("sqlite", readerDSN)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	reader.SetConnMaxIdleTime(0)

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.New(writer, reader, sqlstore.Dialect{
		Name:             "sqlite",
		Migrations:       sub,
		TranslateError:   translateError,
		PositionalParams: true,
		Fault:            fault,
		Snapshot: func(ctx context.Context, db *sql.DB, w io.Writer) ([]tresor.WrappedKey, error) {
			return snapshot(ctx, db, path, w)
		},
		Check:   check,
		Compact: compact,
	})
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return db, nil
}

// Pragmas are set on every connection. busy_timeout comes first: a second
// process (the CLI beside a running server) waits for the write lock instead
// of failing with "database is locked". In WAL mode, synchronous=NORMAL keeps
// the database consistent through a crash of the process or the machine; a
// power loss may undo the last commits.
//
// secure_delete overwrites deleted content with zeros, so that an erased
// person's wrapped data key does not linger in a free page of the file.
var Pragmas = []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)",
	"secure_delete(1)"}

// DSN returns the modernc.org/sqlite data source name for path with Pragmas
// and the extra pragmas (the writer's page cache is 64 MiB, each reader's 16 MiB).
func DSN(path string, extra ...string) string {
	q := url.Values{}
	for _, p := range append(append([]string(nil), Pragmas...), extra...) {
		q.Add("_pragma", p)
	}
	return "file:" + uriPath.Replace(path) + "?" + q.Encode()
}

// uriPath escapes the characters that end or escape the path of an SQLite
// URI: unescaped, a data directory named "a#b" or "a?b" would put the
// database into the file "a" beside it.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// createPrivate creates the database file readable by its owner only; SQLite
// gives its -wal and -shm files the same mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// translateError maps constraint violations to Tresor's errors.
func translateError(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// contact_lookup has one unique index besides its primary key:
		// contact_lookup_claimed, on kind and value.
		if e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(e.Error(), "contact_lookup.kind, contact_lookup.value") {
			return sqlstore.Claimed(err)
		}
		return &tresor.Error{Code: tresor.ECConflict, Message: "An object with this key exists already.", Err: err}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &tresor.Error{Code: tresor.ECInvalidReference, Message: "A referenced object does not exist, or the object is still referenced.", Err: err}
	}
	return err
}

// fault names an error of the storage: the disk (or the file size limit)
// full.
func fault(err error) tresor.Code {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_FULL {
		return tresor.ECStorageFull
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) {
		return tresor.ECStorageFull
	}
	return ""
}

// snapshot copies the database with VACUUM INTO: a consistent copy taken
// online, written to a private temporary file beside the database. The
// copy's data keys are read, deleted, and the copy vacuumed again, so that
// no page of it keeps a wrapped key; then it is streamed to w.
func snapshot(ctx context.Context, db *sql.DB, path string, w io.Writer) ([]tresor.WrappedKey, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".snapshot-")
	if err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "snapshot.db")
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	keys, err := takeKeys(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	return keys, nil
}

// takeKeys reads and removes the data keys of a snapshot file.
func takeKeys(ctx context.Context, path string) ([]tresor.WrappedKey, error) {
	c, err := sql.Open("sqlite", DSN(path, "secure_delete(1)", "journal_mode(DELETE)"))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	keys, err := sqlstore.ReadDataKeys(ctx, c)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, "DELETE FROM data_keys"); err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, "VACUUM"); err != nil {
		return nil, err
	}
	return keys, c.Close()
}

// check runs SQLite's integrity check.
func check(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// compact checkpoints the write-ahead log into the database and truncates
// it: the log's older page images (which may hold deleted rows) are gone.
// With rewrite it first rebuilds the file, dropping every free page.
func compact(ctx context.Context, db *sql.DB, rewrite bool) error {
	if rewrite {
		if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
			return fmt.Errorf("sqlite: vacuum: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}
