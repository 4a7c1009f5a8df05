package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeKilledUnderWrites: `tresor serve` killed with SIGKILL while 50
// clients create people; after a restart every person whose creation a
// client saw acknowledged (201) is there, and the audit trail verifies.
func TestServeKilledUnderWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs it under load")
	}
	_, bin, dir, env := builtWithUser(t)
	out := expect(t, env, 0, "", "token", "create", "--email", "sales@example.org")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	client := &http.Client{Timeout: 30 * time.Second}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--log-level", "error")
		cmd.Env = append(os.Environ(), "TRESOR_DATA_DIR="+dir, "TRESOR_SOCIAL_INTERVAL=0", "TRESOR_RETENTION_INTERVAL=0")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if res, err := client.Get(base + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("serve did not become ready")
			}
		}
	}
	serve := start()
	defer func() { serve.Process.Kill(); serve.Wait() }()

	var (
		mu    sync.Mutex
		acked []string // ids of the 201 answers
		fails int
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for c := range 50 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body, _ := json.Marshal(map[string]any{"given_name": "Erika", "family_name": fmt.Sprintf("Muster-%d-%d", c, i),
					"emails": []string{fmt.Sprintf("c%d.%d@kill.example.org", c, i)}, "legal_basis": "contract"})
				req, _ := http.NewRequest("POST", base+"/api/v1/contacts", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Tresor-Purpose", "sales")
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					mu.Lock()
					fails++
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
					continue
				}
				var got struct{ ID string }
				_ = json.NewDecoder(res.Body).Decode(&got)
				res.Body.Close()
				mu.Lock()
				if res.StatusCode == http.StatusCreated && got.ID != "" {
					acked = append(acked, got.ID)
				}
				mu.Unlock()
			}
		})
	}
	// Kill once a few hundred people are acknowledged.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d people acknowledged in two minutes", n)
		}
	}
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	serve.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	t.Logf("killed with %d creations acknowledged, %d requests failed around the kill", len(ids), fails)

	serve = start()
	t.Run("every creation a client saw acknowledged is there after the restart", func(t *testing.T) {
		missing := 0
		for _, id := range ids {
			req, _ := http.NewRequest("GET", base+"/api/v1/contacts/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Tresor-Purpose", "sales")
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d acknowledged people are missing after the restart", missing, len(ids))
		}
	})
	serve.Process.Kill()
	serve.Wait()
	t.Run("the audit trail verifies", func(t *testing.T) {
		expect(t, env, 0, "intact", "audit", "verify")
	})
}
