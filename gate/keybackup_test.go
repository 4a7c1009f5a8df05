package gate_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
	"tresor/vault"
)

// keyBackupEnv is a data directory with a backup identity and a clock that
// the test moves: key backups and their window follow it.
type keyBackupEnv struct {
	cfg       datadir.Config
	now       time.Time
	idFile    string
	recipient string
	copies    string // where an operator copied files to
}

func newKeyBackupEnv(t *testing.T, db string) *keyBackupEnv {
	e := &keyBackupEnv{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), copies: t.TempDir()}
	e.cfg = datadir.Config{DB: db, DataDir: t.TempDir(), Migrate: true, Now: func() time.Time { return e.now }}
	secret, recipient, err := datadir.NewBackupIdentity()
	must(t, err)
	e.idFile, e.recipient = filepath.Join(t.TempDir(), "identity"), recipient
	must(t, os.WriteFile(e.idFile, []byte(secret+"\n"), 0o600))
	return e
}

// backup makes a data backup and its key backup, as `tresor backup create`
// does, and returns both files.
func (e *keyBackupEnv) backup(t *testing.T, g *gate.Gate, name string) (data, keys string) {
	t.Helper()
	data = filepath.Join(e.copies, name+".age")
	f, err := os.Create(data)
	must(t, err)
	_, err = g.CreateBackup(system(), f, []string{e.recipient}, e.cfg.DataDir, "test", datadir.KeyBackups(e.cfg, []string{e.recipient}, &keys))
	must(t, err)
	must(t, f.Close())
	return data, keys
}

// copyOf copies a file into the operator's copies: what a backup job that
// ships files elsewhere would keep.
func (e *keyBackupEnv) copyOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	to := filepath.Join(e.copies, "copy-"+filepath.Base(path))
	must(t, os.WriteFile(to, b, 0o600))
	return to
}

// TestErasureReachesEveryBackupAfterTheWindow: backups made before an
// erasure, kept and copied, reveal the erased person to nobody once the key
// backups' window has passed — no data backup holds a data key, every key
// backup that held the person's key is deleted and sealed under a destroyed
// key — while everyone else restores from them with the newest key backup.
func TestErasureReachesEveryBackupAfterTheWindow(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { erasureReachesEveryBackup(t, newKeyBackupEnv(t, "")) })
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		if _, err := exec.LookPath("pg_dump"); err != nil {
			t.Skip("pg_dump is not installed")
		}
		erasureReachesEveryBackup(t, newKeyBackupEnv(t, url))
	})
}

