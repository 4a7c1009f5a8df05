package vault

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TransitSource keeps the versions of the key-encryption key in a local file
// in which every version is stored only wrapped by an external key
// management system (KMS) that speaks the transit secrets engine API of
// HashiCorp Vault or OpenBao. Load asks the KMS once per version to unwrap
// it; the keyring then keeps the keys in memory, so wrapping and unwrapping
// data keys makes no KMS call.
//
// The file (mode 0600) holds one line per version, "v<N> <transit
// ciphertext>", for example "v1 vault:v1:AbC…"; "#" starts a comment. The
// versions are not bound to their lines by the KMS: the check values the
// database keeps of every version (Keyring.Check) catch lines that were
// swapped.
type TransitSource struct {
	// Addr is the KMS's address, such as "https://kms.example:8200".
	Addr string
	// Token is sent as the X-Vault-Token header. It appears in no message.
	Token string
	// Namespace, if set, is sent as the X-Vault-Namespace header.
	Namespace string
	// Mount is the path of the transit engine; "transit" if empty.
	Mount string
	// KeyName is the name of the transit key that wraps the versions.
	KeyName string
	// Path is the local file of wrapped versions.
	Path string
	// Client makes the requests; nil means a client with a 10 s timeout.
	// Redirects are followed only to the host of Addr, so that the token
	// goes nowhere else.
	Client *http.Client
}

// Describe names the transit key and the KMS, without the token.
func (s TransitSource) Describe() string {
	name := s.KeyName
	if m := s.mount(); m != "transit" {
		name = m + "/" + s.KeyName
	}
	return fmt.Sprintf("the transit key %s at %s", name, redactAddr(s.Addr))
}

func (s TransitSource) fileDesc() string { return "the transit key file " + s.Path }

func (s TransitSource) mount() string {
	if m := strings.Trim(s.Mount, "/"); m != "" {
		return m
	}
	return "transit"
}

func redactAddr(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return addr
}

// transitLine is one version in the file.
type transitLine struct {
	line       int // 1-based line number
	version    int
	ciphertext string
}

// Load reads the file and asks the KMS to unwrap every version.
func (s TransitSource) Load(ctx context.Context) (map[int][]byte, error) {
	_, exists, lines, err := s.read()
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, ErrNoKeys
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s holds no key: %w", s.fileDesc(), ErrNoKeys)
	}
	out := make(map[int][]byte, len(lines))
	for _, l := range lines {
		key, err := s.unwrapLine(ctx, l, l.ciphertext)
		if err != nil {
			for _, k := range out {
				clear(k)
			}
			return nil, err
		}
		out[l.version] = key
	}
	return out, nil
}

// unwrapLine asks the KMS to decrypt the ciphertext of a line.
func (s TransitSource) unwrapLine(ctx context.Context, l transitLine, ciphertext string) ([]byte, error) {
	data, err := s.call(ctx, "decrypt", map[string]string{"ciphertext": ciphertext})
	if err != nil {
		return nil, fmt.Errorf("%s, line %d (version %d): %w", s.fileDesc(), l.line, l.version, err)
	}
	key, err := base64.StdEncoding.DecodeString(data.Plaintext)
	if err != nil || len(key) != KeySize {
		clear(key)
		return nil, fmt.Errorf("%s, line %d (version %d): %s unwrapped it to something else than a %d-byte key", s.fileDesc(), l.line, l.version, s.Describe(), KeySize)
	}
	return key, nil
}

// Add asks the KMS to wrap the key and adds it to the file as the version.
// The first version creates the file exclusively, so two processes starting
// at once cannot write different keys; later versions replace the file
// atomically, and only if no one changed it meanwhile.
func (s TransitSource) Add(ctx context.Context, version int, key []byte) error {
	if version < 1 {
		return fmt.Errorf("vault: key-encryption key version %d: versions start at 1", version)
	}
	if len(key) != KeySize {
		return fmt.Errorf("vault: key-encryption key version %d has %d bytes, not %d", version, len(key), KeySize)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return err
	}
	raw, exists, lines, err := s.read()
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.version == version {
			return fmt.Errorf("%s already holds version %d (line %d)", s.fileDesc(), version, l.line)
		}
	}
	data, err := s.call(ctx, "encrypt", map[string]string{"plaintext": base64.StdEncoding.EncodeToString(key)})
	if err != nil {
		return fmt.Errorf("wrap version %d for %s: %w", version, s.fileDesc(), err)
	}
	if !validCiphertext(data.Ciphertext) {
		return fmt.Errorf("wrap version %d for %s: %s answered no usable ciphertext", version, s.fileDesc(), s.Describe())
	}
	entry := fmt.Sprintf("v%d %s\n", version, data.Ciphertext)
	if !exists {
		content := "# Tresor key-encryption keys, wrapped by " + s.Describe() + ". Back this file up apart from the data.\n" + entry
		if err := WriteNewFile(s.Path, []byte(content)); err != nil {
			return fmt.Errorf("create %s: %w", s.fileDesc(), err)
		}
		return nil
	}
	updated := bytes.Clone(raw)
	if len(updated) > 0 && updated[len(updated)-1] != '\n' {
		updated = append(updated, '\n')
	}
	return s.replace(raw, append(updated, entry...))
}

