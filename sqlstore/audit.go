package sqlstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// rawAudit is a row of audit_log before its refs are resolved.
type rawAudit struct {
	e         *tresor.AuditEntry
	ids, cats string
	objects   []byte // NULL (nil) for an entry written before the compact form
	decision  string
}

func scanAudit(s scanner) (rawAudit, error) {
	r := rawAudit{e: &tresor.AuditEntry{}}
	e := r.e
	var at int64
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.Roles, &e.Purpose, &e.Action, &e.ObjectType, &r.ids, &r.cats, &r.decision,
		&e.Reason, &e.RequestID, &e.Client, &e.Detail, &e.Hash, &r.objects); err != nil {
		return r, err
	}
	e.At, e.Decision = fromMicros(at), tresor.Decision(r.decision)
	return r, nil
}

// termColumns are the columns of a compact entry that hold refs.
func termColumns(r *rawAudit) []*string {
	e := r.e
	return []*string{&e.Actor, &e.Roles, &e.Purpose, &e.Action, &e.ObjectType, &r.cats, &e.Reason, &e.Client}
}

// listAudit reads entries and resolves the refs of those in the compact
// form; fresh reads them from the database, not from the cache (for
// verification, checkpoints and proofs).
func (c *conn) listAudit(ctx context.Context, text string, args []any, fresh bool) ([]*tresor.AuditEntry, error) {
	raws, err := list(ctx, c, text, args, scanAudit)
	if err != nil {
		return nil, err
	}
	return c.decodeAudit(ctx, raws, fresh)
}

func (c *conn) decodeAudit(ctx context.Context, raws []rawAudit, fresh bool) ([]*tresor.AuditEntry, error) {
	terms, ids := map[int64]bool{}, map[int64]bool{}
	objs := make([][]objectRef, len(raws))
	damaged := make([]bool, len(raws))
	for i := range raws {
		r := &raws[i]
		if r.objects == nil {
			continue
		}
		for _, col := range termColumns(r) {
			if isRef(*col) {
				n, _ := strconv.ParseInt(*col, 10, 64)
				terms[n] = true
			}
		}
		var ok bool
		objs[i], ok = unpackObjects(r.objects)
		damaged[i] = !ok
		for _, o := range objs[i] {
			if o.term {
				terms[o.ref] = true
			} else {
				ids[o.ref] = true
			}
		}
	}
	d, err := c.resolve(ctx, terms, ids, fresh)
	if err != nil {
		return nil, err
	}
	out := make([]*tresor.AuditEntry, len(raws))
	for i := range raws {
		r := &raws[i]
		e := r.e
		out[i] = e
		if r.objects == nil {
			if r.ids != "" {
				e.ObjectIDs = strings.Split(r.ids, ",")
			}
		} else {
			// A column that holds no ref was changed by hand: it is read
			// as it stands, and the chain tells.
			for _, col := range termColumns(r) {
				if isRef(*col) {
					n, _ := strconv.ParseInt(*col, 10, 64)
					*col = d.term(n)
				}
			}
			if r.ids != "" {
				e.ObjectIDs = append(e.ObjectIDs, strings.Split(r.ids, ",")...)
			}
			for _, o := range objs[i] {
				e.ObjectIDs = append(e.ObjectIDs, d.objectID(o))
			}
			if damaged[i] {
				e.ObjectIDs = append(e.ObjectIDs, "(a damaged list of objects)")
			}
		}
		if r.cats != "" {
			for _, c := range strings.Split(r.cats, ",") {
				e.Categories = append(e.Categories, tresor.Category(c))
			}
		}
	}
	return out, nil
}

