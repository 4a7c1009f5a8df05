package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tresor"
	"tresor/audit"
	"tresor/vault"
)

// AuditConfig configures the audit trail.
type AuditConfig struct {
	// Signer signs checkpoints (default: the key file audit.key in the key
	// directory, created on first start; tests get a fresh key).
	Signer *audit.Signer
	// CheckpointFile receives every checkpoint as a JSON line: a second
	// location that a tamperer with the database alone cannot rewrite.
	CheckpointFile string
	// Stream, if set, receives every entry as a JSON line after it is
	// durable (a file, syslog: for a SIEM).
	Stream io.Writer
	// Client says how much of a client address is kept: "full",
	// "truncated" (IPv4 /24, IPv6 /48; the default) or "none".
	Client string
	// CheckpointEvery writes a checkpoint when this many entries came since
	// the last (default 1000); the server also writes one every minute.
	CheckpointEvery int64
}

// WithAudit configures the audit trail.
func WithAudit(c AuditConfig) Option { return func(g *Gate) { g.auditCfg = c } }

// WithAuditStream sends every durable entry as a JSON line to w.
func WithAuditStream(w io.Writer) Option { return func(g *Gate) { g.auditCfg.Stream = w } }

// WithAuditClient sets how much of client addresses is kept: "full",
// "truncated" or "none".
func WithAuditClient(mode string) Option { return func(g *Gate) { g.auditCfg.Client = mode } }

// AuditKeyFile is the name of the checkpoint signing key in the key directory.
const AuditKeyFile = "audit.key"

// AuditCheckpointFile is the name of the checkpoint copy in the data directory.
const AuditCheckpointFile = "audit-checkpoints.jsonl"

// auditor appends the entries of reads in groups: every caller waits until
// its entry is committed, and one transaction commits all entries that
// arrived meanwhile (group commit).
type auditor struct {
	g       *Gate
	in      chan *pending
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex // guards started, closed and stream writes
	started bool
	closed  bool
	since   atomic.Int64 // entries appended since the last checkpoint by this server
	signing atomic.Bool  // a checkpoint is being written
	// unindexed counts entries appended since the object index last caught up.
	unindexed atomic.Int64
	indexing  atomic.Bool
	lastBatch atomic.Int64 // requests in the last commit
	busy      atomic.Int64 // commits under way (the committer's and direct ones)
	// statistics of the group committer
	commits, committedEntries, commitNanos atomic.Int64
}

func newAuditor(g *Gate) *auditor {
	return &auditor{g: g, in: make(chan *pending, 1024), stop: make(chan struct{}), done: make(chan struct{})}
}

type pending struct {
	entries []*tresor.AuditEntry
	done    chan error
}

const maxAuditBatch = 2048

// auditLinger is how long the group committer waits for more entries after
// the first: a read waits at most this much longer, and many reads share a
// commit.
const auditLinger = 200 * time.Microsecond

func (a *auditor) run() {
	defer close(a.done)
	for {
		var batch []*pending
		select {
		case p := <-a.in:
			batch = append(batch, p)
		case <-a.stop:
			return
		}
		a.busy.Add(1)
		// Under load, wait a moment for the entries of other requests under
		// way: one commit for many reads is the point of group commit. A lone
		// reader (the last commit carried one request) does not wait.
		n := len(batch[0].entries)
		wait := auditLinger
		if a.lastBatch.Load() <= 1 {
			wait = 0
		}
		linger := time.NewTimer(wait)
	more:
		for n < maxAuditBatch {
			select {
			case p := <-a.in:
				batch = append(batch, p)
				n += len(p.entries)
			case <-linger.C:
				// take what is queued already, then commit
				for drained := false; !drained && n < maxAuditBatch; {
					select {
					case p := <-a.in:
						batch = append(batch, p)
						n += len(p.entries)
					default:
						drained = true
					}
				}
				break more
			}
		}
		linger.Stop()
		a.lastBatch.Store(int64(len(batch)))
		var all []*tresor.AuditEntry
		for _, p := range batch {
			all = append(all, p.entries...)
		}
		t0 := time.Now()
		err := a.g.store.Update(context.Background(), func(tx tresor.Tx) error { return a.g.appendTx(context.Background(), tx, all) })
		a.commits.Add(1)
		a.committedEntries.Add(int64(len(all)))
		a.commitNanos.Add(int64(time.Since(t0)))
		if err == nil {
			a.g.committed(all)
		}
		a.busy.Add(-1)
		for _, p := range batch {
			p.done <- err
		}
	}
}