func erasureReachesEveryBackup(t *testing.T, e *keyBackupEnv) {
	g, err := datadir.Open(bg, e.cfg)
	must(t, err)
	defer func() { g.Close() }()
	sales := tresor.WithPurpose(system(), "sales")
	p := storePerson(t, g)
	kept := erika()
	must(t, g.CreateContact(sales, kept))
	kek, err := datadir.OpenKEK(bg, e.cfg)
	must(t, err)

	b1, k1 := e.backup(t, g, "b1")
	k1copy := e.copyOf(t, k1)
	e.now = e.now.Add(time.Hour)
	_, err = g.EraseContact(tresor.WithPurpose(system(), "data_protection"), p.ID, tresor.EraseRequest{Reason: "request 2026-301"})
	must(t, err)
	e.now = e.now.Add(time.Hour)
	b2, k2 := e.backup(t, g, "b2")
	k2copy := e.copyOf(t, k2)

	// Within the window the key backup from before the erasure still holds
	// the person's key: the checks below can fail.
	_, keys, _, err := datadir.OpenKeyBackup(k1, e.idFile, e.cfg)
	must(t, err)
	i := slices.IndexFunc(keys, func(k tresor.WrappedKey) bool { return k.Subject == p.ID })
	if i < 0 {
		t.Fatal("the key backup made before the erasure lacks the person's key")
	}
	pKey := keys[i]
	dk, err := kek.Unwrap(bg, pKey)
	must(t, err)
	dk.Destroy()

	// The window passes; the next backup prunes.
	e.now = e.now.Add(datadir.DefaultKeyBackupKeep + time.Hour)
	b3, k3 := e.backup(t, g, "b3")
	rep, err := datadir.PruneKeyBackups(e.cfg)
	must(t, err)
	dataBackups := []string{b1, b2, b3}
	keyBackups := []string{k3, k1copy, k2copy}

	t.Run("key backups older than the window are deleted with their keys", func(t *testing.T) {
		list, err := datadir.ListKeyBackups(e.cfg)
		must(t, err)
		if len(list) != 1 || list[0].Path != k3 {
			t.Fatalf("key backups left: %+v, want only %s", list, k3)
		}
		for _, k := range []string{k1, k2} {
			if _, err := os.Stat(k); !os.IsNotExist(err) {
				t.Fatalf("%s is still there", k)
			}
		}
		if rep.Kept != 1 {
			t.Fatalf("prune report: %+v", rep)
		}
		sealKeys, err := os.ReadFile(filepath.Join(e.cfg.DataDir, "keys", datadir.SealKeysFile))
		must(t, err)
		if n := bytes.Count(sealKeys, []byte("\n")) - 1; n != 1 {
			t.Fatalf("%d key backup keys left, want 1:\n%s", n, sealKeys)
		}
	})

	t.Run("copies of key backups from before the window open no more", func(t *testing.T) {
		for _, k := range []string{k1copy, k2copy} {
			_, _, _, err := datadir.OpenKeyBackup(k, e.idFile, e.cfg)
			if !errors.Is(err, vault.ErrKeyBackupShredded) {
				t.Fatalf("%s: %v, want the key backup's key destroyed", filepath.Base(k), err)
			}
		}
	})

	t.Run("no file holds the person's data key or data", func(t *testing.T) {
		raw := pKey.Wrapped
		b64 := []byte(base64.StdEncoding.EncodeToString(raw))
		for _, f := range append(slices.Clone(dataBackups), keyBackups...) {
			plain := decrypted(t, f, e.idFile)
			if bytes.Contains(plain, raw) || bytes.Contains(plain, b64) {
				t.Fatalf("%s holds the person's wrapped data key", filepath.Base(f))
			}
			if found := leaks(plain); found != nil {
				t.Fatalf("%s holds %v in the clear", filepath.Base(f), found)
			}
		}
	})

	t.Run("no data backup with any key backup and the KEK reveals the person", func(t *testing.T) {
		// The copies open no more (above), whatever data backup they meet;
		// on PostgreSQL every verify restores a database, so SQLite tries
		// them with every data backup and PostgreSQL with the oldest.
		for _, b := range dataBackups {
			for _, k := range keyBackups {
				if k != k3 && b != b1 && e.cfg.DB != "" {
					continue
				}
				f, err := os.Open(b)
				must(t, err)
				vr, err := datadir.VerifyBackupWith(bg, f, e.idFile, k, e.cfg, kek)
				f.Close()
				must(t, err)
				if k != k3 {
					if len(vr.Problems) == 0 || vr.KeysOpened != 0 {
						t.Fatalf("%s with the copy %s: %+v", filepath.Base(b), filepath.Base(k), vr)
					}
					continue
				}
				// The data keys in hand are those the live key store had
				// at the last key backup: the person's is not among them.
				if vr.OldFormat || len(vr.Problems) != 0 || !vr.KeysChecked || vr.KeysOpened != vr.DataKeys {
					t.Fatalf("%s with %s: %+v", filepath.Base(b), filepath.Base(k), vr)
				}
				// Only the backup from before the erasure names the person.
				if slices.Contains(vr.Unreadable, p.ID) != (b == b1) {
					t.Fatalf("%s with %s: unreadable %v, the erased person %s", filepath.Base(b), filepath.Base(k), vr.Unreadable, p.ID)
				}
			}
		}
	})

	t.Run("a restore joins the old backup with the newest key backup: the erased person is reported, everyone else readable", func(t *testing.T) {
		must(t, g.Close())
		f, err := os.Open(b1)
		must(t, err)
		rr, err := datadir.RestoreBackup(bg, f, e.idFile, e.cfg)
		f.Close()
		must(t, err)
		if rr.OldFormat || rr.KeyBackup != filepath.Base(k3) || !slices.Contains(rr.Unreadable, p.ID) || rr.UnreadableCount != 1 || rr.KeysImported < 1 || rr.Reerased != 1 {
			t.Fatalf("restore: %+v", rr)
		}
		g, err = datadir.Open(bg, e.cfg)
		must(t, err)
		if c, err := g.Contact(sales, kept.ID); err != nil || c.FamilyName != "Mustermann" {
			t.Fatalf("the other person after the restore: %v", err)
		}
		_, err = g.Contact(sales, p.ID)
		wantCode(t, err, tresor.ECErased)
	})
}

// TestUnsealedKeyBackupCopiesOutliveTheWindow: with sealing off, pruning
// deletes the key backups Tresor keeps, but a copy made elsewhere still
// opens with the identity — the trade-off docs/protection.md describes.
func TestUnsealedKeyBackupCopiesOutliveTheWindow(t *testing.T) {
	e := newKeyBackupEnv(t, "")
	e.cfg.KeyBackupUnsealed = true
	g, err := datadir.Open(bg, e.cfg)
	must(t, err)
	defer g.Close()
	storePerson(t, g)
	_, k1 := e.backup(t, g, "b1")
	k1copy := e.copyOf(t, k1)
	e.now = e.now.Add(datadir.DefaultKeyBackupKeep)
	rep, err := datadir.PruneKeyBackups(e.cfg)
	must(t, err)
	if len(rep.Removed) != 1 {
		t.Fatalf("prune: %+v", rep)
	}
	if _, _, _, err := datadir.OpenKeyBackup(k1copy, e.idFile, e.cfg); err != nil {
		t.Fatalf("an unsealed copy: %v", err)
	}
}

