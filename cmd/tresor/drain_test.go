package main

import (
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestServeDrainsBeforeItStops: after the signal to stop, serve answers
// /readyz with 503 for the drain period while it still serves requests;
// then it stops.
func TestServeDrainsBeforeItStops(t *testing.T) {
	env := map[string]string{"TRESOR_DATA_DIR": filepath.Join(t.TempDir(), "data"), "TRESOR_RETENTION_INTERVAL": "0",
		"TRESOR_SOCIAL_INTERVAL": "0", "TRESOR_DRAIN": "5s"}
	base, stop := serveForTest(t, env, io.Discard)
	status := func(path string) int {
		res, err := http.Get(base + path)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz before the signal = %d", got)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }() // the signal; stop returns when serve has ended
	t.Run("while it drains, /readyz answers 503 and requests are still served", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for status("/readyz") != http.StatusServiceUnavailable {
			if time.Now().After(deadline) {
				t.Fatal("/readyz never turned 503")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := status("/healthz"); got != http.StatusOK {
			t.Errorf("/healthz while draining = %d, want 200", got)
		}
		if got := status("/api/v1/contacts"); got != http.StatusUnauthorized {
			t.Errorf("an API request while draining = %d, want it answered (401 without a token)", got)
		}
	})
	t.Run("after the drain period it stops", func(t *testing.T) {
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not stop after draining")
		}
		if got := status("/healthz"); got != 0 {
			t.Errorf("/healthz after the stop = %d, want no answer", got)
		}
	})
}