// committed streams entries once durable and writes a checkpoint when
// enough entries came since the last.
func (g *Gate) committed(entries []*tresor.AuditEntry) {
	g.streamEntries(entries)
	a := g.auditor
	every := g.auditCfg.CheckpointEvery
	if every <= 0 {
		every = 1000
	}
	if a.unindexed.Add(int64(len(entries))) >= auditIndexEvery && a.indexing.CompareAndSwap(false, true) {
		go func() {
			defer a.indexing.Store(false)
			if err := g.indexAudit(context.Background()); err != nil {
				g.log.Error("audit object index", "error", err)
			}
		}()
	}
	if a.since.Add(int64(len(entries))) >= every && a.signing.CompareAndSwap(false, true) {
		go func() {
			defer a.signing.Store(false)
			if _, err := g.Checkpoint(context.Background()); err != nil {
				g.log.Error("audit checkpoint", "error", err)
			}
		}()
	}
}

// record makes an entry durable before it returns: a read's entry is
// committed before its answer leaves.
func (g *Gate) record(ctx context.Context, entries ...*tresor.AuditEntry) error {
	if g.unaudited {
		return nil // only the benchmarks' baseline
	}
	a := g.auditor
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return &tresor.Error{Code: tresor.ECUnavailable, Message: "Tresor is shutting down.", Err: errors.New("audit: the trail is closed")}
	}
	if !a.started {
		a.started = true
		go a.run()
	}
	a.mu.Unlock()
	// Nothing under way: commit at once, without the hand-over to the
	// committer — a lone reader pays one commit and no more.
	if a.busy.CompareAndSwap(0, 1) {
		err := g.store.Update(ctx, func(tx tresor.Tx) error { return g.appendTx(ctx, tx, entries) })
		a.busy.Add(-1)
		if err != nil {
			g.log.Error("audit entry not written", "action", entries[0].Action, "error", err)
			return g.auditUnwritten(err)
		}
		a.lastBatch.Store(1)
		g.committed(entries)
		return nil
	}
	p := &pending{entries: entries, done: make(chan error, 1)}
	select {
	case a.in <- p:
	case <-a.done:
		return &tresor.Error{Code: tresor.ECUnavailable, Message: "Tresor is shutting down.", Err: errors.New("audit: the trail is closed")}
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := <-p.done; err != nil {
		g.log.Error("audit entry not written", "action", entries[0].Action, "error", err)
		return g.auditUnwritten(err)
	}
	return nil
}

// auditUnwritten is the error of an access refused because its audit entry
// could not be stored: nothing is shown without it.
func (g *Gate) auditUnwritten(err error) error {
	code := tresor.ECUnavailable
	msg, de := "The audit trail cannot be written; nothing is shown without it.",
		"Das Protokoll kann nicht geschrieben werden; ohne es wird nichts angezeigt."
	switch g.store.Fault(err) {
	case tresor.ECStorageFull:
		code = tresor.ECStorageFull
		msg, de = "The audit trail cannot be written: the server's storage is full, and nothing is shown without it; tell the administrator.",
			"Das Protokoll kann nicht geschrieben werden, weil der Speicher des Servers voll ist, und ohne es wird nichts angezeigt. Bitte informieren Sie die Administration."
	case tresor.ECStorageUnavailable:
		code = tresor.ECStorageUnavailable
		msg, de = "The audit trail cannot be written: the database cannot be reached at the moment, and nothing is shown without it; try again shortly.",
			"Das Protokoll kann nicht geschrieben werden, weil die Datenbank gerade nicht erreichbar ist, und ohne es wird nichts angezeigt. Bitte versuchen Sie es gleich noch einmal."
	}
	return &tresor.Error{Code: code, Message: msg, MessageDE: de, Err: err}
}

