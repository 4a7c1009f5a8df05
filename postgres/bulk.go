package postgres

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"tresor"
)

// The bulk paths of an import (see sqlstore/bulk.go). The planner may see
// contact_lookup without statistics, right after a load: it then takes a
// kind for a small part of the table and scans every row of the kind for
// a list of values, once per batch, which makes an import quadratic. A
// lateral subquery with LIMIT 1 is planned as one probe of the primary key
// per value, with statistics or without, generic plan or custom.

// lookupArray finds the contact of each value of a kind.
const lookupArray = `SELECT v.value, l.contact_id FROM unnest($2::text[]) AS v(value)
CROSS JOIN LATERAL (SELECT contact_id FROM contact_lookup WHERE kind = $1 AND value = v.value LIMIT 1) AS l`

// suppressedArray returns the suppressed values of a kind.
const suppressedArray = `SELECT v.value FROM unnest($2::text[]) AS v(value)
CROSS JOIN LATERAL (SELECT 1 FROM suppressions WHERE kind = $1 AND value = v.value AND scope = $3 LIMIT 1) AS s`

// auditObjectsArray indexes the objects of one audit entry.
const auditObjectsArray = `INSERT INTO audit_objects (object_id, seq) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`

// analyzeBulk refreshes the statistics of the tables an import fills.
const analyzeBulk = `ANALYZE contacts, contact_lookup, data_keys, notices, audit_objects`

// copyNotices bulk-inserts information duties with COPY.
func copyNotices(ctx context.Context, c *sql.Conn, ns []*tresor.Notice) error {
	return c.Raw(func(driverConn any) error {
		conn := driverConn.(*stdlib.Conn).Conn()
		rows := make([][]any, len(ns))
		for i, n := range ns {
			id, err := uuid(n.ID)
			if err != nil {
				return err
			}
			contact, err := uuid(n.ContactID)
			if err != nil {
				return err
			}
			rows[i] = []any{id, contact, n.Source, n.Network, n.ImportID, n.Purpose, n.CreatedAt.UnixMicro(), n.DueAt.UnixMicro(), ""}
		}
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"notices"}, []string{"id", "contact_id", "source", "network", "import_id",
			"purpose", "created_at", "due_at", "channel"}, pgx.CopyFromRows(rows))
		return err
	})
}

// counter counts the statements a connection sends (Options.Statements).
type counter struct{ n *atomic.Int64 }

func (c counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c counter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (counter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

func (counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) { c.n.Add(1) }

func (counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
