package datadir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tresor"
	"tresor/gate"
	"tresor/postgres"
	"tresor/sqlite"
	"tresor/vault"
)

// Moving a data directory from SQLite to PostgreSQL copies the tables as
// they are: sealed fields and wrapped data keys byte for byte, the audit
// trail with its hashes, Merkle leaves and signed checkpoints. Nothing is
// decrypted on the way; only the verification at the end opens a sample.
//
// The tables are found in SQLite's own catalogue and must match the tables
// of the PostgreSQL schema one to one, column for column: a table on one
// side only is an error, never skipped. Each value is converted to the type
// the target column has (information_schema): TEXT ids to UUID, 0/1 to
// BOOLEAN, BLOB to BYTEA.
//
// Resuming: each table is copied with one COPY in its own transaction, which
// also writes the table's row into the bookkeeping table migrateProgress on
// the target. A run that was interrupted leaves the finished tables and
// their rows there; the next run skips them and copies the rest. The
// bookkeeping table is dropped once every count matches.
//
// Foreign keys stay on: tables are copied parents first, in the order of
// the target's foreign keys, and a table that refers to itself is copied
// in one COPY statement, at whose end PostgreSQL checks its references.

// migrateProgress is the bookkeeping table of an unfinished migration.
const migrateProgress = "tresor_migrate_progress"

// seededTables hold the one row their migration inserts (the default
// pipeline, the empty audit head, the first sign-in epoch); they are empty
// for the purpose of the copy and replaced by the source's rows.
var seededTables = []string{"pipelines", "audit_head", "auth_epoch"}

// MigrateDataOptions tune MigrateData.
type MigrateDataOptions struct {
	// DryRun copies into a temporary database on the target's server,
	// verifies it there and drops it: the target is only read.
	DryRun bool
	// StopAfter, if positive, ends the copy with ErrMigrationInterrupted
	// after so many tables were copied (tests of resuming).
	StopAfter int
	// Gate are the options of the gate the verification opens (the policy).
	Gate []gate.Option
}

// ErrMigrationInterrupted is returned when StopAfter ended the copy.
var ErrMigrationInterrupted = errors.New("the migration was interrupted; run it again to resume")

// MigratedTable is one line of the report.
type MigratedTable struct {
	Table   string `json:"table"`
	Rows    int64  `json:"rows"`    // in the source
	Target  int64  `json:"target"`  // in the target after the copy
	Resumed bool   `json:"resumed"` // copied by an earlier, interrupted run
	OK      bool   `json:"ok"`
}

// MigrateDataReport says what MigrateData copied and what the
// verification found; an empty Problems means the target is ready.
type MigrateDataReport struct {
	DryRun        bool              `json:"dry_run"`
	SchemaVersion int               `json:"schema_version"`
	Tables        []MigratedTable   `json:"tables"`
	DataKeys      int               `json:"data_keys"`
	KeysOpened    int               `json:"keys_opened"`
	PeopleRead    int               `json:"people_read"`
	Audit         *gate.AuditReport `json:"audit,omitempty"`
	Problems      []string          `json:"problems"`
}

