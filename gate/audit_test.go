package gate_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"tresor"
	"tresor/audit"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
)

// auditEnv is a gate with raw access to its database, to tamper with.
type auditEnv struct {
	g       *gate.Gate
	raw     *sql.DB
	backend string
	clock   *clock
	dir     string
}

func auditBackends(t *testing.T, fn func(t *testing.T, e *auditEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		dir, c := t.TempDir(), newClock()
		g := openGate(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(c.now))
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, &auditEnv{g: g, raw: raw, backend: "sqlite", clock: c, dir: dir})
	})
	t.Run("postgres", func(t *testing.T) {
		url, dir, c := storetest.PostgresURL(t), t.TempDir(), newClock()
		g := openGate(t, datadir.Config{DB: url, DataDir: dir, Migrate: true}, gate.WithClock(c.now))
		raw, err := sql.Open("pgx", url)
		must(t, err)
		t.Cleanup(func() { raw.Close() })
		fn(t, &auditEnv{g: g, raw: raw, backend: "postgres", clock: c, dir: dir})
	})
}

// untrigger removes the append-only triggers, as an administrator with
// full access to the database could.
func (e *auditEnv) untrigger(t *testing.T) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete",
		"DROP TRIGGER audit_checkpoints_no_delete", "DROP TRIGGER audit_checkpoints_no_update"}
	if e.backend == "postgres" {
		stmts = []string{"ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"}
	}
	for _, s := range stmts {
		_, err := e.raw.Exec(s)
		must(t, err)
	}
}

func (e *auditEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.raw.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *auditEnv) verify(t *testing.T) *gate.AuditReport {
	t.Helper()
	rep, err := e.g.VerifyAudit(bg, "")
	must(t, err)
	return rep
}

// entriesOf lists the entries naming an object, oldest first.
func entriesOf(t *testing.T, g *gate.Gate, id string) []*tresor.AuditEntry {
	t.Helper()
	l, err := g.AuditLog(system(), tresor.AuditFilter{ContactID: id, Page: tresor.Page{Limit: tresor.MaxPageSize}})
	must(t, err)
	out := slices.Clone(l.Items)
	slices.Reverse(out)
	return out
}

