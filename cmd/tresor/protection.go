package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// kekFlags adds the flags that say where the key-encryption key comes from.
func (m *Main) kekFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.kekFile, "kek-file", m.env("TRESOR_KEK_FILE", ""), "key-encryption key file (TRESOR_KEK_FILE; default DATA_DIR/keys/kek.keys, created on first start of an empty database; or the key itself in TRESOR_KEK)")
	fs.StringVar(&cfg.transitAddr, "kek-transit-addr", m.env("TRESOR_KEK_TRANSIT_ADDR", ""), "keep the KEK wrapped by a Vault/OpenBao transit engine at this address (TRESOR_KEK_TRANSIT_ADDR; token from TRESOR_KEK_TRANSIT_TOKEN or _FILE)")
	fs.StringVar(&cfg.transitKey, "kek-transit-key", m.env("TRESOR_KEK_TRANSIT_KEY", "tresor"), "name of the transit key (TRESOR_KEK_TRANSIT_KEY)")
}

// kekConfig is the configured source of the key-encryption key.
func (m *Main) kekConfig(cfg *config) (datadir.KEKConfig, error) {
	switch {
	case cfg.transitAddr != "":
		token, err := m.secret("TRESOR_KEK_TRANSIT_TOKEN", strings.TrimSpace)
		if err != nil {
			return datadir.KEKConfig{}, err
		}
		if token == "" {
			return datadir.KEKConfig{}, errors.New("the transit KMS needs a token: TRESOR_KEK_TRANSIT_TOKEN or TRESOR_KEK_TRANSIT_TOKEN_FILE")
		}
		return datadir.KEKConfig{TransitAddr: cfg.transitAddr, TransitToken: token, TransitKey: cfg.transitKey,
			TransitNamespace: m.Getenv("TRESOR_KEK_TRANSIT_NAMESPACE")}, nil
	case m.Getenv("TRESOR_KEK") != "":
		if cfg.kekFile != "" {
			return datadir.KEKConfig{}, errors.New("TRESOR_KEK and --kek-file (TRESOR_KEK_FILE) exclude each other")
		}
		return datadir.KEKConfig{EnvName: "TRESOR_KEK", Getenv: m.Getenv}, nil
	}
	return datadir.KEKConfig{File: cfg.kekFile}, nil
}

// dataProtection is the context of the CLI's data-protection duties: the
// system, declaring the purpose that sees restricted contacts.
func dataProtection(ctx context.Context) context.Context {
	return tresor.WithPurpose(system(ctx), "data_protection")
}

func (m *Main) erase(ctx context.Context, args []string) error {
	var cfg config
	var id, reason string
	fs := m.flags("erase", &cfg)
	fs.StringVar(&id, "contact", "", "id of the contact to erase")
	fs.StringVar(&reason, "reason", "", "why (a ticket number, say; no personal data)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" || reason == "" {
		return m.missing("tresor erase needs --contact ID and --reason TEXT")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		e, err := g.EraseContact(dataProtection(ctx), id, tresor.EraseRequest{Reason: reason})
		if err != nil {
			return err
		}
		r := e.Records
		fmt.Fprintf(m.Stdout, "erased %s at %s: its data key is destroyed\n", e.ContactID, e.ErasedAt.Format("2006-01-02 15:04:05Z07:00"))
		fmt.Fprintf(m.Stdout, "interactions: %d erased, %d anonymised, %d kept under a statutory period\n",
			r.Interactions, r.InteractionsAnonymised, r.InteractionsRetained)
		fmt.Fprintf(m.Stdout, "cases: %d erased, %d anonymised; deals detached: %d; consent events erased: %d\n",
			r.Cases, r.CasesAnonymised, r.DealsDetached, r.ConsentEvents)
		return nil
	})
}

func (m *Main) holdPlace(ctx context.Context, args []string) error {
	var cfg config
	var id, reason string
	fs := m.flags("hold place", &cfg)
	fs.StringVar(&id, "contact", "", "id of the contact to hold")
	fs.StringVar(&reason, "reason", "", "why (a case or file number; no personal data)")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" || reason == "" {
		return m.missing("tresor hold place needs --contact ID and --reason TEXT")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		h, err := g.PlaceHold(dataProtection(ctx), id, reason)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, h.ID)
		return nil
	})
}

