package gate_test

import (
	"bytes"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tresor/datadir"
)

// assertNothingOnDisk checks, after a listening window closed, that the
// listening tables that hold authors are empty and that no needle (a
// handle in any of its forms, a post's text) is left: in any row of any
// table on PostgreSQL (the audit trail included), in any file of the data
// directory (the SQLite database with its -wal and -shm, keys, logs). The
// topic's keyword tag is stored, so on SQLite finding it proves the search
// reads the files.
func assertNothingOnDisk(t *testing.T, cfg datadir.Config, raw *sql.DB, tag string, needles []string) {
	t.Helper()
	for _, table := range []string{"listening_windows", "listening_authors", "listening_seen"} {
		var n int
		must(t, raw.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
		if n != 0 {
			t.Errorf("%s holds %d rows after the window closed", table, n)
		}
	}
	if cfg.DB != "" { // PostgreSQL: every row of every table (audit trail included), as text
		var tables []string
		trs, err := raw.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
		must(t, err)
		for trs.Next() {
			var name string
			must(t, trs.Scan(&name))
			tables = append(tables, name)
		}
		must(t, trs.Err())
		trs.Close()
		if !slices.Contains(tables, "listening_aggregates") || !slices.Contains(tables, "audit_log") {
			t.Fatalf("the scan sees the tables %v, not the database's", tables)
		}
		for _, table := range tables {
			rows, err := raw.Query("SELECT t::text FROM " + table + " t")
			must(t, err)
			for rows.Next() {
				var row string
				must(t, rows.Scan(&row))
				for _, nd := range needles {
					if strings.Contains(strings.ToLower(row), strings.ToLower(nd)) {
						t.Errorf("%s holds %q: %s", table, nd, row)
					}
				}
			}
			must(t, rows.Err())
			rows.Close()
		}
	}
	// Every file of the data directory: the SQLite database with
	// its -wal and -shm, keys, logs.
	var files int
	control := false // the topic's own hashtag is stored: proves the search reads the files
	must(t, filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		lower := bytes.ToLower(b)
		control = control || bytes.Contains(lower, bytes.ToLower([]byte(tag)))
		for _, nd := range needles {
			if bytes.Contains(lower, bytes.ToLower([]byte(nd))) {
				t.Errorf("%s holds %q", filepath.Base(path), nd)
			}
		}
		return nil
	}))
	if cfg.DB == "" {
		if !control {
			t.Errorf("the topic's hashtag %s was not found in the data directory: the search reads nothing", tag)
		}
		for _, f := range []string{datadir.DatabaseFile, datadir.DatabaseFile + "-wal"} {
			if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err != nil {
				t.Errorf("the check did not see %s: %v", f, err)
			}
		}
	}
	t.Logf("%d files searched for %d needles", files, len(needles))
}
