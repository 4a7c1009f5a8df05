package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a progress bar on a terminal, and a line every 100,000
// rows elsewhere.
type progress struct {
	w        io.Writer
	terminal bool
	size     int64
	read     *countingReader
	last     time.Time
}

func (p *progress) update(rows int) {
	if p.terminal {
		if time.Since(p.last) < 100*time.Millisecond {
			return
		}
		p.last = time.Now()
		pct := 0.0
		if p.size > 0 {
			pct = float64(p.read.n.Load()) / float64(p.size)
		}
		width := 30
		done := int(pct * float64(width))
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d rows", strings.Repeat("#", done), strings.Repeat(" ", width-done), pct*100, rows)
		return
	}
	if rows%100000 == 0 && rows > 0 {
		fmt.Fprintf(p.w, "%d rows read\n", rows)
	}
}

func (p *progress) finish() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importCmd is `tresor import FORMAT FILE --purpose P --legal-basis B`.
func (m *Main) importCmd(ctx context.Context, args []string) error {
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		if helpAsked(args) {
			fmt.Fprintln(m.Stderr, "tresor import FORMAT FILE --purpose P --legal-basis B [--network N] [--mapping F] [--dry-run] [--json]")
			return nil
		}
		return m.missing("tresor import needs FORMAT (linkedin, vcard, mastodon-following or csv) and FILE, then --purpose and --legal-basis")
	}
	format, file := args[0], args[1]
	var cfg config
	var purpose, basis, note, network, mapping string
	var dry, asJSON bool
	fs := m.flags("import", &cfg)
	fs.StringVar(&purpose, "purpose", "", "the purpose the data is imported for (required)")
	fs.StringVar(&basis, "legal-basis", "", "the legal basis: consent, contract, legal_obligation or legitimate_interest (required)")
	fs.StringVar(&note, "balancing-note", "", "the balancing of interests, for legitimate_interest")
	fs.StringVar(&network, "network", "", "the social network a vCard or CSV file comes from (xing, linkedin, …); empty for your own records")
	fs.StringVar(&mapping, "mapping", "", "for csv: a JSON file mapping fields to columns")
	fs.BoolVar(&dry, "dry-run", false, "check every row and report, store nothing")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := m.parse(fs, &cfg, args[2:]); err != nil {
		return err
	}
	if purpose == "" || basis == "" {
		return m.missing("tresor import needs --purpose and --legal-basis")
	}
	req := tresor.ImportRequest{Format: format, LegalBasis: tresor.LegalBasis(basis), BalancingNote: note, Network: network, DryRun: dry}
	if mapping != "" {
		b, err := os.ReadFile(mapping)
		if err != nil {
			return fmt.Errorf("mapping: %w", err)
		}
		req.Mapping = string(b)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	cr := &countingReader{r: f}
	bar := &progress{w: m.Stderr, terminal: isTerminal(m.Stderr), size: st.Size(), read: cr}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		rep, err := g.ImportWithProgress(tresor.WithPurpose(system(ctx), purpose), cr, req, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(m.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		printImport(m.Stdout, rep)
		return nil
	})
}

func printImport(w io.Writer, rep *tresor.ImportReport) {
	mode := ""
	if rep.DryRun {
		mode = " (dry run: nothing stored)"
	}
	fmt.Fprintf(w, "import %s of %s for %s%s: %d rows\n", rep.ID, rep.Format, rep.Purpose, mode, rep.Rows)
	verb := "created"
	if rep.DryRun {
		verb = "would create"
	}
	fmt.Fprintf(w, "%s %d contacts (each with an Art. 14 information duty); %d duplicates of stored contacts left as they are\n",
		verb, rep.Created, rep.Duplicates)
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-40s %d\n", k, m[k])
		}
	}
	section("rows refused:", rep.Refused)
	section("fields dropped:", rep.Dropped)
	if len(rep.Errors) > 0 {
		fmt.Fprintf(w, "malformed rows skipped: %d\n", max(rep.Refused["malformed"], len(rep.Errors)))
		for i, e := range rep.Errors {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more\n", max(rep.Refused["malformed"], len(rep.Errors))-20)
				break
			}
			fmt.Fprintf(w, "  row %d: %s\n", e.Row, e.Msg)
		}
	}
	if len(rep.Examples) > 0 {
		fmt.Fprintln(w, "examples:")
		for _, e := range rep.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func (m *Main) noticesList(ctx context.Context, args []string) error {
	var cfg config
	var overdue bool
	fs := m.flags("notices list", &cfg)
	fs.BoolVar(&overdue, "overdue", false, "only the open notices whose month has passed")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		q := tresor.NoticeQuery{Open: true, Page: tresor.Page{Limit: tresor.MaxPageSize}}
		if overdue {
			q.DueBefore = time.Now()
		}
		l, err := g.Notices(dataProtection(ctx), q)
		if err != nil {
			return err
		}
		for _, n := range l.Items {
			fmt.Fprintf(m.Stdout, "%s  contact %s  due %s  source %s %s\n", n.ID, n.ContactID, n.DueAt.Format("2006-01-02"), n.Source, n.Network)
		}
		if l.Next != "" {
			fmt.Fprintln(m.Stdout, "… more; send them with tresor notices send")
		}
		return nil
	})
}

func (m *Main) noticesSend(ctx context.Context, args []string) error {
	var cfg config
	var all bool
	fs := m.flags("notices send", &cfg)
	fs.StringVar(&cfg.smtpAddr, "smtp-addr", m.env("TRESOR_SMTP_ADDR", ""), "SMTP server host:port (TRESOR_SMTP_ADDR)")
	fs.StringVar(&cfg.smtpFrom, "smtp-from", m.env("TRESOR_SMTP_FROM", ""), "sender address (TRESOR_SMTP_FROM)")
	fs.BoolVar(&all, "all", true, "send every open notice, not only the overdue ones")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	mailer, err := m.mailer(&cfg)
	if err != nil {
		return err
	}
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	g, err := datadir.Open(ctx, cfg.gateConfig(false), gate.WithPolicy(pol), gate.WithMailer(mailer))
	if err != nil {
		return err
	}
	defer g.Close()
	due := time.Time{}
	if !all {
		due = time.Now()
	}
	sent, other, err := g.SendNotices(dataProtection(ctx), due)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "sent %d Art. 14 notices by e-mail; %d people have no e-mail address and need another channel\n", sent, other)
	return nil
}

func (m *Main) noticesGiven(ctx context.Context, args []string) error {
	var cfg config
	var id, channel string
	fs := m.flags("notices given", &cfg)
	fs.StringVar(&id, "id", "", "the notice")
	fs.StringVar(&channel, "channel", "", "how it was given: postal, phone or in_person")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" || channel == "" {
		return m.missing("tresor notices given needs --id and --channel")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error { return g.MarkNoticeGiven(dataProtection(ctx), id, channel) })
}
