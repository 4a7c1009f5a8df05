//go:build unix

package datadir

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the lock of a SQLite database that says a process serves it:
// `tresor serve` holds it while it runs, and a restore refuses to replace
// the file under a running server. PostgreSQL needs none (release is a no-op).
func Lock(cfg Config) (release func(), err error) {
	if isPostgres(cfg.DB) {
		return func() {}, nil
	}
	path := sqlitePath(cfg) + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another Tresor process serves this database (its lock %s is held); stop it first", path)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// lockSealKeys serializes the changes of the key backups' key file between
// processes (a backup and a server's prune at the same moment).
func lockSealKeys(cfg Config) (release func(), err error) {
	dir := keyDirOf(cfg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, SealKeysFile+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
