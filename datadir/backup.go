package datadir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/audit"
	"tresor/gate"
	"tresor/postgres"
	"tresor/vault"
)

// openBackup reads the age identity and unpacks a backup beside the data.
func openBackup(r io.Reader, identityFile string, cfg Config) (*vault.UnpackedBackup, error) {
	ids, err := vault.ReadIdentities(identityFile)
	if err != nil {
		return nil, err
	}
	return vault.UnpackBackup(r, ids, tempDirOf(cfg))
}

// system is the context of the tools' own actions: Tresor itself.
func system(ctx context.Context) context.Context {
	return tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
}

// VerifyReport says what verifying a backup found.
type VerifyReport struct {
	Manifest      vault.BackupManifest `json:"manifest"`
	Integrity     string               `json:"integrity"` // the database's own check
	SchemaVersion int                  `json:"schema_version"`
	KnownSchema   int                  `json:"known_schema"`
	DataKeys      int                  `json:"data_keys"`
	// KeysChecked says whether the data keys were unwrapped with the KEK
	// (needs the key files this server uses); KeysOpened counts those that did.
	KeysChecked bool `json:"keys_checked"`
	KeysOpened  int  `json:"keys_opened"`
	// OldFormat says the backup still carries its data keys (format 1).
	OldFormat bool `json:"old_format"`
	// KeyBackup is the key backup a format 2 backup was paired with, and
	// OwnKeyBackup whether it is the one written with it. Unreadable lists
	// the subjects the data backup left keys out for that the key backup
	// has no key for (erased since; at most 100 listed), UnreadableCount
	// counts them.
	KeyBackup       string   `json:"key_backup,omitempty"`
	OwnKeyBackup    bool     `json:"own_key_backup,omitempty"`
	Unreadable      []string `json:"unreadable,omitempty"`
	UnreadableCount int      `json:"unreadable_count"`
	// Audit is the verification of the backup's audit trail (nil when the
	// backup predates it or the signing key is not at hand).
	Audit    *gate.AuditReport `json:"audit,omitempty"`
	Problems []string          `json:"problems"`
}

// VerifyBackup decrypts a backup, checks its integrity, restores it into a
// temporary place (a file for SQLite, a temporary database for PostgreSQL),
// checks its schema, and unwraps every data key with the KEK (when kek is
// not nil). The report lists every problem; an empty list means the backup
// can be restored.
//
// A backup of format 2 holds no data key: it is paired with a key backup
// (keyBackup, or the newest of the configuration), whose keys for the
// backup's subjects are counted and unwrapped instead; subjects it has no
// key for are reported as unreadable, not as problems.
func VerifyBackup(ctx context.Context, r io.Reader, identityFile string, cfg Config, kek *vault.Keyring) (*VerifyReport, error) {
	return VerifyBackupWith(ctx, r, identityFile, "", cfg, kek)
}

