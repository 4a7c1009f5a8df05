package gate

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"tresor"
	"tresor/audit"
	"tresor/postgres"
	"tresor/vault"
)

// A backup is a tar archive, encrypted to age recipients, of two members:
// manifest.json (what the backup holds, with the SHA-256 of the database
// member) and the database itself — a SQLite file (VACUUM INTO) or a pg_dump
// archive. It holds no key: personal fields in it are sealed by data keys
// that are wrapped by the KEK, which is backed up on its own (`tresor keys
// backup`). An erasure after the backup destroys the person's data key in the
// database; a restore re-applies the erasure journal, so the person stays
// erased.

// BackupFormat names the format of the backup archive.
const BackupFormat = "tresor-backup/1"

// Manifest describes a backup.
type Manifest struct {
	Format        string    `json:"format"`
	TresorVersion string    `json:"tresor_version"`
	Backend       string    `json:"backend"`
	SchemaVersion int       `json:"schema_version"`
	CreatedAt     time.Time `json:"created_at"`
	Database      struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"database"`
	KEKVersions []int `json:"kek_versions"`
	DataKeys    int   `json:"data_keys"`
	Erasures    int   `json:"erasures"`
	Recipients  int   `json:"recipients"`
}

const (
	manifestName = "manifest.json"
	sqliteMember = "database.sqlite"
	pgMember     = "database.pgdump"
)

// CreateBackup writes an encrypted backup of the database to w. tmpDir holds
// the snapshot while it is hashed (it is removed at once).
func (g *Gate) CreateBackup(ctx context.Context, w io.Writer, recipientList []string, tmpDir, version string) (*Manifest, error) {
	recipients, err := vault.ParseRecipients(recipientList)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: BackupFormat, TresorVersion: version, Backend: g.store.Backend(), CreatedAt: tresor.Truncate(g.now()),
		Recipients: len(recipients)}
	if m.SchemaVersion, _, err = g.store.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	counts, err := g.store.Read().DataKeyCounts(ctx)
	if err != nil {
		return nil, err
	}
	for v, n := range counts {
		m.KEKVersions = append(m.KEKVersions, v)
		m.DataKeys += n
	}
	slices.Sort(m.KEKVersions)
	erasures, err := g.store.Read().Erasures(ctx)
	if err != nil {
		return nil, err
	}
	m.Erasures = len(erasures)

	dir, err := os.MkdirTemp(tmpDir, ".backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	snap, err := os.OpenFile(filepath.Join(dir, "snapshot"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	h := sha256.New()
	if err := g.store.Snapshot(ctx, io.MultiWriter(snap, h)); err != nil {
		return nil, err
	}
	m.Database.Name = sqliteMember
	if m.Backend == "postgres" {
		m.Database.Name = pgMember
	}
	if m.Database.Size, err = snap.Seek(0, io.SeekCurrent); err != nil {
		return nil, err
	}
	m.Database.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, err := snap.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}

	enc, err := vault.EncryptBackup(w, recipients)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(enc)
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeMember(tw, manifestName, int64(len(manifest)), m.CreatedAt, bytes.NewReader(manifest)); err != nil {
		return nil, err
	}
	if err := writeMember(tw, m.Database.Name, m.Database.Size, m.CreatedAt, snap); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	g.event(ctx, "backup.created", m.Database.SHA256[:16], fmt.Sprintf("%s, %d bytes", m.Backend, m.Database.Size))
	return m, nil
}

func writeMember(tw *tar.Writer, name string, size int64, at time.Time, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: at, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("backup member %s: wrote %d of %d bytes", name, n, size)
	}
	return err
}

// unpacked is a decrypted, checked backup in a temporary directory.
type unpacked struct {
	Manifest Manifest
	DB       string // path of the database member
	dir      string
}

func (u *unpacked) remove() { os.RemoveAll(u.dir) }

// openBackup reads the age identity and unpacks a backup beside the data.
func openBackup(r io.Reader, identityFile string, cfg Config) (*unpacked, error) {
	ids, err := vault.ReadIdentities(identityFile)
	if err != nil {
		return nil, err
	}
	return unpack(r, ids, tempDirOf(cfg))
}

// unpack decrypts a backup into tmpDir and checks its manifest and the hash
// of its database. Any changed byte fails here: age authenticates the file.
func unpack(r io.Reader, ids []age.Identity, tmpDir string) (*unpacked, error) {
	plain, err := vault.DecryptBackup(r, ids)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmpDir, ".restore-")
	if err != nil {
		return nil, err
	}
	u := &unpacked{dir: dir}
	ok := false
	defer func() {
		if !ok {
			u.remove()
		}
	}()
	tr := tar.NewReader(plain)
	var sum string
	var size int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the backup is damaged: %w", err)
		}
		switch h.Name {
		case manifestName:
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&u.Manifest); err != nil {
				return nil, fmt.Errorf("the backup's manifest is damaged: %w", err)
			}
			if u.Manifest.Format != BackupFormat {
				return nil, fmt.Errorf("not a Tresor backup (format %q)", u.Manifest.Format)
			}
		case sqliteMember, pgMember:
			if u.Manifest.Format == "" {
				return nil, errors.New("the backup's manifest is missing")
			}
			u.DB = filepath.Join(dir, h.Name)
			f, err := os.OpenFile(u.DB, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, err
			}
			hash := sha256.New()
			size, err = io.Copy(io.MultiWriter(f, hash), tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("the backup is damaged: %w", err)
			}
			sum = hex.EncodeToString(hash.Sum(nil))
		default:
			return nil, fmt.Errorf("the backup holds an unknown member %q", h.Name)
		}
	}
	switch {
	case u.DB == "":
		return nil, errors.New("the backup holds no database")
	case filepath.Base(u.DB) != u.Manifest.Database.Name:
		return nil, fmt.Errorf("the backup's database is %s, its manifest says %s", filepath.Base(u.DB), u.Manifest.Database.Name)
	case sum != u.Manifest.Database.SHA256 || size != u.Manifest.Database.Size:
		return nil, errors.New("the backup's database does not match the hash in its manifest")
	}
	ok = true
	return u, nil
}

// VerifyReport says what verifying a backup found.
type VerifyReport struct {
	Manifest      Manifest `json:"manifest"`
	Integrity     string   `json:"integrity"` // the database's own check
	SchemaVersion int      `json:"schema_version"`
	KnownSchema   int      `json:"known_schema"`
	DataKeys      int      `json:"data_keys"`
	// KeysChecked says whether the data keys were unwrapped with the KEK
	// (needs the key files this server uses); KeysOpened counts those that did.
	KeysChecked bool `json:"keys_checked"`
	KeysOpened  int  `json:"keys_opened"`
	// Audit is the verification of the backup's audit trail (nil when the
	// backup predates it or the signing key is not at hand).
	Audit    *AuditReport `json:"audit,omitempty"`
	Problems []string     `json:"problems"`
}

// VerifyBackup decrypts a backup, checks its integrity, restores it into a
// temporary place (a file for SQLite, a temporary database for PostgreSQL),
// checks its schema, and unwraps every data key with the KEK (when kek is
// not nil). The report lists every problem; an empty list means the backup
// can be restored.
func VerifyBackup(ctx context.Context, r io.Reader, identityFile string, cfg Config, kek *vault.Keyring) (*VerifyReport, error) {
	u, err := openBackup(r, identityFile, cfg)
	if err != nil {
		return nil, err
	}
	defer u.remove()
	rep := &VerifyReport{Manifest: u.Manifest, Problems: []string{}}
	var store tresor.Store
	switch u.Manifest.Backend {
	case "sqlite":
		store, err = OpenStore(ctx, Config{DB: "sqlite:" + u.DB})
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
		store, err = OpenStore(ctx, Config{DB: tmpURL})
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
		if err := checkKeys(ctx, store, kek, rep); err != nil {
			return nil, err
		}
	}
	if rep.SchemaVersion >= 5 {
		if signer, err := audit.LoadSigner(filepath.Join(KeyDirOf(cfg), AuditKeyFile), false); err == nil {
			g := New(store, WithAudit(AuditConfig{Signer: signer}), WithLogger(slog.New(slog.DiscardHandler)))
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

// checkKeys counts the backup's data keys and, with a KEK, proves that each
// one unwraps: the key backup that pairs with this data backup is in hand.
func checkKeys(ctx context.Context, store tresor.Store, kek *vault.Keyring, rep *VerifyReport) error {
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
	after := ""
	for {
		keys, err := r.DataKeysNotUnder(ctx, 0, after, 5000) // every key: versions start at 1
		if err != nil {
			return err
		}
		for _, k := range keys {
			rep.DataKeys++
			if kek == nil {
				continue
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
		if len(keys) < 5000 {
			break
		}
		after = keys[len(keys)-1].Subject
	}
	if rep.DataKeys != rep.Manifest.DataKeys {
		rep.Problems = append(rep.Problems, fmt.Sprintf("keys: %d data keys, the manifest says %d", rep.DataKeys, rep.Manifest.DataKeys))
	}
	return nil
}

// RestoreReport says what a restore did.
type RestoreReport struct {
	Manifest Manifest `json:"manifest"`
	// Reerased are people erased after the backup was made: erased again.
	Reerased int `json:"reerased"`
	// Resuppressed are suppression list entries added after the backup.
	Resuppressed int `json:"resuppressed"`
	// Previous is where the database that was replaced was kept (SQLite).
	Previous string `json:"previous,omitempty"`
}

// RestoreBackup replaces the configured database by a backup, then
// re-applies the erasure journal — from the database being replaced and from
// the journal file beside it — and the suppression list, so that nobody
// erased or objecting after the backup comes back. Tresor must not be
// serving this database meanwhile.
func RestoreBackup(ctx context.Context, r io.Reader, identityFile string, cfg Config, opts ...Option) (*RestoreReport, error) {
	u, err := openBackup(r, identityFile, cfg)
	if err != nil {
		return nil, err
	}
	defer u.remove()
	rep := &RestoreReport{Manifest: u.Manifest}
	// What must survive the restore, read before anything changes.
	journal, suppressions, err := survivors(ctx, cfg)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Manifest.Backend == "sqlite" && !isPostgres(cfg.DB):
		if rep.Previous, err = restoreSQLite(ctx, u, cfg, journal, suppressions, rep, opts); err != nil {
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
		if err := g.reapply(ctx, journal, suppressions, rep); err != nil {
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
		j, err := ReadJournal(filepath.Join(cfg.DataDir, JournalFile))
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
		store, err := OpenStore(ctx, cfg)
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
func restoreSQLite(ctx context.Context, u *unpacked, cfg Config, journal []tresor.Erasure, sup []tresor.Suppression,
	rep *RestoreReport, opts []Option) (string, error) {
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
	err = g.reapply(ctx, journal, sup, rep)
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

// reapply erases again everyone the journal names who is in the restored
// database, writes the missing tombstones, and restores the suppression list.
func (g *Gate) reapply(ctx context.Context, journal []tresor.Erasure, sup []tresor.Suppression, rep *RestoreReport) error {
	ctx = tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
	req := &request{g: g, actor: tresor.ActorFrom(ctx), now: tresor.Truncate(g.now())}
	if pu, ok := g.policy.Purpose(dataProtectionPurpose(g)); ok {
		req.pu = pu
	}
	for _, e := range journal {
		err := g.store.Update(ctx, func(tx tresor.Tx) error {
			if _, err := tx.Erasure(ctx, e.ContactID); err == nil {
				return nil // erased in the backup already
			}
			if _, err := tx.Contact(ctx, e.ContactID); err == nil {
				if _, err := g.detachRetained(ctx, tx, req, e.ContactID); err != nil {
					return err
				}
				if _, err := tx.EraseContact(ctx, e.ContactID, g.policy.Retention.Interactions, g.policy.Retention.Cases); err != nil {
					return err
				}
				rep.Reerased++
			}
			return tx.InsertErasure(ctx, &e)
		})
		if err != nil {
			return fmt.Errorf("re-apply the erasure of %s: %w", e.ContactID, err)
		}
	}
	before, err := g.store.Read().Suppressions(ctx)
	if err != nil {
		return err
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		for _, s := range sup {
			if slices.ContainsFunc(before, func(b tresor.Suppression) bool { return b.Key == s.Key && b.Scope == s.Scope }) {
				continue
			}
			if err := tx.Suppress(ctx, []tresor.LookupKey{s.Key}, s.Scope, s.CreatedAt); err != nil {
				return err
			}
			rep.Resuppressed++
		}
		return nil
	})
	return err
}

// dataProtectionPurpose is the purpose that sees restricted contacts.
func dataProtectionPurpose(g *Gate) string {
	for _, p := range g.policy.Purposes {
		if p.SeesRestricted {
			return p.ID
		}
	}
	return ""
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