func (m *Main) holdRelease(ctx context.Context, args []string) error {
	var cfg config
	var id string
	fs := m.flags("hold release", &cfg)
	fs.StringVar(&id, "id", "", "id of the legal hold")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" {
		return m.missing("tresor hold release needs --id ID")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		_, err := g.ReleaseHold(dataProtection(ctx), id)
		return err
	})
}

func (m *Main) holdList(ctx context.Context, args []string) error {
	var cfg config
	var id string
	fs := m.flags("hold list", &cfg)
	fs.StringVar(&id, "contact", "", "id of the contact")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if id == "" {
		return m.missing("tresor hold list needs --contact ID")
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		hs, err := g.Holds(dataProtection(ctx), id)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPLACED\tBY\tRELEASED\tREASON")
		for _, h := range hs {
			released := "-"
			if h.ReleasedAt != nil {
				released = h.ReleasedAt.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.ID, h.PlacedAt.Format("2006-01-02"), h.PlacedBy, released, h.Reason)
		}
		return tw.Flush()
	})
}

func (m *Main) retentionRun(ctx context.Context, args []string) error {
	var cfg config
	var dry, asJSON bool
	fs := m.flags("retention run", &cfg)
	fs.BoolVar(&dry, "dry-run", false, "report what would be erased or removed, and change nothing")
	fs.BoolVar(&asJSON, "json", false, "print the whole report as JSON")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		rep, err := g.RunRetention(dataProtection(ctx), dry)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(m.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		printRetention(m.Stdout, rep)
		if len(rep.Errors) > 0 {
			return fmt.Errorf("retention: %d contacts failed; see above", len(rep.Errors))
		}
		return nil
	})
}

func printRetention(w io.Writer, rep *tresor.RetentionReport) {
	verb := func(done, would string) string {
		if rep.DryRun {
			return would
		}
		return done
	}
	fmt.Fprintf(w, "retention run %s%s: %d contacts checked\n", rep.ID, verb("", " (dry run: nothing changed)"), rep.Checked)
	fmt.Fprintf(w, "%s: %d contacts\n", verb("erased", "would erase"), len(rep.Erased))
	for _, a := range rep.Erased {
		fmt.Fprintf(w, "  %s  %s\n", a.ContactID, a.Rule)
	}
	fmt.Fprintf(w, "%s: %d contacts\n", verb("removed expired categories from", "would remove expired categories from"), len(rep.Stripped))
	for _, a := range rep.Stripped {
		fmt.Fprintf(w, "  %s  %s\n", a.ContactID, a.Rule)
	}
	fmt.Fprintf(w, "%s: %d retained records whose statutory period ended\n", verb("erased", "would erase"), rep.RecordsExpired)
	fmt.Fprintf(w, "kept by a legal hold: %d contacts\n", len(rep.Held))
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

func (m *Main) keysStatus(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("keys status", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		st, err := g.KeyStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "key-encryption key: %s\n", st.Source)
		fmt.Fprintf(m.Stdout, "current version: %d (versions held: %s)\n", st.Current, intList(st.Versions))
		var vs []int
		for v := range st.DataKeys {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		for _, v := range vs {
			fmt.Fprintf(m.Stdout, "data keys under version %d: %d\n", v, st.DataKeys[v])
		}
		if st.Pending > 0 {
			fmt.Fprintf(m.Stdout, "a rotation is unfinished: %d data keys under older versions; run tresor keys rotate\n", st.Pending)
		}
		return nil
	})
}

func intList(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

func (m *Main) keysRotate(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("keys rotate", &cfg)
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		rep, err := g.RotateKEK(system(ctx), func(done int) {
			if done%100000 < 2000 {
				fmt.Fprintf(m.Stderr, "re-wrapped %d data keys\n", done)
			}
		})
		if err != nil {
			if rep != nil && rep.Rewrapped > 0 {
				return fmt.Errorf("%w (re-wrapped %d data keys before; run tresor keys rotate again to resume)", err, rep.Rewrapped)
			}
			return err
		}
		if rep.Added {
			fmt.Fprintf(m.Stdout, "added key-encryption key version %d\n", rep.To[0])
		}
		fmt.Fprintf(m.Stdout, "re-wrapped %d data keys under version %d in %s; the data was not touched\n",
			rep.Rewrapped, rep.To[0], rep.Duration.Round(1e6))
		if rep.Pending > 0 {
			fmt.Fprintf(m.Stdout, "%d data keys were written under an older version meanwhile; run tresor keys rotate again\n", rep.Pending)
		}
		fmt.Fprintln(m.Stdout, "back up the keys now (tresor keys backup FILE): backups made from now on need the new version")
		return nil
	})
}

