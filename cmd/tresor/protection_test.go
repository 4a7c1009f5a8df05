package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// seedContact creates a contact through the gate on the data directory, as
// an import would, and returns its id.
func seedContact(t *testing.T, dir, name string) string {
	t.Helper()
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: dir, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := tresor.WithPurpose(tresor.WithActor(context.Background(), &tresor.Actor{Kind: tresor.ActorSystem}), "sales")
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: name, Emails: []string{strings.ToLower(name) + "@example.org"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	if err := g.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// expect runs a command and fails unless it exits with code and prints want
// (on stdout, or on stderr for a failure).
func expect(t *testing.T, env map[string]string, code int, want string, args ...string) string {
	t.Helper()
	out, msg, got := run(t, env, args...)
	if got != code || !strings.Contains(out+msg, want) {
		t.Fatalf("tresor %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), got, out, msg, code, want)
	}
	if code == 1 && strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Fatalf("tresor %s: the error is not one line: %q", strings.Join(args, " "), msg)
	}
	return out
}

// TestProtectionCommands walks through the operator's commands: key status,
// backups (keygen, create, verify, a tampered copy, restore after an
// erasure), legal holds, erasure, retention and key backup and rotation.
func TestProtectionCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TRESOR_DATA_DIR": dir}
	gone := seedContact(t, dir, "Quastenflosser")
	stays := seedContact(t, dir, "Bleibtreu")
	work := t.TempDir()

	expect(t, env, 0, "data keys under version 1: 2", "keys", "status")

	idFile := filepath.Join(work, "backup-identity")
	recipient := strings.TrimSpace(expect(t, env, 0, "age1", "backup", "keygen", "--identity-file", idFile))
	if st, err := os.Stat(idFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v", st, err)
	}
	expect(t, env, 1, "no backup recipient", "backup", "create", filepath.Join(work, "none.age"))
	backup := filepath.Join(work, "b1.age")
	out := expect(t, env, 0, "it holds no key", "backup", "create", backup, "--recipient", recipient)
	if !strings.Contains(out, "its 2 data keys are in the key backup") || !strings.Contains(out, "sealed under its own key") {
		t.Fatalf("backup create does not say where the data keys went: %s", out)
	}
	out = expect(t, env, 0, "2 unwrap with the key-encryption key", "backup", "verify", backup, "--identity", idFile)
	if !strings.Contains(out, "(its own key backup): 0 people or records unreadable") {
		t.Fatalf("backup verify does not report the pairing: %s", out)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	tampered := filepath.Join(work, "tampered.age")
	if err := os.WriteFile(tampered, b, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, env, 1, "backup verify", "backup", "verify", tampered, "--identity", idFile)

	hold := strings.TrimSpace(expect(t, env, 0, "-", "hold", "place", "--contact", gone, "--reason", "Klage 3 O 12/26"))
	expect(t, env, 0, "Klage 3 O 12/26", "hold", "list", "--contact", gone)
	expect(t, env, 1, "Klage 3 O 12/26", "erase", "--contact", gone, "--reason", "ticket 5")
	expect(t, env, 0, "", "hold", "release", "--id", hold)
	expect(t, env, 2, "", "erase", "--contact", gone)
	expect(t, env, 1, "repeats the person's name", "erase", "--contact", gone, "--reason", "Herr Quastenflosser bat darum")
	expect(t, env, 0, "its data key is destroyed", "erase", "--contact", gone, "--reason", "ticket 5")
	expect(t, env, 1, "was erased on", "erase", "--contact", gone, "--reason", "ticket 5")

	expect(t, env, 0, "erased again: 1 people", "backup", "restore", backup, "--identity", idFile)
	expect(t, env, 1, "was erased on", "erase", "--contact", gone, "--reason", "ticket 5")
	expect(t, env, 0, "data keys under version 1: 1", "keys", "status")
	// A window shorter than the key backup's age: pruned, its key destroyed;
	// the data backup alone then restores nobody.
	expect(t, env, 0, "1 deleted, 1 of their keys destroyed; 0 kept", "backup", "prune", "--key-backup-keep", "1ns")
	expect(t, env, 1, "no key backup in", "backup", "restore", backup, "--identity", idFile)
	expect(t, env, 1, "a number of days such as 35d", "backup", "prune", "--key-backup-keep", "35 Tage")
	_ = stays

	expect(t, env, 0, "dry run: nothing changed", "retention", "run", "--dry-run")

	keyBackup := filepath.Join(work, "keys.age")
	short := map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_KEYS_PASSPHRASE": "too short"}
	expect(t, short, 1, "at least 16 characters", "keys", "backup", keyBackup)
	pass := map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_KEYS_PASSPHRASE": "correct horse battery staple"}
	expect(t, pass, 0, "versions 1", "keys", "backup", keyBackup)
	expect(t, pass, 0, "added key-encryption key version 2", "keys", "rotate")
	expect(t, env, 0, "data keys under version 2: 1", "keys", "status")

	// The key backup restores into an empty data directory, and refuses to
	// overwrite other keys.
	other := t.TempDir()
	restore := map[string]string{"TRESOR_DATA_DIR": other, "TRESOR_KEYS_PASSPHRASE": "correct horse battery staple"}
	expect(t, restore, 0, "versions 1", "keys", "restore", keyBackup)
	wrong := map[string]string{"TRESOR_DATA_DIR": other, "TRESOR_KEYS_PASSPHRASE": "wrong horse battery staple"}
	expect(t, wrong, 1, "does not open with this passphrase", "keys", "restore", keyBackup)
	expect(t, pass, 1, "holds other keys", "keys", "restore", keyBackup)

	// The key backup made before the rotation lacks version 2: a database
	// sealed under it refuses to start with only the old keys.
	expect(t, map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_KEK": "1:" + datadir.GenerateKey()}, 1, "refusing to start", "keys", "status")
}
