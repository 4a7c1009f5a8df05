package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor/datadir"
)

// TestImportKilledAndRunAgain: an import killed with SIGKILL half-way
// leaves whole people only and a database that checks out; running the
// same import again completes it, each person once, with an audit trail
// that verifies.
func TestImportKilledAndRunAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and imports 40,000 rows")
	}
	tmp, bin, dir, env := builtWithUser(t)
	const rows = 40000
	var csv strings.Builder
	csv.WriteString("Notes:\n\"Exported.\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
	for i := range rows {
		fmt.Fprintf(&csv, "Erika,Muster-%d,https://www.linkedin.com/in/p-%d,,Acme %d GmbH,Head of Purchasing,12 Mar 2024\n", i, i, i%100)
	}
	file := filepath.Join(tmp, "connections.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "linkedin", file, "--purpose", "sales", "--legal-basis", "legitimate_interest",
		"--balancing-note", "Business contacts from a LinkedIn export."}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, datadir.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(table string) int {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}

	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TRESOR_DATA_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	killed := false
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-exited:
		default:
			if n := count("contacts"); n > 0 && n < rows {
				killed = cmd.Process.Kill() == nil
				<-exited
			} else {
				continue
			}
		}
		break
	}
	before := count("contacts")
	if killed {
		t.Logf("killed after %d of %d people were stored", before, rows)
	} else {
		t.Logf("the import ended before it could be killed (%d stored); the checks still run", before)
	}

	t.Run("after the kill the database checks out and holds whole people only", func(t *testing.T) {
		var ok string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("integrity_check: %q %v", ok, err)
		}
		if n := count("notices"); n != before {
			t.Errorf("%d people but %d Art. 14 notices: a person was stored in part", before, n)
		}
		var keyless int
		if err := db.QueryRow("SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.subject = c.id)").Scan(&keyless); err != nil {
			t.Fatal(err)
		}
		if keyless != 0 {
			t.Errorf("%d people without their data key", keyless)
		}
		expect(t, env, 0, "intact", "audit", "verify")
	})
	t.Run("the same import run again completes it, each person once", func(t *testing.T) {
		expect(t, env, 0, "", args...)
		if n := count("contacts"); n != rows {
			t.Errorf("%d people after the second run, want %d", n, rows)
		}
		if n := count("notices"); n != rows {
			t.Errorf("%d Art. 14 notices after the second run, want %d", n, rows)
		}
		expect(t, env, 0, "intact", "audit", "verify")
	})
}

// builtWithUser builds the tresor command into a temporary directory and
// makes a SQLite data directory beside it with a sales user. It returns the
// directory, the binary, the data directory and the environment for run.
func builtWithUser(t *testing.T) (tmp, bin, dir string, env map[string]string) {
	t.Helper()
	tmp = t.TempDir()
	bin = filepath.Join(tmp, "tresor")
	if out, err := exec.Command("go", "build", "-o", bin, "tresor/cmd/tresor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir = filepath.Join(tmp, "data")
	env = map[string]string{"TRESOR_DATA_DIR": dir}
	expect(t, env, 0, "", "migrate")
	expect(t, env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	return tmp, bin, dir, env
}