func joinCategories(cs []tresor.Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// AuditEntries lists entries, newest first.
func (c *conn) AuditEntries(ctx context.Context, q tresor.AuditFilter) ([]*tresor.AuditEntry, error) {
	var f filter
	head := queries["audit-select"]
	// A string is itself in the entries written before the compact form,
	// its ref in those after.
	termEq := func(col, v string) error {
		if v == "" {
			return nil
		}
		ref, err := c.knownTermRef(ctx, v)
		f.add(col+" IN (?, ?)", v, ref)
		return err
	}
	if err := termEq("a.actor", q.Actor); err != nil {
		return nil, err
	}
	if err := termEq("a.purpose", q.Purpose); err != nil {
		return nil, err
	}
	f.eq("a.decision", string(q.Decision))
	if strings.HasSuffix(q.Action, ".") {
		f.add("(a.action LIKE ? OR a.action IN (SELECT CAST(ref AS TEXT) FROM audit_terms WHERE term LIKE ?))", q.Action+"%", q.Action+"%")
	} else if err := termEq("a.action", q.Action); err != nil {
		return nil, err
	}
	f.since("a.at", q.Since)
	if !q.Until.IsZero() {
		f.add("a.at < ?", micros(q.Until))
	}
	if q.After != "" {
		seq, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one this server issued.")
		}
		f.add("a.seq < ?", seq)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = tresor.DefaultPageSize
	}
	if q.ContactID != "" {
		return c.auditEntriesOf(ctx, q.ContactID, head, f, limit)
	}
	text, args := f.query(head, "a.seq", tresor.Page{Limit: limit})
	text = strings.Replace(text, "ORDER BY a.seq", "ORDER BY a.seq DESC", 1)
	return c.listAudit(ctx, text, args, false)
}