// VerifyBackupWith is VerifyBackup with a given key backup ("" for the newest).
func VerifyBackupWith(ctx context.Context, r io.Reader, identityFile, keyBackup string, cfg Config, kek *vault.Keyring) (*VerifyReport, error) {
	u, err := openBackup(r, identityFile, cfg)
	if err != nil {
		return nil, err
	}
	defer u.Remove()
	rep := &VerifyReport{Manifest: u.Manifest, Problems: []string{}, OldFormat: !u.Manifest.KeysApart()}
	var store tresor.Store
	switch u.Manifest.Backend {
	case "sqlite":
		store, err = openStore(ctx, Config{DB: "sqlite:" + u.DB})
	case "postgres":
		if !isPostgres(cfg.DB) {
			return nil, errors.New("a PostgreSQL backup is verified against a PostgreSQL server: set TRESOR_DB to its URL")
		}
		tmpURL, drop, terr := postgres.TempDatabase(ctx, cfg.DB)
		if terr != nil {
			return nil, terr
		}
		defer drop()
		f, ferr := os.Open(u.DB)
		if ferr != nil {
			return nil, ferr
		}
		err = postgres.Restore(ctx, tmpURL, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("restore into a temporary database: %w", err)
		}
		store, err = openStore(ctx, Config{DB: tmpURL})
	default:
		return nil, fmt.Errorf("the backup's backend %q is unknown", u.Manifest.Backend)
	}
	if err != nil {
		return nil, err
	}
	defer store.Close()
	rep.Integrity = "ok"
	if err := store.Check(ctx); err != nil {
		rep.Integrity = err.Error()
		rep.Problems = append(rep.Problems, "integrity: "+err.Error())
	}
	if rep.SchemaVersion, rep.KnownSchema, err = store.SchemaVersion(ctx); err != nil {
		rep.Problems = append(rep.Problems, "schema: "+err.Error())
	} else if rep.SchemaVersion > rep.KnownSchema {
		rep.Problems = append(rep.Problems, fmt.Sprintf("schema: version %d is newer than this Tresor knows (%d)", rep.SchemaVersion, rep.KnownSchema))
	} else if rep.SchemaVersion != u.Manifest.SchemaVersion {
		rep.Problems = append(rep.Problems, fmt.Sprintf("schema: version %d, the manifest says %d", rep.SchemaVersion, u.Manifest.SchemaVersion))
	}
	if rep.SchemaVersion >= 4 {
		var keys []tresor.WrappedKey
		if u.Manifest.KeysApart() {
			h, kk, path, err := OpenKeyBackup(keyBackup, identityFile, cfg)
			if err != nil {
				rep.Problems = append(rep.Problems, "keys: "+err.Error())
			} else {
				rep.KeyBackup, rep.OwnKeyBackup = filepath.Base(path), h.ID == u.Manifest.KeyBackup
				var missing []string
				keys, missing = pairKeys(kk, u.Subjects)
				rep.UnreadableCount, rep.Unreadable = len(missing), missing[:min(len(missing), 100)]
			}
			if len(u.Subjects) != u.Manifest.DataKeys {
				rep.Problems = append(rep.Problems, fmt.Sprintf("keys: the backup names %d subjects, the manifest says %d", len(u.Subjects), u.Manifest.DataKeys))
			}
		}
		if err := checkKeys(ctx, store, kek, rep, keys); err != nil {
			return nil, err
		}
	}
	if rep.SchemaVersion >= 5 {
		if signer, err := audit.LoadSigner(filepath.Join(keyDirOf(cfg), gate.AuditKeyFile), false); err == nil {
			// Verifying the trail opens no sealed field: the KEK at hand, if any, suffices.
			g := gate.New(store, gate.Keys{KEK: kek}, gate.WithAudit(gate.AuditConfig{Signer: signer}), gate.WithLogger(slog.New(slog.DiscardHandler)))
			ar, err := g.VerifyAudit(ctx, "")
			if err != nil {
				return nil, err
			}
			rep.Audit = ar
			if ar.Problem != "" {
				rep.Problems = append(rep.Problems, "audit trail: "+ar.Problem)
			}
		}
	}
	return rep, nil
}

// pairKeys returns the keys of a key backup for the subjects a data backup
// left keys out for, and the subjects it has none for.
func pairKeys(keys []tresor.WrappedKey, subjects []string) (paired []tresor.WrappedKey, missing []string) {
	byID := make(map[string]tresor.WrappedKey, len(keys))
	for _, k := range keys {
		byID[k.Subject] = k
	}
	missing = []string{}
	for _, s := range subjects {
		if k, ok := byID[s]; ok {
			paired = append(paired, k)
		} else {
			missing = append(missing, s)
		}
	}
	return paired, missing
}

// checkKeys counts the backup's data keys and, with a KEK, proves that each
// one unwraps: the KEK that pairs with this data backup is in hand. The keys
// are those of the backup's database, and those paired from its key backup.
func checkKeys(ctx context.Context, store tresor.Store, kek *vault.Keyring, rep *VerifyReport, paired []tresor.WrappedKey) error {
	r := store.Read()
	if kek != nil {
		known, err := r.KEKVersions(ctx)
		if err != nil {
			return err
		}
		for _, v := range known {
			if err := kek.Verify(ctx, v.Version, v.Check); err != nil {
				rep.Problems = append(rep.Problems, "keys: "+err.Error())
				kek = nil
				break
			}
		}
	}
	rep.KeysChecked = kek != nil
	check := func(k tresor.WrappedKey) {
		rep.DataKeys++
		if kek == nil {
			return
		}
		if dk, err := kek.Unwrap(ctx, k); err != nil {
			if len(rep.Problems) < 20 {
				rep.Problems = append(rep.Problems, fmt.Sprintf("keys: the data key of %s does not unwrap", k.Subject))
			}
		} else {
			dk.Destroy()
			rep.KeysOpened++
		}
	}
	for _, k := range paired {
		check(k)
	}
	after := ""
	for {
		keys, err := r.DataKeysNotUnder(ctx, 0, after, 5000) // every key: versions start at 1
		if err != nil {
			return err
		}
		for _, k := range keys {
			check(k)
		}
		if len(keys) < 5000 {
			break
		}
		after = keys[len(keys)-1].Subject
	}
	if rep.DataKeys+rep.UnreadableCount != rep.Manifest.DataKeys {
		rep.Problems = append(rep.Problems, fmt.Sprintf("keys: %d data keys (and %d unreadable), the manifest says %d", rep.DataKeys, rep.UnreadableCount, rep.Manifest.DataKeys))
	}
	return nil
}