func (m *Main) keysGenerate(ctx context.Context, args []string) error {
	if helpAsked(args) {
		fmt.Fprintln(m.Stderr, "tresor keys generate: print a new random key (base64), e.g. for TRESOR_KEK")
		return nil
	}
	fmt.Fprintln(m.Stdout, datadir.GenerateKey())
	return nil
}

// passphrase reads the passphrase of a key backup from the environment, a
// file, or the first line of standard input.
func (m *Main) passphrase(stdin io.Reader) (string, error) {
	// Spaces belong to a passphrase: only the file's line end is dropped.
	p, err := m.secret("TRESOR_KEYS_PASSPHRASE", func(s string) string { return strings.TrimRight(s, "\r\n") })
	if err != nil || p != "" {
		return p, err
	}
	fmt.Fprint(m.Stderr, "passphrase of the key backup: ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no passphrase: set TRESOR_KEYS_PASSPHRASE(_FILE) or type it")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (m *Main) keysBackup(ctx context.Context, args []string) error {
	var cfg config
	fs := m.flags("keys backup", &cfg)
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor keys backup needs a FILE")
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	pass, err := m.passphrase(os.Stdin)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key backup: %w", err)
	}
	versions, err := datadir.ExportKeys(ctx, f, pass, cfg.gateConfig(false))
	if err != nil {
		f.Close()
		os.Remove(file)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote the key backup (versions %s, index and link keys), encrypted with the passphrase; keep it apart from data backups\n", intList(versions))
	return nil
}

func (m *Main) keysRestore(ctx context.Context, args []string) error {
	var cfg config
	var force bool
	fs := m.flags("keys restore", &cfg)
	fs.BoolVar(&force, "force", false, "replace key files that exist and differ")
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor keys restore needs a FILE")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	pass, err := m.passphrase(os.Stdin)
	if err != nil {
		return err
	}
	versions, err := datadir.ImportKeys(f, pass, cfg.gateConfig(false), force)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "restored the key-encryption key (versions %s) and the index and link keys into the key directory\n", intList(versions))
	return nil
}

// parseFile parses a command of the form "CMD FILE [flags]" or
// "CMD [flags] FILE" and returns FILE ("" if none was given).
func (m *Main) parseFile(fs *flag.FlagSet, cfg *config, args []string) (string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], m.parse(fs, cfg, args[1:])
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(m.Stderr, "tresor %s: unexpected argument %q\n", fs.Name(), fs.Arg(1))
		return "", errUsage
	}
	return fs.Arg(0), m.parse(fs, cfg, nil)
}

// recipientsFlag collects repeated --recipient flags.
type recipientsFlag []string

func (r *recipientsFlag) String() string     { return strings.Join(*r, ",") }
func (r *recipientsFlag) Set(s string) error { *r = append(*r, s); return nil }

