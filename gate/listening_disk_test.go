package gate_test

import (
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
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

// checkTrendSixShownThreeSuppressed checks a topic's trend in every bucket
// width after the scripted posts of the real-server tests: the German bucket
// shows 6 posts by 6 authors on the network, the English one of 3 authors
// is suppressed without any figure. title names the rule of the subtests.
func checkTrendSixShownThreeSuppressed(t *testing.T, g *gate.Gate, analyst context.Context, topicID string, now time.Time, network, title string) {
	t.Helper()
	for _, width := range tresor.ListeningBuckets() {
		t.Run(title+string(width)+")", func(t *testing.T) {
			tr, err := g.Trend(analyst, topicID, tresor.TrendQuery{From: now.Add(-8 * 24 * time.Hour), To: now.Add(time.Hour), Bucket: width})
			must(t, err)
			var de, en *tresor.TrendBucket
			for i, b := range tr.Buckets {
				switch b.Language {
				case "de":
					de = &tr.Buckets[i]
				case "en":
					en = &tr.Buckets[i]
				default:
					t.Errorf("a bucket of language %q: %+v", b.Language, b)
				}
			}
			if de == nil || de.Suppressed || *de.Posts != 6 || *de.Authors != 6 || de.Network != network {
				t.Fatalf("German bucket = %+v, want 6 posts by 6 authors shown", de)
			}
			if s := de.Sentiment; s.Negative+s.Neutral+s.Positive != 6 {
				t.Errorf("German sentiment = %+v, want 6 posts in all", s)
			}
			t.Run("a bucket with fewer than k authors is suppressed", func(t *testing.T) {
				if en == nil || !en.Suppressed || en.Posts != nil || en.Authors != nil || en.Sentiment != nil || en.Terms != nil ||
					en.Reason == nil || en.Reason.Code != gate.ReasonKAnonymity {
					t.Fatalf("English bucket of 3 authors = %+v, want suppressed without figures", en)
				}
			})
		})
	}
}

// closeWindowThenSearchDisk lets two weeks pass, closes the open window
// and checks, as the rule title, that no needle is anywhere on disk.
func closeWindowThenSearchDisk(t *testing.T, g *gate.Gate, clk *clock, cfg datadir.Config, raw *sql.DB, tag string, needles []string, title string) {
	t.Helper()
	clk.advance(14 * 24 * time.Hour)
	closed, err := g.CloseListeningWindows(system())
	must(t, err)
	if closed != 1 {
		t.Errorf("%d windows closed, want 1", closed)
	}
	t.Run(title, func(t *testing.T) { assertNothingOnDisk(t, cfg, raw, tag, needles) })
}

// onBothBackends runs a listening test on SQLite and on PostgreSQL, each
// with a raw handle on its database and a hashtag of its own.
func onBothBackends(t *testing.T, run func(t *testing.T, cfg datadir.Config, raw *sql.DB, tag string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		defer raw.Close()
		run(t, datadir.Config{DataDir: dir, Migrate: true}, raw, "#AcmeKaffeeLite")
	})
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		raw, err := sql.Open("pgx", u)
		must(t, err)
		defer raw.Close()
		run(t, datadir.Config{DB: u, DataDir: t.TempDir(), Migrate: true}, raw, "#AcmeKaffeePg")
	})
}
