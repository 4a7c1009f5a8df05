package gate_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

const linkedinFile = `Notes:
"When exporting your connection data, you may notice that some of the email addresses are missing."

First Name,Last Name,URL,Email Address,Company,Position,Connected On
Erika,Mustermann,https://www.linkedin.com/in/erika-mustermann,erika@example.de,Muster GmbH,Head of Purchasing,12 Mar 2024
Hans,Pfarr,https://www.linkedin.com/in/hans-pfarr,,St. Marien,Pfarrer der Gemeinde,01 Jan 2023
Erika,Mustermann,https://www.linkedin.com/in/erika-mustermann,,Muster GmbH,Head of Purchasing,12 Mar 2024
Ohne,Profil,,,Nirgendwo AG,CTO,02 Feb 2022
Gita,Gewerk,https://www.linkedin.com/in/gita-gewerk,,ver.di,Gewerkschaftssekretärin,03 Mar 2021
`

// TestImportLinkedIn: a LinkedIn export passes the ingestion gate: what
// connections alone could see is dropped, a special category in a position
// drops the position, duplicates and rows without an identifier create
// nothing, every new contact has provenance and an information duty, and a
// second import of the same file creates nothing new.
func TestImportLinkedIn(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, sales := e.g, e.ctx["sales"]
		req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest,
			BalancingNote: "B2B prospects in our market; public professional profiles; objection honoured"}
		dry := req
		dry.DryRun = true
		rep, err := g.Import(sales, strings.NewReader(linkedinFile), dry)
		must(t, err)
		if rep.Created != 3 || rep.Rows != 5 {
			t.Fatalf("dry run: %+v", rep)
		}
		l, err := g.Contacts(sales, tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatal("a dry run stored contacts")
		}

		rep, err = g.Import(sales, strings.NewReader(linkedinFile), req)
		must(t, err)
		if rep.Rows != 5 || rep.Created != 3 || rep.Duplicates != 1 || rep.Refused["no_identifier"] != 1 || rep.Notices != 3 {
			t.Fatalf("report: %+v", rep)
		}
		if rep.Dropped["not_public"] != 1 || rep.Dropped["special:"+string(tresor.CatReligion)] != 1 ||
			rep.Dropped["special:"+string(tresor.CatUnion)] != 2 {
			t.Fatalf("dropped: %v", rep.Dropped)
		}
		for _, ex := range rep.Examples {
			for _, pii := range []string{"Erika", "Mustermann", "erika@", "Pfarrer", "Gemeinde", "ver.di", "Gewerk"} {
				if strings.Contains(ex, pii) {
					t.Fatalf("an example names personal data: %q", ex)
				}
			}
		}
		l, err = g.Contacts(sales, tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 3 {
			t.Fatalf("%d contacts stored, want 3", len(l.Items))
		}
		for _, c := range l.Items {
			if len(c.Emails) != 0 {
				t.Fatalf("an e-mail address visible only to connections was stored: %+v", c.ContactDetails)
			}
			if len(c.SocialHandles) != 1 || c.SocialHandles[0].Network != "linkedin" {
				t.Fatalf("handles: %+v", c.SocialHandles)
			}
			if c.FamilyName == "Pfarr" && c.Position != "" || c.FamilyName == "Gewerk" && (c.Position != "" || c.Organization != "") {
				t.Fatalf("a special category was stored: %+v", c.ContactDetails)
			}
			recs := records(t, c.Provenance)
			if len(recs) == 0 || recs[0].Source != tresor.SourceImport || recs[0].Network != "linkedin" || recs[0].ImportID != rep.ID ||
				recs[0].Visibility != tresor.VisibilityPublic {
				t.Fatalf("provenance: %+v", recs)
			}
		}
		dpo := e.ctx["data_protection"]
		ns, err := g.Notices(dpo, tresor.NoticeQuery{Open: true})
		must(t, err)
		if len(ns.Items) != 3 || ns.Items[0].Source != "linkedin" || ns.Items[0].DueAt.Sub(ns.Items[0].CreatedAt) != 30*24*time.Hour {
			t.Fatalf("notices: %+v", ns.Items)
		}

		// The same file again creates nothing.
		rep, err = g.Import(sales, strings.NewReader(linkedinFile), req)
		must(t, err)
		if rep.Created != 0 || rep.Duplicates != 4 {
			t.Fatalf("second import: %+v", rep)
		}

		// A basis the purpose does not allow refuses the whole file.
		_, err = g.Import(sales, strings.NewReader(linkedinFile), tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegalObligation})
		wantCode(t, err, tresor.ECBasisNotAllowed)
		_, err = g.Import(sales, strings.NewReader(linkedinFile), tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest})
		wantCode(t, err, tresor.ECBalancingNote)
	})
}