// oldFormatBackup writes a backup as Tresor wrote them before key backups
// (format 1): the database with its wrapped data keys inside.
func oldFormatBackup(t *testing.T, dbPath, recipient string) string {
	t.Helper()
	raw, err := sql.Open("sqlite", sqlite.DSN(dbPath))
	must(t, err)
	defer raw.Close()
	snap := filepath.Join(t.TempDir(), "snapshot.db")
	_, err = raw.Exec("VACUUM INTO ?", snap)
	must(t, err)
	m := &vault.BackupManifest{Format: vault.BackupFormatWithKeys, TresorVersion: "test", Backend: "sqlite", CreatedAt: time.Now().UTC().Truncate(time.Second), Recipients: 1}
	must(t, raw.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&m.SchemaVersion))
	must(t, raw.QueryRow("SELECT count(*) FROM data_keys").Scan(&m.DataKeys))
	b, err := os.ReadFile(snap)
	must(t, err)
	sum := sha256.Sum256(b)
	m.Database.Name, m.Database.Size, m.Database.SHA256 = vault.BackupMember("sqlite"), int64(len(b)), hex.EncodeToString(sum[:])
	rs, err := vault.ParseRecipients([]string{recipient})
	must(t, err)
	file := filepath.Join(t.TempDir(), "old.age")
	f, err := os.Create(file)
	must(t, err)
	must(t, vault.WriteBackup(f, rs, m, bytes.NewReader(b), nil))
	must(t, f.Close())
	return file
}

// TestOldFormatBackupsStillRestore: a backup of the format that carried its
// data keys verifies and restores as it is, reported as the old format, and
// the erasure journal still erases whoever was erased after it.
func TestOldFormatBackupsStillRestore(t *testing.T) {
	e := newKeyBackupEnv(t, "")
	g, err := datadir.Open(bg, e.cfg)
	must(t, err)
	sales := tresor.WithPurpose(system(), "sales")
	p := storePerson(t, g)
	kept := erika()
	must(t, g.CreateContact(sales, kept))
	old := oldFormatBackup(t, filepath.Join(e.cfg.DataDir, datadir.DatabaseFile), e.recipient)
	_, err = g.EraseContact(tresor.WithPurpose(system(), "data_protection"), p.ID, tresor.EraseRequest{Reason: "request 2026-302"})
	must(t, err)
	must(t, g.Close())
	kek, err := datadir.OpenKEK(bg, e.cfg)
	must(t, err)

	t.Run("verify reports the old format and unwraps its keys", func(t *testing.T) {
		f, err := os.Open(old)
		must(t, err)
		defer f.Close()
		vr, err := datadir.VerifyBackup(bg, f, e.idFile, e.cfg, kek)
		must(t, err)
		if !vr.OldFormat || len(vr.Problems) != 0 || vr.KeysOpened != vr.DataKeys || vr.DataKeys < 2 {
			t.Fatalf("verify: %+v", vr)
		}
	})
	t.Run("restore reports the old format and erases the person again", func(t *testing.T) {
		f, err := os.Open(old)
		must(t, err)
		defer f.Close()
		rr, err := datadir.RestoreBackup(bg, f, e.idFile, e.cfg)
		must(t, err)
		if !rr.OldFormat || rr.Reerased != 1 || rr.KeyBackup != "" {
			t.Fatalf("restore: %+v", rr)
		}
		g := openGate(t, e.cfg)
		if c, err := g.Contact(sales, kept.ID); err != nil || c.FamilyName != "Mustermann" {
			t.Fatalf("the other person after the restore: %v", err)
		}
		_, err = g.Contact(sales, p.ID)
		wantCode(t, err, tresor.ECErased)
	})
}

// BenchmarkBackupKeysApart measures a backup of 2,000 people whose data
// keys go to a key backup, and a restore that joins them again.
func BenchmarkBackupKeysApart(b *testing.B) {
	e := &keyBackupEnv{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), copies: b.TempDir()}
	e.cfg = datadir.Config{DataDir: b.TempDir(), Migrate: true, Now: func() time.Time { return e.now }}
	secret, recipient, err := datadir.NewBackupIdentity()
	if err != nil {
		b.Fatal(err)
	}
	e.idFile, e.recipient = filepath.Join(b.TempDir(), "identity"), recipient
	if err := os.WriteFile(e.idFile, []byte(secret+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	g := openGateB(b, e.cfg)
	sales := tresor.WithPurpose(system(), "sales")
	for i := range 2000 {
		c := erika()
		c.Emails = []string{"p" + strconv.Itoa(i) + "@example.org"}
		if err := g.CreateContact(sales, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.now = e.now.Add(time.Second)
		data := filepath.Join(e.copies, "b"+strconv.Itoa(i)+".age")
		f, err := os.Create(data)
		if err != nil {
			b.Fatal(err)
		}
		var keys string
		m, err := g.CreateBackup(system(), f, []string{e.recipient}, e.cfg.DataDir, "bench", datadir.KeyBackups(e.cfg, []string{e.recipient}, &keys))
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			st, _ := os.Stat(keys)
			dt, _ := os.Stat(data)
			b.ReportMetric(float64(m.DataKeys), "keys")
			b.ReportMetric(float64(st.Size()), "key-backup-bytes")
			b.ReportMetric(float64(dt.Size()), "data-backup-bytes")
		}
	}
}