func actions(es []*tresor.AuditEntry) string {
	var s []string
	for _, e := range es {
		x := e.Action + ":" + string(e.Decision)
		if e.Reason != "" {
			x += "(" + e.Reason + ")"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

// TestAuditRecordsEveryAccess: reads (single, list), writes, refusals and
// consents leave their entries, with purpose, categories and decision; the
// DPO finds them by contact and by actor; others may not read the trail.
func TestAuditRecordsEveryAccess(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, mk, dpo := e.g, e.ctx["sales"], e.ctx["marketing"], e.ctx["data_protection"]
		c := erika()
		c.PostalAddress = &tresor.PostalAddress{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
		must(t, g.CreateContact(sales, c))
		_, err := g.Contact(sales, c.ID)
		must(t, err)
		_, err = g.Contact(mk, c.ID)
		must(t, err)
		_, err = g.Contacts(sales, tresor.ContactFilter{})
		must(t, err)
		_, err = g.UpdateContact(sales, c.ID, tresor.Update{Patch: []byte(`{"position":"CFO"}`)})
		must(t, err)
		_, err = g.Restrict(dpo, c.ID, true)
		must(t, err)
		_, err = g.Contact(sales, c.ID)
		wantCode(t, err, tresor.ECRestricted)

		es := entriesOf(t, g, c.ID)
		want := "contact.create:allow contact.read:allow contact.read:allow contact.list:allow contact.update:allow " +
			"contact.restricted:allow contact.read:refuse(contact_restricted)"
		if got := actions(es); got != want {
			t.Fatalf("entries of the contact:\n got %s\nwant %s", got, want)
		}
		salesRead, mkRead := es[1], es[2]
		if salesRead.Purpose != "sales" || !slices.Contains(salesRead.Categories, tresor.CatContactPostal) || salesRead.Roles != "sales" ||
			!strings.HasPrefix(salesRead.Actor, "user:") {
			t.Fatalf("the sales read: %+v", salesRead)
		}
		if mkRead.Purpose != "marketing" || slices.Contains(mkRead.Categories, tresor.CatContactPostal) {
			t.Fatalf("the marketing read names a withheld category: %+v", mkRead)
		}
		if es[4].Categories == nil || !slices.Equal(es[4].Categories, []tresor.Category{tresor.CatPosition}) {
			t.Fatalf("the update names %v, want the changed category", es[4].Categories)
		}
		for _, x := range es {
			if len(x.Hash) != 32 || x.Seq == 0 {
				t.Fatalf("an entry without its place in the chain: %+v", x)
			}
			b := fmt.Sprintf("%+v", x)
			if strings.Contains(b, "Mustermann") || strings.Contains(b, "Weg 1") || strings.Contains(strings.ToLower(b), "erika") {
				t.Fatalf("an audit entry holds personal data: %s", b)
			}
		}

		// A refused purpose is recorded too.
		_, err = g.Contact(tresor.WithPurpose(sales, ""), c.ID)
		wantCode(t, err, tresor.ECPurposeMissing)
		l, err := g.AuditLog(system(), tresor.AuditFilter{Action: "access", Page: tresor.Page{Limit: 10}})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Reason != "purpose_missing" || l.Items[0].Decision != tresor.Refused {
			t.Fatalf("the refused purpose: %s", actions(l.Items))
		}

		// What did the sales user access?
		actor := tresor.ActorFrom(sales).String()
		l, err = g.AuditLog(system(), tresor.AuditFilter{Actor: actor, Action: "contact.", Page: tresor.Page{Limit: 50}})
		must(t, err)
		if len(l.Items) != 5 {
			t.Fatalf("the sales user's contact entries: %s", actions(l.Items))
		}
		// Only the DPO and the auditor read the trail.
		_, err = g.AuditLog(sales, tresor.AuditFilter{})
		wantCode(t, err, tresor.ECForbidden)
		auditor := as(t, g, "auditor@example.org", "", tresor.RoleAuditor)
		_, err = g.AuditLog(auditor, tresor.AuditFilter{ContactID: c.ID})
		must(t, err)
		if rep, err := g.VerifyAudit(bg, ""); err != nil || rep.Problem != "" || rep.Entries == 0 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// auditFixture writes 20 entries and a checkpoint over them.
func auditFixture(t *testing.T, e *auditEnv) {
	t.Helper()
	ctx := tresor.WithPurpose(system(), "sales")
	for i := 0; i < 6; i++ {
		c := erika()
		c.Emails = []string{fmt.Sprintf("a%d@example.org", i)}
		must(t, e.g.CreateContact(ctx, c))
		_, err := e.g.Contact(ctx, c.ID)
		must(t, err)
		_, err = e.g.Contacts(ctx, tresor.ContactFilter{})
		must(t, err)
	}
	_, err := e.g.Contact(tresor.WithPurpose(system(), ""), "x")
	wantCode(t, err, tresor.ECPurposeMissing)
	cp, err := e.g.Checkpoint(bg)
	must(t, err)
	if cp.Size != 19 {
		t.Fatalf("checkpoint at %d entries, want 19", cp.Size)
	}
	if rep := e.verify(t); rep.Problem != "" || rep.Entries != 19 || rep.Checkpoints < 1 {
		t.Fatalf("an intact trail: %+v", rep)
	}
}

// TestAuditTampering: every way of tampering with the raw database —
// a changed byte, a deleted, inserted or swapped entry, a cut tail, a
// rewritten chain, a removed checkpoint, a gap in the object index — makes
// verification fail and name the entry.
func TestAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, e *auditEnv)
		want   string
	}{
		{"changed byte", func(t *testing.T, e *auditEnv) {
			e.exec(t, "UPDATE audit_log SET purpose = 'salez' WHERE seq = 7")
		}, "entry 7 does not match"},
		{"changed hash", func(t *testing.T, e *auditEnv) {
			var h []byte
			must(t, e.raw.QueryRow("SELECT hash FROM audit_log WHERE seq = 12").Scan(&h))
			h[0] ^= 1
			e.exec(t, "UPDATE audit_log SET hash = $1 WHERE seq = 12", h)
		}, "entry 12 does not match"},
		{"deleted", func(t *testing.T, e *auditEnv) { e.exec(t, "DELETE FROM audit_log WHERE seq = 5") }, "entry 5 is missing"},
		{"inserted", func(t *testing.T, e *auditEnv) {
			// renumber the tail and put a forged entry in the gap
			e.exec(t, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 10")
			e.exec(t, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1010")
			e.exec(t, `INSERT INTO audit_log (seq, at, actor, roles, purpose, action, object_type, object_ids, categories, decision,
				reason, request_id, client, detail, hash) SELECT 10, at, actor, roles, purpose, action, object_type, object_ids,
				categories, decision, reason, request_id, client, detail, hash FROM audit_log WHERE seq = 9`)
		}, "entry 10 does not match"},
		{"swapped", func(t *testing.T, e *auditEnv) {
			e.exec(t, "UPDATE audit_log SET seq = 1000 WHERE seq = 3")
			e.exec(t, "UPDATE audit_log SET seq = 3 WHERE seq = 4")
			e.exec(t, "UPDATE audit_log SET seq = 4 WHERE seq = 1000")
		}, "entry 3 does not match"},
		{"truncated", func(t *testing.T, e *auditEnv) { e.exec(t, "DELETE FROM audit_log WHERE seq > 16") }, "entries 17 to 19 were deleted"},
		{"object index", func(t *testing.T, e *auditEnv) {
			e.exec(t, "DELETE FROM audit_refs WHERE grp = (SELECT min(grp) FROM audit_refs)")
		}, "index of objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auditBackends(t, func(t *testing.T, e *auditEnv) {
				auditFixture(t, e)
				e.untrigger(t)
				tc.tamper(t, e)
				rep := e.verify(t)
				if !strings.Contains(rep.Problem, tc.want) {
					t.Fatalf("verify after tampering: %q, want %q", rep.Problem, tc.want)
				}
			})
		})
	}
}

// rawEntries reads the entries as a tamperer with the database alone would,
// decoding the compact form of docs/audit.md by hand: strings as refs into
// audit_terms, object ids after the format byte 2 as zigzag varints, each
// the difference to the value before (ref<<1 into audit_ids, ref<<1|1 into
// audit_terms).
func rawEntries(t *testing.T, e *auditEnv) []*tresor.AuditEntry {
	t.Helper()
	terms, ids := map[string]string{}, map[uint64]string{}
	rows, err := e.raw.Query("SELECT ref, term FROM audit_terms")
	must(t, err)
	for rows.Next() {
		var ref int64
		var term string
		must(t, rows.Scan(&ref, &term))
		terms[strconv.FormatInt(ref, 10)] = term
	}
	rows.Close()
	rows, err = e.raw.Query("SELECT ref, id FROM audit_ids")
	must(t, err)
	for rows.Next() {
		var ref int64
		var id []byte
		must(t, rows.Scan(&ref, &id))
		u, err := uuid.FromBytes(id)
		must(t, err)
		ids[uint64(ref)] = u.String()
	}
	rows.Close()
	rows, err = e.raw.Query(`SELECT seq, at, actor, roles, purpose, action, object_type, object_ids, categories, decision,
		reason, request_id, client, detail, hash, objects FROM audit_log ORDER BY seq`)
	must(t, err)
	defer rows.Close()
	var es []*tresor.AuditEntry
	for rows.Next() {
		var x tresor.AuditEntry
		var at int64
		var idText, cats, decision string
		var objects []byte
		must(t, rows.Scan(&x.Seq, &at, &x.Actor, &x.Roles, &x.Purpose, &x.Action, &x.ObjectType, &idText, &cats, &decision,
			&x.Reason, &x.RequestID, &x.Client, &x.Detail, &x.Hash, &objects))
		x.At, x.Decision = time.UnixMicro(at).UTC(), tresor.Decision(decision)
		if objects != nil { // the compact form
			for _, col := range []*string{&x.Actor, &x.Roles, &x.Purpose, &x.Action, &x.ObjectType, &cats, &x.Reason, &x.Client} {
				if *col != "" {
					*col = terms[*col]
				}
			}
			if objects[0] != 2 {
				t.Fatalf("entry %d: format %d", x.Seq, objects[0])
			}
			var v int64
			for rest := objects[1:]; len(rest) > 0; {
				d, n := binary.Varint(rest)
				v += d
				if v&1 == 1 {
					x.ObjectIDs = append(x.ObjectIDs, terms[strconv.FormatInt(v>>1, 10)])
				} else {
					x.ObjectIDs = append(x.ObjectIDs, ids[uint64(v>>1)])
				}
				rest = rest[n:]
			}
		} else if idText != "" {
			x.ObjectIDs = strings.Split(idText, ",")
		}
		for _, c := range strings.Split(cats, ",") {
			if c != "" {
				x.Categories = append(x.Categories, tresor.Category(c))
			}
		}
		es = append(es, &x)
	}
	return es
}

// TestAuditRewrittenChain: a tamperer who recomputes the whole chain after a
// change, and deletes the checkpoints from the database, is caught by the
// signed copy of the checkpoints in the second location.
func TestAuditRewrittenChain(t *testing.T) {
	auditBackends(t, func(t *testing.T, e *auditEnv) {
		auditFixture(t, e)
		e.untrigger(t)
		// Change entry 2 and recompute every link after it with the public algorithm.
		es := rawEntries(t, e)
		es[1].Purpose = "marketing"
		audit.Chain(0, audit.Genesis, es)
		for _, x := range es {
			e.exec(t, "UPDATE audit_log SET purpose = $1, hash = $2 WHERE seq = $3", x.Purpose, x.Hash, x.Seq)
		}
		e.exec(t, "UPDATE audit_head SET hash = $1", es[len(es)-1].Hash)
		rep := e.verify(t)
		if !strings.Contains(rep.Problem, "checkpoint at size 19 does not match") {
			t.Fatalf("with the checkpoints in the database: %q", rep.Problem)
		}
		e.exec(t, "DELETE FROM audit_checkpoints")
		rep = e.verify(t)
		if !strings.Contains(rep.Problem, "checkpoint at size 19 does not match") || rep.Copies == 0 {
			t.Fatalf("with the copy of the checkpoints alone: %+v", rep)
		}
	})
}

// TestAuditIsAppendOnly: the application has no update or delete path, and
// the database itself refuses them.
func TestAuditIsAppendOnly(t *testing.T) {
	auditBackends(t, func(t *testing.T, e *auditEnv) {
		auditFixture(t, e)
		for _, q := range []string{"UPDATE audit_log SET purpose = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1",
			"DELETE FROM audit_checkpoints"} {
			if _, err := e.raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if e.backend == "postgres" {
			if _, err := e.raw.Exec("TRUNCATE audit_log"); err == nil {
				t.Fatal("TRUNCATE audit_log was allowed")
			}
		}
	})
}

// TestAuditProofsAndPruning: an entry's inclusion proof verifies against the
// signed checkpoint; pruning old entries keeps the trail verifiable and
// later entries provable.
func TestAuditProofsAndPruning(t *testing.T) {
	auditBackends(t, func(t *testing.T, e *auditEnv) {
		auditFixture(t, e)
		pub := e.g.AuditPublicKey()
		p, err := e.g.ProveAudit(bg, 5)
		must(t, err)
		must(t, gate.VerifyProof(p, pub))
		p.Entry.Purpose = "marketing"
		if gate.VerifyProof(p, pub) == nil {
			t.Fatal("a proof of a changed entry verified")
		}
		e.clock.advance(48 * time.Hour)
		ctx := tresor.WithPurpose(system(), "sales")
		_, err = e.g.Contacts(ctx, tresor.ContactFilter{})
		must(t, err)
		n, err := e.g.PruneAudit(system(), e.clock.now().Add(-24*time.Hour))
		must(t, err)
		if n != 19 {
			t.Fatalf("pruned %d, want 19", n)
		}
		rep := e.verify(t)
		if rep.Problem != "" || rep.PrunedUpto != 19 || rep.From != 20 {
			t.Fatalf("after pruning: %+v", rep)
		}
		p, err = e.g.ProveAudit(bg, 20)
		must(t, err)
		must(t, gate.VerifyProof(p, pub))
		_, err = e.g.ProveAudit(bg, 3)
		wantCode(t, err, tresor.ECNotFound)
		// Entries after the pruning are still protected.
		e.untrigger(t)
		e.exec(t, "UPDATE audit_log SET purpose = 'marketing' WHERE seq = 20")
		if rep := e.verify(t); !strings.Contains(rep.Problem, "entry 20") {
			t.Fatalf("tampering after a pruning: %+v", rep)
		}
	})
}

// TestAuditGroupCommit: concurrent reads each wait for their entry, and
// every one is in the trail once.
func TestAuditGroupCommit(t *testing.T) {
	auditBackends(t, func(t *testing.T, e *auditEnv) {
		ctx := tresor.WithPurpose(system(), "sales")
		c := erika()
		must(t, e.g.CreateContact(ctx, c))
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.g.Contact(ctx, c.ID)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		es := entriesOf(t, e.g, c.ID)
		if len(es) != 65 {
			t.Fatalf("%d entries, want 65 (a create and 64 reads)", len(es))
		}
		if rep := e.verify(t); rep.Problem != "" {
			t.Fatal(rep.Problem)
		}
	})
}

// TestAuditExport: the contacts an actor touched, for a breach notification.
func TestAuditExport(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		a, b := erika(), erika()
		b.Emails, b.FamilyName = []string{"b@example.org"}, "Beispiel"
		b.Collection.LegalBasis = tresor.BasisLegalObligation
		must(t, g.CreateContact(sales, a))
		must(t, g.CreateContact(dpo, b))
		_, err := g.Contact(sales, a.ID)
		must(t, err)
		var buf bytes.Buffer
		f := tresor.AuditFilter{Actor: tresor.ActorFrom(sales).String(), Since: e.clock.now().Add(-time.Hour), Until: e.clock.now().Add(time.Hour)}
		wantCode(t, g.AuditExport(sales, f, &buf), tresor.ECForbidden)
		must(t, g.AuditExport(dpo, f, &buf))
		out := buf.String()
		if !strings.Contains(out, a.ID+",present,Erika,Mustermann,erika.mustermann@example.de") || strings.Contains(out, b.ID) ||
			!strings.HasPrefix(out, "contact_id,state,") {
			t.Fatalf("export:\n%s", out)
		}
		l, err := g.AuditLog(system(), tresor.AuditFilter{Action: "audit.export", Page: tresor.Page{Limit: 5}})
		must(t, err)
		if len(l.Items) != 1 || !slices.Equal(l.Items[0].ObjectIDs, []string{a.ID}) {
			t.Fatalf("the export is not recorded: %s", actions(l.Items))
		}
	})
}
