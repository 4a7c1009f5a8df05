package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
	"tresor/audit"
	"tresor/vault"
)

var _ tresor.AuditService = (*Gate)(nil)

// auditReader authorises reading the audit trail: the data-protection
// officer and the auditor (and the CLI on the server).
func (g *Gate) auditReader(ctx context.Context) (*tresor.Actor, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in, or send an API token in the Authorization header.")
	}
	if a.Kind != tresor.ActorSystem && !a.HasRole(tresor.RoleDPO) && !a.HasRole(tresor.RoleAuditor) {
		err := tresor.Errorf(tresor.ECForbidden, "Only the data-protection officer and the auditor read the audit trail.")
		g.recordBestEffort(ctx, g.entry(ctx, "audit.read", "", nil, nil, err))
		return nil, err
	}
	return a, nil
}

// AuditLog lists audit entries, newest first.
func (g *Gate) AuditLog(ctx context.Context, f tresor.AuditFilter) (*tresor.List[*tresor.AuditEntry], error) {
	if _, err := g.auditReader(ctx); err != nil {
		return nil, err
	}
	if err := f.Page.Normalize(); err != nil {
		return nil, err
	}
	switch f.Decision {
	case "", tresor.Allowed, tresor.Refused, Failed:
	default:
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "decision must be allow, refuse or error, not %q.", f.Decision)
	}
	limit := f.Limit
	q := f
	q.Limit = limit + 1
	if f.After != "" {
		seq, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || seq < 1 {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one this server issued.")
		}
	}
	if f.ContactID != "" {
		if err := g.indexAudit(ctx); err != nil {
			return nil, err
		}
	}
	rows, err := g.store.Read().AuditEntries(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.AuditEntry]{Items: nonNil(rows)}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.Next = tresor.EncodeCursor(strconv.FormatInt(rows[limit-1].Seq, 10))
	}
	// Reading the trail is itself recorded, with what was asked.
	e := g.entry(ctx, "audit.read", "", nil, nil, nil)
	e.Detail = auditQuery(f)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

