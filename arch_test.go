package tresor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
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

// TestArchitecture enforces the dependency rule of DESIGN §4, one rule per
// subtest, so that one broken rule does not hide another.
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

	t.Run("the domain imports only the standard library", func(t *testing.T) {
		for _, d := range pkgs["tresor"].Deps {
			if !std[d] {
				t.Errorf("the domain package depends on %s; it may use the standard library only", d)
			}
		}
	})

	t.Run("every package imports only what its layer allows", func(t *testing.T) {
		allowed := map[string][]string{
			"tresor/policy":     {"tresor"},
			"tresor/otp":        {},
			"tresor/search":     {},
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
			// The request path: it works on the store it is given, and never
			// opens one itself.
			"tresor/gate": {"tresor", "tresor/policy", "tresor/vault", "tresor/audit", "tresor/importer", "tresor/otp", "tresor/search", "tresor/listen/text"},
			// Sets up a data directory: the one package that opens a storage
			// adapter; it hands out the gate, not the store.
			"tresor/datadir": {"tresor", "tresor/gate", "tresor/vault", "tresor/audit", "tresor/sqlite", "tresor/postgres"},
			// Connectors speak a network's protocol; the gate decides.
			"tresor/social/mastodon": {"tresor"},
			"tresor/social/bluesky":  {"tresor"},
			"tresor/cmd/tresor": {"tresor", "tresor/gate", "tresor/datadir", "tresor/server", "tresor/mail", "tresor/policy",
				"tresor/social/mastodon", "tresor/social/bluesky"},
			// Text analysis for social listening: pure functions, none of ours.
			"tresor/listen/text": {},
			// The load driver speaks to a running server over HTTP only.
			"tresor/cmd/tresor-load": {},
		}
		for path, p := range pkgs {
			if path == "tresor" {
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
	})

	t.Run("only datadir opens a storage adapter", func(t *testing.T) {
		for path, p := range pkgs {
			if path == "tresor/datadir" || slices.Contains(storage, path) {
				continue
			}
			for _, imp := range p.Imports {
				if slices.Contains(storage, imp) {
					t.Errorf("%s imports the storage adapter %s; only datadir opens a store", path, imp)
				}
			}
		}
	})

	t.Run("transport never touches storage", func(t *testing.T) {
		for _, d := range pkgs["tresor/server"].Deps {
			if slices.Contains(storage, d) || d == "tresor/gate" || d == "tresor/datadir" {
				t.Errorf("the HTTP layer depends on %s", d)
			}
		}
	})

	// Connectors never reach storage, keys or the gate; the gate reaches a
	// network only through the Connector interface the CLI hands it.
	t.Run("connectors reach nothing but the domain", func(t *testing.T) {
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
	})

	// Only the gate combines store, vault, audit and policy. datadir sets up
	// what the gate combines — it opens the store and loads the keys — but
	// decides nothing: it never imports the policy.
	t.Run("only the gate combines store, vault, audit and policy", func(t *testing.T) {
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
			if path == "tresor/datadir" {
				if slices.Contains(parts, "policy") {
					t.Errorf("datadir imports the policy; it sets up the gate and decides nothing")
				}
				continue
			}
			if len(parts) > 1 {
				t.Errorf("%s combines %v; only the gate may", path, parts)
			}
		}
	})

	t.Run("nothing exported hands out a store", func(t *testing.T) {
		for path := range pkgs {
			if path == "tresor" || slices.Contains(storage, path) || path == "tresor/storetest" {
				continue // the domain declares the store; adapters and their conformance suite are it
			}
			for _, leak := range exportedStores(t, strings.TrimPrefix(strings.TrimPrefix(path, "tresor"), "/")) {
				t.Errorf("%s: %s; only the gate holds a store", path, leak)
			}
		}
	})
}

// storeTypes are the domain's types that give raw access to the data.
var storeTypes = []string{"Store", "Reader", "Tx"}

// exportedStores lists the exported functions, methods, struct fields and
// variables of the package in dir (its non-test files) whose type names a
// raw store type of the domain.
func exportedStores(t *testing.T, dir string) []string {
	t.Helper()
	if dir == "" {
		dir = "."
	}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var leaks []string
	names := func(e ast.Node) bool {
		found := false
		ast.Inspect(e, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "tresor" && slices.Contains(storeTypes, sel.Sel.Name) {
					found = true
				}
			}
			return !found
		})
		return found
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				if d.Type.Results != nil && names(d.Type.Results) {
					leaks = append(leaks, fmt.Sprintf("%s returns a store", d.Name.Name))
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							if n.IsExported() && spec.Type != nil && names(spec.Type) {
								leaks = append(leaks, fmt.Sprintf("the variable %s is a store", n.Name))
							}
						}
					case *ast.TypeSpec:
						st, ok := spec.Type.(*ast.StructType)
						if !ok || !spec.Name.IsExported() {
							continue
						}
						for _, field := range st.Fields.List {
							for _, n := range field.Names {
								if n.IsExported() && names(field.Type) {
									leaks = append(leaks, fmt.Sprintf("the field %s.%s is a store", spec.Name.Name, n.Name))
								}
							}
						}
					}
				}
			}
		}
	}
	return leaks
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(recv *ast.FieldList) bool {
	typ := recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}
