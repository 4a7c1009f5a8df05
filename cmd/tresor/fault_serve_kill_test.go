package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeKilledUnderMixedLoad: `tresor serve` killed with SIGKILL while
// the load driver's 50 clients read, list, search, create people and record
// consent events; after a restart every write a client saw acknowledged is
// there, no person is stored in part, the database checks out, the audit
// trail verifies and the server serves again. On SQLite and on PostgreSQL.
func TestServeKilledUnderMixedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands and runs them under load")
	}
	bins := buildLoadBinaries(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { serveKilledUnderMixedLoad(t, bins, backend) })
	}
}

func serveKilledUnderMixedLoad(t *testing.T, bins loadBinaries, backend string) {
	r := newLoadRig(t, bins, backend)
	serve := r.serve(t)
	acked := filepath.Join(r.tmp, "acked")
	var stdout, stderr bytes.Buffer
	driver := r.driver(t, &stdout, &stderr, "--clients", "50", "--seed", "200", "--healthz=false", "--warmup", "0",
		"--duration", "2m", "--mix", "get=4,list=1,search=2,write=4,consent=2", "--acked", acked, "--timeout", "10s")
	driverDone := make(chan error, 1)
	go func() { driverDone <- driver.Wait() }()

	// Kill once a few hundred people and some consent events are acknowledged.
	count := func() (contacts, consents int) {
		b, _ := os.ReadFile(acked)
		for line := range strings.Lines(string(b)) {
			switch {
			case strings.HasPrefix(line, "contact "):
				contacts++
			case strings.HasPrefix(line, "consent "):
				consents++
			}
		}
		return
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, e := count(); c >= 300 && e >= 50 {
			break
		}
		select {
		case err := <-driverDone:
			t.Fatalf("the driver ended before the kill: %v\n%s%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			c, e := count()
			t.Fatalf("only %d creations and %d consent events acknowledged in 90 s", c, e)
		}
	}
	serve.kill()
	_ = driver.Process.Signal(syscall.SIGINT)
	select {
	case <-driverDone: // exit 1: requests failed around the kill, as they must
	case <-time.After(time.Minute):
		t.Fatal("the driver did not stop after SIGINT")
	}
	contacts, consents := map[string]bool{}, map[string][]ackedConsent{}
	f, err := os.Open(acked)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == "contact":
			contacts[fields[1]] = true
		case len(fields) == 4 && fields[0] == "consent":
			at, err := time.Parse(time.RFC3339Nano, fields[3])
			if err != nil {
				t.Fatalf("acked line %q: %v", sc.Text(), err)
			}
			consents[fields[1]] = append(consents[fields[1]], ackedConsent{action: fields[2], at: at})
		default:
			t.Fatalf("acked line %q", sc.Text())
		}
	}
	f.Close()
	nConsents := 0
	for _, cs := range consents {
		nConsents += len(cs)
	}
	t.Logf("%s: killed with %d creations and %d consent events acknowledged; the driver said: %s", backend, len(contacts),
		nConsents, strings.TrimSpace(stderr.String()))

	serve = r.serve(t)
	t.Run("every creation a client saw acknowledged is there after the restart", func(t *testing.T) {
		missing := 0
		for id := range contacts {
			if code := r.api(t, "GET", "/api/v1/contacts/"+id, nil, nil); code != 200 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d acknowledged people are missing after the restart", missing, len(contacts))
		}
	})
	t.Run("every consent event a client saw acknowledged is in the ledger after the restart", func(t *testing.T) {
		missing := 0
		for id, want := range consents {
			var h struct {
				Events []struct {
					Action string    `json:"action"`
					At     time.Time `json:"at"`
				} `json:"events"`
			}
			if code := r.api(t, "GET", "/api/v1/contacts/"+id+"/consents", nil, &h); code != 200 {
				t.Fatalf("the consents of %s: %d", id, code)
			}
			for _, w := range want {
				found := false
				for _, e := range h.Events {
					d := e.At.Sub(w.at)
					if e.Action == w.action && d < time.Millisecond && d > -time.Millisecond {
						found = true
						break
					}
				}
				if !found {
					missing++
				}
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d acknowledged consent events are missing after the restart", missing, nConsents)
		}
	})
	t.Run("the server recovers by itself: it reads and writes again", func(t *testing.T) {
		var made struct{ ID string }
		if code := r.api(t, "POST", "/api/v1/contacts", map[string]any{"given_name": "Erika", "family_name": "Nachher",
			"emails": []string{"erika.nachher@kill.example.org"}, "legal_basis": "contract"}, &made); code != 201 {
			t.Fatalf("a creation after the restart: %d", code)
		}
		if code := r.api(t, "GET", "/api/v1/contacts/"+made.ID, nil, nil); code != 200 {
			t.Fatalf("a read after the restart: %d", code)
		}
	})
	serve.stop()
	t.Run("no person is stored in part and the database checks out", func(t *testing.T) {
		db := r.db(t)
		for what, n := range partialPeople(t, db) {
			if n != 0 {
				t.Errorf("%d %s", n, what)
			}
		}
		if backend == "sqlite" {
			var ok string
			if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
				t.Errorf("integrity_check: %q %v", ok, err)
			}
		}
	})
	t.Run("the audit trail verifies", func(t *testing.T) {
		expect(t, r.env, 0, "intact", "audit", "verify")
	})
}

// ackedConsent is one consent event the driver saw acknowledged.
type ackedConsent struct {
	action string
	at     time.Time
}
