package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tresor"
	"tresor/storetest"
)

// TestImportsOfTwoProcessesOnOnePostgres runs two `tresor import linkedin`
// processes with the same file on one PostgreSQL database at the same
// moment, as two servers importing the same people would: each person is
// stored once (the identifiers an import claims are unique in the
// database), the other import reports the people as duplicates, and the
// audit trail both wrote verifies.
func TestImportsOfTwoProcessesOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it twice at once")
	}
	url := storetest.PostgresURL(t)
	tmp := t.TempDir()
	env := map[string]string{"TRESOR_DB": url, "TRESOR_DATA_DIR": filepath.Join(tmp, "data")}
	expect(t, env, 0, "", "migrate")
	bin := filepath.Join(tmp, "tresor")
	if out, err := exec.Command("go", "build", "-o", bin, "tresor/cmd/tresor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const people = 2000
	var csv strings.Builder
	csv.WriteString("Notes:\n\"Exported.\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
	for i := range people {
		fmt.Fprintf(&csv, "Erika,Muster-%d,https://www.linkedin.com/in/p-%d,,Acme %d GmbH,Head of Purchasing,12 Mar 2024\n", i, i, i%100)
	}
	file := filepath.Join(tmp, "connections.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	// Both processes are started before either is waited for.
	cmds := make([]*exec.Cmd, 2)
	outs := make([]bytes.Buffer, 2)
	errs := make([]bytes.Buffer, 2)
	for i := range cmds {
		cmds[i] = exec.Command(bin, "import", "linkedin", file, "--purpose", "sales", "--legal-basis", "legitimate_interest",
			"--balancing-note", "Business contacts from a LinkedIn export.", "--json")
		cmds[i].Env = append(os.Environ(), "TRESOR_DB="+url, "TRESOR_DATA_DIR="+env["TRESOR_DATA_DIR"])
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	waitErrs := make([]error, 2)
	for i, c := range cmds {
		wg.Go(func() { waitErrs[i] = c.Wait() })
	}
	wg.Wait()
	created, duplicates := 0, 0
	for i, err := range waitErrs {
		if err != nil {
			t.Fatalf("import %d: %v\n%s", i, err, errs[i].String())
		}
		var rep tresor.ImportReport
		if err := json.Unmarshal(outs[i].Bytes(), &rep); err != nil {
			t.Fatalf("import %d: the report is not JSON: %v\n%s", i, err, outs[i].String())
		}
		created, duplicates = created+rep.Created, duplicates+rep.Duplicates
	}

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}

	t.Run("each person is stored once", func(t *testing.T) {
		if created != people {
			t.Errorf("the imports report %d people created, want %d", created, people)
		}
		if n := count("SELECT count(*) FROM contacts"); n != people {
			t.Errorf("%d contacts are stored, want %d", n, people)
		}
		if n := count(`SELECT count(*) FROM (SELECT kind, value FROM contact_lookup WHERE kind <> 'postal'
			GROUP BY kind, value HAVING count(*) > 1) d`); n != 0 {
			t.Errorf("%d identifiers are held by more than one contact", n)
		}
	})
	t.Run("the other import reports the people as duplicates", func(t *testing.T) {
		if duplicates != people {
			t.Errorf("the imports report %d duplicates, want %d", duplicates, people)
		}
	})
	t.Run("each person has one Art. 14 information duty", func(t *testing.T) {
		if n := count("SELECT count(*) FROM notices"); n != people {
			t.Errorf("%d information duties, want %d", n, people)
		}
	})
	t.Run("the audit trail both imports wrote verifies", func(t *testing.T) {
		expect(t, env, 0, "intact", "audit", "verify")
	})
}
