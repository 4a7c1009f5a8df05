package sqlstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"

	"tresor"
)

// Provenance kept once (migration 0030): a contact's provenance column holds
// either its JSON (contacts written before) or "@" and the id of a row of
// provenance_sets, which the select queries resolve. The rows are found by
// the SHA-256 of the JSON and never change: a reference read once means the
// same on every server, so the references of committed rows can be kept.

// provenanceInternMin is the shortest JSON kept apart: shorter provenance
// ("[]", nothing to share) stays in the row.
const provenanceInternMin = 64

// provenanceRefsMax bounds the references a store remembers; the map starts
// afresh when full.
const provenanceRefsMax = 1024

// provenanceRefs remembers the references of provenance committed in
// provenance_sets, by its JSON.
type provenanceRefs struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *provenanceRefs) get(text string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ref, ok := p.m[text]
	return ref, ok
}

// publish adds the references a transaction wrote or found, once it has
// committed (a row inserted by a transaction that rolled back is no row).
func (p *provenanceRefs) publish(refs map[string]string) {
	if len(refs) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m)+len(refs) > provenanceRefsMax {
		p.m = make(map[string]string, len(refs))
	}
	for text, ref := range refs {
		p.m[text] = ref
	}
}

// Only provenance shared by several people is kept apart: a balancing note
// is free text, and one written for a single person could name that person
// — in the person's own row it goes with the person at an erasure, in
// provenance_sets it would stay. Provenance of several people of one batch
// (an import) is the batch's; a contact whose provenance is such a row
// already refers to it when it is written again.

// provenanceRef returns the column value for p: in a transaction, a
// reference to its row in provenance_sets if there is one, written by this
// transaction if there is none and share says p is shared by several people;
// else the JSON itself.
func (c *conn) provenanceRef(ctx context.Context, p tresor.Provenance, share bool) (string, error) {
	text := provenanceColumn(p)
	if len(text) < provenanceInternMin || c.tx == nil {
		return text, nil
	}
	if ref, ok := c.db.provRefs.get(text); ok {
		return ref, nil
	}
	if ref, ok := c.provNew[text]; ok {
		return ref, nil
	}
	if !share {
		return text, nil
	}
	digest := sha256.Sum256([]byte(text))
	if _, err := c.exec(ctx, "provenance-intern", digest[:], text); err != nil {
		return "", err
	}
	s, err := c.stmt(ctx, "provenance-ref")
	if err != nil {
		return "", err
	}
	var id int64
	if err := s.QueryRowContext(ctx, digest[:]).Scan(&id); err != nil {
		return "", fmt.Errorf("provenance-ref: %w", c.db.dialect.TranslateError(err))
	}
	ref := "@" + strconv.FormatInt(id, 10)
	if c.provNew == nil {
		c.provNew = map[string]string{}
	}
	c.provNew[text] = ref
	return ref, nil
}

// withProvenanceRefs returns copies of the rows whose provenance is the
// value to be stored: a reference where several rows share it; the caller's
// rows are left as they are.
func (c *conn) withProvenanceRefs(ctx context.Context, rows []*tresor.ContactRow) ([]*tresor.ContactRow, error) {
	texts := make([]string, len(rows))
	shared := map[string]int{}
	for i, r := range rows {
		texts[i] = provenanceColumn(r.Provenance)
		shared[texts[i]]++
	}
	out := make([]*tresor.ContactRow, len(rows))
	for i, r := range rows {
		ref, err := c.provenanceRef(ctx, tresor.ProvenanceJSON([]byte(texts[i])), shared[texts[i]] > 1)
		if err != nil {
			return nil, err
		}
		cp := *r
		cp.Provenance = tresor.ProvenanceJSON([]byte(ref))
		out[i] = &cp
	}
	return out, nil
}
