// Package datadir sets up and maintains a Tresor data directory: the
// database (SQLite in the directory, or PostgreSQL), the key files beside it,
// the source of the key-encryption key, key export and import, and backup
// verification and restore. It is the only package that opens a storage
// adapter. It hands out no store: Open returns the gate on it, and the
// maintenance tools use theirs inside and close it again.
package datadir

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"tresor"
	"tresor/audit"
	"tresor/gate"
	"tresor/postgres"
	"tresor/sqlite"
	"tresor/vault"
)

// DatabaseFile is the name of the SQLite database in the data directory.
const DatabaseFile = "tresor.db"

// Config says where the data lives.
type Config struct {
	// DataDir holds the SQLite database (and, later, key files). Created with mode 0700.
	DataDir string
	// DB selects the database: "" for SQLite in DataDir, "sqlite:PATH" for
	// SQLite elsewhere, or a postgres:// URL.
	DB string
	// Migrate applies missing migrations; without it, a schema that is behind is refused.
	Migrate bool
	// KeyDir holds the key files (default DataDir/keys).
	KeyDir string
	// KEK says where the key-encryption key comes from (default: the file
	// kek.keys in KeyDir, created on first start of an empty database).
	KEK KEKConfig
	// Statements, if set, counts the statements sent to PostgreSQL (tests).
	Statements *atomic.Int64
	// KeyBackupDir holds the key backups (default DataDir/key-backups).
	KeyBackupDir string
	// KeyBackupKeep is how long key backups and their keys are kept
	// (default DefaultKeyBackupKeep).
	KeyBackupKeep time.Duration
	// KeyBackupUnsealed writes key backups without their own key: they
	// survive the loss of the key directory, and a copy kept past the
	// window still opens (docs/protection.md weighs the two).
	KeyBackupUnsealed bool
	// Now is the clock of key backups and their window (tests).
	Now func() time.Time
}

// KEKConfig says where the key-encryption key comes from; the first of
// Transit, Env and File that is set wins.
type KEKConfig struct {
	// File is a key file of "v<N> <base64>" lines (mode 0600).
	File string
	// EnvName names an environment variable that holds the key(s), read
	// with Getenv (default os.Getenv).
	EnvName string
	Getenv  func(string) string
	// Transit keeps the versions wrapped by a Vault/OpenBao transit engine.
	TransitAddr, TransitToken, TransitKey, TransitNamespace string
	// Source, if set, is used as it is (tests).
	Source vault.Source
}

// KEKFile is the name of the key-encryption key file in the key directory.
const KEKFile = "kek.keys"

// keyDirOf returns the key directory of a configuration.
func keyDirOf(cfg Config) string {
	if cfg.KeyDir != "" {
		return cfg.KeyDir
	}
	return filepath.Join(cmp.Or(cfg.DataDir, "."), "keys")
}

// kekSourceOf returns the KEK source of a configuration.
func kekSourceOf(cfg Config) vault.Source {
	k := cfg.KEK
	switch {
	case k.Source != nil:
		return k.Source
	case k.TransitAddr != "":
		return &vault.TransitSource{Addr: k.TransitAddr, Token: k.TransitToken, KeyName: k.TransitKey,
			Namespace: k.TransitNamespace, Path: filepath.Join(keyDirOf(cfg), "kek.transit")}
	case k.EnvName != "":
		return vault.EnvSource{Name: k.EnvName, Getenv: k.Getenv}
	case k.File != "":
		return vault.FileSource{Path: k.File}
	}
	return vault.FileSource{Path: filepath.Join(keyDirOf(cfg), KEKFile)}
}

