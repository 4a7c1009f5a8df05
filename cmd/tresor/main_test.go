package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tresor/datadir"
	"tresor/storetest"
)

// run runs the program with args and returns stdout, stderr and the exit code.
func run(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := exitCode(&errb, m.Run(context.Background(), args))
	return out.String(), errb.String(), code
}

// TestNewUserWalkthrough is the README's walk-through: start the server on an
// empty data directory, create a user and a token with the CLI, then create,
// read and list a contact over HTTP; stop the server gracefully.
func TestNewUserWalkthrough(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		walkthrough(t, map[string]string{"TRESOR_DATA_DIR": dir})
		fi, err := os.Stat(filepath.Join(dir, datadir.DatabaseFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
		}
		if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
			t.Errorf("data directory mode %v, want 0700", di.Mode().Perm())
		}
	})
	t.Run("postgres", func(t *testing.T) {
		walkthrough(t, map[string]string{"TRESOR_DB": storetest.PostgresURL(t), "TRESOR_DATA_DIR": t.TempDir()})
	})
}

func walkthrough(t *testing.T, env map[string]string) {
	var serverErr bytes.Buffer
	addr := make(chan string, 1)
	m := &Main{Stdout: io.Discard, Stderr: &serverErr, Getenv: func(k string) string { return env[k] },
		OnListen: func(a string) { addr <- a }}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, serverErr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if !strings.Contains(serverErr.String(), "tresor user create --email") {
		t.Errorf("serve on an empty database does not say how to create the first user:\n%s", serverErr.String())
	}

	password, msg, code := run(t, env, "user", "create", "--email", "you@example.org", "--role", "sales")
	if code != 0 || len(strings.TrimSpace(password)) < 16 || strings.Count(password, "\n") != 1 {
		t.Fatalf("user create: %d %q %q", code, password, msg)
	}
	token, msg, code := run(t, env, "token", "create", "--email", "you@example.org")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "tresor_") || strings.Contains(token, " ") {
		t.Fatalf("token create printed %q on stdout (%d, %s); want the token alone", token, code, msg)
	}

	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Tresor-Purpose", "sales")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	status, c := do("POST", "/api/v1/contacts", `{"given_name":"Erika","family_name":"Mustermann","emails":["erika@example.de"],"legal_basis":"contract"}`)
	if status != 201 {
		t.Fatalf("create contact: %d %v", status, c)
	}
	status, got := do("GET", "/api/v1/contacts/"+c["id"].(string), "")
	if status != 200 || got["family_name"] != "Mustermann" {
		t.Fatalf("read contact: %d %v", status, got)
	}
	status, list := do("GET", "/api/v1/contacts", "")
	if status != 200 || len(list["items"].([]any)) != 1 {
		t.Fatalf("list contacts: %d %v", status, list)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(serverErr.String(), `"msg":"stopped"`) {
		t.Errorf("no graceful stop in the log")
	}
	for _, secret := range []string{"Mustermann", "erika@example.de", token, strings.TrimSpace(password)} {
		if strings.Contains(serverErr.String(), secret) {
			t.Errorf("the server log contains %q", secret)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir()}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"user"}, 2, "needs a subcommand"},
		{[]string{"user", "create", "--email", "a@example.org"}, 2, "--email and --role are required"},
		{[]string{"user", "create", "--email", "a@example.org", "--role", "root"}, 1, `Unknown role "root"`},
		{[]string{"user", "create", "--email", "a@example.org", "--role", "sales", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"token", "create", "--email", "a@example.org"}, 1, "run `tresor migrate`"},
		{[]string{"serve", "--db", "mysql://x"}, 1, "TRESOR_DB must be"},
		{[]string{"version", "x"}, 2, "no arguments"},
	} {
		_, stderr, code := run(t, env, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("tresor %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
		if code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("tresor %v: the error is not one line: %q", tc.args, stderr)
		}
	}
	if out, _, code := run(t, env, "version"); code != 0 || !strings.HasPrefix(out, "tresor ") {
		t.Errorf("version: %d %q", code, out)
	}
	// migrate, then the same user twice: the second is refused in one line.
	if _, msg, code := run(t, env, "migrate"); code != 0 || !strings.Contains(msg, "Migrated") {
		t.Fatalf("migrate: %d %s", code, msg)
	}
	if _, msg, code := run(t, env, "migrate"); code != 0 || !strings.Contains(msg, "up to date") {
		t.Fatalf("migrate again: %d %s", code, msg)
	}
	run(t, env, "user", "create", "--email", "a@example.org", "--role", "sales")
	if _, msg, code := run(t, env, "user", "create", "--email", "A@example.org", "--role", "sales"); code != 1 || !strings.Contains(msg, "exists already") {
		t.Errorf("duplicate user: %d %q", code, msg)
	}
	if _, msg, code := run(t, env, "token", "create", "--email", "nobody@example.org"); code != 1 || !strings.Contains(msg, "no user") {
		t.Errorf("token for nobody: %d %q", code, msg)
	}
}

func TestDBFromFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "db")
	if err := os.WriteFile(f, []byte("sqlite:"+filepath.Join(dir, "other.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, msg, code := run(t, map[string]string{"TRESOR_DB_FILE": f, "TRESOR_DATA_DIR": dir}, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err != nil {
		t.Fatalf("TRESOR_DB_FILE was not used: %v", err)
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir(), "TRESOR_PUBLIC_URL": "https://crm.example.org"}
	if _, msg, code := run(t, env, "migrate"); code != 0 {
		t.Fatal(msg)
	}
	for _, u := range [][2]string{{"ada@example.org", "sales,service"}, {"bob@example.org", "admin"}} {
		if _, msg, code := run(t, env, "user", "create", "--email", u[0], "--role", u[1]); code != 0 {
			t.Fatal(msg)
		}
	}
	out, _, code := run(t, env, "user", "list")
	if code != 0 || !strings.Contains(out, "ada@example.org") || !strings.Contains(out, "sales,service") || !strings.Contains(out, "bob@example.org") {
		t.Fatalf("user list: %d\n%s", code, out)
	}
	if _, msg, code := run(t, env, "user", "set-roles", "--email", "ada@example.org", "--role", "service"); code != 0 || !strings.Contains(msg, "service") {
		t.Fatalf("set-roles: %d %s", code, msg)
	}
	// A token for a purpose the roles no longer allow is refused; one for service works.
	if _, msg, code := run(t, env, "token", "create", "--email", "ada@example.org", "--purpose", "sales"); code != 1 || !strings.Contains(msg, "sales") {
		t.Fatalf("token for a purpose the roles do not allow: %d %s", code, msg)
	}
	tok, msg, code := run(t, env, "token", "create", "--email", "ada@example.org", "--purpose", "service", "--name", "bot", "--ttl", "48h")
	if code != 0 || !strings.HasPrefix(tok, "tresor_") || !strings.Contains(msg, "service") {
		t.Fatalf("token create: %d %q %s", code, tok, msg)
	}
	out, _, _ = run(t, env, "token", "list", "--email", "ada@example.org")
	fields := strings.Fields(strings.Split(out, "\n")[1])
	if len(fields) < 6 || fields[1] != "bot" || fields[2] != "service" || fields[5] != "active" {
		t.Fatalf("token list:\n%s", out)
	}
	if _, msg, code := run(t, env, "token", "revoke", "--id", fields[0]); code != 0 {
		t.Fatal(msg)
	}
	out, _, _ = run(t, env, "token", "list", "--email", "ada@example.org")
	if !strings.Contains(out, "revoked") {
		t.Fatalf("after revoke:\n%s", out)
	}
	link, msg, code := run(t, env, "user", "reset-password", "--email", "ada@example.org")
	if code != 0 || !strings.HasPrefix(link, "https://crm.example.org/reset-password?token=") {
		t.Fatalf("reset-password: %d %q %s", code, link, msg)
	}
	if _, msg, code := run(t, env, "user", "disable", "--email", "ada@example.org"); code != 0 || !strings.Contains(msg, "Disabled") {
		t.Fatalf("disable: %d %s", code, msg)
	}
	out, _, _ = run(t, env, "user", "list")
	if !strings.Contains(out, "disabled") {
		t.Fatalf("user list after disable:\n%s", out)
	}
	if _, _, code := run(t, env, "user", "enable", "--email", "ada@example.org"); code != 0 {
		t.Fatal("enable failed")
	}
	if _, msg, code := run(t, env, "user", "set-roles", "--email", "nobody@example.org", "--role", "sales"); code != 1 || !strings.Contains(msg, "no user") {
		t.Fatalf("set-roles for nobody: %d %s", code, msg)
	}
	if _, _, code := run(t, env, "token", "revoke"); code != 2 {
		t.Fatal("token revoke without --id is not a usage error")
	}
}

func TestPolicyCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TRESOR_DATA_DIR": dir}
	out, _, code := run(t, env, "policy", "show")
	if code != 0 || !strings.Contains(out, "purposes:") || !strings.Contains(out, "id: marketing") {
		t.Fatalf("policy show: %d %.200s", code, out)
	}
	good := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(good, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, msg, code := run(t, env, "policy", "check", good); code != 0 || !strings.Contains(msg, "valid policy") {
		t.Fatalf("policy check of the default: %d %s", code, msg)
	}
	bad := filepath.Join(dir, "bad.yaml")
	text := strings.Replace(out, "categories: [contact.language, professional.employer, professional.position]",
		"categories: [contact.language, special.health]", 1)
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(text[:strings.Index(text, "[contact.language, special.health]")], "\n") + 1
	want := "line " + strconv.Itoa(line) + ": purpose analytics allows the special category special.health"
	if _, msg, code := run(t, env, "policy", "check", bad); code != 1 || !strings.Contains(msg, want) {
		t.Fatalf("policy check of a bad file: %d %q, want %q", code, msg, want)
	}
	// serve refuses to start with it, and says which line.
	if _, msg, code := run(t, map[string]string{"TRESOR_DATA_DIR": dir, "TRESOR_POLICY_FILE": bad}, "serve", "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(msg, want) {
		t.Fatalf("serve with a bad policy: %d %q", code, msg)
	}
	// A file that narrows the purposes: show prints it back.
	narrow := filepath.Join(dir, "narrow.yaml")
	if err := os.WriteFile(narrow, []byte(strings.Replace(out, "retention_days: 730", "retention_days: 400", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	shown, _, code := run(t, map[string]string{"TRESOR_DATA_DIR": dir}, "policy", "show", "--policy", narrow)
	if code != 0 || !strings.Contains(shown, "retention_days: 400") {
		t.Fatalf("policy show --policy: %d %.300s", code, shown)
	}
}
