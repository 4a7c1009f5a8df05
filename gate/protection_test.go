package gate_test

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
	"tresor/vault"
)

// distinctive are strings that occur nowhere but in the personal data of
// the test person: if one of them is found at rest, it leaked.
var distinctive = []string{"Quirinalia", "Zwetschgenbaum", "quirinalia.zwetschgenbaum@example.org", "98765432",
	"Kirschblütenweg", "Xylophonvertrag", "Hummelflug", "203.0.113.77", "@zwetschge"}

func quirinalia() *tresor.Contact {
	return &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Quirinalia", FamilyName: "Zwetschgenbaum",
		Emails: []string{"Quirinalia.Zwetschgenbaum@example.org"}, Phones: []string{"+49 30 98765432"},
		PostalAddress: &tresor.PostalAddress{Street: "Kirschblütenweg 7", PostalCode: "10115", City: "Berlin", Country: "DE"},
		SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@zwetschge@social.example"}}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

// storePerson writes the person with an interaction, a case and a consent
// confirmed from an address, and checks that the gate reads them back.
func storePerson(t *testing.T, g *gate.Gate) *tresor.Contact {
	t.Helper()
	ctx := tresor.WithPurpose(system(), "sales")
	c := quirinalia()
	must(t, g.CreateContact(ctx, c))
	must(t, g.CreateInteraction(ctx, &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionInbound, ContactID: c.ID,
		InteractionContent: tresor.InteractionContent{Subject: "Xylophonvertrag", Body: "Bitte den Xylophonvertrag senden."},
		Collection:         tresor.Collection{LegalBasis: tresor.BasisContract}}))
	must(t, g.CreateCase(tresor.WithPurpose(system(), "service"), &tresor.Case{Channel: tresor.ChannelEmail, ContactID: c.ID,
		CaseContent: tresor.CaseContent{Subject: "Hummelflug", Description: "Der Hummelflug fiel aus."},
		Collection:  tresor.Collection{LegalBasis: tresor.BasisContract}}))
	_, err := g.RecordConsent(tresor.WithPurpose(system(), "marketing"), c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email",
		Action: tresor.ConsentGrant, Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1", IP: "203.0.113.77"}})
	must(t, err)
	got, err := g.Contact(ctx, c.ID)
	must(t, err)
	if got.FamilyName != "Zwetschgenbaum" || got.PostalAddress == nil || got.PostalAddress.Street != "Kirschblütenweg 7" {
		t.Fatalf("read back: %+v", got.ContactDetails)
	}
	h, err := g.Consents(tresor.WithPurpose(system(), "marketing"), c.ID)
	must(t, err)
	if len(h.Events) != 1 || h.Events[0].IP != "203.0.113.77" {
		t.Fatalf("consent proof read back: %+v", h.Events)
	}
	return c
}

// leaks returns the distinctive strings found in b, ignoring case.
func leaks(b []byte) []string {
	low := bytes.ToLower(b)
	var out []string
	for _, s := range distinctive {
		if bytes.Contains(low, []byte(strings.ToLower(s))) {
			out = append(out, s)
		}
	}
	return out
}

func readAll(t *testing.T, paths ...string) []byte {
	t.Helper()
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// backupOf makes a backup to a new identity and returns the file and the
// identity file.
func backupOf(t *testing.T, g *gate.Gate, dir string) (string, string) {
	t.Helper()
	secret, recipient, err := datadir.NewBackupIdentity()
	must(t, err)
	idFile := filepath.Join(t.TempDir(), "identity")
	must(t, os.WriteFile(idFile, []byte(secret+"\n"), 0o600))
	file := filepath.Join(t.TempDir(), "backup.age")
	f, err := os.Create(file)
	must(t, err)
	_, err = g.CreateBackup(system(), f, []string{recipient}, dir, "test", datadir.KeyBackups(datadir.Config{DataDir: dir}, []string{recipient}, nil))
	must(t, err)
	must(t, f.Close())
	return file, idFile
}

// decrypted is a backup's plaintext: what whoever holds the backup key sees.
func decrypted(t *testing.T, file, idFile string) []byte {
	t.Helper()
	ids, err := vault.ReadIdentities(idFile)
	must(t, err)
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	r, err := vault.DecryptBackup(f, ids)
	must(t, err)
	b, err := io.ReadAll(r)
	must(t, err)
	return b
}

// TestNothingPersonalAtRest: after storing a person with distinctive data,
// none of it is in the SQLite file, its write-ahead log, a PostgreSQL dump,
// or a backup — not even in the backup's decrypted content.
func TestNothingPersonalAtRest(t *testing.T) {
	if leaks([]byte(`{"family_name":"Zwetschgenbaum"}`)) == nil {
		t.Fatal("the leak detector finds nothing") // the test can fail
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
		storePerson(t, g)
		db := filepath.Join(dir, datadir.DatabaseFile)
		if found := leaks(readAll(t, db, db+"-wal", db+"-shm")); found != nil {
			t.Fatalf("the database file or its WAL holds %v", found)
		}
		file, idFile := backupOf(t, g, dir)
		if found := leaks(readAll(t, file)); found != nil {
			t.Fatalf("the backup holds %v", found)
		}
		plain := decrypted(t, file, idFile)
		if !bytes.Contains(plain, []byte("SQLite format 3")) || !bytes.Contains(plain, []byte("Qualified")) {
			t.Fatal("the decrypted backup holds no SQLite database")
		}
		if found := leaks(plain); found != nil {
			t.Fatalf("the decrypted backup holds %v", found)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dir := t.TempDir()
		g := openGate(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: dir, Migrate: true})
		storePerson(t, g)
		file, idFile := backupOf(t, g, dir)
		plain := decrypted(t, file, idFile) // a pg_dump archive, uncompressed
		// Uncompressed, so that plain text would show: the default pipeline's stages do.
		if !bytes.Contains(plain, []byte("PGDMP")) || !bytes.Contains(plain, []byte("data_keys")) || !bytes.Contains(plain, []byte("Qualified")) {
			t.Fatal("the decrypted backup holds no readable pg_dump archive of Tresor's tables")
		}
		if found := leaks(plain); found != nil {
			t.Fatalf("the PostgreSQL dump holds %v", found)
		}
	})
}

// TestErasureReachesOlderBackups: a backup taken before an erasure and
// restored after it does not bring the person back, from the database's
// journal or, when the database is lost, from the journal file.
func TestErasureReachesOlderBackups(t *testing.T) {
	for _, lost := range []bool{false, true} {
		name := "database kept"
		if lost {
			name = "database lost"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := datadir.Config{DataDir: dir, Migrate: true}
			g, err := datadir.Open(bg, cfg)
			must(t, err)
			erased := storePerson(t, g)
			kept := erika()
			must(t, g.CreateContact(tresor.WithPurpose(system(), "sales"), kept))
			file, idFile := backupOf(t, g, dir)
			dpo := tresor.WithPurpose(system(), "data_protection")
			e, err := g.EraseContact(dpo, erased.ID, tresor.EraseRequest{Reason: "request 2026-117"})
			must(t, err)
			if e.Records.Interactions != 1 || e.Records.CasesAnonymised != 1 || e.Records.ConsentEvents != 1 {
				t.Fatalf("erasure counts: %+v", e.Records)
			}
			must(t, g.Close())
			if lost {
				for _, ext := range []string{"", "-wal", "-shm"} {
					os.Remove(filepath.Join(dir, datadir.DatabaseFile+ext))
				}
			}

			f, err := os.Open(file)
			must(t, err)
			rep, err := datadir.RestoreBackup(bg, f, idFile, cfg)
			f.Close()
			must(t, err)
			if rep.Reerased != 1 {
				t.Fatalf("re-erased %d, want 1", rep.Reerased)
			}
			g = openGate(t, cfg)
			_, err = g.Contact(tresor.WithPurpose(system(), "sales"), erased.ID)
			wantCode(t, err, tresor.ECErased)
			if _, err := g.Contact(tresor.WithPurpose(system(), "sales"), kept.ID); err != nil {
				t.Fatalf("the other contact: %v", err)
			}
			// Nothing of the person is left to decrypt: no rows, no data key.
			raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
			must(t, err)
			defer raw.Close()
			for _, q := range []string{"SELECT count(*) FROM contacts WHERE id = ?", "SELECT count(*) FROM data_keys WHERE subject = ?",
				"SELECT count(*) FROM interactions WHERE contact_id = ?", "SELECT count(*) FROM consent_events WHERE contact_id = ?",
				"SELECT count(*) FROM contact_lookup WHERE contact_id = ?"} {
				var n int
				must(t, raw.QueryRow(q, erased.ID).Scan(&n))
				if n != 0 {
					t.Fatalf("%s: %d rows after the restore", q, n)
				}
			}
		})
	}
}