// auditEntriesOf lists the entries that name an object, newest first: the
// seqs from the object index, then the entries among them that pass the
// other filters, a chunk at a time.
func (c *conn) auditEntriesOf(ctx context.Context, objectID, head string, f filter, limit int) ([]*tresor.AuditEntry, error) {
	seqs, err := list(ctx, c, queries["audit-objects-of"], []any{objectID}, func(s scanner) (int64, error) {
		var n int64
		return n, s.Scan(&n)
	})
	if err != nil {
		return nil, err
	}
	if u, ok := canonicalUUID(objectID); ok {
		refs, err := list(ctx, c, queries["audit-id-ref"], []any{u[:]}, func(s scanner) (int64, error) {
			var r int64
			return r, s.Scan(&r)
		})
		if err != nil {
			return nil, err
		}
		if len(refs) > 0 {
			blocks, err := list(ctx, c, queries["audit-refs-of"], []any{refs[0] >> refGroupBits}, func(s scanner) (struct {
				block int64
				seqs  []byte
			}, error) {
				var x struct {
					block int64
					seqs  []byte
				}
				return x, s.Scan(&x.block, &x.seqs)
			})
			if err != nil {
				return nil, err
			}
			for _, b := range blocks {
				for _, p := range postings(b.block, b.seqs) {
					if p.low == refs[0]&refGroupMask {
						seqs = append(seqs, p.seq)
					}
				}
			}
		}
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	slices.Reverse(seqs)
	var out []*tresor.AuditEntry
	const chunk = 1000
	for len(seqs) > 0 && len(out) < limit {
		n := min(chunk, len(seqs))
		var in strings.Builder
		for i, s := range seqs[:n] {
			if i > 0 {
				in.WriteByte(',')
			}
			in.WriteString(strconv.FormatInt(s, 10))
		}
		seqs = seqs[n:]
		g := filter{conds: slices.Clone(f.conds), args: slices.Clone(f.args)}
		g.add("a.seq IN (" + in.String() + ")")
		text, args := g.ordered(head, "a.seq DESC", limit-len(out))
		es, err := c.listAudit(ctx, text, args, false)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// posting is one element of a row of audit_refs: an entry's seq and the
// low bits of the ref of the object it names.
type posting struct{ seq, low int64 }

// postings decodes a row of audit_refs.
func postings(block int64, b []byte) []posting {
	var out []posting
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			break
		}
		out = append(out, posting{block<<refBlockBits + int64(v>>refGroupBits), int64(v & refGroupMask)})
		b = b[n:]
	}
	return out
}

// appendPosting encodes one element of a row of audit_refs.
func appendPosting(b []byte, block int64, p posting) []byte {
	return binary.AppendUvarint(b, uint64(p.seq-block<<refBlockBits)<<refGroupBits|uint64(p.low))
}

// refAppend adds postings to a row of audit_refs ($seqs: the dialect's
// joining of two byte strings).
const refAppend = `INSERT INTO audit_refs (grp, block, n, seqs) VALUES ($1, $2, $3, $4)
ON CONFLICT (grp, block) DO UPDATE SET n = audit_refs.n + excluded.n, seqs = $seqs`

// The rows of audit_refs: one per group of 16 objects (grp = ref >> 4) and
// block of 16,384 entries (block = seq >> 14), so that a row gathers enough
// postings to make its own overhead small; each posting is a uvarint of
// (seq - block << 14) << 4 | ref & 15, at most three bytes.
const (
	refBlockBits = 14
	refGroupBits = 4
	refGroupMask = 1<<refGroupBits - 1
)

// AuditScan lists entries after seq, oldest first.
func (c *conn) AuditScan(ctx context.Context, after int64, limit int) ([]*tresor.AuditEntry, error) {
	return c.listAudit(ctx, queries["audit-select"]+" WHERE a.seq > $1 ORDER BY a.seq LIMIT $2", []any{after, limit}, true)
}

// AuditRange lists the entries of a range of seq.
func (c *conn) AuditRange(ctx context.Context, after, upto int64) ([]*tresor.AuditEntry, error) {
	return c.listAudit(ctx, queries["audit-select"]+" WHERE a.seq > $1 AND a.seq <= $2 ORDER BY a.seq", []any{after, upto}, true)
}

// AuditMax returns the highest seq in the trail (0 for none).
func (c *conn) AuditMax(ctx context.Context) (int64, error) {
	s, err := c.stmt(ctx, "audit-max")
	if err != nil {
		return 0, err
	}
	var n int64
	return n, s.QueryRowContext(ctx).Scan(&n)
}

// AuditHead returns the newest entry's seq and link.
func (c *conn) AuditHead(ctx context.Context) (int64, []byte, error) {
	return c.auditHead(ctx, "audit-head")
}

// LockAuditHead returns the head and locks it until the transaction ends.
// SQLite's single writer serialises transactions already; on PostgreSQL an
// update of the head row takes its lock, and a second appender waits for it.
func (c *conn) LockAuditHead(ctx context.Context) (int64, []byte, error) {
	if c.db.dialect.Name == "postgres" {
		if _, err := c.exec(ctx, "audit-head-lock"); err != nil {
			return 0, nil, err
		}
	}
	return c.auditHead(ctx, "audit-head")
}

func (c *conn) auditHead(ctx context.Context, query string) (int64, []byte, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return 0, nil, err
	}
	var seq int64
	var hash []byte
	if err := s.QueryRowContext(ctx).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("the audit head: %w", err)
	}
	return seq, hash, nil
}

