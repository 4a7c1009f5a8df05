package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeTransit is a small stand-in for the transit secrets engine of Vault /
// OpenBao: named keys with versions, AES-256-GCM, "vault:v<N>:<base64>"
// ciphertexts, and a token check.
type fakeTransit struct {
	token string
	srv   *httptest.Server

	mu         sync.Mutex
	keys       map[string][][]byte // name → key versions; index 0 is version 1
	calls      map[string]int      // operation → requests that passed the token check
	namespaces map[string]bool     // X-Vault-Namespace values seen
}

func newFakeTransit(t *testing.T, token string) *fakeTransit {
	t.Helper()
	f := &fakeTransit{token: token, keys: map[string][][]byte{}, calls: map[string]int{}, namespaces: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/transit/encrypt/{name}", f.handleEncrypt)
	mux.HandleFunc("POST /v1/transit/decrypt/{name}", f.handleDecrypt)
	mux.HandleFunc("POST /v1/transit/rewrap/{name}", f.handleRewrap)
	mux.HandleFunc("POST /v1/transit/keys/{name}/rotate", f.handleRotate)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != f.token {
			fakeReply(w, http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}})
			return
		}
		f.mu.Lock()
		if ns := r.Header.Get("X-Vault-Namespace"); ns != "" {
			f.namespaces[ns] = true
		}
		parts := strings.Split(r.URL.Path, "/") // "", "v1", "transit", op, ...
		if len(parts) > 3 {
			f.calls[parts[3]]++
		}
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func fakeReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fakeFail(w http.ResponseWriter, status int, format string, args ...any) {
	fakeReply(w, status, map[string]any{"errors": []string{fmt.Sprintf(format, args...)}})
}

func fakeGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

// seal encrypts under the newest version of the key, creating the key if it
// does not exist yet (as transit does when a policy allows it).
func (f *fakeTransit) seal(name string, plain []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.keys[name]) == 0 {
		f.keys[name] = [][]byte{RandomKey()}
	}
	versions := f.keys[name]
	a := fakeGCM(versions[len(versions)-1])
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return fmt.Sprintf("vault:v%d:%s", len(versions), base64.StdEncoding.EncodeToString(a.Seal(nonce, nonce, plain, nil)))
}

// open decrypts a ciphertext; the error is what the fake answers with 400.
func (f *fakeTransit) open(name, ct string) ([]byte, error) {
	parts := strings.SplitN(ct, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" || !strings.HasPrefix(parts[1], "v") {
		return nil, errors.New("invalid ciphertext: no prefix")
	}
	v, err := strconv.Atoi(parts[1][1:])
	if err != nil {
		return nil, errors.New("invalid ciphertext: bad version")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("invalid ciphertext: could not decode base64")
	}
	f.mu.Lock()
	versions := f.keys[name]
	f.mu.Unlock()
	if v < 1 || v > len(versions) {
		return nil, fmt.Errorf("invalid key version %d", v)
	}
	a := fakeGCM(versions[v-1])
	if len(raw) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("invalid ciphertext: too short")
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], nil)
	if err != nil {
		return nil, errors.New("cipher: message authentication failed")
	}
	return plain, nil
}

func fakeRequest(w http.ResponseWriter, r *http.Request, field string) (string, bool) {
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body[field] == "" {
		fakeFail(w, http.StatusBadRequest, "missing %s to process", field)
		return "", false
	}
	return body[field], true
}

func (f *fakeTransit) handleEncrypt(w http.ResponseWriter, r *http.Request) {
	p, ok := fakeRequest(w, r, "plaintext")
	if !ok {
		return
	}
	plain, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		fakeFail(w, http.StatusBadRequest, "failed to base64-decode plaintext")
		return
	}
	fakeReply(w, http.StatusOK, map[string]any{"data": map[string]any{"ciphertext": f.seal(r.PathValue("name"), plain), "key_version": 0}})
}

func (f *fakeTransit) handleDecrypt(w http.ResponseWriter, r *http.Request) {
	ct, ok := fakeRequest(w, r, "ciphertext")
	if !ok {
		return
	}
	plain, err := f.open(r.PathValue("name"), ct)
	if err != nil {
		fakeFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	fakeReply(w, http.StatusOK, map[string]any{"data": map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plain)}})
}