// TestKEKMissingOrWrong: a database with sealed data never starts without
// its key, and never gets a new key over its data.
func TestKEKMissingOrWrong(t *testing.T) {
	dir := t.TempDir()
	cfg := datadir.Config{DataDir: dir, Migrate: true}
	g, err := datadir.Open(bg, cfg)
	must(t, err)
	c := storePerson(t, g)
	must(t, g.Close())
	kekFile := filepath.Join(dir, "keys", datadir.KEKFile)
	original, err := os.ReadFile(kekFile)
	must(t, err)

	must(t, os.Remove(kekFile))
	_, err = datadir.Open(bg, cfg)
	if err == nil || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), "never creates a new key") {
		t.Fatalf("without its key: %v", err)
	}
	if _, err := os.Stat(kekFile); !os.IsNotExist(err) {
		t.Fatal("a new key file was created over existing data")
	}

	must(t, os.WriteFile(kekFile, vault.FormatKeyLines(map[int][]byte{1: vault.RandomKey()}), 0o600))
	_, err = datadir.Open(bg, cfg)
	if err == nil || !strings.Contains(err.Error(), "is not the one this database was sealed with") {
		t.Fatalf("with a wrong key: %v", err)
	}

	must(t, os.WriteFile(kekFile, original, 0o600))
	must(t, os.Chmod(kekFile, 0o644))
	_, err = datadir.Open(bg, cfg)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("with a key file others may read: %v", err)
	}
	must(t, os.Chmod(kekFile, 0o600))
	g = openGate(t, cfg)
	got, err := g.Contact(tresor.WithPurpose(system(), "sales"), c.ID)
	must(t, err)
	if got.GivenName != "Quirinalia" {
		t.Fatalf("read with the right key: %+v", got.ContactDetails)
	}
}

