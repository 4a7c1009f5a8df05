package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"

	"tresor/datadir"
	"tresor/gate"
)

// migrateStopAfter, when positive, interrupts migrate-data after so many
// tables (tests of resuming).
var migrateStopAfter int

// errMigrationFailed makes migrate-data exit 1 after its report.
var errMigrationFailed = errors.New("the verification of the migrated data found problems (see the report)")

func (m *Main) migrateData(ctx context.Context, args []string) error {
	var cfg config
	var to string
	var dryRun bool
	fs := m.flags("migrate-data", &cfg)
	fs.StringVar(&to, "to", "", "the empty PostgreSQL database to copy into, a postgres:// URL")
	fs.BoolVar(&dryRun, "dry-run", false, "copy into a temporary database on the same server, verify it there and drop it; the target is only read")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if to == "" {
		return m.missing("tresor migrate-data needs --to postgres://…")
	}
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	rep, err := datadir.MigrateData(ctx, cfg.gateConfig(false), to, datadir.MigrateDataOptions{
		DryRun: dryRun, StopAfter: migrateStopAfter,
		Gate: []gate.Option{gate.WithLogger(slog.New(slog.DiscardHandler)), gate.WithPolicy(pol)}})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tsqlite\tpostgres\tok")
	for _, t := range rep.Tables {
		ok := "ok"
		if !t.OK {
			ok = "DIFFERS"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Table, t.Rows, t.Target, ok)
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "data keys: %d, %d unwrap with the key-encryption key\n", rep.DataKeys, rep.KeysOpened)
	if rep.Audit != nil {
		fmt.Fprintf(m.Stdout, "audit trail: %d entries, %d signed checkpoints matched\n", rep.Audit.Entries, rep.Audit.Checkpoints)
	}
	fmt.Fprintf(m.Stdout, "people read back: %d\n", rep.PeopleRead)
	for _, p := range rep.Problems {
		fmt.Fprintf(m.Stdout, "PROBLEM: %s\n", p)
	}
	if len(rep.Problems) > 0 {
		return errMigrationFailed
	}
	if dryRun {
		fmt.Fprintf(m.Stdout, "dry run: copied into a temporary database, verified and dropped it; the target is unchanged (schema version %d)\n", rep.SchemaVersion)
	} else {
		fmt.Fprintf(m.Stdout, "migrated to PostgreSQL (schema version %d): point TRESOR_DB at it and start tresor serve\n", rep.SchemaVersion)
	}
	return nil
}
