package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"tresor"
)

// The compact form of audit entries (migration 0027). An entry's strings
// are numbers (refs) into audit_terms, written as decimal text in their
// columns; its object ids are a list in `objects`: the format byte 2, then
// per id, in the entry's order, its value v (ref<<1 for an id of audit_ids,
// a UUID as its 16 bytes; ref<<1|1 for one of audit_terms, any other id) as
// the zigzag varint of v minus the value before it (0 before the first):
// a page of contacts created one after the other costs a byte per id.
// Entries written before the migration have `objects` NULL and their text.
// Terms and ids are append-only: a ref, once committed, means one string
// forever, so every process may keep what it has read.

const compactFormat = 2

// auditDict caches refs that committed transactions wrote or read. The
// ids are bounded: past maxCachedIDs it starts over.
type auditDict struct {
	mu     sync.Mutex
	terms  map[string]int64
	termOf map[int64]string
	ids    map[uuid.UUID]int64
	idOf   map[int64]uuid.UUID
}

const (
	maxCachedIDs   = 1 << 18
	maxCachedTerms = 1 << 16
)

func newAuditDict() *auditDict {
	return &auditDict{terms: map[string]int64{}, termOf: map[int64]string{}, ids: map[uuid.UUID]int64{}, idOf: map[int64]uuid.UUID{}}
}

func (d *auditDict) addTerm(ref int64, s string) {
	if len(d.terms) >= maxCachedTerms {
		d.terms, d.termOf = map[string]int64{}, map[int64]string{}
	}
	d.terms[s], d.termOf[ref] = ref, s
}

func (d *auditDict) addID(ref int64, id uuid.UUID) {
	if len(d.ids) >= maxCachedIDs {
		d.ids, d.idOf = map[uuid.UUID]int64{}, map[int64]uuid.UUID{}
	}
	d.ids[id], d.idOf[ref] = ref, id
}

// merge takes over the refs a transaction saw, once it committed: a
// rolled-back transaction's refs may be given to other strings later.
func (d *auditDict) merge(p *auditDict) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for s, r := range p.terms {
		d.addTerm(r, s)
	}
	for id, r := range p.ids {
		d.addID(r, id)
	}
}

// dicts returns where to look a ref up (the transaction's own first) and
// where to put what was read.
func (c *conn) dictFor() *auditDict {
	if c.tx == nil {
		return nil
	}
	if c.auditNew == nil {
		c.auditNew = newAuditDict()
	}
	return c.auditNew
}

func (c *conn) cachedTerm(s string) (int64, bool) {
	if p := c.auditNew; p != nil {
		if r, ok := p.terms[s]; ok {
			return r, true
		}
	}
	d := c.db.dict
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.terms[s]
	return r, ok
}

func (c *conn) cachedID(id uuid.UUID) (int64, bool) {
	if p := c.auditNew; p != nil {
		if r, ok := p.ids[id]; ok {
			return r, true
		}
	}
	d := c.db.dict
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.ids[id]
	return r, ok
}

// remember records refs read or written: in the transaction's own cache
// inside one, else (committed for sure) in the shared one.
func (c *conn) rememberTerm(r int64, s string) {
	if p := c.dictFor(); p != nil {
		p.addTerm(r, s)
		return
	}
	c.db.dict.mu.Lock()
	c.db.dict.addTerm(r, s)
	c.db.dict.mu.Unlock()
}

func (c *conn) rememberID(r int64, id uuid.UUID) {
	if p := c.dictFor(); p != nil {
		p.addID(r, id)
		return
	}
	c.db.dict.mu.Lock()
	c.db.dict.addID(r, id)
	c.db.dict.mu.Unlock()
}

// termRef returns the ref of s, adding it to audit_terms if new.
func (c *conn) termRef(ctx context.Context, s string) (int64, error) {
	if r, ok := c.cachedTerm(s); ok {
		return r, nil
	}
	r, err := c.lookupRef(ctx, "audit-term-insert", "audit-term-ref", s)
	if err != nil {
		return 0, fmt.Errorf("audit term: %w", err)
	}
	c.rememberTerm(r, s)
	return r, nil
}

// idRef returns the ref of an object id that is a UUID, adding it if new.
func (c *conn) idRef(ctx context.Context, id uuid.UUID) (int64, error) {
	if r, ok := c.cachedID(id); ok {
		return r, nil
	}
	r, err := c.lookupRef(ctx, "audit-id-insert", "audit-id-ref", id[:])
	if err != nil {
		return 0, fmt.Errorf("audit id: %w", err)
	}
	c.rememberID(r, id)
	return r, nil
}