// RestoreReport says what a restore did.
type RestoreReport struct {
	Manifest vault.BackupManifest `json:"manifest"`
	// Reerased are people erased after the backup was made: erased again.
	Reerased int `json:"reerased"`
	// Resuppressed are suppression list entries added after the backup.
	Resuppressed int `json:"resuppressed"`
	// Previous is where the database that was replaced was kept (SQLite).
	Previous string `json:"previous,omitempty"`
	// OldFormat says the backup carried its own data keys (format 1).
	OldFormat bool `json:"old_format"`
	// KeyBackup is the key backup the data keys came from (format 2), and
	// KeysImported how many of its keys were put back.
	KeyBackup    string `json:"key_backup,omitempty"`
	KeysImported int    `json:"keys_imported"`
	// Unreadable are the subjects the key backup had no key for — people
	// erased after it was made stay unreadable (at most 100 listed);
	// UnreadableCount counts them all.
	Unreadable      []string `json:"unreadable,omitempty"`
	UnreadableCount int      `json:"unreadable_count"`
}

// keyJoin is the key backup a restore of a format 2 backup joins.
type keyJoin struct {
	keys     []tresor.WrappedKey
	subjects []string
}

// join puts the key backup's keys into the restored database, before the
// erasure journal is re-applied.
func (j *keyJoin) join(ctx context.Context, g *gate.Gate, rep *RestoreReport) error {
	if j == nil {
		return nil
	}
	n, missing, err := g.ImportDataKeys(system(ctx), j.keys, j.subjects)
	if err != nil {
		return err
	}
	rep.KeysImported, rep.UnreadableCount = n, len(missing)
	rep.Unreadable = missing[:min(len(missing), 100)]
	return nil
}

// RestoreBackup replaces the configured database by a backup, puts back
// the data keys from the newest key backup (format 2), then re-applies the
// erasure journal — from the database being replaced and from the journal
// file beside it — and the suppression list, so that nobody erased or
// objecting after the backup comes back. Tresor must not be serving this
// database meanwhile.
func RestoreBackup(ctx context.Context, r io.Reader, identityFile string, cfg Config, opts ...gate.Option) (*RestoreReport, error) {
	return RestoreBackupWith(ctx, r, identityFile, "", cfg, opts...)
}

// RestoreBackupWith is RestoreBackup with a given key backup ("" for the
// newest). Subjects the key backup has no key for are reported, not an
// error: they were erased after it was made (or made after it).
func RestoreBackupWith(ctx context.Context, r io.Reader, identityFile, keyBackup string, cfg Config, opts ...gate.Option) (*RestoreReport, error) {
	u, err := openBackup(r, identityFile, cfg)
	if err != nil {
		return nil, err
	}
	defer u.Remove()
	rep := &RestoreReport{Manifest: u.Manifest, OldFormat: !u.Manifest.KeysApart()}
	var kj *keyJoin
	if u.Manifest.KeysApart() {
		_, keys, path, err := OpenKeyBackup(keyBackup, identityFile, cfg)
		if err != nil {
			return nil, err
		}
		kj, rep.KeyBackup = &keyJoin{keys: keys, subjects: u.Subjects}, filepath.Base(path)
	}
	// What must survive the restore, read before anything changes.
	journal, suppressions, err := survivors(ctx, cfg)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Manifest.Backend == "sqlite" && !isPostgres(cfg.DB):
		if rep.Previous, err = restoreSQLite(ctx, u, cfg, journal, suppressions, kj, rep, opts); err != nil {
			return nil, err
		}
	case u.Manifest.Backend == "postgres" && isPostgres(cfg.DB):
		f, err := os.Open(u.DB)
		if err != nil {
			return nil, err
		}
		err = postgres.Restore(ctx, cfg.DB, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		g, err := Open(ctx, Config{DB: cfg.DB, DataDir: cfg.DataDir, KeyDir: cfg.KeyDir, KEK: cfg.KEK, Migrate: true}, opts...)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		if err := kj.join(ctx, g, rep); err != nil {
			return nil, err
		}
		if rep.Reerased, rep.Resuppressed, err = g.ReapplyErasures(system(ctx), journal, suppressions); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("this is a %s backup; restore it into a %s database", u.Manifest.Backend, u.Manifest.Backend)
	}
	return rep, nil
}

