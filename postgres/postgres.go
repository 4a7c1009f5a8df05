// Package postgres is Tresor's storage backend for larger installations:
// PostgreSQL through pgx, with COPY for bulk inserts. Several stateless Tresor
// servers may share one database. The queries are shared with the SQLite
// backend in package sqlstore.
package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"tresor"
	"tresor/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the connection pool.
type Options struct {
	// MaxConns is the size of the pool; 0 means 20.
	MaxConns int
	// Statements, if set, counts every statement sent to the server:
	// queries, executions of prepared statements, COPYs and the statements
	// of a batch (for tests that hold a bulk path to a fixed number).
	Statements *atomic.Int64
}

// migrationLockKey is an arbitrary constant shared by every Tresor server, so
// that servers starting together migrate one after the other.
const migrationLockKey = 0x7472_6573_6f72 // "tresor"

// Open connects to the database at the postgres:// URL.
func Open(ctx context.Context, url string, opt Options) (*sqlstore.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: the database URL is invalid: %w", redact(err))
	}
	if opt.Statements != nil {
		cfg.Tracer = counter{opt.Statements}
	}
	db := stdlib.OpenDB(*cfg)
	n := opt.MaxConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s/%s: %w", cfg.Host, cfg.Database, redact(err))
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.New(db, nil, sqlstore.Dialect{
		Name:              "postgres",
		Migrations:        sub,
		TranslateError:    translateError,
		Fault:             fault,
		MigrationLock:     fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
		CopyContacts:      copyContacts,
		RewrapKeys:        rewrapKeys,
		CopyAudit:         copyAudit,
		LookupArray:       lookupArray,
		SuppressedArray:   suppressedArray,
		AuditObjectsArray: auditObjectsArray,
		AuditIDsArray:     auditIDsArray,
		AuditRefsArray:    auditRefsArray,
		CopyNotices:       copyNotices,
		Analyze:           analyzeBulk,
		Snapshot: func(ctx context.Context, db *sql.DB, w io.Writer) ([]tresor.WrappedKey, error) {
			return snapshot(ctx, db, url, w)
		},
		NotifyChange:  "SELECT pg_notify('" + changesChannel + "', '')",
		ListenChanges: func(ctx context.Context, woke func()) error { return listen(ctx, cfg, woke) },
		Lead:          func(ctx context.Context) (tresor.Lease, error) { return lead(ctx, cfg) },
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// redact keeps a password in a connection error out of logs.
func redact(err error) error {
	var pe *pgconn.ConnectError
	if errors.As(err, &pe) {
		return errors.New(strings.ReplaceAll(err.Error(), pe.Config.Password, "xxxxx"))
	}
	return err
}

// translateError maps constraint violations to Tresor's errors.
func translateError(err error) error {
	if err == nil {
		return nil
	}
	if connectionLost(err) {
		return &tresor.Error{Code: tresor.ECStorageUnavailable, Message: "The database cannot be reached at the moment; try again shortly.", Err: err}
	}
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case "23505": // unique_violation
		if e.ConstraintName == "contact_lookup_claimed" {
			return sqlstore.Claimed(err)
		}
		return &tresor.Error{Code: tresor.ECConflict, Message: "An object with this key exists already.", Err: err}
	case "23503": // foreign_key_violation
		return &tresor.Error{Code: tresor.ECInvalidReference, Message: "A referenced object does not exist, or the object is still referenced.", Err: err}
	}
	return err
}

// fault names an error of the storage: the database out of reach, or its
// disk full.
func fault(err error) tresor.Code {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" { // disk_full
		return tresor.ECStorageFull
	}
	if connectionLost(err) {
		return tresor.ECStorageUnavailable
	}
	return ""
}

// connectionLost tells an error of reaching PostgreSQL — no connection, a
// connection cut, the server shutting down or not accepting yet — from an
// answer of it.
func connectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01–57P03: the server shuts
		// down, crashed or cannot accept connections yet.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err)
}