// MigrateData copies the SQLite database of cfg into the empty PostgreSQL
// database at target (migrated to the same schema version first) and
// verifies the copy with the key files of cfg. No server may serve the
// SQLite database meanwhile.
func MigrateData(ctx context.Context, cfg Config, target string, opt MigrateDataOptions) (*MigrateDataReport, error) {
	if isPostgres(cfg.DB) {
		return nil, errors.New("migrate-data copies from SQLite: TRESOR_DB must be empty (SQLite in the data directory) or sqlite:PATH")
	}
	if !isPostgres(target) {
		return nil, errors.New("--to must be a postgres:// URL")
	}
	release, err := Lock(cfg)
	if err != nil {
		return nil, err
	}
	defer release()

	// The source: its schema must be current.
	src, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	version, known, err := src.SchemaVersion(ctx)
	src.Close()
	if err != nil {
		return nil, err
	}
	if version != known {
		return nil, fmt.Errorf("the SQLite database has schema version %d, this Tresor knows %d: run `tresor migrate` first", version, known)
	}
	rep := &MigrateDataReport{DryRun: opt.DryRun, SchemaVersion: version, Problems: []string{}}

	// The target: refused unless empty (or left by an interrupted run) at
	// the same or an older schema.
	resuming, err := checkTarget(ctx, target, version)
	if err != nil {
		return nil, err
	}
	if opt.DryRun {
		tmp, drop, err := tempDatabase(ctx, target)
		if err != nil {
			return nil, err
		}
		defer drop()
		target, resuming = tmp, false
	}
	mig, err := Migrate(ctx, Config{DB: target})
	if err != nil {
		return nil, fmt.Errorf("migrate the target: %w", err)
	}
	if mig.To != version {
		return nil, fmt.Errorf("the target has schema version %d, the SQLite database %d", mig.To, version)
	}

	db, err := sql.Open("sqlite", sqlite.DSN(sqlitePath(cfg), "query_only(1)"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// One read transaction: the copy and the counts see one snapshot, even
	// should a CLI command write meanwhile (a server cannot: the lock).
	from, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer from.Rollback()
	to, err := pgx.Connect(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("connect to the target: %w", err)
	}
	defer to.Close(context.Background())

	tables, err := matchTables(ctx, from, to)
	if err != nil {
		return nil, err
	}
	if _, err := to.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+migrateProgress+" (tbl TEXT PRIMARY KEY, rows BIGINT NOT NULL)"); err != nil {
		return nil, err
	}
	done := map[string]int64{}
	if resuming {
		rows, err := to.Query(ctx, "SELECT tbl, rows FROM "+migrateProgress)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var name string
			var n int64
			if err := rows.Scan(&name, &n); err != nil {
				return nil, err
			}
			done[name] = n
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	copied := 0
	for _, t := range tables {
		if n, ok := done[t.name]; ok {
			rep.Tables = append(rep.Tables, MigratedTable{Table: t.name, Rows: n, Resumed: true})
			continue
		}
		if opt.StopAfter > 0 && copied == opt.StopAfter {
			return rep, ErrMigrationInterrupted
		}
		n, err := copyTable(ctx, from, to, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		rep.Tables = append(rep.Tables, MigratedTable{Table: t.name, Rows: n})
		copied++
	}
	if err := setSequences(ctx, to); err != nil {
		return nil, err
	}

	// The verification: every count, every data key, the audit trail, a
	// sample of people.
	dataKeys := 0
	for i := range rep.Tables {
		tr := &rep.Tables[i]
		if err := from.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(tr.Table)).Scan(&tr.Rows); err != nil {
			return nil, err
		}
		if err := to.QueryRow(ctx, "SELECT count(*) FROM "+quote(tr.Table)).Scan(&tr.Target); err != nil {
			return nil, err
		}
		tr.OK = tr.Rows == tr.Target
		if !tr.OK {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d rows in SQLite, %d in PostgreSQL", tr.Table, tr.Rows, tr.Target))
		}
		if tr.Table == "data_keys" {
			dataKeys = int(tr.Rows)
		}
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	if _, err := to.Exec(ctx, "DROP TABLE "+migrateProgress); err != nil {
		return nil, err
	}
	if err := verifyTarget(ctx, cfg, target, dataKeys, rep, opt.Gate); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkTarget refuses a target that holds data or a newer schema, and says
// whether an interrupted run left it (its bookkeeping table is there).
func checkTarget(ctx context.Context, target string, version int) (resuming bool, err error) {
	st, err := openStore(ctx, Config{DB: target})
	if err != nil {
		return false, err
	}
	cur, _, err := st.SchemaVersion(ctx)
	st.Close()
	if err != nil {
		return false, err
	}
	if cur > version {
		return false, fmt.Errorf("refusing: the target has schema version %d, the SQLite database %d; migrate into an empty database of the same version", cur, version)
	}
	if cur == 0 {
		return false, nil // no schema yet; Migrate creates it
	}
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		return false, fmt.Errorf("connect to the target: %w", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1", migrateProgress).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		if cur != version {
			return false, fmt.Errorf("refusing: the interrupted migration in the target has schema version %d, the SQLite database %d", cur, version)
		}
		return true, nil
	}
	names, err := pgTables(ctx, conn)
	if err != nil {
		return false, err
	}
	for _, name := range names {
		limit := 0
		if slices.Contains(seededTables, name) {
			limit = 1
		}
		var rows int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+quote(name)).Scan(&rows); err != nil {
			return false, err
		}
		if rows > limit {
			return false, fmt.Errorf("refusing: the target database is not empty (table %s holds %d rows); migrate into an empty database", name, rows)
		}
	}
	var seq int64
	if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM audit_head").Scan(&seq); err != nil {
		return false, err
	}
	if seq != 0 {
		return false, fmt.Errorf("refusing: the target database is not empty (its audit trail has %d entries); migrate into an empty database", seq)
	}
	return false, nil
}

// tempDatabase makes a temporary database on the target's server for a dry
// run, without the schema the target's URL may name.
func tempDatabase(ctx context.Context, target string) (string, func() error, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return postgres.TempDatabase(ctx, u.String())
}

// column is one column of a table, with the type it has in PostgreSQL.
type column struct {
	name, pgType string
}

type table struct {
	name string
	cols []column
}

// matchTables finds the tables of both sides, requires them to match table
// for table and column for column, and returns them parents first.
func matchTables(ctx context.Context, from *sql.Tx, to *pgx.Conn) ([]table, error) {
	var srcNames []string
	rows, err := from.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' ORDER BY name")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		srcNames = append(srcNames, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	dstNames, err := pgTables(ctx, to)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range srcNames {
		if !slices.Contains(dstNames, n) {
			missing = append(missing, n+" (only in SQLite)")
		}
	}
	for _, n := range dstNames {
		if !slices.Contains(srcNames, n) {
			missing = append(missing, n+" (only in PostgreSQL)")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the schemas differ: %s", strings.Join(missing, ", "))
	}
	byName := map[string]*table{}
	for _, n := range dstNames {
		t := &table{name: n}
		prow, err := to.Query(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position", n)
		if err != nil {
			return nil, err
		}
		for prow.Next() {
			var c column
			if err := prow.Scan(&c.name, &c.pgType); err != nil {
				return nil, err
			}
			t.cols = append(t.cols, c)
		}
		if err := prow.Err(); err != nil {
			return nil, err
		}
		var srcCols []string
		srow, err := from.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", n)
		if err != nil {
			return nil, err
		}
		for srow.Next() {
			var c string
			if err := srow.Scan(&c); err != nil {
				srow.Close()
				return nil, err
			}
			srcCols = append(srcCols, c)
		}
		srow.Close()
		if len(srcCols) != len(t.cols) {
			return nil, fmt.Errorf("the schemas differ: table %s has columns %v in SQLite, %d in PostgreSQL", n, srcCols, len(t.cols))
		}
		for _, c := range t.cols {
			if !slices.Contains(srcCols, c.name) {
				return nil, fmt.Errorf("the schemas differ: column %s.%s is not in SQLite", n, c.name)
			}
		}
		byName[n] = t
	}
	return foreignKeyOrder(ctx, to, dstNames, byName)
}

func pgTables(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', $1) ORDER BY table_name", migrateProgress)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// foreignKeyOrder sorts the tables so that every table comes after those
// it refers to.
func foreignKeyOrder(ctx context.Context, conn *pgx.Conn, names []string, byName map[string]*table) ([]table, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return nil, err
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("the foreign keys of %s form a cycle", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, p := range parents[n] {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[n] = 2
		if t, ok := byName[n]; ok {
			out = append(out, *t)
		}
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable copies one table with one COPY in one transaction, which also
// records the table as done.
func copyTable(ctx context.Context, from *sql.Tx, to *pgx.Conn, t table) (int64, error) {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quote(n)
	}
	rows, err := from.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+quote(t.name)+" ORDER BY rowid")
	if err != nil && strings.Contains(err.Error(), "rowid") { // a table WITHOUT ROWID
		rows, err = from.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+quote(t.name))
	}
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	tx, err := to.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if slices.Contains(seededTables, t.name) {
		if _, err := tx.Exec(ctx, "DELETE FROM "+quote(t.name)); err != nil {
			return 0, err
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, &sqliteRows{rows: rows, cols: t.cols, vals: make([]any, len(t.cols))})
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+migrateProgress+" (tbl, rows) VALUES ($1, $2)", t.name, n); err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}

// sqliteRows feeds COPY from an SQLite query, converting each value to
// the type of its target column.
type sqliteRows struct {
	rows *sql.Rows
	cols []column
	vals []any
	err  error
}

func (s *sqliteRows) Next() bool {
	if s.err != nil || !s.rows.Next() {
		return false
	}
	raw := make([]any, len(s.cols))
	ptrs := make([]any, len(s.cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if s.err = s.rows.Scan(ptrs...); s.err != nil {
		return false
	}
	for i, c := range s.cols {
		if s.vals[i], s.err = convert(raw[i], c.pgType); s.err != nil {
			s.err = fmt.Errorf("column %s: %w", c.name, s.err)
			return false
		}
	}
	return true
}

func (s *sqliteRows) Values() ([]any, error) { return s.vals, s.err }

func (s *sqliteRows) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.rows.Err()
}

// convert turns a value as SQLite holds it into the type of a PostgreSQL
// column. Bytes stay bytes: a sealed field or wrapped key is not touched.
func convert(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "uuid":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			if len(x) == 16 {
				return pgtype.UUID{Bytes: [16]byte(x), Valid: true}, nil
			}
			s = string(x)
		default:
			return nil, fmt.Errorf("%T is not an id", v)
		}
		if s == "" {
			return nil, nil // an absent reference
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a UUID", s)
		}
		return pgtype.UUID{Bytes: id, Valid: true}, nil
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
		return nil, fmt.Errorf("%T is not a boolean", v)
	case "integer", "bigint", "smallint":
		switch x := v.(type) {
		case int64:
			if pgType == "integer" && int64(int32(x)) != x {
				return nil, fmt.Errorf("%d does not fit an integer", x)
			}
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
		return nil, fmt.Errorf("%T is not an integer", v)
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return nil, fmt.Errorf("%T is not bytes", v)
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
		return nil, fmt.Errorf("%T is not text", v)
	}
	return nil, fmt.Errorf("the column type %s is not known to migrate-data", pgType)
}

// setSequences moves every serial column's sequence past the copied rows.
func setSequences(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')`)
	if err != nil {
		return err
	}
	type serial struct{ table, col string }
	var ss []serial
	for rows.Next() {
		var s serial
		if err := rows.Scan(&s.table, &s.col); err != nil {
			return err
		}
		ss = append(ss, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range ss {
		q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(%s), 0) + 1, false) FROM %s", quote(s.col), quote(s.table))
		if _, err := conn.Exec(ctx, q, s.table, s.col); err != nil {
			return fmt.Errorf("set the sequence of %s.%s: %w", s.table, s.col, err)
		}
	}
	return nil
}

// verifyTarget opens the target as a server would, with the key files of
// cfg: every data key unwraps, the audit trail verifies, a sample of people
// decrypts — and reading them appends audit entries onto the copied head.
func verifyTarget(ctx context.Context, cfg Config, target string, dataKeys int, rep *MigrateDataReport, opts []gate.Option) error {
	tcfg := cfg
	tcfg.DB, tcfg.Migrate = target, false
	st, err := openStore(ctx, tcfg)
	if err != nil {
		return err
	}
	kek, err := vault.Open(ctx, kekSourceOf(cfg))
	if err != nil {
		st.Close()
		return fmt.Errorf("load the key-encryption key: %w", err)
	}
	vr := &VerifyReport{Problems: []string{}}
	vr.Manifest.DataKeys = dataKeys
	err = checkKeys(ctx, st, kek, vr, nil)
	st.Close()
	if err != nil {
		return err
	}
	rep.DataKeys, rep.KeysOpened = vr.DataKeys, vr.KeysOpened
	rep.Problems = append(rep.Problems, vr.Problems...)
	if !vr.KeysChecked {
		rep.Problems = append(rep.Problems, "keys: the key-encryption key does not match the database")
	}

	// The gate of the verification keeps out of the data directory: its
	// reads must not add checkpoint copies to the file beside the SQLite
	// database, which the target's trail would contradict after a dry run
	// or a second attempt.
	vcfg := tcfg
	vcfg.KeyDir, vcfg.DataDir = keyDirOf(cfg), ""
	g, err := Open(ctx, vcfg, opts...)
	if err != nil {
		return err
	}
	defer g.Close()
	seen := map[string]bool{}
	for _, p := range g.Catalogue() {
		if p.AggregatesOnly || len(seen) >= 5 {
			continue
		}
		pctx := tresor.WithPurpose(system(ctx), p.ID)
		list, err := g.Contacts(pctx, tresor.ContactFilter{Page: tresor.Page{Limit: 5}})
		if err != nil {
			continue // the purpose may see no contacts
		}
		for _, c := range list.Items {
			seen[c.ID] = true
		}
	}
	rep.PeopleRead = len(seen)
	for _, t := range rep.Tables {
		if t.Table == "contacts" && t.Target > 0 && len(seen) == 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("people: the target holds %d contacts, and none could be read", t.Target))
		}
	}
	ar, err := g.VerifyAudit(ctx, "")
	if err != nil {
		return err
	}
	rep.Audit = ar
	if ar.Problem != "" {
		rep.Problems = append(rep.Problems, "audit trail: "+ar.Problem)
	}
	return nil
}

// quote quotes an SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
