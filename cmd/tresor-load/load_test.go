package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServe builds the tresor command and starts `tresor serve` on a free
// port with a fresh SQLite data directory, as a person would run it. It
// returns the base URL, the binary and the environment the CLI needs for
// that directory.
func startServe(t *testing.T) (base, bin string, env []string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "tresor")
	build := exec.Command("go", "build", "-o", bin, "tresor/cmd/tresor")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env = append(os.Environ(), "TRESOR_DATA_DIR="+filepath.Join(dir, "data"), "TRESOR_SOCIAL_INTERVAL=0", "TRESOR_RETENTION_INTERVAL=0")
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	serve.Env = env
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				url <- line.URL
			}
		}
		close(url)
	}()
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- serve.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			<-done
		}
	})
	select {
	case u, ok := <-url:
		if !ok {
			t.Fatalf("serve ended before listening:\n%s", log.String())
		}
		return u, bin, env
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", "", nil
}

func cli(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tresor %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestDriverAgainstARealServer seeds 200 contacts through the API of a real
// `tresor serve`, runs every route of the mix for 2 s with 4 clients and
// checks that the report holds what it promises. No timing is asserted.
func TestDriverAgainstARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts tresor serve")
	}
	base, bin, env := startServe(t)
	cli(t, bin, env, "user", "create", "--email", "load@example.org", "--role", "sales")
	token := cli(t, bin, env, "token", "create", "--email", "load@example.org")
	out := filepath.Join(t.TempDir(), "load.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--url", base, "--purpose", "sales", "--seed", "200",
		"--clients", "4", "--duration", "2s", "--warmup", "200ms", "--mix", "get=6,list=1,search=1,write=1",
		"--json", out}, &stdout, &stderr, func(k string) string {
		if k == "TRESOR_LOAD_TOKEN" {
			return token
		}
		return ""
	})
	if err != nil {
		t.Fatalf("run: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}

	t.Run("the ids come from paging the list after the seed", func(t *testing.T) {
		if rep.IDs != 200 {
			t.Errorf("ids = %d, want the 200 seeded", rep.IDs)
		}
	})
	if len(rep.Steps) != 1 {
		t.Fatalf("steps = %d, want 1", len(rep.Steps))
	}
	s := rep.Steps[0]
	t.Run("/healthz is measured in the same step", func(t *testing.T) {
		if s.Clients != 4 || s.Healthz.OK == 0 || len(s.Healthz.Errors) > 0 {
			t.Errorf("healthz %+v", s.Healthz)
		}
	})
	t.Run("every route of the mix is reported, answered and without errors", func(t *testing.T) {
		var got []string
		for _, r := range s.Routes {
			got = append(got, r.Route)
			if r.Requests == 0 || r.OK != r.Requests || len(r.Errors) > 0 {
				t.Errorf("%s: %+v", r.Route, r)
			}
			if r.ReqPerS <= 0 || r.P50MS <= 0 || r.P50MS > r.P90MS || r.P90MS > r.P99MS || r.P99MS > r.MaxMS {
				t.Errorf("%s: figures out of order: %+v", r.Route, r)
			}
		}
		if strings.Join(got, ",") != "get,list,search,write" {
			t.Errorf("routes %v, want get,list,search,write", got)
		}
	})
	t.Run("the ratio of GET to /healthz is reported", func(t *testing.T) {
		if s.GetToHealthz <= 0 || s.GetToHealthz != s.Routes[0].ReqPerS/s.Healthz.ReqPerS {
			t.Errorf("get_to_healthz = %v", s.GetToHealthz)
		}
	})
	t.Run("the table names every route", func(t *testing.T) {
		for _, r := range []string{"healthz", "get", "list", "search", "write", "get / healthz"} {
			if !strings.Contains(stdout.String(), r) {
				t.Errorf("table without %q:\n%s", r, stdout.String())
			}
		}
	})
}