const addressBook = `BEGIN:VCARD
VERSION:3.0
N:Beispiel;Berta;;;
FN:Berta Beispiel
EMAIL;TYPE=work:berta@example.org
TEL;TYPE=work:+49 30 555123
ORG:Beispiel AG
TITLE:Einkauf
BDAY:1980-04-01
NOTE:Seit der Chemotherapie nur vormittags erreichbar
END:VCARD
BEGIN:VCARD
VERSION:4.0
FN:Carl Clear
N:Clear;Carl;;;
EMAIL:carl@example.org
END:VCARD
`

// TestImportAddressBook: the company's own address book keeps contact
// details; a birthday and a note are never stored, and a note revealing
// health is counted as a special category; the purpose's categories bound
// what is kept; the information duty is sent by mail, and before the first
// campaign mail at the latest.
func TestImportAddressBook(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, mk := e.g, e.ctx["marketing"]
		rep, err := g.Import(mk, strings.NewReader(addressBook), tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisConsent})
		must(t, err)
		if rep.Created != 2 || rep.Dropped["private:"+string(tresor.CatBirthday)] != 1 || rep.Dropped["special:"+string(tresor.CatHealth)] != 1 {
			t.Fatalf("report: %+v", rep)
		}
		l, err := g.Contacts(mk, tresor.ContactFilter{Email: "berta@example.org"})
		must(t, err)
		if len(l.Items) != 1 || len(l.Items[0].Phones) != 1 || l.Items[0].Position != "Einkauf" {
			t.Fatalf("berta: %+v", l.Items)
		}
		// Objecting keeps a person out of later marketing imports.
		_, err = g.Object(mk, l.Items[0].ID)
		must(t, err)
		dpo := e.ctx["data_protection"]
		_, err = g.EraseContact(dpo, l.Items[0].ID, tresor.EraseRequest{Reason: "ticket 12"})
		must(t, err)
		rep, err = g.Import(mk, strings.NewReader(addressBook), tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisConsent})
		must(t, err)
		if rep.Refused["suppressed"] != 1 || rep.Created != 0 || rep.Duplicates != 1 {
			t.Fatalf("re-import after objection and erasure: %+v", rep)
		}

		// Notices: one left open (Carl); sending mails it in German.
		sent, other, err := g.SendNotices(dpo, time.Time{})
		must(t, err)
		if sent != 1 || other != 0 {
			t.Fatalf("sent %d, other %d", sent, other)
		}
		m := e.mail.last(t)
		if m.To != "carl@example.org" || !strings.Contains(m.Text, "Art. 14 DSGVO") || !strings.Contains(m.Text, "Adressbuch") {
			t.Fatalf("notice mail: %+v", m)
		}
		ns, err := g.Notices(dpo, tresor.NoticeQuery{Open: true})
		must(t, err)
		if len(ns.Items) != 0 {
			t.Fatalf("open notices after sending: %d", len(ns.Items))
		}
		_, err = g.Notices(e.ctx["sales"], tresor.NoticeQuery{})
		wantCode(t, err, tresor.ECForbidden)
	})
}

// TestImportNoticeAtFirstContact: a campaign mail to an imported person is
// preceded by the Art. 14 notice.
func TestImportNoticeAtFirstContact(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		g, mk := e.g, e.ctx["marketing"]
		_, err := g.Import(mk, strings.NewReader(addressBook), tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisConsent})
		must(t, err)
		l, err := g.Contacts(mk, tresor.ContactFilter{Email: "carl@example.org"})
		must(t, err)
		carl := l.Items[0]
		_, err = g.RecordConsent(mk, carl.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "email", Action: tresor.ConsentGrant,
			Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1"}})
		must(t, err)
		camp := &tresor.Campaign{Name: "Neu", Channel: tresor.ChannelEmailMsg, Content: tresor.CampaignContent{SubjectDE: "Neu", BodyDE: "Neuigkeiten"}}
		must(t, g.CreateCampaign(mk, camp))
		_, err = g.SendCampaign(mk, camp.ID)
		must(t, err)
		var subjects []string
		for _, m := range e.mail.all() {
			if m.To == "carl@example.org" {
				subjects = append(subjects, m.Subject)
			}
		}
		if len(subjects) != 2 || !strings.Contains(subjects[0], "Art. 14") || subjects[1] != "Neu" {
			t.Fatalf("mails to the imported person: %v", subjects)
		}
	})
}

