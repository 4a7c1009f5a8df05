package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"tresor"
	"tresor/vault"
)

// KeyBackupWriter writes the data keys taken out of a data backup to a key
// backup of their own and returns its ID (datadir.KeyBackups does).
type KeyBackupWriter func(ctx context.Context, m *vault.BackupManifest, keys []tresor.WrappedKey) (id string, err error)

// CreateBackup writes an encrypted backup of the database to w (the format
// is vault's backup archive). The backup holds no data key: they go to
// keys, a key backup of their own, whose ID the manifest names; with keys
// nil they are dropped (a backup whose people nobody can read: tests).
// tmpDir holds the snapshot while it is hashed (it is removed at once).
func (g *Gate) CreateBackup(ctx context.Context, w io.Writer, recipientList []string, tmpDir, version string, keys KeyBackupWriter) (*vault.BackupManifest, error) {
	recipients, err := vault.ParseRecipients(recipientList)
	if err != nil {
		return nil, err
	}
	m := &vault.BackupManifest{Format: vault.BackupFormat, TresorVersion: version, Backend: g.store.Backend(), CreatedAt: tresor.Truncate(g.now()),
		Recipients: len(recipients)}
	if m.SchemaVersion, _, err = g.store.SchemaVersion(ctx); err != nil {
		return nil, err
	}
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
	dataKeys, err := g.store.Snapshot(ctx, io.MultiWriter(snap, h))
	if err != nil {
		return nil, err
	}
	subjects := make([]string, len(dataKeys))
	for i, k := range dataKeys {
		subjects[i] = k.Subject
	}
	// The manifest counts the keys the backup left out, as they were in the snapshot.
	m.DataKeys, m.KEKVersions = len(dataKeys), nil
	for _, k := range dataKeys {
		if !slices.Contains(m.KEKVersions, k.KEKVersion) {
			m.KEKVersions = append(m.KEKVersions, k.KEKVersion)
		}
	}
	slices.Sort(m.KEKVersions)
	if keys != nil {
		if m.KeyBackup, err = keys(ctx, m, dataKeys); err != nil {
			return nil, fmt.Errorf("key backup: %w", err)
		}
	}
	m.Database.Name = vault.BackupMember(m.Backend)
	if m.Database.Size, err = snap.Seek(0, io.SeekCurrent); err != nil {
		return nil, err
	}
	m.Database.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, err := snap.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := vault.WriteBackup(w, recipients, m, snap, subjects); err != nil {
		return nil, err
	}
	g.event(ctx, "backup.created", m.Database.SHA256[:16], fmt.Sprintf("%s, %d bytes, data keys apart in key backup %q", m.Backend, m.Database.Size, m.KeyBackup))
	return m, nil
}

// ReapplyErasures erases again everyone the journal names who is in a
// restored database, writes the missing tombstones, and restores the
// suppression list: nobody erased or objecting after a backup comes back
// with it. It acts as the system, and only for a caller that is the system.
func (g *Gate) ReapplyErasures(ctx context.Context, journal []tresor.Erasure, sup []tresor.Suppression) (reerased, resuppressed int, err error) {
	if a := tresor.ActorFrom(ctx); a == nil || a.Kind != tresor.ActorSystem {
		return 0, 0, tresor.Errorf(tresor.ECForbidden, "Only Tresor itself re-applies erasures after a restore.")
	}
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
				if _, err := g.cancelExportsOfContacts(ctx, tx, e.ContactID); err != nil {
					return err
				}
				if _, err := tx.EraseContact(ctx, e.ContactID, g.policy.Retention.Interactions, g.policy.Retention.Cases); err != nil {
					return err
				}
				reerased++
			}
			return tx.InsertErasure(ctx, &e)
		})
		if err != nil {
			return reerased, resuppressed, fmt.Errorf("re-apply the erasure of %s: %w", e.ContactID, err)
		}
	}
	before, err := g.store.Read().Suppressions(ctx)
	if err != nil {
		return reerased, resuppressed, err
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		for _, s := range sup {
			if slices.ContainsFunc(before, func(b tresor.Suppression) bool { return b.Key == s.Key && b.Scope == s.Scope }) {
				continue
			}
			if err := tx.Suppress(ctx, []tresor.LookupKey{s.Key}, s.Scope, s.CreatedAt); err != nil {
				return err
			}
			resuppressed++
		}
		return nil
	})
	return reerased, resuppressed, err
}

// ImportDataKeys puts the wrapped data keys of a key backup into a restored
// database whose data backup left them out: only those of subjects the
// data backup names (wanted) and that have no key yet. It returns how many
// it put, and the wanted subjects the key backup has no key for — people
// erased (or keys destroyed) after the key backup was made, or made after
// it: their sealed fields stay unreadable. Only Tresor itself does this.
func (g *Gate) ImportDataKeys(ctx context.Context, keys []tresor.WrappedKey, wanted []string) (imported int, missing []string, err error) {
	if a := tresor.ActorFrom(ctx); a == nil || a.Kind != tresor.ActorSystem {
		return 0, nil, tresor.Errorf(tresor.ECForbidden, "Only Tresor itself puts data keys back after a restore.")
	}
	byID := make(map[string]tresor.WrappedKey, len(keys))
	for _, k := range keys {
		byID[k.Subject] = k
	}
	now := tresor.Truncate(g.now())
	for start := 0; start < len(wanted); start += 1000 {
		batch := wanted[start:min(start+1000, len(wanted))]
		var put int
		var gone []string
		err := g.store.Update(ctx, func(tx tresor.Tx) error {
			put, gone = 0, nil // a retried transaction counts afresh
			for _, s := range batch {
				k, ok := byID[s]
				if !ok {
					gone = append(gone, s)
					continue
				}
				if _, err := tx.DataKey(ctx, s); err == nil {
					continue
				}
				if err := tx.InsertDataKey(ctx, k, now); err != nil {
					return err
				}
				put++
			}
			return nil
		})
		if err != nil {
			return imported, missing, err
		}
		imported, missing = imported+put, append(missing, gone...)
	}
	return imported, missing, nil
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