// InsertAudit appends chained entries and moves the head.
func (c *conn) InsertAudit(ctx context.Context, entries []*tresor.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := c.addIDs(ctx, entries); err != nil {
		return err
	}
	rows := make([][]any, len(entries))
	for i, e := range entries {
		var err error
		if rows[i], err = c.auditArgs(ctx, e); err != nil {
			return err
		}
	}
	if c.db.dialect.CopyAudit != nil && c.sqlConn != nil && len(entries) > 8 {
		if err := c.db.dialect.CopyAudit(ctx, c.sqlConn, auditColumns, rows); err != nil {
			return err
		}
	} else {
		ins, err := c.stmt(ctx, "audit-insert")
		if err != nil {
			return err
		}
		for _, args := range rows {
			if _, err := ins.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	last := entries[len(entries)-1]
	_, err := c.exec(ctx, "audit-head-set", last.Seq, last.Hash)
	return err
}

// IndexAudit writes the object index rows of up to limit entries past the
// index's high-water mark and returns how many entries it indexed.
func (c *conn) IndexAudit(ctx context.Context, limit int) (int, error) {
	if c.db.dialect.Name == "postgres" {
		// Appending to the rows of audit_refs is not idempotent: one
		// indexer at a time (SQLite's single writer serialises already).
		if _, err := c.exec(ctx, "audit-head-lock"); err != nil {
			return 0, err
		}
	}
	var upto int64
	s, err := c.stmt(ctx, "audit-indexed")
	if err != nil {
		return 0, err
	}
	if err := s.QueryRowContext(ctx).Scan(&upto); err != nil {
		return 0, err
	}
	rows, err := list(ctx, c, queries["audit-unindexed"], []any{upto, limit}, func(s scanner) (struct {
		seq     int64
		ids     string
		objects []byte
	}, error) {
		var r struct {
			seq     int64
			ids     string
			objects []byte
		}
		return r, s.Scan(&r.seq, &r.ids, &r.objects)
	})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	obj, err := c.stmt(ctx, "audit-object-insert")
	if err != nil {
		return 0, err
	}
	text := strings.Replace(refAppend, "$seqs", "audit_refs.seqs || excluded.seqs", 1)
	if c.db.dialect.Name == "sqlite" {
		// SQLite's || makes TEXT of two BLOBs: the cast keeps the row a BLOB.
		text = strings.Replace(refAppend, "$seqs", "CAST(audit_refs.seqs || excluded.seqs AS BLOB)", 1)
	}
	ref, err := c.tx.PrepareContext(ctx, text)
	if err != nil {
		return 0, err
	}
	defer ref.Close()
	type key struct{ grp, block int64 }
	rowsOf := map[key][]byte{}
	counts := map[key]int64{}
	var order []key
	for _, r := range rows {
		if r.objects == nil {
			if r.ids == "" {
				continue
			}
			if q := c.db.dialect.AuditObjectsArray; q != "" {
				// one statement for an entry, however many objects it names
				if _, err := c.queryExec(ctx, q, uniqueIDs(strings.Split(r.ids, ",")), r.seq); err != nil {
					return 0, fmt.Errorf("index audit objects: %w", err)
				}
				continue
			}
			for _, id := range uniqueIDs(strings.Split(r.ids, ",")) {
				if _, err := obj.ExecContext(ctx, id, r.seq); err != nil {
					return 0, err
				}
			}
			continue
		}
		// A compact entry: its UUIDs by ref, other ids by text, each once.
		refs, _ := unpackObjects(r.objects)
		terms := map[int64]bool{}
		seen := map[objectRef]bool{}
		for _, o := range refs {
			if seen[o] {
				continue
			}
			seen[o] = true
			if o.term {
				terms[o.ref] = true
				continue
			}
			k := key{o.ref >> refGroupBits, r.seq >> refBlockBits}
			if _, ok := rowsOf[k]; !ok {
				order = append(order, k)
			}
			rowsOf[k] = appendPosting(rowsOf[k], k.block, posting{r.seq, o.ref & refGroupMask})
			counts[k]++
		}
		if len(terms) > 0 {
			d, err := c.resolve(ctx, terms, nil, false)
			if err != nil {
				return 0, err
			}
			for t := range terms {
				if _, err := obj.ExecContext(ctx, d.term(t), r.seq); err != nil {
					return 0, err
				}
			}
		}
	}
	// Rows in the order of their key: neighbours in the B-tree are written
	// together.
	slices.SortFunc(order, func(a, b key) int {
		if a.grp != b.grp {
			return cmp.Compare(a.grp, b.grp)
		}
		return cmp.Compare(a.block, b.block)
	})
	if q := c.db.dialect.AuditRefsArray; q != "" && len(order) > 0 {
		grps, blocks, ns, seqs := make([]int64, len(order)), make([]int64, len(order)), make([]int64, len(order)), make([][]byte, len(order))
		for i, k := range order {
			grps[i], blocks[i], ns[i], seqs[i] = k.grp, k.block, counts[k], rowsOf[k]
		}
		if _, err := c.queryExec(ctx, q, grps, blocks, ns, seqs); err != nil {
			return 0, fmt.Errorf("index audit objects: %w", err)
		}
	} else {
		for _, k := range order {
			if _, err := ref.ExecContext(ctx, k.grp, k.block, counts[k], rowsOf[k]); err != nil {
				return 0, err
			}
		}
	}
	_, err = c.exec(ctx, "audit-indexed-set", rows[len(rows)-1].seq)
	return len(rows), err
}

// auditColumns are the columns of audit_log that auditArgs fills.
var auditColumns = []string{"seq", "at", "actor", "roles", "purpose", "action", "object_type", "object_ids", "categories",
	"decision", "reason", "request_id", "client", "detail", "hash", "objects"}

// auditArgs are the audit_log columns of an entry in the compact form: the
// strings as refs, the object ids as a packed list; the decision (a
// partial index selects refusals by it), the request id and the detail
// (unique to the entry) as they are.
func (c *conn) auditArgs(ctx context.Context, e *tresor.AuditEntry) ([]any, error) {
	ref := func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		r, err := c.termRef(ctx, s)
		return strconv.FormatInt(r, 10), err
	}
	vals := []string{e.Actor, e.Roles, e.Purpose, e.Action, e.ObjectType, joinCategories(e.Categories), e.Reason, e.Client}
	for i, v := range vals {
		var err error
		if vals[i], err = ref(v); err != nil {
			return nil, err
		}
	}
	objects, err := c.packObjects(ctx, e.ObjectIDs)
	if err != nil {
		return nil, err
	}
	return []any{e.Seq, micros(e.At), vals[0], vals[1], vals[2], vals[3], vals[4], "", vals[5], string(e.Decision),
		vals[6], e.RequestID, vals[7], e.Detail, e.Hash, objects}, nil
}

func uniqueIDs(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// UniqueIDs is uniqueIDs for the adapters' bulk paths.
func UniqueIDs(ids []string) []string { return uniqueIDs(ids) }

// InsertAuditCheckpoint stores a checkpoint.
func (c *conn) InsertAuditCheckpoint(ctx context.Context, cp *tresor.AuditCheckpoint) error {
	_, err := c.exec(ctx, "audit-checkpoint-insert", cp.Size, micros(cp.At), cp.Root, cp.Chain, cp.Range, cp.KeyID, cp.Signature)
	return err
}

// AuditCheckpoints lists the checkpoints.
func (c *conn) AuditCheckpoints(ctx context.Context) ([]tresor.AuditCheckpoint, error) {
	return list(ctx, c, queries["audit-checkpoints"], nil, func(s scanner) (tresor.AuditCheckpoint, error) {
		var cp tresor.AuditCheckpoint
		var at int64
		err := s.Scan(&cp.Size, &at, &cp.Root, &cp.Chain, &cp.Range, &cp.KeyID, &cp.Signature)
		cp.At = fromMicros(at)
		return cp, err
	})
}

// AuditPrune returns the newest pruning.
func (c *conn) AuditPrune(ctx context.Context) (*tresor.AuditPrune, error) {
	ps, err := list(ctx, c, queries["audit-prune-last"], nil, func(s scanner) (tresor.AuditPrune, error) {
		var p tresor.AuditPrune
		var at int64
		err := s.Scan(&p.Upto, &at, &p.Chain, &p.Range)
		p.At = fromMicros(at)
		return p, err
	})
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// PruneAudit records a pruning and deletes the entries it covers.
func (c *conn) PruneAudit(ctx context.Context, p *tresor.AuditPrune) error {
	if _, err := c.exec(ctx, "audit-prune-insert", p.Upto, micros(p.At), p.Chain, p.Range); err != nil {
		return err
	}
	leaf, err := c.stmt(ctx, "audit-pruned-leaf-insert")
	if err != nil {
		return err
	}
	first := p.Upto - int64(len(p.Leaves)) + 1
	for i, l := range p.Leaves {
		if _, err := leaf.ExecContext(ctx, first+int64(i), l); err != nil {
			return err
		}
	}
	if _, err := c.exec(ctx, "audit-prune-objects", p.Upto); err != nil {
		return err
	}
	if err := c.pruneRefs(ctx, p.Upto); err != nil {
		return err
	}
	_, err = c.exec(ctx, "audit-prune-log", p.Upto)
	return err
}

// pruneRefs removes the pruned entries from audit_refs: the blocks before
// the one upto is in, and the seqs up to upto in that one.
func (c *conn) pruneRefs(ctx context.Context, upto int64) error {
	block := upto >> refBlockBits
	if _, err := c.exec(ctx, "audit-prune-refs", block); err != nil {
		return err
	}
	rows, err := list(ctx, c, queries["audit-refs-block"], []any{block}, func(s scanner) (struct {
		ref  int64
		seqs []byte
	}, error) {
		var x struct {
			ref  int64
			seqs []byte
		}
		return x, s.Scan(&x.ref, &x.seqs)
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		var kept []byte
		var n int64
		for _, p := range postings(block, r.seqs) {
			if p.seq > upto {
				kept = appendPosting(kept, block, p)
				n++
			}
		}
		if n == 0 {
			_, err = c.exec(ctx, "audit-ref-delete", r.ref, block)
		} else {
			_, err = c.exec(ctx, "audit-ref-set", r.ref, block, n, kept)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// AuditPrunedLeaves returns the leaf hashes of pruned entries.
func (c *conn) AuditPrunedLeaves(ctx context.Context) ([][]byte, error) {
	return list(ctx, c, queries["audit-pruned-leaves"], nil, func(s scanner) ([]byte, error) {
		var b []byte
		return b, s.Scan(&b)
	})
}

// AuditObjectRefs counts the object index rows.
func (c *conn) AuditObjectRefs(ctx context.Context) (int64, error) {
	var n int64
	s, err := c.stmt(ctx, "audit-object-count")
	if err != nil {
		return 0, err
	}
	return n, s.QueryRowContext(ctx).Scan(&n)
}

// AuditTouched aggregates the objects an actor's entries named.
func (c *conn) AuditTouched(ctx context.Context, actor, objectType string, since, until time.Time) ([]tresor.AuditTouch, error) {
	actorRef, err := c.knownTermRef(ctx, actor)
	if err != nil {
		return nil, err
	}
	typeRef, err := c.knownTermRef(ctx, objectType)
	if err != nil {
		return nil, err
	}
	raws, err := list(ctx, c, queries["audit-touched"], []any{actor, actorRef, objectType, typeRef, micros(since), micros(until)},
		func(s scanner) (rawAudit, error) {
			r := rawAudit{e: &tresor.AuditEntry{}}
			var at int64
			err := s.Scan(&at, &r.ids, &r.objects)
			r.e.At = fromMicros(at)
			return r, err
		})
	if err != nil {
		return nil, err
	}
	es, err := c.decodeAudit(ctx, raws, false)
	if err != nil {
		return nil, err
	}
	byID := map[string]*tresor.AuditTouch{}
	var order []string
	for _, e := range es {
		for _, id := range uniqueIDs(e.ObjectIDs) {
			if id == "" {
				continue
			}
			x := byID[id]
			if x == nil {
				x = &tresor.AuditTouch{ObjectID: id, First: e.At}
				byID[id] = x
				order = append(order, id)
			}
			x.Last = e.At
			x.Entries++
		}
	}
	out := make([]tresor.AuditTouch, len(order))
	for i, id := range order {
		out[i] = *byID[id]
	}
	return out, nil
}