// TestImportMalformedRows: malformed rows are skipped, listed with their
// row numbers and counted under "malformed"; the good rows are stored.
func TestImportMalformedRows(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		file := "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n" +
			"Erika,Mustermann,https://www.linkedin.com/in/erika-mustermann,,Muster GmbH,Einkauf,12 Mar 2024\n" +
			"Kaputt,Zeile,https://www.linkedin.com/in/kaputt,,Firma\n" +
			"Lena,Lang,https://www.linkedin.com/in/lena-lang,,Lang KG,CEO,01 Apr 2024\n"
		rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(file), tresor.ImportRequest{Format: "linkedin",
			LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects; public professional profiles"})
		must(t, err)
		if rep.Rows != 3 || rep.Created != 2 || rep.Refused["malformed"] != 1 || len(rep.Errors) != 1 {
			t.Fatalf("report: %+v", rep)
		}
		for _, re := range rep.Errors {
			if re.Row != 3 || !strings.Contains(re.Msg, "5 fields") || strings.Contains(re.Msg, "Kaputt") {
				t.Fatalf("row error %+v", re)
			}
		}
	})
}

// TestImportsAtOnce: two imports of the same people at the same time
// create each person once.
func TestImportsAtOnce(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		var b strings.Builder
		b.WriteString("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
		for i := range 300 {
			fmt.Fprintf(&b, "Erika,Muster%d,https://www.linkedin.com/in/erika-%d,,Muster GmbH,Einkauf,12 Mar 2024\n", i, i)
		}
		req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects"}
		var wg sync.WaitGroup
		reps := make([]*tresor.ImportReport, 2)
		errs := make([]error, 2)
		for i := range reps {
			wg.Go(func() { reps[i], errs[i] = e.g.Import(e.ctx["sales"], strings.NewReader(b.String()), req) })
		}
		wg.Wait()
		must(t, errs[0])
		must(t, errs[1])
		if got := reps[0].Created + reps[1].Created; got != 300 || reps[0].Duplicates+reps[1].Duplicates != 300 {
			t.Fatalf("created %d (+%d duplicates), want 300: %+v %+v", got, reps[0].Duplicates+reps[1].Duplicates, reps[0], reps[1])
		}
	})
}

// TestImportsOfSeveralProcesses: three gates on one database, as three
// servers (or the CLI beside a server), import the same 2,000 people at the
// same moment. On PostgreSQL their transactions overlap and neither sees
// what the others have not committed; the unique index on the identifiers
// imports claim (contact_lookup_claimed) makes the later ones wait for the
// first and find its people. On SQLite the writers take turns.
func TestImportsOfSeveralProcesses(t *testing.T) {
	sharedDatabase(t, func(t *testing.T, cfg func() datadir.Config) {
		const people, servers = 2000, 3
		gates := make([]*gate.Gate, servers)
		for i := range gates {
			gates[i] = openGate(t, cfg())
		}
		var b strings.Builder
		b.WriteString("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n")
		for i := range people {
			fmt.Fprintf(&b, "Erika,Muster%d,https://www.linkedin.com/in/erika-%d,,Muster GmbH,Einkauf,12 Mar 2024\n", i, i)
		}
		req := tresor.ImportRequest{Format: "linkedin", LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "B2B prospects"}
		ctx := tresor.WithPurpose(system(), "sales")
		var wg sync.WaitGroup
		reps := make([]*tresor.ImportReport, servers)
		errs := make([]error, servers)
		start := make(chan struct{})
		for i, g := range gates {
			wg.Go(func() {
				<-start
				reps[i], errs[i] = g.Import(ctx, strings.NewReader(b.String()), req)
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		created, duplicates, notices := 0, 0, 0
		for _, r := range reps {
			created, duplicates, notices = created+r.Created, duplicates+r.Duplicates, notices+r.Notices
		}

		t.Run("each person is stored once", func(t *testing.T) {
			if created != people {
				t.Fatalf("the imports created %d people, want %d: %+v", created, people, reps)
			}
			handles := map[string]int{}
			stored := 0
			f := tresor.ContactFilter{Page: tresor.Page{Limit: tresor.MaxPageSize}}
			for { // one database: one gate sees all
				l, err := gates[0].Contacts(ctx, f)
				must(t, err)
				for _, c := range l.Items {
					stored++
					for _, h := range c.SocialHandles {
						handles[h.Handle]++
					}
				}
				if l.Next == "" {
					break
				}
				f.After, err = tresor.DecodeCursor(l.Next)
				must(t, err)
			}
			if stored != people || len(handles) != people {
				t.Fatalf("%d contacts with %d handles are stored, want %d of each", stored, len(handles), people)
			}
		})
		t.Run("the other imports report the people as duplicates", func(t *testing.T) {
			if duplicates != (servers-1)*people {
				t.Fatalf("the imports report %d duplicates, want %d: %+v", duplicates, (servers-1)*people, reps)
			}
		})
		t.Run("each stored person has one information duty", func(t *testing.T) {
			if notices != people {
				t.Fatalf("the imports report %d notices, want %d", notices, people)
			}
		})
	})
}
