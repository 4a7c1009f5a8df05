package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite doc.go and the README's command list from the command table")

// docGo is the package doc made from the command table.
func docGo() string {
	var b strings.Builder
	b.WriteString("// Code generated from the command table (commands.go) by `go test ./cmd/tresor -run TestCommandDocs -update`; DO NOT EDIT.\n\n")
	b.WriteString("// Command tresor is the Tresor server and its administration tool.\n//\n")
	for _, l := range strings.SplitAfter(strings.TrimSuffix(commandList(""), "\n"), "\n") {
		b.WriteString("//\t" + l)
	}
	b.WriteString("\n//\n// Configuration comes from flags and TRESOR_* environment variables (see -h of each command);\n")
	b.WriteString("// secrets may also come from a file named by *_FILE.\npackage main\n")
	return b.String()
}

// readmeCommands returns the README with its list of commands made from the
// table: the indented block after the heading "## Commands".
func readmeCommands(t *testing.T, readme string) string {
	t.Helper()
	const heading = "## Commands\n\n"
	start := strings.Index(readme, heading)
	if start < 0 {
		t.Fatal(`the README has no "## Commands" section`)
	}
	start += len(heading)
	end := start
	for end < len(readme) && strings.HasPrefix(readme[end:], "    ") {
		end += strings.IndexByte(readme[end:], '\n') + 1
	}
	return readme[:start] + commandList("    ") + readme[end:]
}

// TestCommandDocs keeps the package doc (doc.go) and the README's list of
// commands made from the command table, like the usage text.
func TestCommandDocs(t *testing.T) {
	t.Run("doc.go", func(t *testing.T) {
		want := docGo()
		if *update {
			if err := os.WriteFile("doc.go", []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile("doc.go")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("doc.go does not follow the command table; run go test ./cmd/tresor -run TestCommandDocs -update")
		}
	})
	t.Run("README", func(t *testing.T) {
		got, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		want := readmeCommands(t, string(got))
		if *update {
			if err := os.WriteFile("../../README.md", []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			got = []byte(want)
		}
		if string(got) != want {
			t.Errorf("the README's list of commands does not follow the command table; run go test ./cmd/tresor -run TestCommandDocs -update")
		}
	})
}

// TestEveryCommandIsReachable runs each command of the table with -h: the
// dispatch finds it, and asking for help is a success.
func TestEveryCommandIsReachable(t *testing.T) {
	for _, c := range commands {
		args := append(strings.Fields(c.name), "-h")
		switch c.name {
		case "version", "policy check", "channel add", "channel post", "channel posts", "channel poll", "channel delete", "import", "keys generate":
			continue // they take positional arguments first, or no flags
		}
		t.Run(c.name, func(t *testing.T) {
			m := &Main{Stdout: &strings.Builder{}, Stderr: &strings.Builder{}, Getenv: func(string) string { return "" }}
			if err := m.Run(t.Context(), args); err != nil {
				t.Errorf("tresor %s -h: %v", c.name, err)
			}
		})
	}
}
