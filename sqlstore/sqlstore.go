// Package sqlstore implements tresor.Store on database/sql. It is the common
// core of the two storage adapters: package sqlite and package postgres open
// their connection pools and supply a Dialect (migrations, error translation,
// bulk copy); the queries themselves are shared, because both engines accept
// the same SQL with $N parameters. Keeping one copy of the SQL and the row
// mapping is what lets one conformance suite hold both backends to the same
// behaviour.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tresor"
)

// Dialect is what differs between the backends.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Migrations holds files named NNNN_description.sql, applied in order.
	Migrations fs.FS
	// TranslateError turns a constraint violation into a *tresor.Error
	// (ECConflict, ECInvalidReference) and returns any other error unchanged.
	TranslateError func(error) error
	// PositionalParams: long multi-row statements are written with ?
	// parameters (SQLite finds every $N by a scan of the statement's
	// parameter names, quadratic in their number).
	PositionalParams bool
	// MigrationLock, if set, runs first in every migration transaction so that
	// several servers starting at once migrate one after the other.
	MigrationLock string
	// CopyContacts, if set, bulk-inserts contact rows and their lookup keys on
	// the connection of the current transaction (COPY on PostgreSQL).
	CopyContacts func(ctx context.Context, conn *sql.Conn, rows []*tresor.ContactRow) error
	// RewrapKeys, if set, runs query (data-key-rewrap: subject, kek_version,
	// wrapped, previous kek_version) for every key in one round trip on the
	// connection of the current transaction, returning the rows changed.
	RewrapKeys func(ctx context.Context, conn *sql.Conn, query string, keys []tresor.WrappedKey, prev []int) (int, error)
	// CopyAudit, if set, bulk-inserts the rows of chained audit entries (the
	// columns named) on the connection of the current transaction (COPY).
	CopyAudit func(ctx context.Context, conn *sql.Conn, columns []string, rows [][]any) error
	// Snapshot writes a consistent online copy of the whole database without
	// the rows of data_keys to w and returns those keys (tresor.Store).
	Snapshot func(ctx context.Context, db *sql.DB, w io.Writer) ([]tresor.WrappedKey, error)
	// Check verifies the database's own integrity.
	Check func(ctx context.Context, db *sql.DB) error
	// Compact, if set, makes deleted bytes unrecoverable (see tresor.Store).
	Compact func(ctx context.Context, db *sql.DB, rewrite bool) error
	// NotifyChange, if set, is run in the transaction that notes a change,
	// to wake the listeners at commit (PostgreSQL: pg_notify).
	NotifyChange string
	// ListenChanges, if set, calls woke on every notification until ctx ends.
	ListenChanges func(ctx context.Context, woke func()) error
	// Lead, if set, tries to take the lead of the servers on the database
	// (tresor.Store.Lead). Unset, one process serves the database and holds
	// the lead for good.
	Lead func(ctx context.Context) (tresor.Lease, error)

	// The bulk paths of an import, each one statement for a whole batch
	// whatever its size (see bulk.go). Unset, the shared SQL runs instead.

	// LookupArray, if set, finds the contact of each of the values $2 (an
	// array) of the kind $1, returning (value, contact_id).
	LookupArray string
	// SuppressedArray, if set, returns those of the values $2 (an array) of
	// the kind $1 that are suppressed for the scope $3.
	SuppressedArray string
	// AuditObjectsArray, if set, indexes the object ids $1 (an array) as
	// touched by the entry $2, skipping those indexed already.
	AuditObjectsArray string
	// AuditIDsArray, if set, adds the UUIDs $1 (an array of 16-byte values)
	// to audit_ids where missing and returns ref and id of every one.
	AuditIDsArray string
	// AuditRefsArray, if set, appends postings to audit_refs from the
	// arrays $1 (grp), $2 (block), $3 (n) and $4 (seqs), one statement for
	// all rows.
	AuditRefsArray string
	// CopyNotices, if set, bulk-inserts information duties on the
	// connection of the current transaction (COPY).
	CopyNotices func(ctx context.Context, conn *sql.Conn, ns []*tresor.Notice) error
	// Fault, if set, names an error of the storage itself (tresor.Store.Fault).
	Fault func(error) tresor.Code
	// Analyze, if set, refreshes the planner's statistics of the tables a
	// bulk load fills; it runs after a commit that grew them by much.
	Analyze string
}