// recordBestEffort records entries whose failure must not change the answer
// (a refusal already on its way); a failure is logged.
func (g *Gate) recordBestEffort(ctx context.Context, entries ...*tresor.AuditEntry) {
	_ = g.record(context.WithoutCancel(ctx), entries...)
}

// appendTx chains entries after the head and inserts them in tx: a write
// and its entry commit together.
func (g *Gate) appendTx(ctx context.Context, tx tresor.AuditWriter, entries []*tresor.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	seq, prev, err := tx.LockAuditHead(ctx)
	if err != nil {
		return err
	}
	audit.Chain(seq, prev, entries)
	return tx.InsertAudit(ctx, entries)
}

func (g *Gate) streamEntries(entries []*tresor.AuditEntry) {
	w := g.auditCfg.Stream
	if w == nil {
		return
	}
	a := g.auditor
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err == nil {
			_, err = w.Write(append(b, '\n'))
		}
		if err != nil {
			g.log.Error("audit stream", "error", err)
			return
		}
	}
}

// auditIndexEvery is how many entries the object index lets pass before it
// catches up in one transaction of its own.
const auditIndexEvery = 512

// indexAudit brings the object index up to the newest entry. Queries by
// object call it first, so they never miss an entry.
func (g *Gate) indexAudit(ctx context.Context) error {
	for {
		var n int
		err := g.store.Update(ctx, func(tx tresor.Tx) error {
			var err error
			n, err = tx.IndexAudit(ctx, 5000)
			return err
		})
		if err != nil || n == 0 {
			g.auditor.unindexed.Store(0)
			return err
		}
	}
}

// closeAudit stops the group committer after the entries in flight.
func (g *Gate) closeAudit() {
	a := g.auditor
	a.mu.Lock()
	started := a.started && !a.closed
	a.closed = true
	a.mu.Unlock()
	if started {
		close(a.stop)
		<-a.done
	}
}

// entry builds an audit entry of the call in ctx. err decides: nil is
// allowed; a refusal of the policy (a purpose, a legal basis, a category,
// a restriction …) is refused with its code; any other error is recorded
// as "error" with its code.
func (g *Gate) entry(ctx context.Context, action, objectType string, ids []string, cats []tresor.Category, err error) *tresor.AuditEntry {
	e := &tresor.AuditEntry{At: tresor.Truncate(g.now()), Actor: "anonymous", Purpose: tresor.PurposeFrom(ctx), Action: action,
		ObjectType: objectType, ObjectIDs: ids, Categories: cats, Decision: tresor.Allowed,
		RequestID: tresor.RequestIDFrom(ctx), Client: g.clientOf(tresor.ClientFrom(ctx))}
	if a := tresor.ActorFrom(ctx); a != nil {
		e.Actor = a.String()
		roles := make([]string, len(a.Roles))
		for i, r := range a.Roles {
			roles[i] = string(r)
		}
		e.Roles = strings.Join(roles, ",")
		// The CLI on the server is the break-glass path: its entries name
		// the operating-system user and host that ran it.
		if a.Kind == tresor.ActorSystem && a.Operator != "" && e.Client == "" {
			e.Client = "os:" + a.Operator
		}
	}
	if err != nil {
		e.Decision, e.Reason = decisionOf(err)
	}
	return e
}

