package importer

import (
	"fmt"
	"io"
	"runtime"
	"testing"
)

// linkedInFile generates a LinkedIn export of n rows as a stream, without
// holding it in memory.
type linkedInFile struct {
	n, i int
	rows [][]byte // distinct rows, used in turn
	buf  []byte   // unread part of the current piece
}

func newLinkedInFile(n int) *linkedInFile {
	g := &linkedInFile{n: n, buf: []byte(linkedInPreamble + "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n")}
	for i := range 1024 {
		email := ""
		if i%10 == 0 {
			email = fmt.Sprintf("user%d@example.com", i)
		}
		g.rows = append(g.rows, fmt.Appendf(nil, "Vorname%d,Nachname%d,https://www.linkedin.com/in/user-%d-%x,%s,\"Firma %d, GmbH\",Senior Engineer,%02d Mar 2024\r\n",
			i, i, i, i*7919, email, i%97, i%28+1))
	}
	return g
}

func (g *linkedInFile) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.buf) == 0 {
			if g.i == g.n {
				break
			}
			g.buf = g.rows[g.i%len(g.rows)]
			g.i++
		}
		c := copy(p[n:], g.buf)
		g.buf = g.buf[c:]
		n += c
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// BenchmarkLinkedIn1M parses a generated LinkedIn export of b.N rows (run it
// with -benchtime=1000000x for a file of a million rows) and reports rows/s.
func BenchmarkLinkedIn1M(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(newLinkedInFile(0).rows[500])))
	r, err := Open(LinkedIn, newLinkedInFile(b.N), Options{})
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if rec.GivenName == "" {
			b.Fatal("empty record")
		}
		rows++
	}
	if rows != b.N {
		b.Fatalf("read %d rows of %d", rows, b.N)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestLinkedInStreams reads a million rows and checks that the heap stays
// small, i.e. that the file is not held in memory.
func TestLinkedInStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows")
	}
	const n = 1_000_000
	r, err := Open(LinkedIn, newLinkedInFile(n), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	var ms runtime.MemStats
	for i := 0; ; i++ {
		_, err := r.Next()
		if err == io.EOF {
			if i != n {
				t.Fatalf("read %d rows of %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%100_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if peak > 32<<20 {
		t.Errorf("the heap grew to %d MiB while reading", peak>>20)
	}
	t.Logf("peak live heap %.1f MiB for a file of about %d MiB", float64(peak)/(1<<20), n*90>>20)
}