// DB is a tresor.Store on one writer pool and one reader pool (the same pool
// where the engine needs no separation).
type DB struct {
	dialect    Dialect
	writer     *pool
	reader     *pool
	migrations []migration
	dict       *auditDict // the refs of the audit trail's compact form
	analyze    analyzer
	provRefs   provenanceRefs // references of provenance kept once (provenance.go)
}

var _ tresor.Store = (*DB)(nil)

// New returns a store on the given pools. reader may be the same as writer.
func New(writer, reader *sql.DB, d Dialect) (*DB, error) {
	ms, err := loadMigrations(d.Migrations)
	if err != nil {
		return nil, err
	}
	db := &DB{dialect: d, writer: newPool("writer", writer, d.PositionalParams), migrations: ms, dict: newAuditDict()}
	db.reader = db.writer
	if reader != nil && reader != writer {
		db.reader = newPool("reader", reader, d.PositionalParams)
	}
	return db, nil
}

// Backend names the backend.
func (db *DB) Backend() string { return db.dialect.Name }

// Snapshot writes a consistent online copy of the database without its
// data keys to w and returns the keys.
func (db *DB) Snapshot(ctx context.Context, w io.Writer) ([]tresor.WrappedKey, error) {
	if db.dialect.Snapshot == nil {
		return nil, fmt.Errorf("%s: snapshots are not supported", db.dialect.Name)
	}
	return db.dialect.Snapshot(ctx, db.writer.db, w)
}

// ReadDataKeys reads every wrapped data key of a database handle (for the
// dialects' snapshots).
func ReadDataKeys(ctx context.Context, db *sql.DB) ([]tresor.WrappedKey, error) {
	rows, err := db.QueryContext(ctx, "SELECT subject, version, kek_version, wrapped FROM data_keys ORDER BY subject")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tresor.WrappedKey
	for rows.Next() {
		var k tresor.WrappedKey
		if err := rows.Scan(&k.Subject, &k.Version, &k.KEKVersion, &k.Wrapped); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Compact makes deleted bytes unrecoverable where the dialect can.
func (db *DB) Compact(ctx context.Context, rewrite bool) error {
	if db.dialect.Compact == nil {
		return nil
	}
	return db.dialect.Compact(ctx, db.writer.db, rewrite)
}

// Check verifies the database's own integrity.
func (db *DB) Check(ctx context.Context) error {
	if db.dialect.Check == nil {
		return db.Ping(ctx)
	}
	return db.dialect.Check(ctx, db.writer.db)
}

// Close closes the pools.
func (db *DB) Close() error {
	db.analyze.wg.Wait()
	err := db.writer.close()
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.close())
	}
	return err
}

// Ping checks both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s writer: %w", db.dialect.Name, err)
	}
	if err := db.reader.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s reader: %w", db.dialect.Name, err)
	}
	return nil
}

// Stats describes the pools.
func (db *DB) Stats() []tresor.PoolStats {
	out := []tresor.PoolStats{db.writer.stats()}
	if db.reader != db.writer {
		out = append(out, db.reader.stats())
	}
	return out
}

// Exec runs a statement on the writer pool outside the named queries, for
// maintenance and tests.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.writer.db.ExecContext(ctx, query, args...)
	return err
}

// Fault names an error of the storage itself, or "".
func (db *DB) Fault(err error) tresor.Code {
	if err == nil || db.dialect.Fault == nil {
		return ""
	}
	return db.dialect.Fault(err)
}

// Read returns the queries on the reader pool.
func (db *DB) Read() tresor.Reader { return &conn{db: db, pool: db.reader} }

// Update runs fn in a write transaction.
func (db *DB) Update(ctx context.Context, fn func(tresor.Tx) error) (err error) {
	// Prepare before taking a connection: with SQLite's single writer
	// connection, preparing inside the transaction would wait for itself.
	if err := db.writer.prepareAll(ctx); err != nil {
		return err
	}
	c, err := db.writer.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", db.dialect.TranslateError(err))
	}
	defer c.Close()
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", db.dialect.TranslateError(err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cn := &conn{db: db, pool: db.writer, tx: tx, sqlConn: c}
	if err := fn(cn); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", db.dialect.TranslateError(err))
	}
	if cn.auditNew != nil {
		db.dict.merge(cn.auditNew)
	}
	db.provRefs.publish(cn.provNew)
	db.bulkLoaded(ctx, cn.bulk)
	return nil
}

