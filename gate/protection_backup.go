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

// CreateBackup writes an encrypted backup of the database to w (the format
// is vault's backup archive). tmpDir holds the snapshot while it is hashed
// (it is removed at once).
func (g *Gate) CreateBackup(ctx context.Context, w io.Writer, recipientList []string, tmpDir, version string) (*vault.BackupManifest, error) {
	recipients, err := vault.ParseRecipients(recipientList)
	if err != nil {
		return nil, err
	}
	m := &vault.BackupManifest{Format: vault.BackupFormat, TresorVersion: version, Backend: g.store.Backend(), CreatedAt: tresor.Truncate(g.now()),
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
	m.Database.Name = vault.BackupMember(m.Backend)
	if m.Database.Size, err = snap.Seek(0, io.SeekCurrent); err != nil {
		return nil, err
	}
	m.Database.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, err := snap.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := vault.WriteBackup(w, recipients, m, snap); err != nil {
		return nil, err
	}
	g.event(ctx, "backup.created", m.Database.SHA256[:16], fmt.Sprintf("%s, %d bytes", m.Backend, m.Database.Size))
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

// dataProtectionPurpose is the purpose that sees restricted contacts.
func dataProtectionPurpose(g *Gate) string {
	for _, p := range g.policy.Purposes {
		if p.SeesRestricted {
			return p.ID
		}
	}
	return ""
}
