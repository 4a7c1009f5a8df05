package main

import (
	"bytes"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tresor/datadir"
)

// TestDiskFull: with the data directory's disk full, a change is refused
// with 507 storage_full and the rule, and so is a read (its audit entry
// cannot be stored, and nothing is shown unrecorded); the server keeps
// answering; when space returns it works again, and the database and the
// audit trail check out. The data directory is a small tmpfs the test
// mounts (as root; elsewhere it is skipped, see docs/reliability.md).
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("TRESOR_TEST_REQUIRE_DISKFULL") == "1" {
			t.Fatalf("mount a tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (%v %s); set TRESOR_TEST_REQUIRE_DISKFULL=1 where it must run", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	dir := filepath.Join(mnt, "data")
	env := map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_RETENTION_INTERVAL": "0", "TRESOR_SOCIAL_INTERVAL": "0"}
	expect(t, env, 0, "", "migrate")
	expect(t, env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	out := expect(t, env, 0, "", "token", "create", "--email", "sales@example.org")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	base, stop := serveForTest(t, env, io.Discard)
	do := func(method, path string, body any) (int, string, string) {
		a := callAPI(method, base+path, token, body)
		if a.Err != nil {
			t.Fatalf("%s %s: %v", method, path, a.Err)
		}
		return a.Status, a.Code + " " + a.Detail, a.ID
	}
	person := func(name string) map[string]any {
		return map[string]any{"given_name": "Erika", "family_name": name, "legal_basis": "contract"}
	}
	code, body, id := do("POST", "/api/v1/contacts", person("Vorher"))
	if code != 201 {
		t.Fatalf("create before: %d %s", code, body)
	}

	// Fill the disk.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	t.Run("while the disk is full, a change is refused with 507 storage_full and the rule", func(t *testing.T) {
		code, body, _ := do("POST", "/api/v1/contacts", person("Voll"))
		if code != http.StatusInsufficientStorage || !strings.HasPrefix(body, "storage_full") {
			t.Fatalf("create on a full disk: %d %q, want 507 storage_full", code, body)
		}
		for _, internal := range []string{"SQLITE", "disk I/O", "database or disk", "/"} {
			if strings.Contains(body, internal) {
				t.Errorf("the problem shows internals (%q): %s", internal, body)
			}
		}
	})
	t.Run("while the disk is full, a read is refused too, for its audit entry cannot be stored", func(t *testing.T) {
		code, body, _ := do("GET", "/api/v1/contacts/"+id, nil)
		if code != http.StatusInsufficientStorage || !strings.HasPrefix(body, "storage_full") {
			t.Fatalf("read on a full disk: %d %q, want 507 storage_full", code, body)
		}
		if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
			t.Fatalf("/healthz on a full disk: %v %v", res, err)
		}
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Run("when space returns, changes and reads work again", func(t *testing.T) {
		if code, body, _ := do("POST", "/api/v1/contacts", person("Nachher")); code != 201 {
			t.Fatalf("create after: %d %s", code, body)
		}
		if code, body, _ := do("GET", "/api/v1/contacts/"+id, nil); code != 200 {
			t.Fatalf("read after: %d %s", code, body)
		}
	})
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Run("after it, the database and the audit trail check out", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, datadir.DatabaseFile)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var ok string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("integrity_check: %q %v", ok, err)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM contacts").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d people, want the 2 acknowledged (%v)", n, err)
		}
		expect(t, env, 0, "intact", "audit", "verify")
	})
}