func (m *Main) backupCreate(ctx context.Context, args []string) error {
	var cfg config
	var recipients recipientsFlag
	fs := m.flags("backup create", &cfg)
	m.keyBackupFlags(fs, &cfg)
	fs.Var(&recipients, "recipient", "age public key (age1…) or file of them that may restore the backup; repeatable (TRESOR_BACKUP_RECIPIENTS, comma-separated)")
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor backup create needs a FILE")
	}
	if len(recipients) == 0 {
		if env := m.Getenv("TRESOR_BACKUP_RECIPIENTS"); env != "" {
			recipients = strings.Split(env, ",")
		}
	}
	if _, err := parseKeep(cfg.keyBackupKeep); err != nil {
		return err
	}
	gcfg := cfg.gateConfig(false)
	return m.withGate(ctx, cfg, func(g *gate.Gate) error {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		var keyFile string
		man, err := g.CreateBackup(system(ctx), f, recipients, cfg.dataDir, tresor.Version, datadir.KeyBackups(gcfg, recipients, &keyFile))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(file)
			return err
		}
		fmt.Fprintf(m.Stdout, "backup of the %s database (schema %d, %d bytes, sha256 %s…) encrypted to %d recipient(s); it holds no key\n",
			man.Backend, man.SchemaVersion, man.Database.Size, man.Database.SHA256[:16], man.Recipients)
		sealed := "sealed under its own key in the key directory, destroyed with it"
		if gcfg.KeyBackupUnsealed {
			sealed = "not sealed (TRESOR_KEY_BACKUP_SEAL=false): delete copies of it within the window yourself"
		}
		keep, _ := parseKeep(cfg.keyBackupKeep)
		fmt.Fprintf(m.Stdout, "its %d data keys are in the key backup %s, encrypted to the same recipient(s), %s; kept %s, then deleted: "+
			"after that nobody erased before can be read from any backup\n", man.DataKeys, keyFile, sealed, keep)
		return nil
	})
}

// identity is the file of the age identity of verify and restore.
func (m *Main) identity(path string) (string, error) {
	if path == "" {
		path = m.Getenv("TRESOR_BACKUP_IDENTITY_FILE")
	}
	if path == "" {
		return "", errors.New("the backup's identity is needed: --identity FILE (TRESOR_BACKUP_IDENTITY_FILE), from tresor backup keygen")
	}
	return path, nil
}

func (m *Main) backupVerify(ctx context.Context, args []string) error {
	var cfg config
	var idFile string
	var asJSON bool
	var keysFile string
	fs := m.flags("backup verify", &cfg)
	m.keyBackupFlags(fs, &cfg)
	fs.StringVar(&keysFile, "keys", "", "the key backup to pair it with (default: the newest in the key-backup directory)")
	fs.StringVar(&idFile, "identity", "", "file of the age identity the backup was encrypted to (TRESOR_BACKUP_IDENTITY_FILE)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor backup verify needs a FILE")
	}
	ids, err := m.identity(idFile)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	kr, kerr := datadir.OpenKEK(ctx, cfg.gateConfig(false))
	if kerr != nil {
		fmt.Fprintf(m.Stderr, "the key-encryption key is not at hand (%v): the data keys are counted, not unwrapped\n", kerr)
		kr = nil
	}
	rep, err := datadir.VerifyBackupWith(ctx, f, ids, keysFile, cfg.gateConfig(false), kr)
	if err != nil {
		return fmt.Errorf("backup verify: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		man := rep.Manifest
		fmt.Fprintf(m.Stdout, "decrypted and hashed: ok (%s backup of %s, %d bytes)\n", man.Backend, man.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), man.Database.Size)
		fmt.Fprintf(m.Stdout, "restored into a temporary place; integrity: %s; schema %d (this Tresor knows %d)\n", rep.Integrity, rep.SchemaVersion, rep.KnownSchema)
		if rep.OldFormat {
			fmt.Fprintln(m.Stdout, "old format: the backup still carries its data keys (made before key backups); erasures reach it only through backup restore")
		} else if rep.KeyBackup != "" {
			own := "a later key backup than its own"
			if rep.OwnKeyBackup {
				own = "its own key backup"
			}
			fmt.Fprintf(m.Stdout, "paired with the key backup %s (%s): %d people or records unreadable (erased since, no key)\n", rep.KeyBackup, own, rep.UnreadableCount)
		}
		if rep.KeysChecked {
			fmt.Fprintf(m.Stdout, "data keys: %d, of which %d unwrap with the key-encryption key at hand\n", rep.DataKeys, rep.KeysOpened)
		} else {
			fmt.Fprintf(m.Stdout, "data keys: %d (not unwrapped: no matching key-encryption key at hand)\n", rep.DataKeys)
		}
		if a := rep.Audit; a != nil && a.Problem == "" {
			fmt.Fprintf(m.Stdout, "audit trail: intact, %d entries, %d signed checkpoints matched\n", a.Entries, a.Checkpoints)
		} else if a == nil {
			fmt.Fprintln(m.Stdout, "audit trail: not checked (no audit signing key at hand, or a backup from before the audit trail)")
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(m.Stdout, "problem: %s\n", p)
		}
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("backup verify: %d problems", len(rep.Problems))
	}
	return nil
}