// TestKEKFromTheEnvironment: the key may come from an environment variable
// instead of a file; the database checks it the same way.
func TestKEKFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"K": "1:" + datadir.GenerateKey()}
	cfg := datadir.Config{DataDir: dir, Migrate: true, KEK: datadir.KEKConfig{EnvName: "K", Getenv: func(k string) string { return env[k] }}}
	g, err := datadir.Open(bg, cfg)
	must(t, err)
	c := storePerson(t, g)
	must(t, g.Close())
	if _, err := os.Stat(filepath.Join(dir, "keys", datadir.KEKFile)); !os.IsNotExist(err) {
		t.Fatal("a key file was written although the key comes from the environment")
	}
	env["K"] = datadir.GenerateKey() // another key as version 1
	if _, err := datadir.Open(bg, cfg); err == nil {
		t.Fatal("opened with another key")
	}
	env["K"] = ""
	if _, err := datadir.Open(bg, cfg); err == nil || !strings.Contains(err.Error(), "holds no key") {
		t.Fatalf("without the variable: %v", err)
	}
	_ = c
}

// flip changes one byte of a column of one row, directly in the SQLite file.
func flip(t *testing.T, dir, table, column, key, id string) {
	t.Helper()
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	must(t, err)
	defer raw.Close()
	var b []byte
	must(t, raw.QueryRow("SELECT "+column+" FROM "+table+" WHERE "+key+" = ?", id).Scan(&b))
	b[len(b)/2] ^= 0x01
	_, err = raw.Exec("UPDATE "+table+" SET "+column+" = ? WHERE "+key+" = ?", b, id)
	must(t, err)
}

// TestChangedBytesDamageOneRecord: a flipped byte in a sealed field or in a
// wrapped key makes that record an error — its plain fields are still
// listed, marked damaged — and nothing else fails.
func TestChangedBytesDamageOneRecord(t *testing.T) {
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	ctx := tresor.WithPurpose(system(), "sales")
	var ids []string
	for i := 0; i < 3; i++ {
		c := erika()
		c.Emails = []string{strings.Repeat("x", i+1) + "@example.org"}
		must(t, g.CreateContact(ctx, c))
		ids = append(ids, c.ID)
	}
	flip(t, dir, "contacts", "sealed", "id", ids[0])
	flip(t, dir, "data_keys", "wrapped", "subject", ids[1])
	for _, id := range ids[:2] {
		_, err := g.Contact(ctx, id)
		wantCode(t, err, tresor.ECDamaged)
		if !strings.Contains(tresor.AsError(err).Message, id) {
			t.Fatalf("the error does not name the record: %v", err)
		}
	}
	if c, err := g.Contact(ctx, ids[2]); err != nil || c.FamilyName != "Mustermann" {
		t.Fatalf("an untouched record: %v", err)
	}
	l, err := g.Contacts(ctx, tresor.ContactFilter{})
	must(t, err)
	if len(l.Items) != 3 {
		t.Fatalf("listed %d contacts, want 3", len(l.Items))
	}
	for _, c := range l.Items {
		damaged := c.ID != ids[2]
		if c.Damaged != damaged || (damaged && c.FamilyName != "") || (!damaged && c.FamilyName != "Mustermann") {
			t.Fatalf("contact %s: damaged=%v name=%q", c.ID, c.Damaged, c.FamilyName)
		}
	}
	// A damaged record can still be erased.
	must(t, g.DeleteContact(ctx, ids[0], 0))
}