// pool is a database/sql pool with the named statements prepared on it.
type pool struct {
	name       string
	db         *sql.DB
	positional bool        // the dialect's PositionalParams
	prepared   atomic.Bool // every statement is prepared
	mu         sync.Mutex
	stmts      map[string]*sql.Stmt
	texts      map[string]*sql.Stmt // texts built at run time, prepared (SQLite)
}

func newPool(name string, db *sql.DB, positional bool) *pool {
	return &pool{name: name, db: db, positional: positional, stmts: map[string]*sql.Stmt{}, texts: map[string]*sql.Stmt{}}
}

// stmt returns the named statement, preparing it on first use.
func (p *pool) stmt(ctx context.Context, name string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[name]; ok {
		return s, nil
	}
	text, ok := queries[name]
	if !ok {
		panic("sqlstore: no query named " + name)
	}
	s, err := p.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	p.stmts[name] = s
	return s, nil
}

// prepareAll prepares every named statement not prepared yet; those with
// ? parameters (named "…?") only where the dialect has them.
func (p *pool) prepareAll(ctx context.Context) error {
	if p.prepared.Load() {
		return nil
	}
	for name := range queries {
		if strings.HasSuffix(name, "?") && !p.positional {
			continue
		}
		if _, err := p.stmt(ctx, name); err != nil {
			return err
		}
	}
	p.prepared.Store(true)
	return nil
}

func (p *pool) close() error {
	p.mu.Lock()
	for _, s := range p.stmts {
		_ = s.Close()
	}
	for _, s := range p.texts {
		_ = s.Close()
	}
	p.stmts, p.texts = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	p.mu.Unlock()
	return p.db.Close()
}

func (p *pool) stats() tresor.PoolStats {
	s := p.db.Stats()
	return tresor.PoolStats{Pool: p.name, MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse,
		Idle: s.Idle, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

// conn runs queries on a pool, or inside a transaction on that pool.
type conn struct {
	db      *DB
	pool    *pool
	tx      *sql.Tx   // nil outside a transaction
	sqlConn *sql.Conn // the transaction's connection
	bulk    int       // rows this transaction bulk-inserted
	// provNew holds the provenance references the transaction wrote or
	// found, for the store's memory once it commits.
	provNew map[string]string
	// auditNew holds the audit refs the transaction wrote or read, for the
	// shared cache once it commits.
	auditNew *auditDict
	// fresh holds the audit refs this conn read for verification.
	freshOnce sync.Once
	fresh     *auditDict
}

// conn serves every concern of the store, read and write.
var (
	_ tresor.Tx = (*conn)(nil)

	_ tresor.ContactReader     = (*conn)(nil)
	_ tresor.ContactWriter     = (*conn)(nil)
	_ tresor.RecordReader      = (*conn)(nil)
	_ tresor.RecordWriter      = (*conn)(nil)
	_ tresor.IdentityReader    = (*conn)(nil)
	_ tresor.IdentityWriter    = (*conn)(nil)
	_ tresor.ConsentReader     = (*conn)(nil)
	_ tresor.ConsentWriter     = (*conn)(nil)
	_ tresor.ProtectionReader  = (*conn)(nil)
	_ tresor.ProtectionWriter  = (*conn)(nil)
	_ tresor.AuditReader       = (*conn)(nil)
	_ tresor.AuditWriter       = (*conn)(nil)
	_ tresor.SocialReader      = (*conn)(nil)
	_ tresor.SocialWriter      = (*conn)(nil)
	_ tresor.MaintenanceReader = (*conn)(nil)
	_ tresor.MaintenanceWriter = (*conn)(nil)
)

func (c *conn) stmt(ctx context.Context, name string) (*sql.Stmt, error) {
	s, err := c.pool.stmt(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.tx != nil {
		return c.tx.StmtContext(ctx, s), nil
	}
	return s, nil
}

func (c *conn) exec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, name)
	if err != nil {
		return nil, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, c.db.dialect.TranslateError(err))
	}
	return res, nil
}

// queryExec runs a statement built at run time, or chosen by the dialect.
func (c *conn) queryExec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	var res sql.Result
	var err error
	if c.tx != nil {
		res, err = c.tx.ExecContext(ctx, text, args...)
	} else {
		res, err = c.pool.db.ExecContext(ctx, text, args...)
	}
	if err != nil {
		return nil, c.db.dialect.TranslateError(err)
	}
	return res, nil
}

