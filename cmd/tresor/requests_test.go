package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// verifiedRequest records a request of access about the contact and marks
// the requester identified, as the DPO would.
func verifiedRequest(t *testing.T, dir, contactID string) string {
	t.Helper()
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: dir, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := dataProtection(context.Background())
	r, err := g.CreateRequest(ctx, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByLetter,
		Address: "Musterweg 1, 12345 Musterstadt", ReceivedAt: "2026-03-02", ContactIDs: []string{contactID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.RequestState(ctx, r.ID, tresor.RequestIdentityVerified, ""); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestRequestsExportCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TRESOR_DATA_DIR": dir}
	id := verifiedRequest(t, dir, seedContact(t, dir, "Quastenflosser"))
	work := t.TempDir()

	t.Run("the JSON export is written to a new file only its owner reads", func(t *testing.T) {
		out := filepath.Join(work, "export.json")
		expect(t, env, 0, "", "requests", "export", "--id", id, "--out", out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var x tresor.SubjectExport
		if err := json.Unmarshal(b, &x); err != nil || x.Schema != tresor.SubjectExportSchema || len(x.Contacts) != 1 ||
			x.Contacts[0].FamilyName != "Quastenflosser" {
			t.Fatalf("export = %s (%v)", b, err)
		}
		if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v", st.Mode().Perm())
		}
	})

	t.Run("the readable document is written with --format html", func(t *testing.T) {
		out := filepath.Join(work, "export.html")
		expect(t, env, 0, "", "requests", "export", "--id", id, "--out", out, "--format", "html")
		if b, _ := os.ReadFile(out); !strings.Contains(string(b), "Quastenflosser") || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
			t.Errorf("document = %.200s", b)
		}
	})

	t.Run("bad input is one line and a non-zero exit", func(t *testing.T) {
		expect(t, env, 2, "needs --id ID and --out FILE", "requests", "export", "--id", id)
		expect(t, env, 2, "json or html", "requests", "export", "--id", id, "--out", filepath.Join(work, "x.pdf"), "--format", "pdf")
		expect(t, env, 1, "exists already", "requests", "export", "--id", id, "--out", filepath.Join(work, "export.json"))
		expect(t, env, 1, "no request with id", "requests", "export", "--id", "0190e0e0-0000-7000-8000-000000000000", "--out", filepath.Join(work, "y.json"))
	})
}