// TestBackupVerify: a good backup verifies (every data key unwraps with the
// key at hand); a changed byte anywhere in the file fails.
func TestBackupVerify(t *testing.T) {
	dir := t.TempDir()
	cfg := datadir.Config{DataDir: dir, Migrate: true}
	g := openGate(t, cfg)
	storePerson(t, g)
	file, idFile := backupOf(t, g, dir)
	kek, err := datadir.OpenKEK(bg, cfg)
	must(t, err)
	f, err := os.Open(file)
	must(t, err)
	rep, err := datadir.VerifyBackup(bg, f, idFile, cfg, kek)
	f.Close()
	must(t, err)
	if len(rep.Problems) != 0 || !rep.KeysChecked || rep.KeysOpened != rep.DataKeys || rep.DataKeys < 1 || rep.Integrity != "ok" ||
		rep.Audit == nil || rep.Audit.Entries == 0 || rep.Audit.Problem != "" {
		t.Fatalf("verify: %+v", rep)
	}
	// With another KEK the keys do not unwrap: a problem, not a pass.
	other, err := vault.NewKeyring(map[int][]byte{1: vault.RandomKey()})
	must(t, err)
	f, _ = os.Open(file)
	rep, err = datadir.VerifyBackup(bg, f, idFile, cfg, other)
	f.Close()
	must(t, err)
	if len(rep.Problems) == 0 {
		t.Fatal("a backup verified against the wrong key-encryption key")
	}

	b, err := os.ReadFile(file)
	must(t, err)
	for _, at := range []int{len(b) / 3, len(b) - 10} {
		tampered := bytes.Clone(b)
		tampered[at] ^= 0x20
		if _, err := datadir.VerifyBackup(bg, bytes.NewReader(tampered), idFile, cfg, kek); err == nil {
			t.Fatalf("a backup changed at byte %d of %d verified", at, len(b))
		}
	}
}

// TestErasure: legal holds refuse with their reason; a reason may not name
// the person; interactions are erased, statutory records kept apart under
// their own key and archived, cases anonymised; a tombstone answers.
func TestErasure(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales, dpo := e.g, e.ctx["sales"], e.ctx["data_protection"]
		c := erika()
		must(t, g.CreateContact(sales, c))
		note := &tresor.Interaction{Kind: tresor.KindNote, ContactID: c.ID, InteractionContent: tresor.InteractionContent{Body: "Notiz"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		letter := &tresor.Interaction{Kind: tresor.KindEmail, Direction: tresor.DirectionOutbound, ContactID: c.ID, RetentionClass: "business_letter",
			InteractionContent: tresor.InteractionContent{Subject: "Angebot 42", Body: "Unser Angebot"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateInteraction(sales, note))
		must(t, g.CreateInteraction(sales, letter))
		if letter.RetainUntil == nil || letter.RetainUntil.Year() != e.clock.now().Year()+7 {
			t.Fatalf("retain_until of a business letter made in %d: %v", e.clock.now().Year(), letter.RetainUntil)
		}
		k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: c.ID, CaseContent: tresor.CaseContent{Subject: "Reklamation"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateCase(e.ctx["service"], k))
		wantCode(t, g.CreateInteraction(sales, &tresor.Interaction{Kind: tresor.KindNote, RetentionClass: "tax",
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}), tresor.ECValidation)

		_, err := g.EraseContact(sales, c.ID, tresor.EraseRequest{Reason: "ticket 1"})
		wantCode(t, err, tresor.ECForbidden)
		h, err := g.PlaceHold(dpo, c.ID, "Klage 3 O 12/26")
		must(t, err)
		_, err = g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "ticket 1"})
		wantCode(t, err, tresor.ECLegalHold)
		if !strings.Contains(tresor.AsError(err).Message, "Klage 3 O 12/26") || tresor.AsError(err).MessageDE == "" {
			t.Fatalf("the refusal does not give the hold's reason: %v", err)
		}
		wantCode(t, g.DeleteContact(sales, c.ID, 0), tresor.ECLegalHold)
		_, err = g.ReleaseHold(dpo, h.ID)
		must(t, err)
		_, err = g.ReleaseHold(dpo, h.ID)
		wantCode(t, err, tresor.ECConflict)
		_, err = g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "Frau Mustermann schrieb am 1.11."})
		wantCode(t, err, tresor.ECReasonUnsafe)

		er, err := g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "request 2026-9"})
		must(t, err)
		want := tresor.ErasedRecords{Interactions: 1, InteractionsRetained: 1, CasesAnonymised: 1}
		if er.Records != want {
			t.Fatalf("erased records %+v, want %+v", er.Records, want)
		}
		_, err = g.Contact(sales, c.ID)
		wantCode(t, err, tresor.ECErased)
		_, err = g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "again"})
		wantCode(t, err, tresor.ECErased)
		tomb, err := g.ContactErasure(dpo, c.ID)
		must(t, err)
		if tomb.Reason != "request 2026-9" || tomb.Origin != tresor.ErasureRequest {
			t.Fatalf("tombstone %+v", tomb)
		}
		_, err = g.Interaction(sales, note.ID)
		wantCode(t, err, tresor.ECNotFound)
		// The business letter stays for its statutory period: archived,
		// without the person, readable only under data protection.
		_, err = g.Interaction(sales, letter.ID)
		wantCode(t, err, tresor.ECArchived)
		kept, err := g.Interaction(dpo, letter.ID)
		must(t, err)
		if kept.ContactID != "" || kept.Body != "Unser Angebot" || kept.ArchivedAt == nil {
			t.Fatalf("the retained letter: %+v", kept)
		}
		anon, err := g.Case(e.ctx["service"], k.ID)
		must(t, err)
		if anon.ContactID != "" || anon.Subject != "" || anon.Status != tresor.CaseNew {
			t.Fatalf("the anonymised case: %+v", anon)
		}

		// When the floor ends, retention erases the letter.
		rep, err := g.RunRetention(dpo, false)
		must(t, err)
		if rep.RecordsExpired != 0 {
			t.Fatalf("expired %d records before their floor", rep.RecordsExpired)
		}
		e.clock.advance(8 * 366 * 24 * time.Hour)
		rep, err = g.RunRetention(dpo, true)
		must(t, err)
		if rep.RecordsExpired != 1 {
			t.Fatalf("dry run: %d records expired, want 1", rep.RecordsExpired)
		}
		if _, err := g.Interaction(dpo, letter.ID); err != nil {
			t.Fatalf("a dry run erased: %v", err)
		}
		rep, err = g.RunRetention(dpo, false)
		must(t, err)
		if rep.RecordsExpired != 1 {
			t.Fatalf("%d records expired, want 1", rep.RecordsExpired)
		}
		_, err = g.Interaction(dpo, letter.ID)
		wantCode(t, err, tresor.ECNotFound)
	})
}

