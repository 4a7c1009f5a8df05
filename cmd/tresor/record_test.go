package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/policy"
	"tresor/storetest"
)

// writeFile writes text into a file in a temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyRecordStatesTheSettingsInForce(t *testing.T) {
	example, err := os.ReadFile("../../docs/controller.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctl := writeFile(t, "controller.yaml", string(example))
	env := map[string]string{"TRESOR_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	if _, msg, code := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", msg)
	}
	record := func(t *testing.T, env map[string]string, args ...string) *tresor.ProcessingRecord {
		t.Helper()
		out, msg, code := run(t, env, append([]string{"policy", "record", "--controller", ctl, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("policy record: %d %s", code, msg)
		}
		var r tresor.ProcessingRecord
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	measure := func(r *tresor.ProcessingRecord, id string) string {
		for _, m := range r.Measures {
			if m.ID == id {
				return m.Text
			}
		}
		return ""
	}

	t.Run("the example controller file is valid and fills in the controller", func(t *testing.T) {
		r := record(t, env, "--lang", "en")
		if r.Controller.Name != "Beispiel GmbH" || r.DPO.Email != "dsb@example.org" || r.Lang != "en" || len(r.Activities) != len(policy.Default().Purposes) {
			t.Fatalf("record %+v", r.Controller)
		}
	})
	t.Run("the backup recipients of the environment change the measures", func(t *testing.T) {
		off := measure(record(t, env), "backups")
		with := map[string]string{"TRESOR_BACKUP_RECIPIENTS": "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"}
		for k, v := range env {
			with[k] = v
		}
		on := measure(record(t, with), "backups")
		if off == on || !strings.Contains(on, "age1qyqsz") {
			t.Fatalf("off %q, on %q", off, on)
		}
	})
	t.Run("the retention interval of the environment is the one stated", func(t *testing.T) {
		off := map[string]string{"TRESOR_RETENTION_INTERVAL": "0s"}
		for k, v := range env {
			off[k] = v
		}
		if got := measure(record(t, off, "--lang", "en"), "retention"); !strings.Contains(got, "turned off") {
			t.Fatalf("retention measure %q", got)
		}
	})
	t.Run("the configured mail server is a connector in use", func(t *testing.T) {
		mail := map[string]string{"TRESOR_SMTP_ADDR": "smtp.example.org:587"}
		for k, v := range env {
			mail[k] = v
		}
		r := record(t, mail)
		found := false
		for _, x := range r.Transfers {
			found = found || x.Connector == "mail" && x.Endpoint == "smtp.example.org" && x.InUse && x.Declared
		}
		if !found {
			t.Fatalf("transfers %+v", r.Transfers)
		}
	})
	t.Run("html and markdown are documents in the language asked for", func(t *testing.T) {
		out, _, code := run(t, env, "policy", "record", "--controller", ctl, "--format", "html", "--lang", "en")
		if code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `<html lang="en">`) || !strings.Contains(out, "Record of processing activities") {
			t.Fatalf("html: %d %.200s", code, out)
		}
		out, _, code = run(t, env, "policy", "record", "--controller", ctl)
		if code != 0 || !strings.HasPrefix(out, "# Verzeichnis der Verarbeitungstätigkeiten") {
			t.Fatalf("markdown: %d %.200s", code, out)
		}
	})
	t.Run("without a controller file the record is refused in one line", func(t *testing.T) {
		_, msg, code := run(t, env, "policy", "record")
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "--controller FILE") {
			t.Fatalf("%d %q", code, msg)
		}
	})
	bad := writeFile(t, "bad.yaml", strings.Replace(string(example), "country: US", "country: Amerika", 1))
	t.Run("a bad controller file is refused in one line naming the problem", func(t *testing.T) {
		_, msg, code := run(t, env, "policy", "record", "--controller", bad)
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, `country "Amerika"`) {
			t.Fatalf("%d %q", code, msg)
		}
	})
	t.Run("serve refuses to start with a bad controller file, in one line", func(t *testing.T) {
		_, msg, code := run(t, env, "serve", "--addr", "127.0.0.1:0", "--controller", bad)
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, `country "Amerika"`) {
			t.Fatalf("%d %q", code, msg)
		}
	})
}