func (f *fakeTransit) handleRewrap(w http.ResponseWriter, r *http.Request) {
	ct, ok := fakeRequest(w, r, "ciphertext")
	if !ok {
		return
	}
	plain, err := f.open(r.PathValue("name"), ct)
	if err != nil {
		fakeFail(w, http.StatusBadRequest, "%v", err)
		return
	}
	fakeReply(w, http.StatusOK, map[string]any{"data": map[string]any{"ciphertext": f.seal(r.PathValue("name"), plain)}})
}

func (f *fakeTransit) handleRotate(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	if len(f.keys[name]) == 0 {
		fakeFail(w, http.StatusBadRequest, "key not found")
		return
	}
	f.keys[name] = append(f.keys[name], RandomKey())
	w.WriteHeader(http.StatusNoContent)
}

// rotate rotates a key through the HTTP API, as an operator would.
func (f *fakeTransit) rotate(t *testing.T, name string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/transit/keys/"+name+"/rotate", nil)
	req.Header.Set("X-Vault-Token", f.token)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("rotate: %s", resp.Status)
	}
}

func (f *fakeTransit) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

const fakeToken = "hvs.fake-token-do-not-print"

func transitSource(t *testing.T, f *fakeTransit) TransitSource {
	return TransitSource{
		Addr:    f.srv.URL,
		Token:   f.token,
		KeyName: "tresor-kek",
		Path:    filepath.Join(t.TempDir(), "keys", "kek.transit"),
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode of %s = %v, want 0600", path, st.Mode().Perm())
	}
}

// addTwo adds versions 1 and 2 and returns their keys.
func addTwo(t *testing.T, src TransitSource) map[int][]byte {
	t.Helper()
	keys := map[int][]byte{1: RandomKey(), 2: RandomKey()}
	for v := 1; v <= 2; v++ {
		if err := src.Add(t.Context(), v, keys[v]); err != nil {
			t.Fatalf("Add v%d: %v", v, err)
		}
		checkMode(t, src.Path)
	}
	return keys
}

func sameKeys(t *testing.T, got, want map[int][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d versions, want %d", len(got), len(want))
	}
	for v, k := range want {
		if !bytes.Equal(got[v], k) {
			t.Fatalf("version %d differs from the key that was added", v)
		}
	}
}