func auditQuery(f tresor.AuditFilter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("contact", f.ContactID)
	add("actor", f.Actor)
	add("action", f.Action)
	add("purpose", f.Purpose)
	if !f.Since.IsZero() {
		add("since", f.Since.Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("until", f.Until.Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}

// myRefusalsDays is how far back the start page looks for refusals.
const myRefusalsDays = 14

// MyRefusals lists the refusals the actor met in the last two weeks.
func (g *Gate) MyRefusals(ctx context.Context, limit int) ([]*tresor.AuditEntry, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil || a.Kind == tresor.ActorSystem {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in to see the refusals you met.")
	}
	limit = min(max(limit, 1), 50)
	return g.store.Read().AuditEntries(ctx, tresor.AuditFilter{Actor: a.String(), Decision: tresor.Refused,
		Since: g.now().AddDate(0, 0, -myRefusalsDays), Page: tresor.Page{Limit: limit}})
}

// AuditExport writes every contact an actor touched in a time window, as
// CSV with the contact's name and e-mail addresses (for notifying people
// after a breach, Art. 33/34 GDPR). Only the data-protection purpose may.
func (g *Gate) AuditExport(ctx context.Context, f tresor.AuditFilter, w io.Writer) error {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return err
	}
	if f.Actor == "" || f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the actor (user:ID or token:ID) and the window (since < until).")
	}
	touched, err := g.store.Read().AuditTouched(ctx, f.Actor, "contact", f.Since, f.Until)
	if err != nil {
		return err
	}
	cw := newCSVWriter(w)
	if err := cw.Write([]string{"contact_id", "state", "given_name", "family_name", "emails", "first_access", "last_access", "entries"}); err != nil {
		return err
	}
	ids := make([]string, 0, len(touched))
	for _, t := range touched {
		state, given, family, emails := "present", "", "", ""
		row, err := g.store.Read().Contact(ctx, t.ObjectID)
		switch {
		case tresor.ErrorCode(err) == tresor.ECNotFound:
			state = "erased"
		case err != nil:
			return err
		default:
			c, err := contacts.fromRow(ctx, g, row, req.pu.Allows)
			if err != nil {
				state = "damaged"
			} else {
				given, family, emails = c.GivenName, c.FamilyName, strings.Join(c.Emails, " ")
			}
		}
		ids = append(ids, t.ObjectID)
		if err := cw.Write([]string{t.ObjectID, state, given, family, emails, t.First.Format(time.RFC3339),
			t.Last.Format(time.RFC3339), strconv.Itoa(t.Entries)}); err != nil {
			return err
		}
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	e := g.entry(ctx, "audit.export", "contact", ids, []tresor.Category{tresor.CatContactName, tresor.CatContactEmail}, nil)
	e.Detail = auditQuery(f)
	return g.record(ctx, e)
}

// AuditReport says what verifying the audit trail found.
type AuditReport struct {
	From, To    int64 // the entries checked
	Entries     int64
	Checkpoints int // checkpoints that matched (from the database and the copy)
	Copies      int // checkpoints read from the second location
	PrunedUpto  int64
	// Problem names the first inconsistency; "" when the trail is intact.
	Problem string
	Seq     int64 // the entry the problem concerns
}

// VerifyAudit recomputes the hash chain and the Merkle tree of the whole
// trail (from the last pruning), checks every checkpoint of the database
// and of the second location against them and its signature, and checks the
// object index. pub is the public key ("ed25519 BASE64"; "" for this
// server's own key).
func (g *Gate) VerifyAudit(ctx context.Context, pub string) (*AuditReport, error) {
	key := g.auditSigner().Public()
	if pub != "" {
		k, err := audit.ParsePublicKey(pub)
		if err != nil {
			return nil, err
		}
		key = k
	}
	r := g.store.Read()
	cps, err := r.AuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	rep := &AuditReport{}
	if f := g.auditCfg.CheckpointFile; f != "" {
		copies, err := audit.ReadCheckpointLines(f)
		if err != nil {
			return nil, err
		}
		rep.Copies = len(copies)
		cps = append(cps, copies...)
	}
	prune, err := r.AuditPrune(ctx)
	if err != nil {
		return nil, err
	}
	if prune != nil {
		rep.PrunedUpto = prune.Upto
		if err := checkPrunedLeaves(ctx, r, prune); err != nil {
			rep.Problem, rep.Seq = err.Error(), prune.Upto
			return rep, nil
		}
	}
	v, err := audit.NewVerifier(key, prune, cps)
	if err != nil {
		var p *audit.Problem
		if errors.As(err, &p) {
			rep.Problem, rep.Seq = p.Msg, p.Seq
			return rep, nil
		}
		return nil, err
	}
	rep.From, _ = v.Head()
	rep.From++
	after := rep.From - 1
	var refs int64
	// Two goroutines read ranges of entries ahead while this one checks
	// them in order: reading rows is most of the work.
	head, err := r.AuditMax(ctx) // not the head row: it could lie
	if err != nil {
		return nil, err
	}
	type page struct {
		es  []*tresor.AuditEntry
		err error
	}
	const span = 10000
	base := after // the workers' origin; after moves as entries are checked
	var ranges []chan page
	for from := base; from < head; from += span {
		ranges = append(ranges, make(chan page, 1))
	}
	stop := make(chan struct{})
	defer close(stop)
	work := make(chan int)
	go func() {
		defer close(work)
		for i := range ranges {
			select {
			case work <- i:
			case <-stop:
				return
			}
		}
	}()
	for w := 0; w < 2; w++ {
		go func() {
			for i := range work {
				from := base + int64(i)*span
				es, err := r.AuditRange(ctx, from, min(from+span, head))
				select {
				case ranges[i] <- page{es, err}:
				case <-stop:
					return
				}
			}
		}()
	}
	pages := make(chan page)
	go func() {
		defer close(pages)
		for _, ch := range ranges {
			select {
			case p := <-ch:
				select {
				case pages <- p:
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	}()
	for p := range pages {
		if p.err != nil {
			return nil, p.err
		}
		for _, e := range p.es {
			if err := v.Add(e); err != nil {
				var pr *audit.Problem
				if errors.As(err, &pr) {
					rep.Problem, rep.Seq = pr.Msg, pr.Seq
				}
				rep.To, rep.Entries, rep.Checkpoints = e.Seq, v.Entries, v.Checked
				return rep, nil
			}
			refs += int64(countUnique(e.ObjectIDs))
			after = e.Seq
		}
	}
	rep.To, rep.Entries = after, v.Entries
	if err := v.Finish(); err != nil {
		var p *audit.Problem
		if errors.As(err, &p) {
			rep.Problem, rep.Seq = p.Msg, p.Seq
		}
	}
	rep.Checkpoints = v.Checked
	if rep.Problem == "" {
		if err := g.indexAudit(ctx); err != nil {
			return nil, err
		}
		n, err := r.AuditObjectRefs(ctx)
		if err != nil {
			return nil, err
		}
		if n != refs {
			rep.Problem = fmt.Sprintf("the index of objects has %d rows, the entries name %d: rows were deleted or added, so who-accessed answers would be wrong", n, refs)
		}
	}
	return rep, nil
}

// checkPrunedLeaves proves that the kept leaf hashes of pruned entries
// make the tree the pruning recorded.
func checkPrunedLeaves(ctx context.Context, r tresor.AuditReader, p *tresor.AuditPrune) error {
	leaves, err := r.AuditPrunedLeaves(ctx)
	if err != nil {
		return err
	}
	want, err := audit.UnmarshalTree(p.Range)
	if err != nil {
		return err
	}
	t := audit.NewTree()
	for _, l := range leaves {
		t.Append(l)
	}
	if t.Size() != p.Upto || string(t.Root()) != string(want.Root()) {
		return fmt.Errorf("the leaf hashes kept of the %d pruned entries do not match the pruning's record", p.Upto)
	}
	return nil
}

// countUnique counts the distinct ids of an entry (most name one).
func countUnique(ids []string) int {
	if len(ids) < 2 {
		return len(ids)
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	return len(slices.Compact(s))
}

// AuditProof is an inclusion proof of an entry against a checkpoint.
type AuditProof struct {
	Entry      *tresor.AuditEntry      `json:"entry"`
	LeafHash   []byte                  `json:"leaf_hash"`
	Index      int64                   `json:"index"` // 0-based leaf index: seq − 1
	Checkpoint *tresor.AuditCheckpoint `json:"checkpoint"`
	Proof      [][]byte                `json:"proof"`
}

// ProveAudit returns the inclusion proof of entry seq against the newest
// checkpoint that covers it (writing one if none does yet).
func (g *Gate) ProveAudit(ctx context.Context, seq int64) (*AuditProof, error) {
	r := g.store.Read()
	cps, err := r.AuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 || cps[len(cps)-1].Size < seq {
		if _, err := g.Checkpoint(ctx); err != nil {
			return nil, err
		}
		if cps, err = r.AuditCheckpoints(ctx); err != nil {
			return nil, err
		}
	}
	if len(cps) == 0 || cps[len(cps)-1].Size < seq || seq < 1 {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no audit entry %d.", seq)
	}
	cp := cps[len(cps)-1]
	leaves, err := r.AuditPrunedLeaves(ctx)
	if err != nil {
		return nil, err
	}
	var entry *tresor.AuditEntry
	after := int64(len(leaves))
	for after < cp.Size {
		es, err := r.AuditScan(ctx, after, 10000)
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Seq > cp.Size {
				break
			}
			leaves = append(leaves, audit.LeafHash(e))
			if e.Seq == seq {
				entry = e
			}
			after = e.Seq
		}
	}
	if entry == nil {
		return nil, tresor.Errorf(tresor.ECNotFound, "The audit entry %d is not in the trail (pruned, or missing: run tresor audit verify).", seq)
	}
	p, err := audit.InclusionProof(leaves, uint64(seq-1), uint64(cp.Size))
	if err != nil {
		return nil, err
	}
	cp.Range = nil
	return &AuditProof{Entry: entry, LeafHash: leaves[seq-1], Index: seq - 1, Checkpoint: &cp, Proof: p}, nil
}

// VerifyProof checks an inclusion proof and its checkpoint's signature.
func VerifyProof(p *AuditProof, pub string) error {
	key, err := audit.ParsePublicKey(pub)
	if err != nil {
		return err
	}
	if err := audit.VerifyCheckpoint(key, p.Checkpoint); err != nil {
		return err
	}
	if string(audit.LeafHash(p.Entry)) != string(p.LeafHash) {
		return errors.New("the entry does not match its leaf hash")
	}
	return audit.VerifyInclusion(p.LeafHash, uint64(p.Index), uint64(p.Checkpoint.Size), p.Proof, p.Checkpoint.Root)
}

// PruneAudit removes the entries older than the cut-off, after a signed
// checkpoint at the last of them: verification then starts from that
// checkpoint, and inclusion proofs keep working from the kept leaf hashes.
// It returns how many entries went.
func (g *Gate) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	r := g.store.Read()
	prune, err := r.AuditPrune(ctx)
	if err != nil {
		return 0, err
	}
	tree, chain, from := audit.NewTree(), audit.Genesis, int64(0)
	if prune != nil {
		if tree, err = audit.UnmarshalTree(prune.Range); err != nil {
			return 0, err
		}
		chain, from = prune.Chain, prune.Upto
	}
	var leaves [][]byte
	upto := from
	for {
		es, err := r.AuditScan(ctx, upto, 5000)
		if err != nil {
			return 0, err
		}
		stop := len(es) < 5000
		for _, e := range es {
			if !e.At.Before(before) {
				stop = true
				break
			}
			leaf := audit.LeafHash(e)
			if string(audit.Link(chain, leaf)) != string(e.Hash) {
				return 0, fmt.Errorf("audit entry %d does not verify; run tresor audit verify before pruning", e.Seq)
			}
			tree.Append(leaf)
			leaves = append(leaves, leaf)
			chain, upto = e.Hash, e.Seq
		}
		if stop {
			break
		}
	}
	if upto == from {
		return 0, nil
	}
	cp := g.auditSigner().Sign(tree, chain, tresor.Truncate(g.now()))
	p := &tresor.AuditPrune{Upto: upto, At: cp.At, Chain: chain, Range: tree.Marshal(), Leaves: leaves}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		existing, err := tx.AuditCheckpoints(ctx)
		if err != nil {
			return err
		}
		known := false
		for _, c := range existing {
			known = known || c.Size == cp.Size
		}
		if !known {
			if err := tx.InsertAuditCheckpoint(ctx, cp); err != nil {
				return err
			}
		}
		if err := tx.PruneAudit(ctx, p); err != nil {
			return err
		}
		e := g.entry(ctx, "audit.pruned", "", nil, nil, nil)
		e.Detail = fmt.Sprintf("entries %d to %d, before %s", from+1, upto, before.Format(time.RFC3339))
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{e})
	})
	if err != nil {
		return 0, err
	}
	if f := g.auditCfg.CheckpointFile; f != "" {
		if err := vault.AppendFile(f, audit.CheckpointLine(cp)); err != nil {
			return upto - from, err
		}
	}
	return upto - from, nil
}
