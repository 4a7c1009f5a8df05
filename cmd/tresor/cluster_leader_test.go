package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor/storetest"
)

// clusterServer is one `tresor serve` process of a cluster test, with the
// lines of its JSON log.
type clusterServer struct {
	base string
	cmd  *exec.Cmd
	done chan struct{} // closed when its log ends

	mu    sync.Mutex
	lines []logLine
}

// logLine is what the test reads of a line of the log.
type logLine struct {
	At  time.Time `json:"time"`
	Msg string    `json:"msg"`
	Job string    `json:"job"`
}

// the log lines of the leadership and of the periodic jobs
const (
	msgLeads   = "cluster: this server now leads the periodic jobs"
	msgLost    = "cluster: this server lost the lead of the periodic jobs; their runs stopped here, another server takes over"
	msgJobRuns = "periodic job runs"
	msgRetain  = "retention run"
)

func (s *clusterServer) log() []logLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logLine(nil), s.lines...)
}

// jobName names a job of runs in a message ("": the retention runs done).
func jobName(job string) string {
	if job == "" {
		return "retention run (done)"
	}
	return job
}

// runs counts the runs of a job (a msgJobRuns line of that job, or a line
// with the message msg when job is "") at or after from and before to.
func (s *clusterServer) runs(job string, from, to time.Time) int {
	n := 0
	for _, l := range s.log() {
		if l.At.Before(from) || !l.At.Before(to) {
			continue
		}
		if (job != "" && l.Msg == msgJobRuns && l.Job == job) || (job == "" && l.Msg == msgRetain) {
			n++
		}
	}
	return n
}

// count counts the lines with the message msg.
func (s *clusterServer) count(msg string) int {
	n := 0
	for _, l := range s.log() {
		if l.Msg == msg {
			n++
		}
	}
	return n
}

// leader asks /readyz whether the server leads; ok is false without an
// answer of 200.
func (s *clusterServer) leader() (leads, ok bool) {
	res, err := apiClient.Get(s.base + "/readyz")
	if err != nil {
		return false, false
	}
	defer res.Body.Close()
	var v struct {
		Status string
		Leader *bool
	}
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&v) != nil || v.Leader == nil {
		return false, false
	}
	return *v.Leader, true
}

// startServer starts `tresor serve` as a process of its own with the
// environment env, reading its log, and waits until it is ready.
func startServer(t *testing.T, bin string, env map[string]string) *clusterServer {
	t.Helper()
	addr := freeAddr(t)
	s := &clusterServer{base: "http://" + addr, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--addr", addr, "--log-level", "debug", "--log-format", "json")
	s.cmd.Env = os.Environ()
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				s.mu.Lock()
				s.lines = append(s.lines, l)
				s.mu.Unlock()
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := s.leader(); ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not become ready")
		}
	}
}

// waitFor polls cond every 100 ms until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// leaders returns the indexes of the servers (of those alive) that report
// leading in /readyz.
func leaders(servers []*clusterServer, alive []int) []int {
	var out []int
	for _, i := range alive {
		if leads, ok := servers[i].leader(); ok && leads {
			out = append(out, i)
		}
	}
	return out
}

