package vault

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// A backup is a tar archive, encrypted to age recipients, of manifest.json
// (what the backup holds, with the SHA-256 of the database member), the
// database itself — a SQLite file (VACUUM INTO) or a pg_dump archive — and,
// since format 2, data-keys.subjects: the subjects whose data keys were
// taken out. A backup of format 2 holds no key at all: its data_keys table
// is empty, and the wrapped data keys go to a key backup of their own
// (keybackup.go), kept only for a short window. Format 1 backups still
// carry the wrapped data keys; they are read and restored as they are.

// BackupFormat names the format of the backup archive.
const BackupFormat = "tresor-backup/2"

// BackupFormatWithKeys names the older format whose database still holds
// the wrapped data keys.
const BackupFormatWithKeys = "tresor-backup/1"

// BackupManifest describes a backup.
type BackupManifest struct {
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
	// KeyBackup is the ID of the key backup written with this backup (format 2).
	KeyBackup string `json:"key_backup,omitempty"`
}

// KeysApart says whether the backup's data keys are in a key backup of
// their own (format 2) rather than in its database (format 1).
func (m *BackupManifest) KeysApart() bool { return m.Format == BackupFormat }

const (
	manifestName = "manifest.json"
	sqliteMember = "database.sqlite"
	pgMember     = "database.pgdump"
	subjectsName = "data-keys.subjects"
)

// BackupMember is the name of the database member of a backup of the
// backend ("sqlite" or "postgres").
func BackupMember(backend string) string {
	if backend == "postgres" {
		return pgMember
	}
	return sqliteMember
}

// WriteBackup writes the archive of m, its database db (of m.Database.Size
// bytes) and the subjects whose data keys were taken out of it to w,
// encrypted to the recipients.
func WriteBackup(w io.Writer, recipients []age.Recipient, m *BackupManifest, db io.Reader, subjects []string) error {
	enc, err := EncryptBackup(w, recipients)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(enc)
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeMember(tw, manifestName, int64(len(manifest)), m.CreatedAt, bytes.NewReader(manifest)); err != nil {
		return err
	}
	if err := writeMember(tw, m.Database.Name, m.Database.Size, m.CreatedAt, db); err != nil {
		return err
	}
	if m.KeysApart() {
		var b bytes.Buffer
		for _, s := range subjects {
			b.WriteString(s)
			b.WriteByte('\n')
		}
		if err := writeMember(tw, subjectsName, int64(b.Len()), m.CreatedAt, &b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return enc.Close()
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

// UnpackedBackup is a decrypted, checked backup in a temporary directory.
type UnpackedBackup struct {
	Manifest BackupManifest
	DB       string // path of the database member
	// Subjects are those whose data keys a format 2 backup left out.
	Subjects []string
	dir      string
}

// Remove deletes the unpacked files.
func (u *UnpackedBackup) Remove() { os.RemoveAll(u.dir) }

// UnpackBackup decrypts a backup into a new directory in tmpDir and checks
// its manifest and the hash of its database. Any changed byte fails here:
// age authenticates the file.
func UnpackBackup(r io.Reader, ids []age.Identity, tmpDir string) (*UnpackedBackup, error) {
	plain, err := DecryptBackup(r, ids)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmpDir, ".restore-")
	if err != nil {
		return nil, err
	}
	u := &UnpackedBackup{dir: dir}
	ok := false
	defer func() {
		if !ok {
			u.Remove()
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
			if u.Manifest.Format != BackupFormat && u.Manifest.Format != BackupFormatWithKeys {
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
		case subjectsName:
			if !u.Manifest.KeysApart() {
				return nil, errors.New("the backup's manifest is missing or does not fit its members")
			}
			sc := bufio.NewScanner(tr)
			for sc.Scan() {
				if s := sc.Text(); s != "" {
					u.Subjects = append(u.Subjects, s)
				}
			}
			if err := sc.Err(); err != nil {
				return nil, fmt.Errorf("the backup is damaged: %w", err)
			}
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