// queryText runs a query built at run time (the lists with their filters).
func (c *conn) queryText(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if s, serr := c.textStmt(ctx, text); serr != nil {
		return nil, c.db.dialect.TranslateError(serr)
	} else if s != nil {
		rows, err = s.QueryContext(ctx, args...)
	} else if c.tx != nil {
		rows, err = c.tx.QueryContext(ctx, text, args...)
	} else {
		rows, err = c.pool.db.QueryContext(ctx, text, args...)
	}
	if err != nil {
		return nil, c.db.dialect.TranslateError(err)
	}
	return rows, nil
}

// textStmt returns a prepared statement for a query's text on SQLite, or
// nil: SQLite parses a text anew on every call unless it is prepared
// (PostgreSQL's driver caches the statements it is sent by itself). Named
// queries are prepared once per connection; so are the texts built at run
// time (a list's filters), up to textStmtsMax of them and only short ones
// (named queries are always kept):
// a long text is a one-off (a batch's list of values) not worth the memory
// of a statement on every connection.
func (c *conn) textStmt(ctx context.Context, text string) (*sql.Stmt, error) {
	if !c.pool.positional {
		return nil, nil
	}
	key, named := text, false
	if name, ok := namedText(text); ok {
		key, named = "\x00"+name, true
	}
	if c.tx != nil {
		// A transaction holds its connection: preparing on the pool would
		// wait for a second one, which the writer's pool does not have.
		// It takes a statement prepared already, or sends the text.
		if s := c.pool.preparedText(key); s != nil {
			return c.tx.StmtContext(ctx, s), nil
		}
		return nil, nil
	}
	return c.pool.textStmt(ctx, key, text, !named)
}

// textStmtsMax bounds the texts built at run time a pool keeps prepared.
// Texts beyond it are sent unprepared; none is dropped, so a statement in
// use is never closed under its user.
const (
	textStmtsMax   = 128
	textStmtMaxLen = 2048
)

// preparedText returns the statement prepared for key, or nil.
func (p *pool) preparedText(key string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.texts[key]
}

// textStmt returns the statement prepared for key (the text, or a named
// query's name), preparing text on first use; nil for a text not kept. The
// lock is not held while preparing, which waits for a connection.
func (p *pool) textStmt(ctx context.Context, key, text string, bounded bool) (*sql.Stmt, error) {
	p.mu.Lock()
	s, ok := p.texts[key]
	full := len(p.texts) >= textStmtsMax
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	if bounded && (full || len(text) > textStmtMaxLen) {
		return nil, nil
	}
	s, err := p.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.texts[key]; ok {
		_ = s.Close() // prepared meanwhile by another caller; never used
		return kept, nil
	}
	p.texts[key] = s
	return s, nil
}

// queryNames maps the text of every named query back to its name, made on
// first use, after the package's init functions have added theirs.
var queryNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(queries))
	for name, text := range queries {
		m[text] = name
	}
	return m
})

// namedText says whether text is a named query's, and which.
func namedText(text string) (string, bool) {
	name, ok := queryNames()[text]
	return name, ok
}

// get runs the *-select query of an object restricted to one id.
func get[T any](ctx context.Context, c *conn, object, id string, scan func(scanner) (T, error)) (T, error) {
	var zero T
	if !validKey(object, id) {
		return zero, notFound(object, id)
	}
	s, err := c.stmt(ctx, object+"-get")
	if err != nil {
		return zero, err
	}
	v, err := scan(s.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return zero, notFound(object, id)
	}
	if err != nil {
		return zero, fmt.Errorf("get %s: %w", object, c.db.dialect.TranslateError(err))
	}
	return v, nil
}