// refusalCodes are the codes of decisions of the policy or of access control.
var refusalCodes = map[tresor.Code]bool{
	tresor.ECUnauthenticated: true, tresor.ECForbidden: true, tresor.ECPurposeMissing: true, tresor.ECPurposeUnknown: true,
	tresor.ECPurposeNotAllowed: true, tresor.ECAggregatesOnly: true, tresor.ECBasisMissing: true, tresor.ECBasisUnknown: true,
	tresor.ECBasisNotAllowed: true, tresor.ECBalancingNote: true, tresor.ECCategoryNotAllowed: true, tresor.ECSpecialCategory: true,
	tresor.ECRestricted: true, tresor.ECSuppressed: true, tresor.ECNotPublic: true, tresor.ECLegalHold: true,
	tresor.ECArchived: true, tresor.ECLoginFailed: true, tresor.ECThrottled: true, tresor.ECMFARequired: true,
	tresor.ECCSRF: true, tresor.ECReasonUnsafe: true, tresor.ECSeparationOfDuties: true, tresor.ECFourEyes: true,
	tresor.ECReplyWithoutConversation: true, tresor.ECNoContract: true, tresor.ECPrivacyBudget: true,
}

// Failed marks an action that failed for another reason than a refusal.
const Failed tresor.Decision = "error"

func decisionOf(err error) (tresor.Decision, string) {
	code := tresor.ErrorCode(err)
	if refusalCodes[code] {
		return tresor.Refused, string(code)
	}
	if code == "" {
		code = tresor.ECInternal
	}
	return Failed, string(code)
}

// clientOf truncates a client address as configured.
func (g *Gate) clientOf(addr string) string {
	if addr == "" || g.auditCfg.Client == "none" {
		return ""
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return ""
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if g.auditCfg.Client == "full" {
		return ip.String()
	}
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// Checkpoint signs the trail's current size, root and chain link, stores it
// and copies it to the checkpoint file. It extends the newest checkpoint's
// compact range with the entries after it, so any server can write one.
func (g *Gate) Checkpoint(ctx context.Context) (*tresor.AuditCheckpoint, error) {
	var cp *tresor.AuditCheckpoint
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		seq, chain, err := tx.LockAuditHead(ctx)
		if err != nil {
			return err
		}
		if seq == 0 {
			return nil // an empty trail
		}
		cps, err := tx.AuditCheckpoints(ctx)
		if err != nil {
			return err
		}
		tree, from := audit.NewTree(), int64(0)
		if n := len(cps); n > 0 {
			if cps[n-1].Size == seq {
				cp = &cps[n-1]
				return nil // nothing new
			}
			if tree, err = audit.UnmarshalTree(cps[n-1].Range); err != nil {
				return err
			}
			from = cps[n-1].Size
		} else if p, err := tx.AuditPrune(ctx); err != nil {
			return err
		} else if p != nil {
			if tree, err = audit.UnmarshalTree(p.Range); err != nil {
				return err
			}
			from = p.Upto
		}
		for from < seq {
			es, err := tx.AuditScan(ctx, from, 5000)
			if err != nil {
				return err
			}
			if len(es) == 0 {
				return fmt.Errorf("audit: entries %d to %d are missing; run tresor audit verify", from+1, seq)
			}
			for _, e := range es {
				if e.Seq > seq {
					break
				}
				tree.Append(audit.LeafHash(e))
				from = e.Seq
			}
		}
		cp = g.auditSigner().Sign(tree, chain, tresor.Truncate(g.now()))
		return tx.InsertAuditCheckpoint(ctx, cp)
	})
	if err != nil {
		return nil, err
	}
	g.auditor.since.Store(0)
	if f := g.auditCfg.CheckpointFile; f != "" && cp != nil {
		if err := vault.AppendFile(f, audit.CheckpointLine(cp)); err != nil {
			return cp, fmt.Errorf("copy the checkpoint to %s: %w", f, err)
		}
	}
	return cp, nil
}

func (g *Gate) auditSigner() *audit.Signer {
	if g.auditCfg.Signer == nil {
		g.auditCfg.Signer = audit.NewSigner()
	}
	return g.auditCfg.Signer
}

// AuditPublicKey is the public key that verifies the checkpoints.
func (g *Gate) AuditPublicKey() string { return g.auditSigner().PublicKeyText() }