// copyContacts bulk-inserts contacts and their lookup keys with COPY on the
// connection of the current transaction.
func copyContacts(ctx context.Context, c *sql.Conn, rows []*tresor.ContactRow) error {
	return c.Raw(func(driverConn any) error {
		conn := driverConn.(*stdlib.Conn).Conn()
		contacts := make([][]any, len(rows))
		var lookups, keys [][]any
		for i, r := range rows {
			id, err := uuid(r.ID)
			if err != nil {
				return err
			}
			owner, err := optUUID(r.OwnerID)
			if err != nil {
				return err
			}
			org, err := optUUID(r.OrganizationID)
			if err != nil {
				return err
			}
			contacts[i] = []any{id, owner, org, provenanceJSON(r.Provenance), optMicros(r.RestrictedAt), optMicros(r.ObjectedAt),
				optMicros(r.LastInteractionAt), optMicros(r.ArchivedAt), r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), r.Version, r.Sealed,
				sqlstore.AddressKinds(r.Lookup)}
			for _, k := range r.Lookup {
				lookups = append(lookups, []any{string(k.Kind), k.Value, id, r.Claim && k.Identifies()})
			}
			if r.KeyIsNew {
				subject, err := uuid(r.Key.Subject)
				if err != nil {
					return err
				}
				keys = append(keys, []any{subject, r.Key.Version, r.Key.KEKVersion, r.Key.Wrapped, r.CreatedAt.UnixMicro()})
			}
		}
		if len(keys) > 0 {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"data_keys"}, []string{"subject", "version", "kek_version",
				"wrapped", "created_at"}, pgx.CopyFromRows(keys)); err != nil {
				return err
			}
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"contacts"}, []string{"id", "owner_id", "organization_id",
			"provenance", "restricted_at", "objected_at", "last_interaction_at", "archived_at", "created_at", "updated_at", "version", "sealed",
			"address_kinds"},
			pgx.CopyFromRows(contacts)); err != nil {
			return err
		}
		// Claimed keys are unique: an insert that meets a key another
		// transaction claimed and has not committed waits for it. Keys go in
		// the order of the unique index, so that two imports of overlapping
		// people wait for each other in one direction only, never in a
		// circle (a deadlock).
		slices.SortFunc(lookups, func(a, b []any) int {
			return cmp.Or(cmp.Compare(a[0].(string), b[0].(string)), cmp.Compare(a[1].(string), b[1].(string)))
		})
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"contact_lookup"}, []string{"kind", "value", "contact_id", "claimed"},
			pgx.CopyFromRows(lookups))
		return err
	})
}

func uuid(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("%q is not a UUID", s)
	}
	copy(u.Bytes[:], b)
	u.Valid = true
	return u, nil
}

func optUUID(s string) (pgtype.UUID, error) {
	if s == "" {
		return pgtype.UUID{}, nil
	}
	return uuid(s)
}

func optMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func provenanceJSON(p tresor.Provenance) string {
	b, err := p.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return string(b)
}

// rewrapKeys sends every key's update in one pipelined batch.
func rewrapKeys(ctx context.Context, c *sql.Conn, query string, keys []tresor.WrappedKey, prev []int) (int, error) {
	n := 0
	err := c.Raw(func(driverConn any) error {
		conn := driverConn.(*stdlib.Conn).Conn()
		var b pgx.Batch
		for i, k := range keys {
			b.Queue(query, k.Subject, k.KEKVersion, k.Wrapped, prev[i])
		}
		res := conn.SendBatch(ctx, &b)
		for range keys {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				return err
			}
			n += int(tag.RowsAffected())
		}
		return res.Close()
	})
	return n, err
}

// copyAudit bulk-inserts audit entries with COPY.
func copyAudit(ctx context.Context, c *sql.Conn, columns []string, rows [][]any) error {
	return c.Raw(func(driverConn any) error {
		conn := driverConn.(*stdlib.Conn).Conn()
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"audit_log"}, columns, pgx.CopyFromRows(rows))
		return err
	})
}

// changesChannel is the channel of LISTEN/NOTIFY on which a transaction
// that wrote contacts or organizations wakes the other servers.
const changesChannel = "tresor_changes"

// listen holds a connection of its own that LISTENs on changesChannel and
// calls woke for every notification, reconnecting after a failure, until
// ctx ends.
func listen(ctx context.Context, cfg *pgx.ConnConfig, woke func()) error {
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+changesChannel); err == nil {
				woke() // what happened while nobody listened
				for err == nil {
					if _, err = conn.WaitForNotification(ctx); err == nil {
						woke()
					}
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}