// list runs a list query and scans every row.
func list[T any](ctx context.Context, c *conn, text string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := c.queryText(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// changeOne runs an update or delete of one object and reports ECNotFound or
// ECVersionMismatch when no row matched.
func changeOne(ctx context.Context, c *conn, object, id string, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	s, err := c.stmt(ctx, object+"-get")
	if err != nil {
		return err
	}
	rows, err := s.QueryContext(ctx, id)
	if err != nil {
		return c.db.dialect.TranslateError(err)
	}
	exists := rows.Next()
	if err := rows.Close(); err != nil {
		return err
	}
	if !exists {
		return notFound(object, id)
	}
	return tresor.Errorf(tresor.ECVersionMismatch, "The %s was changed by someone else in the meantime; read it again and repeat your change.", object)
}

func notFound(object, id string) error {
	return tresor.Errorf(tresor.ECNotFound, "There is no %s with id %q.", object, id)
}

// validKey reports whether id has the form of an id of the object; anything
// else cannot exist, and PostgreSQL would refuse it as a UUID.
func validKey(object, id string) bool {
	if object == "pipeline" {
		return tresor.ValidSlug(id)
	}
	return tresor.ValidID(id)
}

type scanner interface{ Scan(dest ...any) error }

// filter builds the WHERE clause of a list query with $N parameters.
type filter struct {
	conds []string
	args  []any
}

// add appends a condition; each "?" in cond becomes the next parameter.
func (f *filter) add(cond string, args ...any) {
	for _, a := range args {
		f.args = append(f.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(f.args)), 1)
	}
	f.conds = append(f.conds, cond)
}

// query returns head + WHERE + keyset order and limit on the id column.
func (f *filter) query(head, idCol string, p tresor.Page) (string, []any) {
	if p.After != "" {
		f.add(idCol+" > ?", p.After)
	}
	return f.ordered(head, idCol, p.Limit)
}

// ordered returns head + WHERE + ORDER BY order and the limit.
func (f *filter) ordered(head, order string, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString(head)
	for i, c := range f.conds {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(c)
	}
	if limit <= 0 {
		limit = tresor.DefaultPageSize
	}
	f.args = append(f.args, limit)
	fmt.Fprintf(&b, " ORDER BY %s LIMIT $%d", order, len(f.args))
	return b.String(), f.args
}

// sorted returns head + WHERE + keyset order and limit on expr and then the
// id column, ascending or descending; after is the key of the row
// p.After names (nil on the first page).
func (f *filter) sorted(head, expr, idCol string, desc bool, after any, p tresor.Page) (string, []any) {
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	if p.After != "" && after != nil {
		f.add("("+expr+" "+cmp+" ? OR ("+expr+" = ? AND "+idCol+" "+cmp+" ?))", after, after, p.After)
	}
	return f.ordered(head, expr+" "+dir+", "+idCol+" "+dir, p.Limit)
}

// common filters
func (f *filter) eq(col, v string) {
	if v != "" {
		f.add(col+" = ?", v)
	}
}

func (f *filter) since(col string, t time.Time) {
	if !t.IsZero() {
		f.add(col+" >= ?", micros(t))
	}
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3 … without gaps; %s is number %d", m.name, i+1)
		}
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`

// SchemaVersion returns the applied and the known schema version.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int, err error) {
	known = len(db.migrations)
	err = db.writer.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current)
	if err != nil {
		// No table yet: nothing applied. Decide by asking for the table rather than by the error text.
		var n int
		if e := db.writer.db.QueryRowContext(ctx, tableExistsQuery(db.dialect.Name)).Scan(&n); e == nil && n == 0 {
			return 0, known, nil
		}
		return 0, known, fmt.Errorf("read schema version: %w", err)
	}
	return current, known, nil
}

func tableExistsQuery(dialect string) string {
	if dialect == "postgres" {
		return "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
	}
	return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
}

// Migrate applies every migration the database lacks, each in its own
// transaction, and refuses a database newer than this build.
func (db *DB) Migrate(ctx context.Context) (from, to int, err error) {
	from, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	if from > known {
		return from, from, schemaTooNew(from, known)
	}
	to = from
	for _, m := range db.migrations[from:] {
		if to, err = db.apply(ctx, m); err != nil {
			return from, to, err
		}
	}
	return from, to, nil
}

func schemaTooNew(cur, known int) error {
	return tresor.Errorf(tresor.ECSchemaTooNew,
		"The database has schema version %d, but this Tresor (%s) knows only up to %d; run a newer Tresor.", cur, tresor.Version, known)
}

// apply runs one migration unless another server applied it in the meantime,
// and returns the schema version afterwards.
func (db *DB) apply(ctx context.Context, m migration) (int, error) {
	tx, err := db.writer.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()
	if db.dialect.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, db.dialect.MigrationLock); err != nil {
			return 0, fmt.Errorf("migration lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if cur > len(db.migrations) {
		return cur, schemaTooNew(cur, len(db.migrations))
	}
	if cur >= m.version {
		return cur, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return cur, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, micros(time.Now())); err != nil {
		return cur, fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return cur, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return m.version, nil
}