// Rewrap asks the KMS to re-wrap every version under the newest version of
// its own key, after the KMS rotated it, and rewrites the file. Each new
// line is checked to unwrap to the same key before the file is replaced,
// and nothing is written unless every line succeeds. It returns how many
// lines moved to another version of the KMS key.
func (s TransitSource) Rewrap(ctx context.Context) (int, error) {
	raw, exists, lines, err := s.read()
	if err != nil {
		return 0, err
	}
	if !exists {
		return 0, ErrNoKeys
	}
	if len(lines) == 0 {
		return 0, fmt.Errorf("%s holds no key: %w", s.fileDesc(), ErrNoKeys)
	}
	text := strings.Split(string(raw), "\n")
	changed := 0
	for _, l := range lines {
		data, err := s.call(ctx, "rewrap", map[string]string{"ciphertext": l.ciphertext})
		if err != nil {
			return 0, fmt.Errorf("%s, line %d (version %d): %w", s.fileDesc(), l.line, l.version, err)
		}
		if !validCiphertext(data.Ciphertext) {
			return 0, fmt.Errorf("%s, line %d (version %d): %s answered no usable ciphertext to rewrap", s.fileDesc(), l.line, l.version, s.Describe())
		}
		oldV, okOld := transitKeyVersion(l.ciphertext)
		newV, okNew := transitKeyVersion(data.Ciphertext)
		if data.Ciphertext == l.ciphertext || okOld && okNew && oldV == newV {
			continue // already under the newest KMS key: keep the line as it is
		}
		if err := s.sameKey(ctx, l, data.Ciphertext); err != nil {
			return 0, err
		}
		text[l.line-1] = fmt.Sprintf("v%d %s", l.version, data.Ciphertext)
		changed++
	}
	if changed == 0 {
		return 0, nil
	}
	if err := s.replace(raw, []byte(strings.Join(text, "\n"))); err != nil {
		return 0, err
	}
	return changed, nil
}

// sameKey checks that a rewrapped ciphertext unwraps to the key of the line.
func (s TransitSource) sameKey(ctx context.Context, l transitLine, rewrapped string) error {
	before, err := s.unwrapLine(ctx, l, l.ciphertext)
	if err != nil {
		return err
	}
	defer clear(before)
	after, err := s.unwrapLine(ctx, l, rewrapped)
	if err != nil {
		return fmt.Errorf("checking the rewrapped form: %w", err)
	}
	defer clear(after)
	if subtle.ConstantTimeCompare(before, after) != 1 {
		return fmt.Errorf("%s, line %d (version %d): %s rewrapped it to another key; the file is left unchanged", s.fileDesc(), l.line, l.version, s.Describe())
	}
	return nil
}

// transitKeyVersion reads the KMS key version of a "vault:v<N>:…" ciphertext.
func transitKeyVersion(ct string) (int, bool) {
	parts := strings.SplitN(ct, ":", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "v") {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1][1:])
	return n, err == nil && n > 0
}

func validCiphertext(ct string) bool {
	return ct != "" && !strings.ContainsAny(ct, " \t\r\n#")
}

// read reads and parses the file. A missing file is no error: exists is false.
func (s TransitSource) read() (raw []byte, exists bool, lines []transitLine, err error) {
	f, err := os.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil, nil
	}
	if err != nil {
		return nil, false, nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, true, nil, err
	} else if st.Mode().Perm()&0o077 != 0 {
		return nil, true, nil, fmt.Errorf("%s is readable by others (mode %v); allow only its owner: chmod 600", s.fileDesc(), st.Mode().Perm())
	}
	raw, err = io.ReadAll(f)
	if err != nil {
		return nil, true, nil, err
	}
	lines, err = parseTransitLines(raw, s.fileDesc())
	return raw, true, lines, err
}