// TestRetention: data outlives its purpose's period and goes — a category
// with a shorter period first, then the whole person; a legal hold keeps a
// person; a closed customer relation counts from its end; a dry run
// changes nothing.
func TestRetention(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, dpo := e.g, e.ctx["data_protection"]
		day := 24 * time.Hour
		mk := &tresor.Contact{ContactDetails: tresor.ContactDetails{FamilyName: "Werbung", Emails: []string{"w@example.org"}, Position: "CMO"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisConsent}}
		must(t, g.CreateContact(e.ctx["marketing"], mk))
		sale := erika()
		must(t, g.CreateContact(e.ctx["sales"], sale))
		held := erika()
		held.Emails = []string{"held@example.org"}
		must(t, g.CreateContact(e.ctx["sales"], held))
		_, err := g.PlaceHold(dpo, held.ID, "Betriebsprüfung 2026")
		must(t, err)
		closed := erika()
		closed.Emails = []string{"closed@example.org"}
		must(t, g.CreateContact(e.ctx["sales"], closed))

		e.clock.advance(400 * day)
		// Closing the relation archives it: read-only, seen only under data protection.
		out, err := g.CloseContact(e.ctx["sales"], closed.ID)
		must(t, err)
		if out != nil {
			t.Fatal("sales sees the archived contact")
		}
		_, err = g.Contact(e.ctx["sales"], closed.ID)
		wantCode(t, err, tresor.ECArchived)
		arch, err := g.Contact(dpo, closed.ID)
		must(t, err)
		if arch.ArchivedAt == nil {
			t.Fatal("not archived")
		}
		_, err = g.UpdateContact(dpo, closed.ID, tresor.Update{Patch: []byte(`{"position":"x"}`)})
		wantCode(t, err, tresor.ECArchived)
		wantCode(t, g.CreateInteraction(e.ctx["sales"], &tresor.Interaction{Kind: tresor.KindNote, ContactID: closed.ID,
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}), tresor.ECArchived)
		l, err := g.Contacts(e.ctx["sales"], tresor.ContactFilter{})
		must(t, err)
		for _, c := range l.Items {
			if c.ID == closed.ID {
				t.Fatal("sales lists the archived contact")
			}
		}

		// Day 400: the marketing position (365 days) has expired.
		rep, err := g.RunRetention(dpo, true)
		must(t, err)
		if len(rep.Stripped) != 1 || rep.Stripped[0].ContactID != mk.ID || len(rep.Erased) != 0 {
			t.Fatalf("dry run at day 400: %+v", rep)
		}
		if c, _ := g.Contact(dpo, mk.ID); c.Position != "CMO" {
			t.Fatal("a dry run changed data")
		}
		rep, err = g.RunRetention(dpo, false)
		must(t, err)
		if len(rep.Stripped) != 1 || len(rep.Errors) != 0 {
			t.Fatalf("run at day 400: %+v", rep)
		}
		c, err := g.Contact(dpo, mk.ID)
		must(t, err)
		if c.Position != "" || c.FamilyName != "Werbung" || strings.Contains(string(mustJSON(t, c.Provenance)), "position") {
			t.Fatalf("after the run at day 400: %+v", c)
		}

		// Day 1100: marketing (730) and sales (1095 days) have expired; the
		// held contact stays; the closed one counts from day 400.
		e.clock.advance(700 * day)
		rep, err = g.RunRetention(dpo, false)
		must(t, err)
		erased := map[string]bool{}
		for _, a := range rep.Erased {
			erased[a.ContactID] = true
		}
		if !erased[mk.ID] || !erased[sale.ID] || erased[held.ID] || erased[closed.ID] || len(rep.Held) != 1 || rep.Held[0] != held.ID {
			t.Fatalf("run at day 1100: %+v", rep)
		}
		_, err = g.Contact(dpo, sale.ID)
		wantCode(t, err, tresor.ECErased)
		tomb, err := g.ContactErasure(dpo, sale.ID)
		must(t, err)
		if tomb.Origin != tresor.ErasureRetention || !strings.Contains(tomb.Reason, "sales") {
			t.Fatalf("tombstone of a retention erasure: %+v", tomb)
		}
		e.clock.advance(400 * day)
		rep, err = g.RunRetention(dpo, false)
		must(t, err)
		if len(rep.Erased) != 1 || rep.Erased[0].ContactID != closed.ID {
			t.Fatalf("run at day 1500: %+v", rep)
		}
	})
}