func TestTransitSourceAddLoadOpen(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	src.Namespace = "team-a"
	keys := addTwo(t, src)

	text := readFile(t, src.Path)
	for v, k := range keys {
		if strings.Contains(text, base64.StdEncoding.EncodeToString(k)) {
			t.Fatalf("the file holds version %d in the clear", v)
		}
	}
	if !strings.Contains(text, "\nv1 vault:v1:") || !strings.Contains(text, "\nv2 vault:v1:") {
		t.Fatalf("unexpected file:\n%s", text)
	}
	if !f.namespaces["team-a"] {
		t.Fatal("the namespace header was not sent")
	}

	got, err := src.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, keys)

	before := f.count("decrypt")
	kr, err := Open(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("decrypt") - before; n != 2 {
		t.Fatalf("Open made %d decrypt calls, want one per version (2)", n)
	}
	if kr.Current() != 2 {
		t.Fatalf("Current() = %d, want 2", kr.Current())
	}
	dk := NewDataKey("c1")
	w, err := kr.Wrap(dk)
	if err != nil {
		t.Fatal(err)
	}
	if w.KEKVersion != 2 {
		t.Fatalf("wrapped under version %d, want 2", w.KEKVersion)
	}
	back, err := kr.Unwrap(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	if back.Subject != "c1" || !bytes.Equal(back.raw, dk.raw) {
		t.Fatal("the unwrapped data key differs")
	}
	if n := f.count("decrypt") - before; n != 2 {
		t.Fatalf("wrapping data keys called the KMS (%d decrypt calls)", n)
	}

	if d := src.Describe(); d != "the transit key tresor-kek at "+f.srv.URL || strings.Contains(d, fakeToken) {
		t.Fatalf("Describe() = %q", d)
	}
}

func TestTransitSourceCreateAndAddVersion(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	kr, err := Create(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := kr.AddVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v != 2 || kr.Current() != 2 {
		t.Fatalf("AddVersion = %d, Current = %d; want 2, 2", v, kr.Current())
	}
	checkMode(t, src.Path)
}

func TestTransitSourceRefusesDuplicateVersion(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	addTwo(t, src)
	before := readFile(t, src.Path)
	encrypts := f.count("encrypt")
	err := src.Add(t.Context(), 2, RandomKey())
	if err == nil || !strings.Contains(err.Error(), "already holds version 2") {
		t.Fatalf("Add of a duplicate version: %v", err)
	}
	if f.count("encrypt") != encrypts {
		t.Fatal("a refused Add called the KMS")
	}
	if readFile(t, src.Path) != before {
		t.Fatal("a refused Add changed the file")
	}
}

func TestTransitSourceRewrap(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	keys := addTwo(t, src)

	before := readFile(t, src.Path)
	if n, err := src.Rewrap(t.Context()); err != nil || n != 0 {
		t.Fatalf("Rewrap before any KMS rotation = %d, %v; want 0, nil", n, err)
	}
	if readFile(t, src.Path) != before {
		t.Fatal("a Rewrap that changed nothing rewrote the file")
	}

	f.rotate(t, "tresor-kek")
	n, err := src.Rewrap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Rewrap changed %d lines, want 2", n)
	}
	text := readFile(t, src.Path)
	if strings.Contains(text, "vault:v1:") || !strings.Contains(text, "\nv1 vault:v2:") || !strings.Contains(text, "\nv2 vault:v2:") {
		t.Fatalf("after Rewrap:\n%s", text)
	}
	if !strings.HasPrefix(text, "# ") {
		t.Fatal("Rewrap dropped the comment")
	}
	checkMode(t, src.Path)

	got, err := src.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameKeys(t, got, keys)

	if n, err := src.Rewrap(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Rewrap = %d, %v; want 0, nil", n, err)
	}
}

func TestTransitSourceWrongToken(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	addTwo(t, src)

	const wrong = "hvs.wrong-token-secret"
	bad := src
	bad.Token = wrong
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s with a wrong token succeeded", what)
		}
		msg := err.Error()
		if !strings.Contains(msg, "403") || !strings.Contains(msg, "permission denied") {
			t.Fatalf("%s: the error does not give the status and the KMS's message: %v", what, err)
		}
		if strings.Contains(msg, wrong) || strings.Contains(msg, fakeToken) {
			t.Fatalf("%s: the error shows the token: %v", what, err)
		}
		t.Logf("%s: %v", what, err)
		var te *TransitError
		if !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: not a TransitError with status 403: %#v", what, err)
		}
	}
	_, err := bad.Load(t.Context())
	check("Load", err)
	check("Add", bad.Add(t.Context(), 3, RandomKey()))
	_, err = bad.Rewrap(t.Context())
	check("Rewrap", err)
}

func TestTransitSourceRedactsEchoedSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		fakeFail(w, http.StatusBadRequest, "bad request from %s with %s", r.Header.Get("X-Vault-Token"), body["plaintext"])
	}))
	defer srv.Close()
	src := TransitSource{Addr: srv.URL, Token: fakeToken, KeyName: "k", Path: filepath.Join(t.TempDir(), "kek")}
	key := RandomKey()
	err := src.Add(t.Context(), 1, key)
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Add: %v", err)
	}
	if strings.Contains(err.Error(), fakeToken) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key)) {
		t.Fatalf("the error shows a secret: %v", err)
	}
	if _, err := os.Stat(src.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed first Add left a file")
	}
}

func TestTransitSourceTamperedLine(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	addTwo(t, src)

	// Line 1 is the comment, line 3 is version 2: change one character in
	// the middle of its ciphertext.
	lines := strings.Split(readFile(t, src.Path), "\n")
	if !strings.HasPrefix(lines[2], "v2 vault:v1:") {
		t.Fatalf("line 3 is %q", lines[2])
	}
	b := []byte(lines[2])
	i := len("v2 vault:v1:") + 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	lines[2] = string(b)
	tampered := strings.Join(lines, "\n")
	if err := os.WriteFile(src.Path, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := src.Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Load of a tampered line: %v", err)
	}
	t.Log(err)
	if strings.Contains(err.Error(), fakeToken) {
		t.Fatalf("the error shows the token: %v", err)
	}

	f.rotate(t, "tresor-kek")
	if _, err := src.Rewrap(t.Context()); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Rewrap of a tampered line: %v", err)
	}
	if readFile(t, src.Path) != tampered {
		t.Fatal("a failed Rewrap changed the file")
	}
}