func TestPolicyDiff(t *testing.T) {
	shorter := strings.Replace(string(policy.DefaultYAML()), "retention_days: 1095", "retention_days: 30", 1)
	file := writeFile(t, "new.yaml", shorter)
	for name, env := range map[string]func(t *testing.T) map[string]string{
		"sqlite": func(t *testing.T) map[string]string {
			return map[string]string{"TRESOR_DATA_DIR": filepath.Join(t.TempDir(), "data")}
		},
		"postgres": func(t *testing.T) map[string]string {
			return map[string]string{"TRESOR_DB": storetest.PostgresURL(t), "TRESOR_DATA_DIR": t.TempDir()}
		},
	} {
		t.Run(name, func(t *testing.T) {
			env := env(t)
			if _, msg, code := run(t, env, "migrate"); code != 0 {
				t.Fatalf("migrate: %s", msg)
			}
			t.Run("a shortened period is named with the people the next run would erase", func(t *testing.T) {
				out, msg, code := run(t, env, "policy", "diff", file)
				if code != 0 || !strings.Contains(out, "sales retention shortened:") || !strings.Contains(out, "1095 → 30 days") ||
					!strings.Contains(out, "would erase 0 and strip data from 0 of 0 people") {
					t.Fatalf("%d %s %s", code, out, msg)
				}
			})
			t.Run("json says the same", func(t *testing.T) {
				out, msg, code := run(t, env, "policy", "diff", file, "--format", "json")
				var d struct {
					Retention []policy.RetentionChange `json:"retention_changed"`
					Then      *struct{ Erase int }     `json:"retention_then"`
				}
				if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.Retention) != 1 || d.Then == nil {
					t.Fatalf("%d %s %s", code, out, msg)
				}
			})
		})
	}
	t.Run("without a database the changes are printed and the count's failure explained in one line", func(t *testing.T) {
		env := map[string]string{"TRESOR_DATA_DIR": filepath.Join(t.TempDir(), "never-migrated")}
		out, msg, code := run(t, env, "policy", "diff", file)
		if code != 1 || !strings.Contains(out, "sales retention shortened:") || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "tresor migrate") {
			t.Fatalf("%d %q %q", code, out, msg)
		}
	})
	t.Run("the same policy changes nothing", func(t *testing.T) {
		out, _, code := run(t, nil, "policy", "diff", writeFile(t, "same.yaml", string(policy.DefaultYAML())))
		if code != 0 || !strings.HasPrefix(out, "No change") {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("an invalid new policy is refused in one line", func(t *testing.T) {
		bad := writeFile(t, "bad.yaml", strings.Replace(string(policy.DefaultYAML()), "retention_days: 1095", "retention_days: 0", 1))
		_, msg, code := run(t, nil, "policy", "diff", bad)
		if code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "retention_days must be between 1 and 36500") {
			t.Fatalf("%d %q", code, msg)
		}
	})
}

// TestServeAnswersTheRecordFromItsOwnSettings starts serve with a controller
// file and settings of its own, and reads the record with an administrator's
// token: the measures are those of the running server.
func TestServeAnswersTheRecordFromItsOwnSettings(t *testing.T) {
	example, err := os.ReadFile("../../docs/controller.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRESOR_DATA_DIR": filepath.Join(t.TempDir(), "data"), "TRESOR_CONTROLLER_FILE": writeFile(t, "c.yaml", string(example)),
		"TRESOR_RETENTION_INTERVAL": "0", "TRESOR_AUDIT_CLIENT": "none"}
	addr := make(chan string, 1)
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, OnListen: func(a string) { addr <- a }}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if _, msg, code := run(t, env, "user", "create", "--email", "admin@example.org", "--role", "admin"); code != 0 {
		t.Fatalf("user create: %s", msg)
	}
	token, msg, code := run(t, env, "token", "create", "--email", "admin@example.org")
	if code != 0 {
		t.Fatalf("token create: %s", msg)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/record-of-processing?lang=en", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rec tresor.ProcessingRecord
	if err := json.NewDecoder(res.Body).Decode(&rec); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	text := ""
	for _, m := range rec.Measures {
		text += m.Text + "\n"
	}
	for _, want := range []string{"automatic retention run is turned off", "Client addresses are not stored", "a Merkle checkpoint signed with Ed25519 is written every 1 min"} {
		if !strings.Contains(text, want) {
			t.Errorf("the record does not say %q:\n%s", want, text)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
