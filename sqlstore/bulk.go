package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"tresor"
)

// An import stores a batch of thousands of people in one transaction. On
// PostgreSQL each of its statements is a round trip, and the planner sees
// tables a bulk load has just filled without statistics (autovacuum may be
// off, and a load outruns autoanalyze anyway). So the bulk paths are built
// to need neither: one statement per batch and table whatever the batch's
// size (an array parameter, or COPY), with plans that probe the index per
// value whatever the planner believes the table holds; and the statistics
// are refreshed after a load that grew the tables by much.

// analyzeMin is how many bulk-inserted rows make the first ANALYZE of a
// process; after it, the rows must double what was there at the last one.
const analyzeMin = 10000

// analyzer decides when bulk loads call for fresh statistics.
type analyzer struct {
	mu       sync.Mutex
	since    int  // rows bulk-inserted since the last ANALYZE began
	analyzed int  // rows bulk-inserted up to the last ANALYZE
	running  bool // an ANALYZE is under way
	wg       sync.WaitGroup
}

// bulkLoaded notes the rows a committed transaction bulk-inserted, and
// refreshes the statistics when they grew by at least analyzeMin and by
// at least as many as were loaded before, so that the number of ANALYZE
// runs is logarithmic in the rows loaded. ANALYZE runs on a connection of
// its own, beside the load (it takes no lock that inserts wait for), one
// at a time; Close waits for it. A failure only costs plans, which the
// bulk paths do not depend on: it is not reported.
func (db *DB) bulkLoaded(ctx context.Context, n int) {
	if n == 0 || db.dialect.Analyze == "" {
		return
	}
	a := &db.analyze
	a.mu.Lock()
	defer a.mu.Unlock()
	a.since += n
	if a.running || a.since < max(analyzeMin, a.analyzed) {
		return
	}
	a.analyzed += a.since
	a.since = 0
	a.running = true
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_, _ = db.writer.db.ExecContext(context.WithoutCancel(ctx), db.dialect.Analyze)
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}()
}

// lookupArray is LookupContacts with the dialect's array query: one
// statement per kind.
func (c *conn) lookupArray(ctx context.Context, byKind map[tresor.LookupKind][]string) (map[tresor.LookupKey]string, error) {
	out := map[tresor.LookupKey]string{}
	for kind, values := range byKind {
		if err := c.lookupRows(ctx, c.db.dialect.LookupArray, []any{string(kind), values}, kind, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SuppressedKeys returns those of the keys on the suppression list for
// scope: with the dialect's array query one statement per kind, otherwise
// one per 500 keys of a kind.
func (c *conn) SuppressedKeys(ctx context.Context, keys []tresor.LookupKey, scope string) (map[tresor.LookupKey]bool, error) {
	byKind := map[tresor.LookupKind][]string{}
	for _, k := range keys {
		byKind[k.Kind] = append(byKind[k.Kind], k.Value)
	}
	out := map[tresor.LookupKey]bool{}
	for kind, values := range byKind {
		for len(values) > 0 {
			var text string
			var args []any
			n := len(values)
			if q := c.db.dialect.SuppressedArray; q != "" {
				text, args = q, []any{string(kind), values, scope}
			} else {
				n = min(n, 500)
				var b strings.Builder
				b.WriteString("SELECT value FROM suppressions WHERE kind = ")
				c.params(&b, 1, 1)
				b.WriteString(" AND scope = ")
				c.params(&b, 2, 1)
				b.WriteString(" AND value IN (")
				c.params(&b, 3, n)
				b.WriteByte(')')
				text, args = b.String(), append([]any{string(kind), scope}, anys(values[:n])...)
			}
			vs, err := list(ctx, c, text, args, func(s scanner) (v string, err error) { return v, s.Scan(&v) })
			if err != nil {
				return nil, fmt.Errorf("suppressed keys: %w", err)
			}
			for _, v := range vs {
				out[tresor.LookupKey{Kind: kind, Value: v}] = true
			}
			values = values[n:]
		}
	}
	return out, nil
}
