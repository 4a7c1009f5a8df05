package gate_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
)

// The benchmarks compare the gate with the raw driver on the same rows in the
// same run, interleaved chunk by chunk so that noise on the shared machine
// hits both alike. Run them with an exact row count, for example
//
//	go test ./gate -run '^$' -bench . -benchtime 1000000x
//
// and read the ratio column. See docs/benchmarks.md.

const chunk = 10000 // rows per transaction, for the gate and the raw driver alike

func sampleContact(i int) *tresor.Contact {
	return &tresor.Contact{ContactDetails: tresor.ContactDetails{
		GivenName: "Erika", FamilyName: fmt.Sprintf("Mustermann-%d", i),
		Emails: []string{fmt.Sprintf("erika.%d@example.org", i)}, Phones: []string{fmt.Sprintf("+49 30 %07d", i)},
		Organization: "Muster GmbH", Position: "Head of Purchasing",
	}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

// rawRow is what a raw insert writes: the columns the gate would write, with
// everything already encoded (personal fields, provenance, the keyed lookup
// hashes): the raw side measures only the driver and the database.
type rawRow struct {
	id         string
	sealed     []byte
	provenance string
	email      string
	phone      string
}

func rawRows(n, offset int) []rawRow {
	rows := make([]rawRow, n)
	prov, _ := json.Marshal([]tresor.ProvenanceRecord{{Fields: []string{"given_name", "family_name", "emails", "phones", "organization", "position"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract, Source: tresor.SourceManual}, Purpose: "sales",
		CollectedAt: time.Now().UTC(), CollectedBy: "system"}})
	for i := range rows {
		c := sampleContact(offset + i)
		b, _ := json.Marshal(c.ContactDetails)
		// The lookup values have the shape of the gate's keyed hashes.
		email, phone := sha256.Sum256([]byte(c.Emails[0])), sha256.Sum256([]byte(c.Phones[0]))
		rows[i] = rawRow{id: uuid.Must(uuid.NewV7()).String(), sealed: append([]byte{1}, b...), provenance: string(prov),
			email: base64.RawURLEncoding.EncodeToString(email[:]), phone: base64.RawURLEncoding.EncodeToString(phone[:])}
	}
	return rows
}

type benchBackend struct {
	name string
	// open returns a migrated gate and a raw inserter/reader on a second,
	// identical database (or, for reads, the same one).
	open func(b *testing.B, same bool) (*gate.Gate, raw)
}

type raw interface {
	insert(rows []rawRow) error
	read(id string) error
	close()
}

func benchBackends() []benchBackend {
	return []benchBackend{
		{"sqlite", func(b *testing.B, same bool) (*gate.Gate, raw) {
			dir := b.TempDir()
			g := openGateB(b, datadir.Config{DataDir: dir, Migrate: true})
			rawDir := dir
			if !same {
				rawDir = b.TempDir()
				openGateB(b, datadir.Config{DataDir: rawDir, Migrate: true}) // the same schema
			}
			return g, openRawSQLite(b, filepath.Join(rawDir, datadir.DatabaseFile))
		}},
		{"postgres", func(b *testing.B, same bool) (*gate.Gate, raw) {
			u := storetest.PostgresURL(b)
			g := openGateB(b, datadir.Config{DB: u, DataDir: b.TempDir(), Migrate: true})
			rawURL := u
			if !same {
				rawURL = storetest.PostgresURL(b)
				openGateB(b, datadir.Config{DB: rawURL, DataDir: b.TempDir(), Migrate: true})
			}
			return g, openRawPostgres(b, rawURL)
		}},
	}
}

func openGateB(b *testing.B, cfg datadir.Config) *gate.Gate {
	g, err := datadir.Open(context.Background(), cfg, gate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	return g
}

// rawSQLite inserts with prepared statements on one connection, as the
// gate's writer does, with the same pragmas.
type rawSQLite struct {
	db               *sql.DB
	insertC, insertL *sql.Stmt
	get              *sql.Stmt
}

func openRawSQLite(b *testing.B, path string) raw {
	// The pragmas of the gate's writer connection.
	db, err := sql.Open("sqlite", sqlite.DSN(path, "cache_size(-65536)"))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	r := &rawSQLite{db: db}
	prep := func(s string) *sql.Stmt {
		st, err := db.Prepare(s)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	r.insertC = prep(`INSERT INTO contacts (id, owner_id, organization_id, provenance, restricted_at, objected_at, last_interaction_at, created_at, updated_at, version, sealed, address_kinds) VALUES ($1, NULL, NULL, $2, NULL, NULL, NULL, $3, $3, 1, $4, 'email,phone')`)
	r.insertL = prep(`INSERT INTO contact_lookup (kind, value, contact_id) VALUES ($1, $2, $3)`)
	r.get = prep(`SELECT id, owner_id, organization_id, provenance, restricted_at, objected_at, last_interaction_at, created_at, updated_at, version, sealed FROM contacts WHERE id = $1`)
	return r
}

func (r *rawSQLite) insert(rows []rawRow) error {
	tx, err := r.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, l := tx.Stmt(r.insertC), tx.Stmt(r.insertL)
	now := time.Now().UnixMicro()
	for _, row := range rows {
		if _, err := c.Exec(row.id, row.provenance, now, row.sealed); err != nil {
			return err
		}
		if _, err := l.Exec("email", row.email, row.id); err != nil {
			return err
		}
		if _, err := l.Exec("phone", row.phone, row.id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (r *rawSQLite) read(id string) error {
	var (
		cid, prov                     string
		owner, org                    sql.NullString
		restricted, objected, touched sql.NullInt64
		created, updated, ver         int64
		sealed                        []byte
	)
	return r.get.QueryRow(id).Scan(&cid, &owner, &org, &prov, &restricted, &objected, &touched, &created, &updated, &ver, &sealed)
}

func (r *rawSQLite) close() { r.db.Close() }

// rawPostgres writes with COPY and reads with a prepared statement, on pgx directly.
type rawPostgres struct{ conn *pgx.Conn }

func openRawPostgres(b *testing.B, u string) raw {
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	return &rawPostgres{conn}
}

func (r *rawPostgres) insert(rows []rawRow) error {
	ctx := context.Background()
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := time.Now().UnixMicro()
	contacts := make([][]any, len(rows))
	lookups := make([][]any, 0, 2*len(rows))
	for i, row := range rows {
		id := pgtype.UUID{Bytes: uuid.MustParse(row.id), Valid: true}
		contacts[i] = []any{id, nil, nil, row.provenance, nil, nil, nil, now, now, int64(1), row.sealed, "email,phone"}
		lookups = append(lookups, []any{"email", row.email, id}, []any{"phone", row.phone, id})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contacts"}, []string{"id", "owner_id", "organization_id", "provenance",
		"restricted_at", "objected_at", "last_interaction_at", "created_at", "updated_at", "version", "sealed", "address_kinds"},
		pgx.CopyFromRows(contacts)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contact_lookup"}, []string{"kind", "value", "contact_id"}, pgx.CopyFromRows(lookups)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (r *rawPostgres) read(id string) error {
	var (
		cid, owner, org               pgtype.UUID
		prov                          string
		restricted, objected, touched pgtype.Int8
		created, updated, ver         int64
		sealed                        []byte
	)
	return r.conn.QueryRow(context.Background(), `SELECT id, owner_id, organization_id, provenance, restricted_at, objected_at, last_interaction_at, created_at, updated_at, version, sealed FROM contacts WHERE id = $1`, id).
		Scan(&cid, &owner, &org, &prov, &restricted, &objected, &touched, &created, &updated, &ver, &sealed)
}

func (r *rawPostgres) close() { r.conn.Close(context.Background()) }

// BenchmarkInsertContacts inserts b.N contacts through the gate (CreateContacts,
// 10,000 per transaction) and the same number raw, interleaved by chunk.
func BenchmarkInsertContacts(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			g, r := be.open(b, false)
			defer r.close()
			ctx := tresor.WithPurpose(system(), "sales")
			var rawTime, gateTime time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += chunk {
				n := min(chunk, b.N-done)
				b.StopTimer()
				rows := rawRows(n, done)
				cs := make([]*tresor.Contact, n)
				for i := range cs {
					cs[i] = sampleContact(done + i)
				}
				b.StartTimer()
				t0 := time.Now()
				if err := r.insert(rows); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := g.CreateContacts(ctx, cs); err != nil {
					b.Fatal(err)
				}
				rawTime += t1.Sub(t0)
				gateTime += time.Since(t1)
			}
			report(b, rawTime, gateTime)
		})
	}
}

// BenchmarkReadContact fills one database with b.N contacts (untimed), then
// point-reads each once by id in random order, through the gate and raw,
// interleaved by chunk, from one goroutine.
func BenchmarkReadContact(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			g, r := be.open(b, true)
			defer r.close()
			ctx := tresor.WithPurpose(system(), "sales")
			ids := fill(b, g, b.N)
			rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			var rawTime, gateTime time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += chunk {
				part := ids[done:min(done+chunk, b.N)]
				t0 := time.Now()
				for _, id := range part {
					if err := r.read(id); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for _, id := range part {
					if _, err := g.Contact(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
				rawTime += t1.Sub(t0)
				gateTime += time.Since(t1)
			}
			report(b, rawTime, gateTime)
		})
	}
}

func report(b *testing.B, rawTime, gateTime time.Duration) {
	rawRate := float64(b.N) / rawTime.Seconds()
	gateRate := float64(b.N) / gateTime.Seconds()
	b.ReportMetric(rawRate, "raw_rows/s")
	b.ReportMetric(gateRate, "gate_rows/s")
	b.ReportMetric(gateRate/rawRate, "gate/raw")
}
