package gate_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"tresor"
)

// TestImportBadOptionalFields: a field a person can do without that is not
// valid is dropped, counted and explained; the person is stored with the
// rest, in the dry run's report as in the import's.
func TestImportBadOptionalFields(t *testing.T) {
	req := tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisContract}
	explained := func(rep *tresor.ImportReport, reason string) *tresor.ImportExplained {
		for i := range rep.Explained {
			if rep.Explained[i].Reason == reason {
				return &rep.Explained[i]
			}
		}
		return nil
	}
	only := func(t *testing.T, e *privacyEnv) *tresor.Contact {
		t.Helper()
		l, err := e.g.Contacts(e.ctx["sales"], tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 1 {
			t.Fatalf("%d contacts stored, want 1", len(l.Items))
		}
		return l.Items[0]
	}

	t.Run("a XING vCard naming the country Deutschland imports the person with the address in DE", func(t *testing.T) {
		file, err := os.ReadFile("../importer/testdata/xing.vcf")
		must(t, err)
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(string(file)), req)
			must(t, err)
			if rep.Created != 1 || rep.Refused["malformed"] != 0 || len(rep.Errors) != 0 {
				t.Fatalf("report: %+v", rep)
			}
			c := only(t, e)
			a := c.PostalAddress
			if a == nil || a.Country != "DE" || a.City != "Berlin" || a.PostalCode != "10115" || a.Street != "Musterstraße 1" {
				t.Fatalf("address: %+v", a)
			}
			if c.FamilyName != "Muster" || c.Organization != "Beispiel GmbH" || !slices.Equal(c.Emails, []string{"erika.muster@example.com"}) {
				t.Fatalf("contact: %+v", c.ContactDetails)
			}
		})
	})

	t.Run("an unknown country drops the address, not the person, in the dry run as in the import", func(t *testing.T) {
		file := "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster;Erika;;;\r\nORG:Beispiel GmbH\r\nEMAIL:erika@example.com\r\n" +
			"ADR:;;Poseidonweg 1;Poseidonis;;12345;Atlantis\r\nEND:VCARD\r\n"
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			dry := req
			dry.DryRun = true
			for _, r := range []tresor.ImportRequest{dry, req} {
				rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(file), r)
				must(t, err)
				if rep.Created != 1 || rep.Dropped["invalid:postal_country"] != 1 || rep.Refused["malformed"] != 0 {
					t.Fatalf("dry run %v: report %+v", r.DryRun, rep)
				}
				x := explained(rep, "invalid:postal_country")
				if x == nil || x.Message != "postal address dropped: unknown country" || x.Refused || x.Count != 1 ||
					!slices.Equal(x.Rows, []tresor.ImportRowRange{{From: 1, To: 1}}) {
					t.Fatalf("dry run %v: explained %+v", r.DryRun, rep.Explained)
				}
				if strings.Contains(fmt.Sprint(rep), "Atlantis") {
					t.Fatal("the report names the row's data")
				}
			}
			c := only(t, e)
			if c.PostalAddress != nil || c.FamilyName != "Muster" || c.Organization != "Beispiel GmbH" || len(c.Emails) != 1 {
				t.Fatalf("contact: %+v", c.ContactDetails)
			}
			for _, rec := range records(t, c.Provenance) {
				if slices.Contains(rec.Fields, "postal_address") {
					t.Fatalf("the provenance records the dropped address: %+v", rec)
				}
			}
		})
	})

	t.Run("an invalid phone number drops only that number", func(t *testing.T) {
		file := "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster;Erika;;;\r\nEMAIL:erika@example.com\r\n" +
			"TEL:call me maybe\r\nTEL:+49 30 1234567\r\nADR:;;Musterstraße 1;Wien;;1010;Österreich\r\nEND:VCARD\r\n"
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(file), req)
			must(t, err)
			if rep.Created != 1 || rep.Dropped["invalid:phone"] != 1 || len(rep.Dropped) != 1 {
				t.Fatalf("report: %+v", rep)
			}
			c := only(t, e)
			if len(c.Phones) != 1 || c.Phones[0] == "call me maybe" || len(c.Emails) != 1 || c.PostalAddress == nil || c.PostalAddress.Country != "AT" {
				t.Fatalf("contact: %+v", c.ContactDetails)
			}
		})
	})

	t.Run("a person without a name whose only identifier is invalid is still not stored", func(t *testing.T) {
		file := "BEGIN:VCARD\r\nVERSION:3.0\r\nTEL:call me maybe\r\nEND:VCARD\r\n"
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(file), req)
			must(t, err)
			if rep.Created != 0 || rep.Refused["malformed"]+rep.Refused["no_identifier"] != 1 {
				t.Fatalf("report: %+v", rep)
			}
		})
	})

	t.Run("fifty rows with the same reason are explained as one range", func(t *testing.T) {
		var b strings.Builder
		for i := range 50 {
			fmt.Fprintf(&b, "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster%d;Erika;;;\r\nEMAIL:erika%d@example.com\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n", i, i)
		}
		b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Ohne;Geburtstag;;;\r\nEMAIL:ohne@example.com\r\nEND:VCARD\r\n")
		b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Spaet;Geboren;;;\r\nEMAIL:spaet@example.com\r\nBDAY:1990-01-01\r\nEND:VCARD\r\n")
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			dry := req
			dry.DryRun = true
			rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(b.String()), dry)
			must(t, err)
			x := explained(rep, "private:"+string(tresor.CatBirthday))
			if len(rep.Explained) != 1 || x == nil || x.Count != 51 ||
				!slices.Equal(x.Rows, []tresor.ImportRowRange{{From: 1, To: 50}, {From: 52, To: 52}}) {
				t.Fatalf("explained: %+v", rep.Explained)
			}
			if len(rep.Examples) != 25 {
				t.Fatalf("the examples (kept for the API) are %d, want the first 25", len(rep.Examples))
			}
		})
	})
}

// TestImportColleaguesAtOneAddress: two people who share an address (the
// company's) are two people: an address identifies no one.
func TestImportColleaguesAtOneAddress(t *testing.T) {
	file := "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster;Erika;;;\r\nEMAIL:erika@example.com\r\nADR:;;Musterstraße 1;Berlin;;10115;Deutschland\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Beispiel;Hans;;;\r\nEMAIL:hans@example.com\r\nADR:;;Musterstraße 1;Berlin;;10115;Germany\r\nEND:VCARD\r\n"
	t.Run("two people at the same address are both imported", func(t *testing.T) {
		privacyBackends(t, func(t *testing.T, e *privacyEnv) {
			rep, err := e.g.Import(e.ctx["sales"], strings.NewReader(file), tresor.ImportRequest{Format: "vcard", LegalBasis: tresor.BasisContract})
			must(t, err)
			if rep.Created != 2 || rep.Duplicates != 0 {
				t.Fatalf("report: %+v", rep)
			}
		})
	})
}