// lookupRef returns the ref of a term or id not in the cache: it adds it,
// and reads it when it was there already (a new one, as in an import,
// costs one statement).
func (c *conn) lookupRef(ctx context.Context, insert, sel string, v any) (int64, error) {
	ins, err := c.stmt(ctx, insert)
	if err != nil {
		return 0, err
	}
	var r int64
	err = ins.QueryRowContext(ctx, v).Scan(&r)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return r, err
	}
	s, err := c.stmt(ctx, sel)
	if err != nil {
		return 0, err
	}
	return r, s.QueryRowContext(ctx, v).Scan(&r)
}

// addIDs gives the UUIDs the entries name that are not cached their refs
// in one statement, where the dialect can (an import names thousands of new
// people in one append).
func (c *conn) addIDs(ctx context.Context, entries []*tresor.AuditEntry) error {
	q := c.db.dialect.AuditIDsArray
	if q == "" && !c.db.dialect.PositionalParams {
		return nil
	}
	var ids [][]byte
	seen := map[uuid.UUID]bool{}
	for _, e := range entries {
		for _, id := range e.ObjectIDs {
			u, ok := canonicalUUID(id)
			if !ok || seen[u] {
				continue
			}
			seen[u] = true
			if _, ok := c.cachedID(u); !ok {
				ids = append(ids, u[:])
			}
		}
	}
	if len(ids) < 2 {
		return nil // one is added as it comes
	}
	if q == "" {
		return c.addIDsRows(ctx, ids)
	}
	return c.rememberIDRefs(ctx, q, ids)
}

// rememberIDRefs runs a query that answers (ref, id) rows of audit_ids and
// remembers each ref.
func (c *conn) rememberIDRefs(ctx context.Context, text string, args ...any) error {
	rows, err := c.queryText(ctx, text, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r int64
		var id []byte
		if err := rows.Scan(&r, &id); err != nil {
			return err
		}
		if u, err := uuid.FromBytes(id); err == nil {
			c.rememberID(r, u)
		}
	}
	return rows.Err()
}

// idsChunk is how many ids one statement of addIDsRows adds or reads.
const idsChunk = 500

// addIDsRows is addIDs with ? parameters (SQLite): the ids go as multi-row
// inserts that return the refs of those added, then one read of the refs
// of those that were there already, idsChunk ids a statement — instead of
// a statement for every id.
func (c *conn) addIDsRows(ctx context.Context, ids [][]byte) error {
	for start := 0; start < len(ids); start += idsChunk {
		chunk := ids[start:min(start+idsChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		var b strings.Builder
		b.WriteString("INSERT INTO audit_ids (id) VALUES ")
		for i := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?)")
		}
		b.WriteString(" ON CONFLICT DO NOTHING RETURNING ref, id")
		if err := c.rememberIDRefs(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("audit ids: %w", err)
		}
		var there []any
		for _, id := range chunk {
			if u, err := uuid.FromBytes(id); err == nil {
				if _, ok := c.cachedID(u); !ok {
					there = append(there, id)
				}
			}
		}
		if len(there) == 0 {
			continue
		}
		b.Reset()
		b.WriteString("SELECT ref, id FROM audit_ids WHERE id IN (")
		for i := range there {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
		}
		b.WriteString(")")
		if err := c.rememberIDRefs(ctx, b.String(), there...); err != nil {
			return fmt.Errorf("audit ids: %w", err)
		}
	}
	return nil
}

// knownTermRef is the ref of s as text for a filter, or s itself when no
// entry in the compact form names s (then only older entries can match).
func (c *conn) knownTermRef(ctx context.Context, s string) (string, error) {
	if r, ok := c.cachedTerm(s); ok {
		return strconv.FormatInt(r, 10), nil
	}
	refs, err := list(ctx, c, queries["audit-term-ref"], []any{s}, func(sc scanner) (int64, error) {
		var r int64
		return r, sc.Scan(&r)
	})
	if err != nil || len(refs) == 0 {
		return s, err
	}
	c.rememberTerm(refs[0], s)
	return strconv.FormatInt(refs[0], 10), nil
}

// canonicalUUID parses an id that is a UUID in its canonical text form, the
// only form that comes back alike from its 16 bytes.
func canonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	if err != nil || u.String() != s {
		return uuid.UUID{}, false
	}
	return u, true
}