func mustJSON(t *testing.T, v interface{ MarshalJSON() ([]byte, error) }) []byte {
	b, err := v.MarshalJSON()
	must(t, err)
	return b
}

// TestKeyRotation: a rotation re-wraps every data key under a new version
// while another server goes on writing; that server reads keys wrapped under
// the new version at once, and a second run takes the keys it wrote
// meanwhile. The data itself is untouched and stays readable.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := datadir.Config{DataDir: dir, Migrate: true}
	serving := openGate(t, cfg)
	ctx := tresor.WithPurpose(system(), "sales")
	var ids []string
	for i := 0; i < 30; i++ {
		c := erika()
		c.Emails = []string{strings.Repeat("r", i+1) + "@example.org"}
		must(t, serving.CreateContact(ctx, c))
		ids = append(ids, c.ID)
	}
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	must(t, err)
	defer raw.Close()
	var sealedBefore []byte
	must(t, raw.QueryRow("SELECT sealed FROM contacts WHERE id = ?", ids[0]).Scan(&sealedBefore))

	cli := openGate(t, cfg) // the CLI beside the server
	rep, err := cli.RotateKEK(system(), nil)
	must(t, err)
	if !rep.Added || rep.Rewrapped != 30 || rep.Pending != 0 || rep.To[0] != 2 {
		t.Fatalf("rotation: %+v", rep)
	}
	st, err := cli.KeyStatus(bg)
	must(t, err)
	if st.Current != 2 || st.DataKeys[2] != 30 || st.DataKeys[1] != 0 {
		t.Fatalf("status: %+v", st)
	}
	var sealedAfter []byte
	must(t, raw.QueryRow("SELECT sealed FROM contacts WHERE id = ?", ids[0]).Scan(&sealedAfter))
	if !bytes.Equal(sealedBefore, sealedAfter) {
		t.Fatal("the rotation re-encrypted data")
	}
	// The serving gate still wraps under version 1 until it reloads, and
	// reads keys under version 2 at once.
	for _, id := range ids {
		if _, err := serving.Contact(ctx, id); err != nil {
			t.Fatalf("the serving gate after the rotation: %v", err)
		}
	}
	late := erika()
	late.Emails = []string{"late@example.org"}
	must(t, serving.CreateContact(ctx, late))
	st, err = cli.KeyStatus(bg)
	must(t, err)
	if st.Pending != 0 {
		// the serving gate reloaded while reading: it wraps under 2 already
		t.Logf("pending after a late write: %d", st.Pending)
	}
	rep, err = cli.RotateKEK(system(), nil)
	must(t, err)
	if rep.Pending != 0 || rep.To[0] < 2 {
		t.Fatalf("second rotation: %+v", rep)
	}
	st, err = cli.KeyStatus(bg)
	must(t, err)
	if st.Pending != 0 || st.DataKeys[st.Current] != 31 {
		t.Fatalf("status after the second rotation: %+v", st)
	}
	// A restart proves every version against the database.
	must(t, cli.Close())
	must(t, serving.Close())
	g := openGate(t, cfg)
	for _, id := range append(ids, late.ID) {
		if _, err := g.Contact(ctx, id); err != nil {
			t.Fatalf("after a restart: %v", err)
		}
	}
}

