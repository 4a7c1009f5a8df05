package gate_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/sqlite"
)

// TestSubjectExportCancelRules: an export waiting for its download goes
// with the person it is about, and with the link a newer one replaced.
func TestSubjectExportCancelRules(t *testing.T) {
	// sqliteDB is the SQLite file of the environment ("" on PostgreSQL).
	sqliteDB := func(e *subjectEnv) string {
		db := filepath.Join(e.dir, datadir.DatabaseFile)
		if _, err := os.Stat(db); err != nil {
			return ""
		}
		return db
	}
	// exportKeys lists the data keys of the stored exports (SQLite only).
	exportKeys := func(t *testing.T, e *subjectEnv) []string {
		t.Helper()
		db := sqliteDB(e)
		if db == "" {
			return nil
		}
		raw, err := sql.Open("sqlite", sqlite.DSN(db))
		must(t, err)
		defer raw.Close()
		rows, err := raw.Query("SELECT dk.subject FROM subject_exports se JOIN data_keys dk ON dk.subject = se.key_subject")
		must(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			must(t, rows.Scan(&s))
			out = append(out, s)
		}
		return out
	}
	// gone proves that no export waits any more: the links answer like
	// expired ones, nothing is left to purge when the links' time is over,
	// and (SQLite) no export row and none of the keys are stored.
	gone := func(t *testing.T, e *subjectEnv, keys []string, tokens ...string) {
		t.Helper()
		for _, token := range tokens {
			_, err := e.g.SubjectExportLink(bg, token)
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = e.g.DownloadSubjectExport(bg, token)
			wantCode(t, err, tresor.ECLinkInvalid)
		}
		if db := sqliteDB(e); db != "" {
			raw, err := sql.Open("sqlite", sqlite.DSN(db))
			must(t, err)
			defer raw.Close()
			var rows int
			must(t, raw.QueryRow("SELECT count(*) FROM subject_exports").Scan(&rows))
			if rows != 0 {
				t.Errorf("%d exports are still stored", rows)
			}
			for _, k := range keys {
				var n int
				must(t, raw.QueryRow("SELECT count(*) FROM data_keys WHERE subject = ?", k).Scan(&n))
				if n != 0 {
					t.Errorf("the key of export %s is still stored", k)
				}
			}
		}
		e.clock.advance(15 * 24 * time.Hour)
		n, err := e.g.PurgeSubjectExports(bg)
		must(t, err)
		if n != 0 {
			t.Errorf("%d exports were still stored until their link expired", n)
		}
	}
	lastAction := func(t *testing.T, e *subjectEnv) tresor.RequestEvent {
		t.Helper()
		r, err := e.g.DataRequest(e.dpo, e.request.ID)
		must(t, err)
		return r.History[len(r.History)-1]
	}
	subjectBackends(t, func(t *testing.T, e *subjectEnv) {
		g := e.g
		t.Run("sending an export again cancels the earlier link: only the newest works", func(t *testing.T) {
			_, err := g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			first := link(t, e.mail.last(t).Text, "/subject-export")
			keys := exportKeys(t, e)
			_, err = g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			second := link(t, e.mail.last(t).Text, "/subject-export")
			if first == second {
				t.Fatal("the two sendings have one link")
			}
			_, err = g.SubjectExportLink(bg, first)
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = g.DownloadSubjectExport(bg, first)
			wantCode(t, err, tresor.ECLinkInvalid)
			r, err := g.DataRequest(e.dpo, e.request.ID)
			must(t, err)
			var actions []tresor.RequestAction
			for _, h := range r.History {
				if h.Action != "" {
					actions = append(actions, h.Action)
				}
			}
			want := []tresor.RequestAction{tresor.ActionExportSent, tresor.ActionExportCancelled, tresor.ActionExportSent}
			if len(actions) != 3 || actions[0] != want[0] || actions[1] != want[1] || actions[2] != want[2] {
				t.Errorf("history actions = %v, want %v", actions, want)
			}
			if !slices.Contains(auditActions(t, g, e.request.ID), "subject_export.cancel") {
				t.Error("the cancellation is not audited")
			}
			f, err := g.DownloadSubjectExport(bg, second)
			must(t, err)
			if len(f.Data) == 0 {
				t.Error("the newest link gave nothing")
			}
			gone(t, e, keys, first, second)
		})

		t.Run("erasure really erases: an export mailed but not downloaded does not outlive the person", func(t *testing.T) {
			_, err := g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			token := link(t, e.mail.last(t).Text, "/subject-export")
			keys := exportKeys(t, e)
			_, err = g.EraseContact(e.dpo, e.erika.ID, tresor.EraseRequest{Reason: "Art. 17 request by mail"})
			must(t, err)
			gone(t, e, keys, token)
			if ev := lastAction(t, e); ev.Action != tresor.ActionExportCancelled {
				t.Errorf("the request's history ends with %+v", ev)
			}
			if db := sqliteDB(e); db != "" {
				files := readAll(t, db, db+"-wal")
				for _, s := range []string{"Mustermann", "Staffelpreisen"} {
					if bytes.Contains(files, []byte(s)) {
						t.Errorf("the database file still holds %q", s)
					}
				}
			}
		})
	})
	subjectBackends(t, func(t *testing.T, e *subjectEnv) {
		t.Run("a merge that absorbs the person cancels the export of her request too", func(t *testing.T) {
			_, err := e.g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			token := link(t, e.mail.last(t).Text, "/subject-export")
			keys := exportKeys(t, e)
			dup := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann",
				Emails: []string{"erika@muster.example"}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, e.g.CreateContact(e.sales, dup))
			_, err = e.g.MergeContact(e.sales, dup.ID, e.erika.ID)
			must(t, err)
			gone(t, e, keys, token)
			if ev := lastAction(t, e); ev.Action != tresor.ActionExportCancelled {
				t.Errorf("the request's history ends with %+v", ev)
			}
		})
	})
}
