package datadir

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/gate"
	"tresor/vault"
)

// Key backups: the wrapped data keys of a data backup are written to a file
// of their own in a directory Tresor manages (default DATA_DIR/key-backups),
// encrypted to the backup's age recipients and sealed under a key of that
// file's own, which lives only in the key directory (key-backups.keys).
// Key backups and their keys are kept for a window (default 35 days) and
// then deleted — the file by name, the key for good. After the window no
// data backup, key backup, copy of either, identity or KEK reveals a person
// erased before it: the live database lost the key at the erasure, every
// key backup that still held it is sealed under a destroyed key.

// DefaultKeyBackupKeep is how long key backups are kept (TRESOR_KEY_BACKUP_KEEP).
const DefaultKeyBackupKeep = 35 * 24 * time.Hour

// SealKeysFile is the file, in the key directory, of the key backups' own keys.
const SealKeysFile = "key-backups.keys"

// KeyBackupDirName is the default directory of key backups in the data directory.
const KeyBackupDirName = "key-backups"

const keyBackupIDLayout = "20060102T150405Z"

// KeyBackupDirOf is where a configuration's key backups are kept.
func KeyBackupDirOf(cfg Config) string {
	if cfg.KeyBackupDir != "" {
		return cfg.KeyBackupDir
	}
	return filepath.Join(cmp.Or(cfg.DataDir, "."), KeyBackupDirName)
}

func keepOf(cfg Config) time.Duration {
	if cfg.KeyBackupKeep > 0 {
		return cfg.KeyBackupKeep
	}
	return DefaultKeyBackupKeep
}