// TestPeriodicJobsLedByOneServer starts three `tresor serve` processes on one
// PostgreSQL database with the periodic jobs every second: the audit
// checkpoints, the retention run and the social loop run on one server
// (the leader, by an advisory lock), so once per interval for the cluster;
// when the leader is killed with SIGKILL another server takes over and the
// jobs go on; a leader whose lock connection is cut notices it and stops.
func TestPeriodicJobsLedByOneServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs three servers")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "tresor")
	if out, err := exec.Command("go", "build", "-o", bin, "tresor/cmd/tresor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := storetest.PostgresURL(t)
	env := map[string]string{"TRESOR_DB": dbURL, "TRESOR_DATA_DIR": filepath.Join(tmp, "data")}
	expect(t, env, 0, "", "migrate")
	expect(t, env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	const every = time.Second
	jobs := []string{"audit checkpoint", "social", "retention"}
	serveEnv := maps.Clone(env)
	maps.Copy(serveEnv, map[string]string{"TRESOR_RETENTION_INTERVAL": "1s", "TRESOR_SOCIAL_INTERVAL": "1s",
		"TRESOR_AUDIT_CHECKPOINT_INTERVAL": "1s", "TRESOR_LEADER_INTERVAL": "1s"})
	var servers []*clusterServer
	for range 3 {
		servers = append(servers, startServer(t, bin, serveEnv))
	}
	alive := []int{0, 1, 2}
	var first int
	waitFor(t, 30*time.Second, "one server reports leading in /readyz", func() bool {
		l := leaders(servers, alive)
		if len(l) == 1 {
			first = l[0]
		}
		return len(l) == 1
	})

	// jobsRan waits until the server ran every job n times since from.
	jobsRan := func(s *clusterServer, from time.Time, n int) {
		t.Helper()
		waitFor(t, 60*time.Second, fmt.Sprintf("each job ran %d times", n), func() bool {
			for _, j := range jobs {
				if s.runs(j, from, time.Now().Add(time.Hour)) < n {
					return false
				}
			}
			return s.runs("", from, time.Now().Add(time.Hour)) >= 2
		})
	}
	t.Run("each periodic job runs once per interval for the cluster, on the server that leads", func(t *testing.T) {
		from := time.Now()
		jobsRan(servers[first], from, 4)
		to := time.Now()
		window := to.Sub(from)
		for _, j := range append(jobs, "") {
			total := 0
			for i, s := range servers {
				n := s.runs(j, time.Time{}, to)
				if i != first && n > 0 {
					t.Errorf("server %d, which does not lead, ran %q %d times", i, jobName(j), n)
				}
				total += s.runs(j, from, to)
			}
			// A job looks at most once per interval (one more where a
			// late tick of its ticker falls into the window); three
			// servers running it would come to three times that.
			if most := int(window/every) + 2; total > most {
				t.Errorf("%q ran %d times in %s on the three servers, more than once per %s (%d)", jobName(j), total, window.Round(time.Millisecond), every, most)
			}
		}
		for i, s := range servers {
			if want, got := map[bool]int{true: 1, false: 0}[i == first], s.count(msgLeads); got != want {
				t.Errorf("server %d logged taking the lead %d times, want %d", i, got, want)
			}
		}
	})
	t.Run("the metrics say which server leads", func(t *testing.T) {
		for i, s := range servers {
			res, err := apiClient.Get(s.base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := map[bool]string{true: "\ntresor_leader 1\n", false: "\ntresor_leader 0\n"}[i == first]
			if !strings.Contains(string(b), want) {
				t.Errorf("server %d: the metrics lack %q", i, strings.TrimSpace(want))
			}
		}
	})

	var second int
	t.Run("when the leader is killed, another server takes over and the jobs go on", func(t *testing.T) {
		if err := servers[first].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = servers[first].cmd.Wait()
		killed := time.Now()
		alive = nil
		for i := range servers {
			if i != first {
				alive = append(alive, i)
			}
		}
		waitFor(t, 30*time.Second, "another server leads after the leader was killed", func() bool {
			l := leaders(servers, alive)
			if len(l) == 1 {
				second = l[0]
			}
			return len(l) == 1
		})
		t.Logf("server %d took over %s after the kill of server %d", second, time.Since(killed).Round(time.Millisecond), first)
		from := time.Now()
		jobsRan(servers[second], from, 3)
		for _, i := range alive {
			for _, j := range append(jobs, "") {
				if n := servers[i].runs(j, time.Time{}, time.Now()); i != second && n > 0 {
					t.Errorf("server %d, which does not lead, ran %q %d times", i, jobName(j), n)
				}
			}
		}
	})

	t.Run("a leader whose lock connection is cut stops its jobs, and the lead is taken again", func(t *testing.T) {
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// The session that holds this schema's lock of the lead.
		var cut int
		err = db.QueryRowContext(context.Background(), `
			WITH k AS (SELECT hashtextextended('tresor leader ' || current_schema(), 0) AS key)
			SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l, k
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`).Scan(&cut)
		if err != nil || cut != 1 {
			t.Fatalf("cutting the lock's connection: %d sessions, %v", cut, err)
		}
		cutAt := time.Now()
		s := servers[second]
		waitFor(t, 30*time.Second, "the leader logs that it lost the lead", func() bool { return s.count(msgLost) == 1 })
		noticed := time.Since(cutAt)
		var lost time.Time
		for _, l := range s.log() {
			if l.Msg == msgLost {
				lost = l.At
			}
		}
		waitFor(t, 30*time.Second, "one server leads again", func() bool { return len(leaders(servers, alive)) == 1 })
		t.Logf("the leader noticed the cut within %s; one server led again within %s", noticed.Round(time.Millisecond), time.Since(cutAt).Round(time.Millisecond))
		// After the loss, the old leader ran nothing until it led again.
		var again time.Time
		for _, l := range s.log() {
			if l.Msg == msgLeads && l.At.After(lost) {
				again = l.At
				break
			}
		}
		if again.IsZero() {
			again = time.Now().Add(time.Hour)
		}
		for _, j := range append(jobs, "") {
			if n := s.runs(j, lost, again); n > 0 {
				t.Errorf("after it lost the lead, server %d ran %q %d times before it led again", second, jobName(j), n)
			}
		}
		l := leaders(servers, alive)
		if len(l) == 1 {
			jobsRan(servers[l[0]], time.Now(), 2)
		}
	})
	for _, s := range servers {
		_ = s.cmd.Process.Signal(os.Interrupt)
	}
	for _, s := range servers {
		_ = s.cmd.Wait()
	}
	t.Run("the trail of all three verifies", func(t *testing.T) {
		expect(t, env, 0, "intact", "audit", "verify")
	})
}

// TestSearchIndexesConverge runs three servers on one PostgreSQL database:
// a contact created through one is found by a name search on the others,
// and once erased it is gone from their results too.
func TestSearchIndexesConverge(t *testing.T) {
	env := map[string]string{"TRESOR_DB": storetest.PostgresURL(t), "TRESOR_DATA_DIR": t.TempDir(),
		"TRESOR_RETENTION_INTERVAL": "0", "TRESOR_SOCIAL_INTERVAL": "0"}
	expect(t, env, 0, "", "migrate")
	expect(t, env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	out := expect(t, env, 0, "", "token", "create", "--email", "sales@example.org")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	var bases []string
	for range 3 {
		base, _ := serveForTest(t, maps.Clone(env), io.Discard)
		bases = append(bases, base)
	}
	// found searches server i by name: the ids of the hits (nil while the
	// index warms up).
	found := func(i int, name string) ([]string, bool) {
		req, _ := http.NewRequest("GET", bases[i]+"/api/v1/contacts?q="+url.QueryEscape(name), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Tresor-Purpose", "sales")
		res, err := apiClient.Do(req)
		if err != nil {
			t.Fatalf("search on server %d: %v", i, err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			return nil, false // search_warming_up
		}
		var v struct {
			Items []struct{ ID string }
		}
		if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&v) != nil {
			t.Fatalf("search on server %d: %d", i, res.StatusCode)
		}
		var ids []string
		for _, it := range v.Items {
			ids = append(ids, it.ID)
		}
		return ids, true
	}
	has := func(ids []string, id string) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	a := callAPI("POST", bases[0]+"/api/v1/contacts", token, map[string]any{"given_name": "Ottilie",
		"family_name": "Quastenflosser", "legal_basis": "contract"})
	if a.Status != 201 {
		t.Fatalf("create on server 0: %d %s", a.Status, a.Code)
	}
	id := a.ID
	t.Run("a contact created through one server is found by name on the others", func(t *testing.T) {
		for _, i := range []int{1, 2} {
			waitFor(t, 30*time.Second, fmt.Sprintf("server %d finds the contact", i), func() bool {
				ids, ok := found(i, "Quastenflosser")
				return ok && has(ids, id)
			})
		}
	})
	t.Run("a contact erased through one server is gone from the others' results", func(t *testing.T) {
		if a := callAPI("DELETE", bases[0]+"/api/v1/contacts/"+id, token, nil); a.Status != http.StatusNoContent {
			t.Fatalf("erase on server 0: %d %s", a.Status, a.Code)
		}
		for _, i := range []int{0, 1, 2} {
			waitFor(t, 30*time.Second, fmt.Sprintf("server %d no longer finds the contact", i), func() bool {
				ids, ok := found(i, "Quastenflosser")
				return ok && !has(ids, id)
			})
		}
	})
}

// TestServeRefusesIntervalsOfZero: the intervals of the checkpoints and of
// the lead have no "off"; 0 is refused with the flag named.
func TestServeRefusesIntervalsOfZero(t *testing.T) {
	env := map[string]string{"TRESOR_DATA_DIR": t.TempDir()}
	for _, flag := range []string{"--audit-checkpoint-interval", "--leader-interval"} {
		t.Run(flag+" 0 is refused", func(t *testing.T) {
			expect(t, env, 1, flag+" 0s: use a duration above 0", "serve", "--addr", "127.0.0.1:0", flag, "0")
		})
	}
}