// parseTransitLines reads "v<N> <transit ciphertext>" lines; "#" starts a
// comment.
func parseTransitLines(b []byte, where string) ([]transitLine, error) {
	var out []transitLine
	seen := map[int]int{}
	for i, text := range strings.Split(string(b), "\n") {
		line := i + 1
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, " ")
		v, err := strconv.Atoi(strings.TrimPrefix(name, "v"))
		if !ok || !strings.HasPrefix(name, "v") || err != nil || v < 1 {
			return nil, fmt.Errorf("%s, line %d: expected \"v<version> <transit ciphertext>\"", where, line)
		}
		value = strings.TrimSpace(value)
		if !validCiphertext(value) {
			return nil, fmt.Errorf("%s, line %d: the wrapped key is not one transit ciphertext (\"vault:v<N>:…\")", where, line)
		}
		if first, dup := seen[v]; dup {
			return nil, fmt.Errorf("%s, line %d: version %d appears twice (also on line %d)", where, line, v, first)
		}
		seen[v] = line
		out = append(out, transitLine{line: line, version: v, ciphertext: value})
	}
	return out, nil
}

// replace writes the file atomically, unless it changed since it was read
// as old (another process added or rewrapped a version meanwhile).
func (s TransitSource) replace(old, data []byte) error {
	cur, err := os.ReadFile(s.Path)
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, old) {
		return fmt.Errorf("%s changed while Tresor was updating it; nothing was written: try again", s.fileDesc())
	}
	return WriteFileAtomic(s.Path, data, 0o600)
}

// TransitError is an error answer of the KMS.
type TransitError struct {
	Key        string   // the key, as Describe names it
	Op         string   // "encrypt", "decrypt" or "rewrap"
	StatusCode int      // the HTTP status code
	Status     string   // the HTTP status, such as "403 Forbidden"
	Messages   []string // the KMS's "errors"
}

func (e *TransitError) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = "no error message"
	}
	return fmt.Sprintf("%s: %s: the KMS answered %s: %s", e.Key, e.Op, e.Status, msg)
}

// transitData is the "data" of the KMS's answers.
type transitData struct {
	Plaintext  string `json:"plaintext"`
	Ciphertext string `json:"ciphertext"`
}

// maxTransitAnswer bounds what is read of an answer.
const maxTransitAnswer = 1 << 20

// call POSTs a request to {Addr}/v1/{Mount}/{op}/{KeyName}.
func (s TransitSource) call(ctx context.Context, op string, body map[string]string) (transitData, error) {
	if s.Addr == "" || s.KeyName == "" {
		return transitData{}, fmt.Errorf("%s: %s: the KMS address and key name must be set", s.Describe(), op)
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return transitData{}, err
	}
	var mount []string
	for _, seg := range strings.Split(s.mount(), "/") {
		mount = append(mount, url.PathEscape(seg))
	}
	endpoint := strings.TrimRight(s.Addr, "/") + "/v1/" + strings.Join(mount, "/") + "/" + op + "/" + url.PathEscape(s.KeyName)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return transitData{}, fmt.Errorf("%s: %s: %w", s.Describe(), op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Vault-Request", "true")
	if s.Token != "" {
		req.Header.Set("X-Vault-Token", s.Token)
	}
	if s.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", s.Namespace)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in Describe already
		}
		return transitData{}, fmt.Errorf("%s: %s: the request failed: %w", s.Describe(), op, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxTransitAnswer))
	if err != nil {
		return transitData{}, fmt.Errorf("%s: %s: reading the answer (%s): %w", s.Describe(), op, resp.Status, err)
	}
	secrets := []string{s.Token}
	for _, v := range body {
		secrets = append(secrets, v)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(answer, &e)
		te := &TransitError{Key: s.Describe(), Op: op, StatusCode: resp.StatusCode, Status: resp.Status}
		for i, m := range e.Errors {
			if i == 5 {
				te.Messages = append(te.Messages, fmt.Sprintf("and %d more", len(e.Errors)-i))
				break
			}
			te.Messages = append(te.Messages, sanitize(m, secrets))
		}
		return transitData{}, te
	}
	var ok struct {
		Data *transitData `json:"data"`
	}
	if err := json.Unmarshal(answer, &ok); err != nil || ok.Data == nil {
		return transitData{}, fmt.Errorf("%s: %s: the KMS answered %s without the expected JSON \"data\"", s.Describe(), op, resp.Status)
	}
	return *ok.Data, nil
}

// sanitize keeps a KMS message short and free of the secrets of a request.
func sanitize(msg string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	msg = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return msg
}

// client returns the HTTP client to use: a copy of Client (or a new one with
// a 10 s timeout) that follows redirects only within the KMS's origin.
func (s TransitSource) client() *http.Client {
	var c http.Client
	if s.Client != nil {
		c = *s.Client
	} else {
		c.Timeout = 10 * time.Second
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("the KMS redirected to %s://%s; Tresor sends its token only to %s://%s", req.URL.Scheme, req.URL.Host, first.Scheme, first.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}