// isRef tells a ref written in a column of a compact entry.
func isRef(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// packObjects encodes an entry's object ids, adding new ones to the
// dictionaries.
func (c *conn) packObjects(ctx context.Context, ids []string) ([]byte, error) {
	b := make([]byte, 1, 1+3*len(ids))
	b[0] = compactFormat
	var prev int64
	for _, id := range ids {
		var v uint64
		if u, ok := canonicalUUID(id); ok {
			r, err := c.idRef(ctx, u)
			if err != nil {
				return nil, err
			}
			v = uint64(r) << 1
		} else {
			r, err := c.termRef(ctx, id)
			if err != nil {
				return nil, err
			}
			v = uint64(r)<<1 | 1
		}
		b = binary.AppendVarint(b, int64(v)-prev)
		prev = int64(v)
	}
	return b, nil
}

// objectRef is one element of a packed list.
type objectRef struct {
	ref  int64
	term bool // a ref into audit_terms, not audit_ids
}

// unpackObjects decodes a packed list; ok is false for a damaged one.
func unpackObjects(b []byte) (refs []objectRef, ok bool) {
	if len(b) == 0 || b[0] != compactFormat {
		return nil, false
	}
	var v int64
	for rest := b[1:]; len(rest) > 0; {
		d, n := binary.Varint(rest)
		if n <= 0 {
			return refs, false
		}
		if v += d; v < 0 {
			return refs, false
		}
		refs = append(refs, objectRef{v >> 1, v&1 == 1})
		rest = rest[n:]
	}
	return refs, true
}

// resolve returns the strings and ids of refs, from the caches or read
// (fresh: read, so that verification sees what the database holds, not
// what this process remembers). The answer is a dictionary of its own: the
// shared cache may start over while the caller decodes.
func (c *conn) resolve(ctx context.Context, terms, ids map[int64]bool, fresh bool) (*auditDict, error) {
	out := newAuditDict()
	var missT, missI []int64
	d := c.db.dict
	if fresh {
		d = c.freshDict()
	}
	d.mu.Lock()
	for r := range terms {
		s, ok := d.termOf[r]
		if !ok && c.auditNew != nil && !fresh {
			s, ok = c.auditNew.termOf[r]
		}
		if ok {
			out.termOf[r] = s
		} else {
			missT = append(missT, r)
		}
	}
	for r := range ids {
		u, ok := d.idOf[r]
		if !ok && c.auditNew != nil && !fresh {
			u, ok = c.auditNew.idOf[r]
		}
		if ok {
			out.idOf[r] = u
		} else {
			missI = append(missI, r)
		}
	}
	d.mu.Unlock()
	keep := func(m *auditDict) {
		if fresh {
			d.mu.Lock()
			defer d.mu.Unlock()
		}
		for r, t := range m.termOf {
			out.termOf[r] = t
			if fresh {
				d.termOf[r] = t
			} else {
				c.rememberTerm(r, t)
			}
		}
		for r, u := range m.idOf {
			out.idOf[r] = u
			if fresh {
				d.idOf[r] = u
			} else {
				c.rememberID(r, u)
			}
		}
	}
	for _, q := range []struct {
		table string
		miss  []int64
	}{{"audit_terms", missT}, {"audit_ids", missI}} {
		for len(q.miss) > 0 {
			m, err := c.loadRefs(ctx, q.table, &q.miss)
			if err != nil {
				return nil, err
			}
			keep(m)
		}
	}
	return out, nil
}

// loadRefs reads some of the refs of a dictionary table missed names and
// takes them off it: a run that covers at least half of the range between
// them at once, others 500 at a time.
func (c *conn) loadRefs(ctx context.Context, table string, missed *[]int64) (*auditDict, error) {
	miss := *missed
	slices.Sort(miss)
	col := "term"
	if table == "audit_ids" {
		col = "id"
	}
	var text string
	var args []any
	if lo, hi := miss[0], miss[len(miss)-1]; hi-lo < 2*int64(len(miss)) {
		text, args, *missed = "SELECT ref, "+col+" FROM "+table+" WHERE ref BETWEEN $1 AND $2", []any{lo, hi}, nil
	} else {
		n := min(500, len(miss))
		var b strings.Builder
		for i, r := range miss[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(r, 10))
		}
		text, *missed = "SELECT ref, "+col+" FROM "+table+" WHERE ref IN ("+b.String()+")", miss[n:]
	}
	out := newAuditDict()
	rows, err := c.queryText(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r int64
		var v []byte
		if err := rows.Scan(&r, &v); err != nil {
			return nil, err
		}
		if table == "audit_terms" {
			out.termOf[r] = string(v)
		} else if u, err := uuid.FromBytes(v); err == nil {
			out.idOf[r] = u
		}
	}
	return out, rows.Err()
}

// freshDict is the conn's own dictionary for fresh reads: only what this
// conn read from the database (a verification reads through one conn).
func (c *conn) freshDict() *auditDict {
	c.freshOnce.Do(func() { c.fresh = newAuditDict() })
	return c.fresh
}

// term returns the string of a ref; a ref nobody wrote (a changed entry)
// comes back as a text that no entry was hashed with.
func (d *auditDict) term(r int64) string {
	if s, ok := d.termOf[r]; ok {
		return s
	}
	return fmt.Sprintf("(no audit term %d)", r)
}

func (d *auditDict) objectID(o objectRef) string {
	if o.term {
		return d.term(o.ref)
	}
	if u, ok := d.idOf[o.ref]; ok {
		return u.String()
	}
	return fmt.Sprintf("(no audit id %d)", o.ref)
}
