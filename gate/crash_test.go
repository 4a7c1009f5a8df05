package gate_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/storetest"
)

const crashChildEnv, crashKeysEnv = "TRESOR_CRASH_CHILD_DB", "TRESOR_CRASH_CHILD_KEYS"

// TestMain lets the test binary play the child process of the crash test.
func TestMain(m *testing.M) {
	if db := os.Getenv(crashChildEnv); db != "" {
		crashChild(db)
		return
	}
	code := m.Run()
	realATProto.Close() // the AT Protocol servers, if a test started them
	os.Exit(code)
}

const firstBatch, secondBatch = 1000, 400000

// crashChild commits one batch of contacts, then starts a large second batch
// and is killed by the parent in the middle of it.
func crashChild(db string) {
	cfg := datadir.Config{DB: db, DataDir: os.Getenv(crashKeysEnv), Migrate: true}
	if !strings.HasPrefix(db, "postgres") {
		cfg = datadir.Config{DataDir: db, Migrate: true}
	}
	g, err := datadir.Open(context.Background(), cfg)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ctx := tresor.WithPurpose(system(), "sales")
	batch := func(prefix string, n int) []*tresor.Contact {
		cs := make([]*tresor.Contact, n)
		for i := range cs {
			cs[i] = &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Crash",
				Emails: []string{fmt.Sprintf("%s%d@example.org", prefix, i)}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		}
		return cs
	}
	if err := g.CreateContacts(ctx, batch("first", firstBatch)); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	second := batch("second", secondBatch)
	fmt.Println("second batch")
	if err := g.CreateContacts(ctx, second); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("done")
}

// TestCrashDuringBulkInsertLeavesNoPartialObject kills the process with
// SIGKILL in the middle of a bulk insert; after a restart the committed batch
// is whole and nothing of the interrupted one exists.
func TestCrashDuringBulkInsertLeavesNoPartialObject(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and writes 400,000 contacts")
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		wal := filepath.Join(dir, datadir.DatabaseFile+"-wal")
		var start int64
		crash(t, dir, datadir.Config{DataDir: dir}, func() bool {
			// Inserting: the write-ahead log grows by more than 4 MiB.
			fi, err := os.Stat(wal)
			if err != nil {
				return false
			}
			if start == 0 {
				start = fi.Size() + 1
			}
			return fi.Size() > start+4<<20
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		db, err := sql.Open("pgx", url)
		must(t, err)
		defer db.Close()
		crash(t, url, datadir.Config{DB: url, DataDir: t.TempDir()}, func() bool {
			// Inserting: the child's COPY into contacts runs.
			var n int
			err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'copy%contacts%'").Scan(&n)
			return err == nil && n > 0
		})
	})
}

// crash starts the child, waits until inserting (the second batch) is under
// way, kills the child with SIGKILL and checks what a restart finds.
func crash(t *testing.T, db string, cfg datadir.Config, inserting func() bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+db, crashKeysEnv+"="+cfg.DataDir)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "second batch" {
		cmd.Process.Kill()
		t.Fatalf("child: %q", lines.Text())
	}
	deadline := time.Now().Add(60 * time.Second)
	for !inserting() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the child never started inserting the second batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	rest := ""
	for lines.Scan() {
		rest += lines.Text()
	}
	_ = cmd.Wait()
	if strings.Contains(rest, "done") {
		t.Skip("the machine finished the bulk insert before the kill; nothing was proven")
	}

	cfg.Migrate = true
	g := openGate(t, cfg)
	ctx := tresor.WithPurpose(system(), "sales")
	n := 0
	f := tresor.ContactFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}}
	for {
		l, err := g.Contacts(ctx, f)
		must(t, err)
		for _, c := range l.Items {
			if !strings.HasPrefix(c.Emails[0], "first") {
				t.Fatalf("a contact of the interrupted batch survived: %s", c.Emails[0])
			}
		}
		n += len(l.Items)
		if l.Next == "" {
			break
		}
		f.After, _ = tresor.DecodeCursor(l.Next)
	}
	if n != firstBatch {
		t.Fatalf("%d contacts after the crash, want the %d of the committed batch", n, firstBatch)
	}
	l, err := g.Contacts(ctx, tresor.ContactFilter{Email: "second0@example.org"})
	must(t, err)
	if len(l.Items) != 0 {
		t.Fatal("a lookup key of the interrupted batch survived")
	}
	// The database accepts writes again.
	must(t, g.CreateContact(ctx, &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "After"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}))
}
