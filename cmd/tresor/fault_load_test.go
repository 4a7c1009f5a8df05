package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor/datadir"
	"tresor/storetest"
)

// loadRig is a `tresor serve` run as its own process, as an operator runs
// it, on one backend, with a sales user and a token, and the load driver
// cmd/tresor-load built beside it: what the fault and soak tests drive.
type loadRig struct {
	backend string // "sqlite" or "postgres"
	bin     string // tresor
	load    string // tresor-load
	tmp     string
	dir     string            // the data directory
	env     map[string]string // for the CLI run in the test (expect)
	dbURL   string            // PostgreSQL only
	token   string
	addr    string
	base    string
	client  *http.Client
}

// loadBinaries are the two commands, built once for the backends of a test.
type loadBinaries struct{ tresor, load string }

func buildLoadBinaries(t *testing.T) loadBinaries {
	t.Helper()
	dir := t.TempDir()
	bins := loadBinaries{filepath.Join(dir, "tresor"), filepath.Join(dir, "tresor-load")}
	for pkg, out := range map[string]string{"tresor/cmd/tresor": bins.tresor, "tresor/cmd/tresor-load": bins.load} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return bins
}

// newLoadRig prepares the backend for the commands: a fresh SQLite
// data directory, or a fresh schema of the test PostgreSQL (skipped
// without TRESOR_TEST_POSTGRES).
func newLoadRig(t *testing.T, bins loadBinaries, backend string) *loadRig {
	t.Helper()
	r := &loadRig{backend: backend, tmp: t.TempDir(), client: &http.Client{Timeout: 30 * time.Second},
		bin: bins.tresor, load: bins.load}
	r.dir = filepath.Join(r.tmp, "data")
	r.env = map[string]string{"TRESOR_DATA_DIR": r.dir}
	if backend == "postgres" {
		r.dbURL = storetest.PostgresURL(t)
		r.env["TRESOR_DB"] = r.dbURL
	}
	expect(t, r.env, 0, "", "migrate")
	expect(t, r.env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	lines := strings.Split(strings.TrimSpace(expect(t, r.env, 0, "", "token", "create", "--email", "sales@example.org")), "\n")
	r.token = strings.TrimSpace(lines[len(lines)-1])
	r.addr = freeAddr(t)
	r.base = "http://" + r.addr
	return r
}

// environ is the environment of the processes: the backend, and no
// periodic jobs, so the load is the only work.
func (r *loadRig) environ() []string {
	env := append(os.Environ(), "TRESOR_DATA_DIR="+r.dir, "TRESOR_SOCIAL_INTERVAL=0", "TRESOR_RETENTION_INTERVAL=0",
		"TRESOR_LOAD_TOKEN="+r.token)
	if r.dbURL != "" {
		env = append(env, "TRESOR_DB="+r.dbURL)
	}
	return env
}

// served is one `tresor serve` process.
type served struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// serve starts `tresor serve` and waits until /readyz answers 200; the
// process is killed when the test ends, if it still runs.
func (r *loadRig) serve(t *testing.T) *served {
	t.Helper()
	cmd := exec.Command(r.bin, "serve", "--addr", r.addr, "--log-level", "error")
	cmd.Env = r.environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.kill)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := r.client.Get(r.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("serve ended before it was ready: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve was not ready in a minute: %s", stderr.String())
		}
	}
}

// kill ends serve with SIGKILL — no chance to finish anything — and waits.
func (s *served) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// stop ends serve with SIGINT, a graceful stop, and waits for it (killing
// it after a minute).
func (s *served) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		s.kill()
	}
}

// driver starts the load driver against the server with the arguments.
func (r *loadRig) driver(t *testing.T, stdout, stderr *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(r.load, append([]string{"--url", r.base, "--purpose", "sales"}, args...)...)
	cmd.Env = r.environ()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// api calls the server with the rig's token under the purpose sales and
// decodes a JSON answer into v (if not nil).
func (r *loadRig) api(t *testing.T, method, path string, body any, v any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Tresor-Purpose", "sales")
	req.Header.Set("Content-Type", "application/json")
	res, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if v != nil {
		_ = json.NewDecoder(res.Body).Decode(v)
	}
	return res.StatusCode
}

// db opens the backend's database beside the stopped server, to look for
// partial people and (SQLite) check the file.
func (r *loadRig) db(t *testing.T) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if r.backend == "postgres" {
		db, err = sql.Open("pgx", r.dbURL)
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(r.dir, datadir.DatabaseFile)+"?mode=ro")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// partialPeople counts what a person stored in part would leave behind: a
// contact without its data key, a contact (all made here have an e-mail
// address) without its lookup rows, and a consent event without the state
// it set.
func partialPeople(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	got := map[string]int{}
	for name, q := range map[string]string{
		"contacts without their data key": `SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.subject = c.id)`,
		"contacts without lookup rows":    `SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM contact_lookup l WHERE l.contact_id = c.id)`,
		"consent events without a state": `SELECT count(*) FROM consent_events e WHERE NOT EXISTS (SELECT 1 FROM consent_states s
			WHERE s.contact_id = e.contact_id AND s.purpose = e.purpose AND s.channel = e.channel)`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = n
	}
	return got
}

// loadReport is the part of the driver's --json report the tests read.
type loadReport struct {
	Steps []struct {
		Clients int `json:"clients"`
		Routes  []struct {
			Route    string         `json:"route"`
			Requests int            `json:"requests"`
			OK       int            `json:"ok"`
			ReqPerS  float64        `json:"req_per_s"`
			P50MS    float64        `json:"p50_ms"`
			P99MS    float64        `json:"p99_ms"`
			MaxMS    float64        `json:"max_ms"`
			Errors   map[string]int `json:"errors"`
		} `json:"routes"`
	} `json:"steps"`
}

func readLoadReport(t *testing.T, file string) *loadReport {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the driver's report: %v", err)
	}
	var rep loadReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the driver's report: %v", err)
	}
	return &rep
}
