package gate

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tresor"
	"tresor/postgres"
	"tresor/sqlite"
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
}

// Open opens the configured store, checks or migrates its schema, and returns
// the gate on it. It refuses a schema newer than this build knows.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Gate, error) {
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(ctx, store, cfg.Migrate); err != nil {
		store.Close()
		return nil, err
	}
	dir := cfg.KeyDir
	if dir == "" {
		dir = filepath.Join(cmp.Or(cfg.DataDir, "."), "keys")
	}
	keys, err := LoadKeys(dir)
	if err != nil {
		store.Close()
		return nil, err
	}
	g := New(store, append([]Option{WithKeys(keys)}, opts...)...)
	if err := g.maintain(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return g, nil
}

// OpenStore opens the configured store without touching its schema.
func OpenStore(ctx context.Context, cfg Config) (tresor.Store, error) {
	switch {
	case strings.HasPrefix(cfg.DB, "postgres://"), strings.HasPrefix(cfg.DB, "postgresql://"):
		return postgres.Open(ctx, cfg.DB, postgres.Options{})
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