func (m *Main) backupRestore(ctx context.Context, args []string) error {
	var cfg config
	var idFile string
	var keysFile string
	fs := m.flags("backup restore", &cfg)
	m.keyBackupFlags(fs, &cfg)
	fs.StringVar(&keysFile, "keys", "", "the key backup to take the data keys from (default: the newest in the key-backup directory)")
	fs.StringVar(&idFile, "identity", "", "file of the age identity the backup was encrypted to (TRESOR_BACKUP_IDENTITY_FILE)")
	file, err := m.parseFile(fs, &cfg, args)
	if err != nil {
		return err
	}
	if file == "" {
		return m.missing("tresor backup restore needs a FILE")
	}
	ids, err := m.identity(idFile)
	if err != nil {
		return err
	}
	if cfg.kek, err = m.kekConfig(&cfg); err != nil {
		return err
	}
	gcfg := cfg.gateConfig(true)
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return err
	}
	release, err := datadir.Lock(gcfg)
	if err != nil {
		return err
	}
	defer release()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	pol, err := cfg.loadPolicy()
	if err != nil {
		return err
	}
	rep, err := datadir.RestoreBackupWith(ctx, f, ids, keysFile, gcfg, gate.WithPolicy(pol))
	if err != nil {
		return fmt.Errorf("backup restore: %w", err)
	}
	fmt.Fprintf(m.Stdout, "restored the %s backup of %s (schema %d)\n", rep.Manifest.Backend,
		rep.Manifest.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), rep.Manifest.SchemaVersion)
	if rep.OldFormat {
		fmt.Fprintln(m.Stdout, "old format: the backup carried its own data keys")
	} else {
		fmt.Fprintf(m.Stdout, "data keys from the key backup %s: %d put back; %d people or records have no key there and stay unreadable (erased after it was made)\n",
			rep.KeyBackup, rep.KeysImported, rep.UnreadableCount)
		for _, s := range rep.Unreadable {
			fmt.Fprintf(m.Stdout, "unreadable: %s\n", s)
		}
	}
	fmt.Fprintf(m.Stdout, "erased again: %d people erased after the backup was made; suppression list entries restored: %d\n", rep.Reerased, rep.Resuppressed)
	if rep.Previous != "" {
		fmt.Fprintf(m.Stdout, "the replaced database is kept as %s; delete it once you have checked the restore\n", rep.Previous)
	}
	return nil
}

func (m *Main) backupPrune(ctx context.Context, args []string) error {
	var cfg config
	var asJSON bool
	fs := m.flags("backup prune", &cfg)
	m.keyBackupFlags(fs, &cfg)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := m.parse(fs, &cfg, args); err != nil {
		return err
	}
	if _, err := parseKeep(cfg.keyBackupKeep); err != nil {
		return err
	}
	rep, err := datadir.PruneKeyBackups(cfg.gateConfig(false))
	if err != nil {
		return fmt.Errorf("backup prune: %w", err)
	}
	if asJSON {
		return json.NewEncoder(m.Stdout).Encode(rep)
	}
	for _, r := range rep.Removed {
		fmt.Fprintf(m.Stdout, "deleted the key backup %s\n", r)
	}
	fmt.Fprintf(m.Stdout, "key backups older than %s: %d deleted, %d of their keys destroyed; %d kept\n", rep.Keep, len(rep.Removed), rep.KeysDestroyed, rep.Kept)
	return nil
}

func (m *Main) backupKeygen(ctx context.Context, args []string) error {
	var out string
	fs := flag.NewFlagSet("tresor backup keygen", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&out, "identity-file", "", "file to write the new age identity to (mode 0600); keep it apart from the backups")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if out == "" {
		return m.missing("tresor backup keygen needs --identity-file FILE")
	}
	secret, recipient, err := datadir.NewBackupIdentity()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("identity file: %w", err)
	}
	if _, err := fmt.Fprintf(f, "# Tresor backup identity; public key %s\n%s\n", recipient, secret); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, recipient)
	return nil
}

// missing reports missing arguments like a flag error: usage, exit code 2.
func (m *Main) missing(msg string) error {
	fmt.Fprintln(m.Stderr, msg)
	return errUsage
}
