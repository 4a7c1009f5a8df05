package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"

	"tresor"
	"tresor/gate"
)

// requestsExport writes the export that answers a request of access or
// portability to a file, for the DPO to hand over another way than the
// mailed link (by post, say). It runs as the system under data_protection,
// like the other duties of the DPO on the server, and is audited.
func (m *Main) requestsExport(ctx context.Context, args []string) error {
	var cfg config
	var id, out, format string
	fs := m.flags("requests export", &cfg)
	fs.StringVar(&id, "id", "", "id of the request (of kind access or portability, its requester identified)")
	fs.StringVar(&out, "out", "", "the file to write (it must not exist yet)")
	fs.StringVar(&format, "format", "json", "json (schema tresor.subject-export/v1) or html (readable, prints to PDF)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" || out == "" {
		return m.missing("tresor requests export needs --id ID and --out FILE")
	}
	f := tresor.SubjectExportFormat(format)
	if f != tresor.SubjectExportJSON && f != tresor.SubjectExportHTML {
		return m.missing(fmt.Sprintf("tresor requests export: --format is json or html, not %q", format))
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		b, err := g.BuildSubjectExport(dataProtection(ctx), id, f)
		if err != nil {
			return err
		}
		// The file holds a person's data: readable by its owner alone, and
		// never written over another file.
		file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("%s exists already; name a new file", out)
		} else if err != nil {
			return err
		}
		if _, err := file.Write(b); err != nil {
			file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "wrote the %s export of request %s to %s\n", f, id, out)
		return nil
	})
}
