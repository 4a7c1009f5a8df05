package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"tresor/storetest"
)

// TestThreeServersOnOnePostgres runs three `tresor serve` on one PostgreSQL
// database with the same key files, and drives them together: what one
// writes the others read, a token revoked is refused by all three at once,
// and the writes of all three make one audit trail that verifies.
func TestThreeServersOnOnePostgres(t *testing.T) {
	env := map[string]string{"TRESOR_DB": storetest.PostgresURL(t), "TRESOR_DATA_DIR": t.TempDir(),
		"TRESOR_RETENTION_INTERVAL": "0", "TRESOR_SOCIAL_INTERVAL": "0"}
	expect(t, env, 0, "", "migrate")
	expect(t, env, 0, "", "user", "create", "--email", "sales@example.org", "--role", "sales")
	out, msg, code := run(t, env, "token", "create", "--email", "sales@example.org")
	if code != 0 {
		t.Fatalf("token create: %s", msg)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	m := regexp.MustCompile(`\(id ([0-9a-f-]{36})\)`).FindStringSubmatch(out + msg)
	if m == nil {
		t.Fatalf("no token id in %q", out+msg)
	}
	tokenID := m[1]
	var bases []string
	var stops []func() error
	for range 3 {
		base, stop := serveForTest(t, maps.Clone(env), io.Discard)
		bases, stops = append(bases, base), append(stops, stop)
	}
	do := func(method, url string, body any) (int, string) {
		a := callAPI(method, url, token, body)
		if a.Err != nil {
			t.Fatalf("%s %s: %v", method, url, a.Err)
		}
		return a.Status, a.ID
	}

	// 30 writers, each on one of the three servers.
	var mu sync.Mutex
	made := map[string]int{} // id → the server that made it
	var wg sync.WaitGroup
	for w := range 30 {
		wg.Go(func() {
			for i := range 5 {
				code, id := do("POST", bases[w%3]+"/api/v1/contacts", map[string]any{"given_name": "Erika",
					"family_name": fmt.Sprintf("Muster-%d-%d", w, i), "legal_basis": "contract"})
				if code != 201 {
					t.Errorf("create on server %d: %d", w%3, code)
					return
				}
				mu.Lock()
				made[id] = w % 3
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Run("what one server writes, the others read", func(t *testing.T) {
		for id, s := range made {
			other := bases[(s+1)%3]
			if code, _ := do("GET", other+"/api/v1/contacts/"+id, nil); code != 200 {
				t.Fatalf("contact %s made on server %d: %d on server %d", id, s, code, (s+1)%3)
			}
		}
	})
	t.Run("a token revoked is refused by every server at once", func(t *testing.T) {
		expect(t, env, 0, "Revoked", "token", "revoke", "--id", tokenID)
		for i, base := range bases {
			if code, _ := do("GET", base+"/api/v1/contacts?limit=1", nil); code != http.StatusUnauthorized {
				t.Errorf("server %d after the revocation: %d, want 401", i, code)
			}
		}
	})
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Run("the writes of all three make one audit trail that verifies", func(t *testing.T) {
		expect(t, env, 0, "intact", "audit", "verify")
	})
}