// TestSecondFactorSecretIsSealed: a user's TOTP secret is not stored in the clear.
func TestSecondFactorSecretIsSealed(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(c.now))
	u := userWithPassword(t, g, "dpo@example.org", tresor.RoleDPO)
	_, secret, err := g.Login(bg, tresor.LoginAttempt{Email: u.Email, Password: goodPassword, Addr: "192.0.2.1:40000"})
	must(t, err)
	enr, err := g.StartTOTPEnrollment(bg, secret)
	must(t, err)
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	must(t, err)
	defer raw.Close()
	var stored string
	must(t, raw.QueryRow("SELECT totp_secret FROM users WHERE id = ?", u.ID).Scan(&stored))
	if stored == "" || strings.Contains(stored, enr.Secret) || !strings.HasPrefix(stored, "s2:") {
		t.Fatalf("the stored second-factor secret: %q", stored)
	}
}

// TestPostgresBackupRestoreAndVerify: the same on PostgreSQL — pg_dump in,
// pg_restore out, the journal re-applied, and a verify that restores into a
// temporary database.
func TestPostgresBackupRestoreAndVerify(t *testing.T) {
	url := storetest.PostgresURL(t)
	dir := t.TempDir()
	cfg := datadir.Config{DB: url, DataDir: dir, Migrate: true}
	g, err := datadir.Open(bg, cfg)
	must(t, err)
	erased := storePerson(t, g)
	kept := erika()
	must(t, g.CreateContact(tresor.WithPurpose(system(), "sales"), kept))
	file, idFile := backupOf(t, g, dir)
	_, err = g.EraseContact(tresor.WithPurpose(system(), "data_protection"), erased.ID, tresor.EraseRequest{Reason: "request 7"})
	must(t, err)
	kek, err := datadir.OpenKEK(bg, cfg)
	must(t, err)
	f, err := os.Open(file)
	must(t, err)
	rep, err := datadir.VerifyBackup(bg, f, idFile, cfg, kek)
	f.Close()
	must(t, err)
	if len(rep.Problems) != 0 || rep.KeysOpened != rep.DataKeys || rep.DataKeys == 0 {
		t.Fatalf("verify: %+v", rep)
	}
	must(t, g.Close())

	f, err = os.Open(file)
	must(t, err)
	res, err := datadir.RestoreBackup(bg, f, idFile, cfg)
	f.Close()
	must(t, err)
	if res.Reerased != 1 {
		t.Fatalf("re-erased %d, want 1", res.Reerased)
	}
	g = openGate(t, cfg)
	ctx := tresor.WithPurpose(system(), "sales")
	_, err = g.Contact(ctx, erased.ID)
	wantCode(t, err, tresor.ECErased)
	if _, err := g.Contact(ctx, kept.ID); err != nil {
		t.Fatalf("the other contact after the restore: %v", err)
	}
	st, err := g.KeyStatus(bg)
	must(t, err)
	if st.DataKeys[1] != 1 {
		t.Fatalf("data keys after the restore: %v (the erased person's key is back?)", st.DataKeys)
	}
}

