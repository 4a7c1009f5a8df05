package gate_test

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
)

// linkedinRows writes a LinkedIn export of n rows to w.
func linkedinRows(w io.Writer, n, offset int) error {
	if _, err := io.WriteString(w, "Notes:\n\"Exported.\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n"); err != nil {
		return err
	}
	for i := offset; i < offset+n; i++ {
		if _, err := fmt.Fprintf(w, "Erika,Mustermann-%d,https://www.linkedin.com/in/erika-%d,,Muster GmbH,Head of Purchasing,12 Mar 2024\n", i, i); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkImportLinkedIn imports b.N LinkedIn rows through the whole gate
// (parse, classify, screen, minimise, de-duplicate, encrypt, store, audit,
// information duties) on SQLite, and inserts the same number of rows raw
// into a second database of the same schema in the same run:
//
//	go test ./gate -run '^$' -bench ImportLinkedIn -benchtime 1000000x -timeout 60m
func BenchmarkImportLinkedIn(b *testing.B) {
	dir, rawDir := b.TempDir(), b.TempDir()
	g := openGateB(b, datadir.Config{DataDir: dir, Migrate: true})
	openGateB(b, datadir.Config{DataDir: rawDir, Migrate: true})
	raw := openRawSQLite(b, filepath.Join(rawDir, datadir.DatabaseFile))
	defer raw.close()
	ctx := tresor.WithPurpose(system(), "sales")
	req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects; public profiles"}
	b.ResetTimer()
	start := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(linkedinRows(pw, b.N, 0)) }()
	rep, err := g.Import(ctx, pr, req)
	if err != nil {
		b.Fatal(err)
	}
	gateTime := time.Since(start)
	if rep.Created != b.N {
		b.Fatalf("created %d of %d: %+v", rep.Created, b.N, rep)
	}
	var rawTime time.Duration
	for done := 0; done < b.N; done += chunk {
		rows := rawRows(min(chunk, b.N-done), done)
		t0 := time.Now()
		if err := raw.insert(rows); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(t0)
	}
	b.StopTimer()
	report(b, rawTime, gateTime)
}