// Open opens the configured store, checks or migrates its schema, loads the
// keys, runs the pending maintenance and returns the gate on it. It refuses
// a schema newer than this build knows. Closing the gate closes the store.
func Open(ctx context.Context, cfg Config, opts ...gate.Option) (*gate.Gate, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(ctx, store, cfg.Migrate); err != nil {
		store.Close()
		return nil, err
	}
	if cfg.DataDir == "" && cfg.KeyDir == "" {
		store.Close()
		return nil, fmt.Errorf("no data directory for the key files: set TRESOR_DATA_DIR (keys live there, apart from the database)")
	}
	keys, err := loadKeys(keyDirOf(cfg))
	if err != nil {
		store.Close()
		return nil, err
	}
	if keys.KEK, err = openKEK(ctx, store, kekSourceOf(cfg)); err != nil {
		store.Close()
		return nil, err
	}
	signer, err := openAuditKey(ctx, store, keyDirOf(cfg))
	if err != nil {
		store.Close()
		return nil, err
	}
	ac := gate.AuditConfig{Signer: signer}
	base := []gate.Option{gate.WithAudit(ac)}
	if cfg.DataDir != "" {
		ac.CheckpointFile = filepath.Join(cfg.DataDir, gate.AuditCheckpointFile)
		base = append(base, gate.WithJournal(filepath.Join(cfg.DataDir, gate.JournalFile)), gate.WithAudit(ac))
	}
	g := gate.New(store, keys, append(base, opts...)...)
	if err := g.Maintain(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return g, nil
}

// Migration says what Migrate did.
type Migration struct {
	Backend  string // "sqlite" or "postgres"
	From, To int    // schema versions before and after
}

// Migrate applies the missing migrations of the configured database.
func Migrate(ctx context.Context, cfg Config) (*Migration, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	m := &Migration{Backend: store.Backend()}
	if m.From, m.To, err = store.Migrate(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// openStore opens the configured store without touching its schema.
func openStore(ctx context.Context, cfg Config) (tresor.Store, error) {
	switch {
	case strings.HasPrefix(cfg.DB, "postgres://"), strings.HasPrefix(cfg.DB, "postgresql://"):
		return postgres.Open(ctx, cfg.DB, postgres.Options{Statements: cfg.Statements})
	case cfg.DB == "", strings.HasPrefix(cfg.DB, "sqlite:"):
		path := strings.TrimPrefix(cfg.DB, "sqlite:")
		if path == "" {
			if cfg.DataDir == "" {
				return nil, fmt.Errorf("no data directory configured")
			}
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
			path = filepath.Join(cfg.DataDir, DatabaseFile)
		}
		return sqlite.Open(ctx, path, sqlite.Options{})
	}
	return nil, fmt.Errorf("TRESOR_DB must be empty (SQLite in the data directory), sqlite:PATH or a postgres:// URL")
}

func prepareSchema(ctx context.Context, store tresor.Store, migrate bool) error {
	if migrate {
		_, _, err := store.Migrate(ctx)
		return err
	}
	cur, known, err := store.SchemaVersion(ctx)
	switch {
	case err != nil:
		return err
	case cur > known:
		return tresor.Errorf(tresor.ECSchemaTooNew, "The database has schema version %d, but this Tresor (%s) knows only up to %d; run a newer Tresor.", cur, tresor.Version, known)
	case cur < known:
		return tresor.Errorf(tresor.ECSchemaBehind, "The database has schema version %d and needs %d: run `tresor migrate` (or start `tresor serve`, which migrates).", cur, known)
	}
	return nil
}

// openKEK loads the key-encryption key and proves it against the database:
// every version the database was sealed under must be there and match its
// check value. A new key is created only for a database that holds no
// sealed data yet — never over existing data.
func openKEK(ctx context.Context, store tresor.Store, src vault.Source) (*vault.Keyring, error) {
	known, err := store.Read().KEKVersions(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := store.Read().DataKeyCounts(ctx)
	if err != nil {
		return nil, err
	}
	kr, err := vault.Open(ctx, src)
	if errors.Is(err, vault.ErrNoKeys) {
		if len(known) > 0 || len(counts) > 0 {
			return nil, fmt.Errorf("refusing to start: this database holds data sealed under key-encryption key version(s) %s, "+
				"but %s holds no key. Restore the key (tresor keys restore FILE) or point TRESOR_KEK_FILE or TRESOR_KEK at it; "+
				"Tresor never creates a new key over existing data", versionList(known, counts), src.Describe())
		}
		if kr, err = vault.Create(ctx, src); err != nil {
			return nil, fmt.Errorf("create the key-encryption key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("load the key-encryption key: %w", err)
	}
	for _, v := range known {
		if err := kr.Verify(ctx, v.Version, v.Check); err != nil {
			return nil, fmt.Errorf("refusing to start: %w; restore the right key (tresor keys restore FILE)", err)
		}
	}
	for v := range counts {
		if !slices.Contains(kr.Versions(), v) {
			return nil, fmt.Errorf("refusing to start: data keys are wrapped under key-encryption key version %d, which %s lacks", v, src.Describe())
		}
	}
	return kr, nil // the gate's Maintain records the versions the database lacks
}

func versionList(known []tresor.KEKVersion, counts map[int]int) string {
	var vs []int
	for _, k := range known {
		vs = append(vs, k.Version)
	}
	for v := range counts {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

// openAuditKey loads the checkpoint signing key, creating it only while the
// trail has no checkpoint: a lost key must be restored, not replaced.
func openAuditKey(ctx context.Context, store tresor.Store, dir string) (*audit.Signer, error) {
	cps, err := store.Read().AuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, gate.AuditKeyFile)
	s, err := audit.LoadSigner(path, len(cps) == 0)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w; restore it (tresor keys restore FILE): the audit trail's checkpoints were signed with it", err)
	}
	return s, nil
}