// TestRecordsFromBeforeProtectionAtRestAreSealed: an upgraded database's
// records in the clear (the format before data keys) are sealed at the first
// start, with their consent addresses and second-factor secrets.
func TestRecordsFromBeforeProtectionAtRestAreSealed(t *testing.T) {
	dir := t.TempDir()
	cfg := datadir.Config{DataDir: dir, Migrate: true}
	g, err := datadir.Open(bg, cfg)
	must(t, err)
	must(t, g.Close())
	raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
	must(t, err)
	defer raw.Close()
	const id, user = "01a2243a-c5ff-7982-a0f7-3d62d15d8b71", "01a2243a-c5ff-7982-a0f7-3d62d15d8b72"
	now := time.Now().UnixMicro()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO contacts (id, provenance, created_at, updated_at, version, sealed, address_kinds) VALUES (?, '[]', ?, ?, 3, ?, '')`,
			[]any{id, now, now, append([]byte{1}, `{"given_name":"Quirinalia","family_name":"Zwetschgenbaum","emails":["q@example.org"]}`...)}},
		{`INSERT INTO interactions (id, kind, direction, occurred_at, duration_sec, network, contact_id, created_at, updated_at, version, sealed)
			VALUES (?, 'note', 'internal', ?, 0, '', ?, ?, ?, 1, ?)`, []any{user[:35] + "3", now, id, now, now, append([]byte{1}, `{"body":"Hummelflug"}`...)}},
		{`INSERT INTO consent_events (id, contact_id, purpose, channel, action, method, text_hash, ip, actor, at)
			VALUES (?, ?, 'marketing', 'email', 'grant', 'web_form', '', '203.0.113.77', 'system', ?)`, []any{user[:35] + "4", id, now}},
		{`INSERT INTO users (id, email, roles, password_hash, created_at, updated_at, totp_secret) VALUES (?, 'dpo@example.org', 'dpo', 'x', ?, ?, 'JBSWY3DPEHPK3PXP')`,
			[]any{user, now, now}},
		{`INSERT INTO maintenance (task, created_at) VALUES ('seal', 0)`, nil},
	} {
		_, err := raw.Exec(q.sql, q.args...)
		must(t, err)
	}
	g = openGate(t, cfg)
	c, err := g.Contact(tresor.WithPurpose(system(), "sales"), id)
	must(t, err)
	if c.FamilyName != "Zwetschgenbaum" || c.Version != 3 {
		t.Fatalf("the sealed contact: %+v", c)
	}
	var sealed []byte
	var keys int
	var ip, totp string
	must(t, raw.QueryRow("SELECT sealed FROM contacts WHERE id = ?", id).Scan(&sealed))
	must(t, raw.QueryRow("SELECT count(*) FROM data_keys").Scan(&keys))
	must(t, raw.QueryRow("SELECT ip FROM consent_events").Scan(&ip))
	must(t, raw.QueryRow("SELECT totp_secret FROM users WHERE id = ?", user).Scan(&totp))
	if sealed[0] != vault.FormatSealed || keys != 2 || !strings.HasPrefix(ip, "s2:") || !strings.HasPrefix(totp, "s2:") {
		t.Fatalf("after the first start: format %d, %d data keys, ip %q, totp %q", sealed[0], keys, ip, totp)
	}
	var pending int
	must(t, raw.QueryRow("SELECT count(*) FROM maintenance").Scan(&pending))
	if pending != 0 {
		t.Fatal("the maintenance task is still pending")
	}
	db := filepath.Join(dir, datadir.DatabaseFile)
	if found := leaks(readAll(t, db, db+"-wal")); found != nil {
		t.Fatalf("after sealing, the file or its log holds %v", found)
	}
	h, err := g.Consents(tresor.WithPurpose(system(), "marketing"), id)
	must(t, err)
	if h.Events[0].IP != "203.0.113.77" {
		t.Fatalf("the sealed consent address reads %q", h.Events[0].IP)
	}
}

// TestErasedKeyLeavesTheFile: after an erasure, not even the wrapped form of
// the person's data key is left in the SQLite file or its log — with the
// KEK it would open whatever ciphertext is left.
func TestErasedKeyLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	c := storePerson(t, g)
	for i := 0; i < 20; i++ {
		other := erika()
		other.Emails = []string{strings.Repeat("o", i+1) + "@example.org"}
		must(t, g.CreateContact(tresor.WithPurpose(system(), "sales"), other))
	}
	db := filepath.Join(dir, datadir.DatabaseFile)
	raw, err := sql.Open("sqlite", sqlite.DSN(db))
	must(t, err)
	defer raw.Close()
	var wrapped, sealed []byte
	must(t, raw.QueryRow("SELECT wrapped FROM data_keys WHERE subject = ?", c.ID).Scan(&wrapped))
	must(t, raw.QueryRow("SELECT sealed FROM contacts WHERE id = ?", c.ID).Scan(&sealed))
	must(t, raw.Close())
	if !bytes.Contains(readAll(t, db, db+"-wal"), wrapped) {
		t.Fatal("the wrapped key is not found before the erasure: the check cannot fail")
	}
	_, err = g.EraseContact(tresor.WithPurpose(system(), "data_protection"), c.ID, tresor.EraseRequest{Reason: "ticket 3"})
	must(t, err)
	files := readAll(t, db, db+"-wal")
	if bytes.Contains(files, wrapped) {
		t.Fatal("the erased person's wrapped data key is still in the database file or its log")
	}
	if bytes.Contains(files, sealed[len(sealed)-32:]) {
		t.Fatal("the erased person's sealed fields are still in the database file or its log")
	}
}
