package vault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Source is where the versions of the key-encryption key come from: a key
// file beside the data, an environment variable, or a key management system
// that keeps the KEK versions wrapped under its own key.
type Source interface {
	// Describe names the source in messages, without any secret.
	Describe() string
	// Load returns every version (version → 32-byte key); ErrNoKeys if the
	// source holds none yet.
	Load(ctx context.Context) (map[int][]byte, error)
	// Add stores a new version. It fails for sources Tresor cannot write,
	// such as an environment variable.
	Add(ctx context.Context, version int, key []byte) error
}

// Open loads a keyring from its source.
func Open(ctx context.Context, s Source) (*Keyring, error) {
	versions, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	kr, err := NewKeyring(versions)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Describe(), err)
	}
	kr.source = s
	return kr, nil
}

// Create makes version 1 in an empty source and returns its keyring.
func Create(ctx context.Context, s Source) (*Keyring, error) {
	if err := s.Add(ctx, 1, RandomKey()); err != nil {
		return nil, err
	}
	return Open(ctx, s)
}

// AddVersion adds a fresh version to the keyring's source, above every
// version it holds, and makes it current.
func (kr *Keyring) AddVersion(ctx context.Context) (int, error) {
	if kr.source == nil {
		return 0, errors.New("vault: this keyring has no source to add a version to")
	}
	if err := kr.Reload(ctx); err != nil {
		return 0, err
	}
	v := kr.Current() + 1
	if err := kr.source.Add(ctx, v, RandomKey()); err != nil {
		return 0, err
	}
	return v, kr.Reload(ctx)
}

// FileSource keeps the key versions in a file (mode 0600), one line per
// version: "v<N> <base64 key>". Tresor creates it on first start in the key
// directory, which lives beside the database, never inside it.
type FileSource struct{ Path string }

// Describe names the file.
func (s FileSource) Describe() string { return "the key file " + s.Path }

// Load reads the file.
func (s FileSource) Load(context.Context) (map[int][]byte, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoKeys
	}
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(s.Path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); allow only its owner: chmod 600", s.Describe(), st.Mode().Perm())
	}
	return ParseKeyLines(b, s.Describe())
}

// ParseKeyLines reads "v<N> <base64>" lines; "#" starts a comment.
func ParseKeyLines(b []byte, where string) (map[int][]byte, error) {
	out := map[int][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, " ")
		v, err := strconv.Atoi(strings.TrimPrefix(name, "v"))
		if !ok || !strings.HasPrefix(name, "v") || err != nil || v < 1 {
			return nil, fmt.Errorf("%s, line %d: expected \"v<version> <base64 key>\"", where, line)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("%s, line %d: the key is not %d base64-encoded bytes", where, line, KeySize)
		}
		if _, dup := out[v]; dup {
			return nil, fmt.Errorf("%s, line %d: version %d appears twice", where, line, v)
		}
		out[v] = key
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no key: %w", where, ErrNoKeys)
	}
	return out, sc.Err()
}

// FormatKeyLines writes versions as ParseKeyLines reads them.
func FormatKeyLines(versions map[int][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# Tresor key-encryption keys. Keep this file secret and back it up apart from the data.\n")
	for v := 1; len(versions) > 0 && v <= maxVersion(versions); v++ {
		if k, ok := versions[v]; ok {
			fmt.Fprintf(&b, "v%d %s\n", v, base64.StdEncoding.EncodeToString(k))
		}
	}
	return b.Bytes()
}

func maxVersion(m map[int][]byte) int {
	n := 0
	for v := range m {
		n = max(n, v)
	}
	return n
}

// Add appends a version. The first version creates the file exclusively, so
// two processes starting at once cannot write different keys; later
// versions replace the file atomically.
func (s FileSource) Add(ctx context.Context, version int, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return err
	}
	versions, err := s.Load(ctx)
	if errors.Is(err, ErrNoKeys) {
		versions = map[int][]byte{}
	} else if err != nil {
		return err
	}
	if _, dup := versions[version]; dup {
		return fmt.Errorf("%s already holds version %d", s.Describe(), version)
	}
	versions[version] = key
	data := FormatKeyLines(versions)
	if len(versions) == 1 {
		if err := WriteNewFile(s.Path, data); err != nil {
			return fmt.Errorf("create %s: %w", s.Describe(), err)
		}
		return nil
	}
	return WriteFileAtomic(s.Path, data, 0o600)
}

// WriteFileAtomic writes a file through a temporary one and a rename, synced.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// EnvSource reads the versions from an environment variable: either one
// base64 key (version 1) or "1:<base64>,2:<base64>". Tresor cannot add a
// version to it: the operator adds the new version and restarts, then
// `tresor keys rotate` re-wraps the data keys under it.
type EnvSource struct {
	Name string
	// Getenv reads the variable (default os.Getenv).
	Getenv func(string) string
}

// Describe names the variable.
func (s EnvSource) Describe() string { return "the environment variable " + s.Name }

// Load parses the variable.
func (s EnvSource) Load(context.Context) (map[int][]byte, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	value := strings.TrimSpace(getenv(s.Name))
	if value == "" {
		return nil, ErrNoKeys
	}
	out := map[int][]byte{}
	for i, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		v, b64 := 1, part
		if name, rest, ok := strings.Cut(part, ":"); ok {
			n, err := strconv.Atoi(name)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s, entry %d: expected <version>:<base64 key>", s.Describe(), i+1)
			}
			v, b64 = n, rest
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("%s, entry %d: the key is not %d base64-encoded bytes", s.Describe(), i+1, KeySize)
		}
		if _, dup := out[v]; dup {
			return nil, fmt.Errorf("%s: version %d appears twice", s.Describe(), v)
		}
		out[v] = key
	}
	return out, nil
}

// Add refuses: an environment variable is set by the operator.
func (s EnvSource) Add(_ context.Context, version int, _ []byte) error {
	return fmt.Errorf("cannot add a key to %s: generate one with `tresor keys generate`, add it as version %d (\"…,%d:<key>\"), restart, and run `tresor keys rotate` again", s.Describe(), version, version)
}