func TestTransitSourceMalformedLine(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	os.MkdirAll(filepath.Dir(src.Path), 0o700)
	cases := map[string]string{
		"# comment\nv1 vault:v1:AAAA\nbogus\n":   "line 3",
		"v1 vault:v1:AAAA\n\nv1 vault:v1:BBBB\n": "line 3: version 1 appears twice",
		"v0 vault:v1:AAAA\n":                     "line 1",
		"v1\n":                                   "line 1",
		"# comment\n\n  v2 vault:v1:AAAA and something else\n": "line 3",
	}
	for content, want := range cases {
		if err := os.WriteFile(src.Path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := src.Load(t.Context())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), src.Path) {
			t.Fatalf("Load of %q: %v; want an error naming %q and the file", content, err, want)
		}
	}
	if n := f.count("decrypt"); n != 0 {
		t.Fatalf("malformed files made %d KMS calls", n)
	}
}

func TestTransitSourceWrongKeySize(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	os.MkdirAll(filepath.Dir(src.Path), 0o700)
	content := "# short\nv1 " + f.seal("tresor-kek", make([]byte, 16)) + "\n"
	if err := os.WriteFile(src.Path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := src.Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "32-byte") {
		t.Fatalf("Load of a 16-byte key: %v", err)
	}
	if err := src.Add(t.Context(), 2, make([]byte, 16)); err == nil {
		t.Fatal("Add accepted a 16-byte key")
	}
}

func TestTransitSourceMissingFile(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	if _, err := src.Load(t.Context()); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Load of a missing file: %v, want ErrNoKeys", err)
	}
	if _, err := src.Rewrap(t.Context()); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Rewrap of a missing file: %v, want ErrNoKeys", err)
	}
	os.MkdirAll(filepath.Dir(src.Path), 0o700)
	os.WriteFile(src.Path, []byte("# nothing yet\n"), 0o600)
	if _, err := src.Load(t.Context()); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Load of a file without versions: %v, want ErrNoKeys", err)
	}
	if f.count("decrypt") != 0 {
		t.Fatal("Load of no versions called the KMS")
	}
}

func TestTransitSourceRefusesFileReadableByOthers(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	addTwo(t, src)
	if err := os.Chmod(src.Path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Load(t.Context()); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Load of a group-readable file: %v", err)
	}
	if err := src.Add(t.Context(), 3, RandomKey()); err == nil {
		t.Fatal("Add to a group-readable file succeeded")
	}
}

func TestTransitSourceNetworkError(t *testing.T) {
	f := newFakeTransit(t, fakeToken)
	src := transitSource(t, f)
	addTwo(t, src)
	f.srv.Close()
	_, err := src.Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "decrypt") || !strings.Contains(err.Error(), "request failed") {
		t.Fatalf("Load with the KMS down: %v", err)
	}
	t.Log(err)
	if strings.Contains(err.Error(), fakeToken) {
		t.Fatalf("the error shows the token: %v", err)
	}
}

func TestTransitSourceRefusesRedirectElsewhere(t *testing.T) {
	var leaked bool
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = leaked || r.Header.Get("X-Vault-Token") != ""
		mu.Unlock()
		fakeFail(w, http.StatusBadRequest, "no")
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	src := TransitSource{Addr: redirector.URL, Token: fakeToken, KeyName: "k", Path: filepath.Join(t.TempDir(), "kek")}
	os.WriteFile(src.Path, []byte("v1 vault:v1:AAAA\n"), 0o600)
	_, err := src.Load(t.Context())
	if err == nil || !strings.Contains(err.Error(), "redirected") {
		t.Fatalf("Load through a redirect to another host: %v", err)
	}
	t.Log(err)
	mu.Lock()
	defer mu.Unlock()
	if leaked {
		t.Fatal("the token was sent to the host redirected to")
	}
}
