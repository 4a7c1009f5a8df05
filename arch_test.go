package tresor_test

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkg is what `go list -json` says about one package of ours.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	// Stat every Go file, so the test cache knows this result depends on them
	// (go list runs in another process, whose reads the cache cannot see).
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-json", "tresor/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 8 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func ours(path string) bool { return path == "tresor" || strings.HasPrefix(path, "tresor/") }

// The layers of DESIGN §4.
var (
	storage   = []string{"tresor/sqlite", "tresor/postgres", "tresor/sqlstore"}
	enforcers = map[string][]string{ // the parts only the gate may combine
		"store":  storage,
		"vault":  {"tresor/vault"},
		"audit":  {"tresor/audit"},
		"policy": {"tresor/policy"},
	}
)

// TestArchitecture enforces the dependency rule of DESIGN §4.
func TestArchitecture(t *testing.T) {
	pkgs := listPackages(t)
	std := map[string]bool{}
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		std[p] = true
	}

	// The domain imports nothing of ours, and only the standard library.
	for _, d := range pkgs["tresor"].Deps {
		if !std[d] {
			t.Errorf("the domain package depends on %s; it may use the standard library only", d)
		}
	}

	// Who may import whom, among our packages.
	allowed := map[string][]string{
		"tresor/policy":     {"tresor"},
		"tresor/otp":        {},
		"tresor/mail":       {"tresor"},
		"tresor/sqlstore":   {"tresor"},
		"tresor/sqlite":     {"tresor", "tresor/sqlstore"},
		"tresor/postgres":   {"tresor", "tresor/sqlstore"},
		"tresor/vault":      {"tresor"},
		"tresor/audit":      {"tresor"},
		"tresor/importer":   {},
		"tresor/socialtest": {"tresor"},
		"tresor/mailtest":   {},
		"tresor/storetest":  {"tresor"},
		"tresor/server":     {"tresor"},
		// Connectors speak a network's protocol; the gate decides.
		"tresor/social/mastodon": {"tresor"},
		"tresor/social/bluesky":  {"tresor"},
		"tresor/cmd/tresor": {"tresor", "tresor/gate", "tresor/server", "tresor/mail", "tresor/policy",
			"tresor/social/mastodon", "tresor/social/bluesky"},
	}
	for path, p := range pkgs {
		if path == "tresor" || path == "tresor/gate" {
			continue
		}
		ok, known := allowed[path]
		if !known {
			t.Errorf("package %s has no place in the dependency rule of this test; add it", path)
			continue
		}
		for _, imp := range p.Imports {
			if ours(imp) && !slices.Contains(ok, imp) {
				t.Errorf("%s imports %s; it may import only %v of ours", path, imp, ok)
			}
		}
	}

	// Transport never touches storage, not even through another package.
	for _, d := range pkgs["tresor/server"].Deps {
		if slices.Contains(storage, d) || d == "tresor/gate" {
			t.Errorf("the HTTP layer depends on %s", d)
		}
	}
	// Connectors never reach storage, keys or the gate; the gate reaches a
	// network only through the Connector interface the CLI hands it.
	for path, p := range pkgs {
		if !strings.HasPrefix(path, "tresor/social/") {
			continue
		}
		for _, d := range p.Deps {
			if ours(d) && d != "tresor" {
				t.Errorf("the connector %s depends on %s", path, d)
			}
		}
		if slices.Contains(pkgs["tresor/gate"].Deps, path) {
			t.Errorf("the gate depends on the connector %s", path)
		}
	}
	for _, imp := range pkgs["tresor/cmd/tresor"].Imports {
		if slices.Contains(storage, imp) {
			t.Errorf("the CLI imports the storage adapter %s; it must go through the gate", imp)
		}
	}

	// Only the gate combines store, vault, audit and policy.
	for path, p := range pkgs {
		if path == "tresor/gate" {
			continue
		}
		var parts []string
		for name, group := range enforcers {
			for _, imp := range p.Imports {
				if slices.Contains(group, imp) && !slices.Contains(group, path) {
					parts = append(parts, name)
					break
				}
			}
		}
		if len(parts) > 1 {
			t.Errorf("%s combines %v; only the gate may", path, parts)
		}
	}
}