func nowOf(cfg Config) time.Time {
	if cfg.Now != nil {
		return cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// KeyBackupInfo names a key backup file.
type KeyBackupInfo struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"created_at"`
}

// idTime reads the time an ID (or a file name holding one) was made.
func idTime(id string) (time.Time, bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(id, "keys-"), ".age")
	if len(id) < len(keyBackupIDLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(keyBackupIDLayout, id[:len(keyBackupIDLayout)])
	return t, err == nil
}

// ListKeyBackups lists the key backups of the configuration, newest first.
func ListKeyBackups(cfg Config) ([]KeyBackupInfo, error) {
	dir := KeyBackupDirOf(cfg)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []KeyBackupInfo
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, "keys-") || !strings.HasSuffix(name, ".age") {
			continue
		}
		t, ok := idTime(name)
		if !ok {
			continue
		}
		out = append(out, KeyBackupInfo{ID: strings.TrimSuffix(strings.TrimPrefix(name, "keys-"), ".age"), Path: filepath.Join(dir, name), CreatedAt: t})
	}
	slices.SortFunc(out, func(a, b KeyBackupInfo) int { return cmp.Compare(b.ID, a.ID) })
	return out, nil
}

func readSealKeys(cfg Config) (map[string][]byte, error) {
	path := filepath.Join(keyDirOf(cfg), SealKeysFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, err
	}
	return vault.ParseSealKeys(b, path)
}

func writeSealKeys(cfg Config, keys map[string][]byte) error {
	dir := keyDirOf(cfg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return vault.WriteFileAtomic(filepath.Join(dir, SealKeysFile), vault.FormatSealKeys(keys), 0o600)
}

// addSealKey adds a key backup's key to the key file.
func addSealKey(cfg Config, id string, key []byte) error {
	release, err := lockSealKeys(cfg)
	if err != nil {
		return err
	}
	defer release()
	sk, err := readSealKeys(cfg)
	if err != nil {
		return err
	}
	sk[id] = key
	return writeSealKeys(cfg, sk)
}

// KeyBackups returns the writer of key backups that CreateBackup calls: it
// writes the data keys to a new key backup, encrypted to the recipients
// (and sealed, unless cfg.KeyBackupUnsealed), then prunes the key backups
// that left the window. The path of the new file goes to *wrote.
func KeyBackups(cfg Config, recipientList []string, wrote *string) gate.KeyBackupWriter {
	return func(ctx context.Context, m *vault.BackupManifest, keys []tresor.WrappedKey) (string, error) {
		recipients, err := vault.ParseRecipients(recipientList)
		if err != nil {
			return "", err
		}
		dir := KeyBackupDirOf(cfg)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		now := nowOf(cfg)
		base := now.Format(keyBackupIDLayout)
		var f *os.File
		var id, path string
		for n := 1; ; n++ {
			id = base
			if n > 1 {
				id = fmt.Sprintf("%s-%d", base, n)
			}
			path = filepath.Join(dir, "keys-"+id+".age")
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) && n < 100 {
				continue
			}
			if err != nil {
				return "", err
			}
			break
		}
		ok := false
		defer func() {
			if !ok {
				f.Close()
				os.Remove(path)
			}
		}()
		var seal []byte
		if !cfg.KeyBackupUnsealed {
			// The seal key is on disk before the file it opens.
			seal = vault.RandomKey()
			if err := addSealKey(cfg, id, seal); err != nil {
				return "", err
			}
		}
		h := vault.KeyBackupHeader{ID: id, Backend: m.Backend, CreatedAt: now}
		if err := vault.WriteKeyBackup(f, recipients, h, keys, seal); err != nil {
			return "", err
		}
		if err := f.Sync(); err != nil {
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
		ok = true
		if wrote != nil {
			*wrote = path
		}
		if _, err := PruneKeyBackups(cfg); err != nil {
			return "", fmt.Errorf("prune key backups: %w", err)
		}
		return id, nil
	}
}

// PruneReport says what pruning key backups did.
type PruneReport struct {
	Keep time.Duration `json:"keep"`
	// Removed are the key backup files deleted; KeysDestroyed counts the
	// key backups' own keys destroyed (copies of those files open no more).
	Removed       []string `json:"removed"`
	KeysDestroyed int      `json:"keys_destroyed"`
	Kept          int      `json:"kept"`
}

// PruneKeyBackups deletes the key backups older than the window and
// destroys their keys. `tresor backup create` runs it after every backup,
// `tresor backup prune` on its own (run it daily when backups are rare).
func PruneKeyBackups(cfg Config) (*PruneReport, error) {
	now, keep := nowOf(cfg), keepOf(cfg)
	rep := &PruneReport{Keep: keep, Removed: []string{}}
	old := func(t time.Time) bool { return !t.Add(keep).After(now) }
	release, err := lockSealKeys(cfg)
	if err != nil {
		return nil, err
	}
	defer release()
	sk, err := readSealKeys(cfg)
	if err != nil {
		return nil, err
	}
	for id := range sk {
		if t, ok := idTime(id); ok && old(t) {
			delete(sk, id)
			rep.KeysDestroyed++
		}
	}
	if rep.KeysDestroyed > 0 {
		if err := writeSealKeys(cfg, sk); err != nil {
			return nil, err
		}
	}
	list, err := ListKeyBackups(cfg)
	if err != nil {
		return nil, err
	}
	for _, kb := range list {
		if !old(kb.CreatedAt) {
			rep.Kept++
			continue
		}
		if err := os.Remove(kb.Path); err != nil {
			return nil, err
		}
		rep.Removed = append(rep.Removed, filepath.Base(kb.Path))
	}
	return rep, nil
}

// OpenKeyBackup decrypts a key backup (a file; "" for the newest in the
// configuration's key-backup directory) with the age identity, and opens
// its seal with the key kept in the key directory.
func OpenKeyBackup(path, identityFile string, cfg Config) (*vault.KeyBackupHeader, []tresor.WrappedKey, string, error) {
	if path == "" {
		list, err := ListKeyBackups(cfg)
		if err != nil {
			return nil, nil, "", err
		}
		if len(list) == 0 {
			return nil, nil, "", fmt.Errorf("no key backup in %s (key backups are kept %s); give one with --keys FILE. "+
				"Kein Schlüssel-Backup vorhanden: ohne es bleiben alle Personen dieses Backups unlesbar", KeyBackupDirOf(cfg), keepOf(cfg))
		}
		path = list[0].Path
	}
	ids, err := vault.ReadIdentities(identityFile)
	if err != nil {
		return nil, nil, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer f.Close()
	sk, err := readSealKeys(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	h, keys, err := vault.ReadKeyBackup(f, ids, func(id string) ([]byte, error) {
		if k, ok := sk[id]; ok {
			return k, nil
		}
		return nil, vault.ErrKeyBackupShredded
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("key backup %s: %w", filepath.Base(path), err)
	}
	return h, keys, path, nil
}