// survivors reads the erasure journal and the suppression list that a
// restore must carry over: from the current database if there is one, and
// from the journal file.
func survivors(ctx context.Context, cfg Config) ([]tresor.Erasure, []tresor.Suppression, error) {
	var journal []tresor.Erasure
	var suppressions []tresor.Suppression
	if cfg.DataDir != "" {
		j, err := gate.ReadJournal(filepath.Join(cfg.DataDir, gate.JournalFile))
		if err != nil {
			return nil, nil, err
		}
		journal = j
	}
	exists := isPostgres(cfg.DB)
	if !exists {
		if _, err := os.Stat(sqlitePath(cfg)); err == nil {
			exists = true
		}
	}
	if exists {
		store, err := openStore(ctx, cfg)
		if err == nil {
			defer store.Close()
			if cur, _, err := store.SchemaVersion(ctx); err == nil && cur >= 4 {
				es, err := store.Read().Erasures(ctx)
				if err != nil {
					return nil, nil, err
				}
				journal = append(journal, es...)
			}
			if cur, _, err := store.SchemaVersion(ctx); err == nil && cur >= 3 {
				if suppressions, err = store.Read().Suppressions(ctx); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	slices.SortFunc(journal, func(a, b tresor.Erasure) int { return a.ErasedAt.Compare(b.ErasedAt) })
	journal = slices.CompactFunc(journal, func(a, b tresor.Erasure) bool { return a.ContactID == b.ContactID })
	return journal, suppressions, nil
}

// restoreSQLite prepares the backup's file beside the database, re-applies
// the journal to it, and then swaps it in. The replaced database is kept
// under another name: its erased people are erased in it too (their keys
// are gone), and the operator deletes it once the restore is checked.
func restoreSQLite(ctx context.Context, u *vault.UnpackedBackup, cfg Config, journal []tresor.Erasure, sup []tresor.Suppression,
	kj *keyJoin, rep *RestoreReport, opts []gate.Option) (string, error) {
	target := sqlitePath(cfg)
	staged := target + ".restoring"
	for _, p := range []string{staged, staged + "-wal", staged + "-shm"} {
		os.Remove(p)
	}
	if err := copyFile(u.DB, staged); err != nil {
		return "", err
	}
	g, err := Open(ctx, Config{DB: "sqlite:" + staged, DataDir: cfg.DataDir, KeyDir: cfg.KeyDir, KEK: cfg.KEK, Migrate: true}, opts...)
	if err != nil {
		os.Remove(staged)
		return "", err
	}
	err = kj.join(ctx, g, rep)
	if err == nil {
		rep.Reerased, rep.Resuppressed, err = g.ReapplyErasures(system(ctx), journal, sup)
	}
	if cerr := g.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(staged)
		return "", err
	}
	previous := ""
	if _, err := os.Stat(target); err == nil {
		previous = fmt.Sprintf("%s.before-restore-%s", target, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(target, previous); err != nil {
			return "", err
		}
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(target + ext); err == nil {
				if err := os.Rename(target+ext, previous+ext); err != nil {
					return "", err
				}
			}
		}
	}
	for _, ext := range []string{"-wal", "-shm"} {
		os.Remove(staged + ext) // closed cleanly: the WAL was checkpointed
	}
	if err := os.Rename(staged, target); err != nil {
		return "", err
	}
	return previous, nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func sqlitePath(cfg Config) string {
	if p, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok && p != "" {
		return p
	}
	return filepath.Join(cfg.DataDir, DatabaseFile)
}

// tempDirOf is where backups are unpacked: beside the data, never in a
// shared temporary directory.
func tempDirOf(cfg Config) string {
	if cfg.DataDir != "" {
		return cfg.DataDir
	}
	return filepath.Dir(sqlitePath(cfg))
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
