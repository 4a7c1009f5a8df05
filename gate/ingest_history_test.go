package gate_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// historyRows is a LinkedIn export of n people with public profiles.
func historyRows(n int) string {
	var b strings.Builder
	b.WriteString("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
	for i := range n {
		fmt.Fprintf(&b, "Erika,Muster%d,https://www.linkedin.com/in/erika-%d,,Muster GmbH,Einkauf,12 Mar 2024\n", i, i)
	}
	return b.String()
}

// TestImportHistory proves the history of imports: what a real import
// leaves, and who sees it.
func TestImportHistory(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales := e.g, e.ctx["sales"]
		req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects",
			FileName: "Connections.csv"}
		t.Run("a dry run leaves no record", func(t *testing.T) {
			dry := req
			dry.DryRun = true
			_, err := g.Import(sales, strings.NewReader(linkedinFile), dry)
			must(t, err)
			l, err := g.Imports(sales, tresor.ImportQuery{})
			must(t, err)
			if len(l.Items) != 0 {
				t.Fatalf("a dry run left %d records", len(l.Items))
			}
		})
		var id string
		t.Run("a real import leaves a record of what it stored, by whom", func(t *testing.T) {
			rep, err := g.Import(sales, strings.NewReader(linkedinFile), req)
			must(t, err)
			l, err := g.Imports(sales, tresor.ImportQuery{})
			must(t, err)
			if len(l.Items) != 1 {
				t.Fatalf("records: %d", len(l.Items))
			}
			r := l.Items[0]
			id = r.ID
			if r.ID != rep.ID || r.State != tresor.ImportDone || r.Created != 3 || r.Duplicates != 1 || r.Refused != 1 ||
				r.RefusedBy["no_identifier"] != 1 || r.Rows != 5 || r.FileName != "Connections.csv" || r.ActorName != "sales@example.org" ||
				!strings.HasPrefix(r.Actor, "user:") || r.Purpose != "sales" || r.LegalBasis != tresor.BasisLegitimateInterest || r.FinishedAt == nil {
				t.Fatalf("record = %+v", r)
			}
		})
		t.Run("another purpose sees none of it; data protection sees all", func(t *testing.T) {
			l, err := g.Imports(e.ctx["marketing"], tresor.ImportQuery{})
			must(t, err)
			if len(l.Items) != 0 {
				t.Fatalf("marketing sees %d records of sales", len(l.Items))
			}
			_, err = g.ImportRecord(e.ctx["marketing"], id)
			wantCode(t, err, tresor.ECNotFound)
			_, err = g.Imports(e.ctx["marketing"], tresor.ImportQuery{Purpose: "sales"})
			wantCode(t, err, tresor.ECForbidden)
			l, err = g.Imports(e.ctx["data_protection"], tresor.ImportQuery{})
			must(t, err)
			if len(l.Items) != 1 || l.Items[0].ID != id {
				t.Fatalf("the data-protection officer sees %d records", len(l.Items))
			}
			r, err := g.ImportRecord(e.ctx["data_protection"], id)
			must(t, err)
			if r.Created != 3 {
				t.Fatalf("record for the officer = %+v", r)
			}
		})
		t.Run("an import that fails part-way is recorded failed with what it stored", func(t *testing.T) {
			rep, err := g.Import(sales, io.MultiReader(strings.NewReader(historyRows(10001)), iotest.ErrReader(io.ErrUnexpectedEOF)), req)
			wantCode(t, err, tresor.ECValidation)
			r, err := g.ImportRecord(sales, rep.ID)
			must(t, err)
			if r.State != tresor.ImportFailed || r.Error != tresor.ECValidation || r.Created != 10000 {
				t.Fatalf("record of the failed import = %+v", r)
			}
		})
	})
}

// blockingReader gives its text, then blocks until released.
type blockingReader struct {
	r       io.Reader
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		<-b.release
	}
	return n, err
}

// TestImportInTheBackground proves an import run in the background: it
// shows its progress while it runs, a refused request stores nothing (not
// even a record), and a server stopping mid-import leaves it interrupted,
// with the batches stored before it; another server calls an import
// nobody moved for long interrupted.
func TestImportInTheBackground(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	g1 := openGate(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(c.now))
	other := newClock()
	g2 := openGate(t, datadir.Config{DataDir: dir}, gate.WithClock(other.now))
	sales := as(t, g1, "ines@example.org", "sales", tresor.RoleSales)
	req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects"}

	t.Run("a refused request stores nothing, not even a record", func(t *testing.T) {
		bad := req
		bad.BalancingNote = ""
		_, err := g1.StartImport(sales, io.NopCloser(strings.NewReader(historyRows(3))), 100, bad)
		wantCode(t, err, tresor.ECBalancingNote)
		_, err = g1.StartImport(sales, io.NopCloser(strings.NewReader("not a linkedin export\n")), 100, req)
		wantCode(t, err, tresor.ECValidation)
		l, err := g1.Imports(sales, tresor.ImportQuery{})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatalf("refused imports left %d records", len(l.Items))
		}
	})
	file := historyRows(12000)
	br := &blockingReader{r: strings.NewReader(file), release: make(chan struct{})}
	rec, err := g1.StartImport(sales, io.NopCloser(br), int64(len(file)), req)
	must(t, err)
	if rec.State != tresor.ImportRunning {
		t.Fatalf("started record = %+v", rec)
	}
	t.Run("a running import shows how far it read", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := g1.ImportRecord(sales, rec.ID)
			must(t, err)
			if r.State != tresor.ImportRunning || r.Progress == nil {
				t.Fatalf("record while running = %+v", r)
			}
			if r.Progress.Rows == 12000 && r.Progress.Percent() == 100 && r.Created == 10000 {
				break // the whole file read, the first batch stored, the reader blocks at its end
			}
			if time.Now().After(deadline) {
				t.Fatalf("progress = %+v, created %d", r.Progress, r.Created)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("another server shows it running without progress, and interrupted once nobody moved it for long", func(t *testing.T) {
		dpo := as(t, g2, "dora@example.org", "data_protection", tresor.RoleDPO)
		r, err := g2.ImportRecord(dpo, rec.ID)
		must(t, err)
		if r.State != tresor.ImportRunning || r.Progress != nil {
			t.Fatalf("record on the other server = %+v", r)
		}
		other.advance(time.Hour)
		r, err = g2.ImportRecord(dpo, rec.ID)
		must(t, err)
		if r.State != tresor.ImportInterrupted {
			t.Fatalf("a record nobody moved for an hour = %+v", r)
		}
		other.t = c.t
	})
	t.Run("a server stopping mid-import leaves it interrupted with the batches it stored", func(t *testing.T) {
		// The reader blocks at the end of the file, as an upload still
		// arriving would; it goes on once the stop has begun.
		time.AfterFunc(200*time.Millisecond, func() { close(br.release) })
		must(t, g1.Close())
		dpo := as(t, g2, "dieter@example.org", "data_protection", tresor.RoleDPO)
		r, err := g2.ImportRecord(dpo, rec.ID)
		must(t, err)
		if r.State != tresor.ImportInterrupted || r.Created != 10000 || r.FinishedAt == nil {
			t.Fatalf("record after the stop = %+v", r)
		}
	})
}
