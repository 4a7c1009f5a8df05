package gate_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/policy"
	"tresor/storetest"
)

// TestHandEnteredData holds the rules of issue [2.4] §4 for data typed by
// hand: special categories are screened as in imports, and a contact told
// by a third party gets the Art. 14 notice duty. One t.Run per rule, on
// both backends.
func TestHandEnteredData(t *testing.T) {
	run := func(t *testing.T, cfg datadir.Config) {
		cfg.Migrate = true
		clk := newClock()
		box := &mailbox{}
		g := openGate(t, cfg, gate.WithClock(clk.now), gate.WithMailer(box))
		sales := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		service := as(t, g, "service@example.org", "service", tresor.RoleService)
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		person := erika()
		must(t, g.CreateContact(sales, person))
		// The refused texts carry a marker no clean write uses, to look for it on disk.
		const marker = "Quolvendrix"
		bilingual := func(t *testing.T, err error, field string) {
			t.Helper()
			wantCode(t, err, tresor.ECSpecialCategory)
			ae := tresor.AsError(err)
			if ae == nil || !strings.Contains(ae.Message, "health") || !strings.Contains(ae.Message, "Art. 9") ||
				!strings.Contains(ae.MessageDE, "Gesundheit") || !strings.Contains(ae.MessageDE, "Art. 9") ||
				!strings.Contains(ae.Message, field) || strings.Contains(ae.Message+ae.MessageDE, marker) {
				t.Errorf("the refusal does not name field and category in both languages (or repeats the text): %+v", ae)
			}
		}

		t.Run("a health word in an interaction note is refused", func(t *testing.T) {
			in := &tresor.Interaction{Kind: tresor.KindNote, ContactID: person.ID, InteractionContent: tresor.InteractionContent{
				Subject: "Rückruf", Body: "Herr " + marker + " ist wegen seiner Chemotherapie bis März krankgeschrieben."},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			bilingual(t, g.CreateInteraction(sales, in), "body")
			if in.ID != "" {
				t.Errorf("a refused note got an id: %+v", in)
			}
			l, err := g.Interactions(sales, tresor.InteractionFilter{ContactID: person.ID})
			must(t, err)
			if len(l.Items) != 0 {
				t.Errorf("a refused note was stored: %+v", l.Items)
			}
		})

		t.Run("a health word added to an interaction by a change is refused", func(t *testing.T) {
			in := &tresor.Interaction{Kind: tresor.KindNote, ContactID: person.ID, InteractionContent: tresor.InteractionContent{
				Subject: "Angebot", Body: "Angebot für 20 Lizenzen besprochen."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateInteraction(sales, in))
			_, err := g.UpdateInteraction(sales, in.ID, tresor.Update{Patch: json.RawMessage(`{"body":"` + marker + ` hat Diabetes."}`)})
			bilingual(t, err, "body")
			// A change that leaves the text alone is not screened again.
			_, err = g.UpdateInteraction(sales, in.ID, tresor.Update{Patch: json.RawMessage(`{"subject":"Angebot v2"}`)})
			must(t, err)
		})

		t.Run("a clean note passes", func(t *testing.T) {
			in := &tresor.Interaction{Kind: tresor.KindNote, ContactID: person.ID, InteractionContent: tresor.InteractionContent{
				Subject: "Messe", Body: "Interesse an der Jahreslizenz, Rückruf nächste Woche."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateInteraction(sales, in))
		})

		t.Run("a health word in a case is refused", func(t *testing.T) {
			c := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: person.ID, CaseContent: tresor.CaseContent{
				Subject: "Lieferung verspätet", Description: marker + " kann wegen einer Depression nicht selbst anrufen."},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			bilingual(t, g.CreateCase(service, c), "description")
			ok := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: person.ID, CaseContent: tresor.CaseContent{
				Subject: "Lieferung verspätet", Description: "Paket seit einer Woche unterwegs."}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
			must(t, g.CreateCase(service, ok))
		})

		t.Run("a health word in a contact's position is refused", func(t *testing.T) {
			c := erika()
			c.Emails = []string{"other@example.org"}
			c.Position = "Einkauf (" + marker + ", schwerbehindert)"
			bilingual(t, g.CreateContact(sales, c), "position")
			_, err := g.UpdateContact(sales, person.ID, tresor.Update{Patch: json.RawMessage(`{"position":"Leitung, derzeit Burnout ` + marker + `"}`)})
			bilingual(t, err, "position")
			// Working at a clinic reveals nothing of one's health, as in imports.
			_, err = g.UpdateContact(sales, person.ID, tresor.Update{Patch: json.RawMessage(`{"organization":"Klinik für Psychiatrie Nord"}`)})
			must(t, err)
		})

		t.Run("a health word in an e-mail typed by hand is refused before it is sent", func(t *testing.T) {
			_, err := g.SendEmail(sales, tresor.EmailSend{ContactID: person.ID, Kind: tresor.EmailContract, Subject: "Ihr Vertrag",
				Body: "Gute Besserung nach der Chemotherapie, " + marker})
			bilingual(t, err, "body")
			box.mu.Lock()
			n := len(box.sent)
			box.mu.Unlock()
			if n != 0 {
				t.Errorf("%d mails went out", n)
			}
		})

		t.Run("a health word in a deal's title is refused", func(t *testing.T) {
			d := &tresor.Deal{Title: "Reha-Ausstattung nach Herzinfarkt " + marker, Stage: "lead", ContactID: person.ID}
			bilingual(t, g.CreateDeal(sales, d), "title")
			ae := tresor.AsError(g.CreateDeal(sales, d))
			if ae == nil || ae.Art9Exception != "" || !strings.Contains(ae.Message, "never") {
				t.Errorf("the refusal of a deal's title offers an exception: %+v", ae)
			}
		})
		t.Run("a health word in a task's note is refused", func(t *testing.T) {
			task := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Rückruf", Note: "fragen, wie die Chemotherapie lief " + marker}, Due: "2027-01-15", ContactID: person.ID}
			bilingual(t, g.CreateTask(sales, task), "note")
		})
		t.Run("a health word added to a task by a change is refused", func(t *testing.T) {
			task := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Rückruf"}, Due: "2027-01-15", ContactID: person.ID}
			must(t, g.CreateTask(sales, task))
			_, err := g.UpdateTask(sales, task.ID, tresor.Update{Patch: json.RawMessage(`{"title":"Rückruf nach Chemotherapie ` + marker + `"}`)})
			bilingual(t, err, "title")
		})

		t.Run("nothing of the refused text is stored", func(t *testing.T) {
			if cfg.DataDir == "" || cfg.DB != "" {
				t.Skip("the SQLite file is looked at on SQLite")
			}
			err := filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				for _, w := range []string{marker, "Chemotherapie", "Depression", "schwerbehindert"} {
					if bytes.Contains(b, []byte(w)) {
						t.Errorf("%s holds %q", filepath.Base(path), w)
					}
				}
				return nil
			})
			must(t, err)
		})

		t.Run("a hand-entered contact with a third-party source gets a notice duty", func(t *testing.T) {
			told := erika()
			told.GivenName, told.Emails = "Tobias", []string{"tobias@example.org"}
			told.Source = tresor.SourceThirdParty
			must(t, g.CreateContact(sales, told))
			ns, err := g.Notices(dpo, tresor.NoticeQuery{ContactID: told.ID, Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(ns.Items) != 1 || ns.Items[0].Source != "third_party" || ns.Items[0].Purpose != "sales" || ns.Items[0].SentAt != nil {
				t.Fatalf("notices = %+v", ns.Items)
			}
			clk.advance(31 * 24 * time.Hour)
			overdue, err := g.Notices(dpo, tresor.NoticeQuery{Open: true, DueBefore: clk.now(), Page: tresor.Page{Limit: 100}})
			must(t, err)
			found := false
			for _, n := range overdue.Items {
				found = found || n.ContactID == told.ID
			}
			if !found {
				t.Errorf("the overdue notices do not list the third-party contact: %+v", overdue.Items)
			}
		})

		t.Run("a change that brings what a third party told gets a notice duty", func(t *testing.T) {
			own := erika()
			own.GivenName, own.Emails = "Greta", []string{"greta@example.org"}
			must(t, g.CreateContact(sales, own))
			_, err := g.UpdateContact(sales, own.ID, tresor.Update{Patch: json.RawMessage(`{"position":"Einkaufsleiterin","source":"third_party"}`)})
			must(t, err)
			ns, err := g.Notices(dpo, tresor.NoticeQuery{ContactID: own.ID, Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(ns.Items) != 1 || ns.Items[0].Source != "third_party" || ns.Items[0].Purpose != "sales" {
				t.Fatalf("notices = %+v", ns.Items)
			}
			_, err = g.UpdateContact(sales, own.ID, tresor.Update{Patch: json.RawMessage(`{"position":"Leiterin Einkauf","source":"third_party"}`)})
			must(t, err)
			ns, err = g.Notices(dpo, tresor.NoticeQuery{ContactID: own.ID, Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(ns.Items) != 1 {
				t.Errorf("a second change while the notice is open added a duty: %+v", ns.Items)
			}
		})
		t.Run("a hand-entered contact whose source is the person gets no notice duty", func(t *testing.T) {
			for _, src := range []tresor.Source{"", tresor.SourceManual, tresor.SourceWebForm} {
				own := erika()
				own.Emails = []string{"own-" + string(src) + "@example.org"}
				own.Source = src
				must(t, g.CreateContact(sales, own))
				ns, err := g.Notices(dpo, tresor.NoticeQuery{ContactID: own.ID, Page: tresor.Page{Limit: 10}})
				must(t, err)
				if len(ns.Items) != 0 {
					t.Errorf("source %q: notices = %+v", src, ns.Items)
				}
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, datadir.Config{DataDir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { run(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()}) })
}

// TestHandEnteredArt9Exception: where the policy allows a special category
// under an Art. 9(2) exception, hand-entered text that reveals it is stored
// only when the write confirms that exception, and the provenance keeps
// the confirmation.
func TestHandEnteredArt9Exception(t *testing.T) {
	y := strings.Replace(string(policy.DefaultYAML()), `                 professional.employer, interaction.content]
    legal_bases: [contract, legitimate_interest, legal_obligation]
    retention_days: 1095
`, `                 professional.employer, interaction.content, special.health]
    legal_bases: [contract, legitimate_interest, legal_obligation]
    retention_days: 1095
    art9_exception: h
`, 1)
	pol, err := policy.Parse([]byte(y))
	must(t, err)
	if pu, ok := pol.Purpose("service"); !ok || pu.Art9Exception != "h" {
		t.Fatal("the test policy does not give service an exception")
	}
	run := func(t *testing.T, cfg datadir.Config) {
		cfg.Migrate = true
		g := openGate(t, cfg, gate.WithPolicy(pol))
		service := as(t, g, "service@example.org", "service", tresor.RoleService)
		person := erika()
		person.Position = ""
		must(t, g.CreateContact(service, person))
		newCase := func(exception string) *tresor.Case {
			return &tresor.Case{Channel: tresor.ChannelPhone, ContactID: person.ID, CaseContent: tresor.CaseContent{
				Subject: "Hilfsmittel", Description: "Rollstuhl nach Diagnose Multiple Sklerose"},
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract, Art9Exception: exception}}
		}

		t.Run("an allowed special category without the confirmed exception is refused, asking for it", func(t *testing.T) {
			for _, ex := range []string{"", "a"} {
				err := g.CreateCase(service, newCase(ex))
				wantCode(t, err, tresor.ECSpecialCategory)
				if ae := tresor.AsError(err); !strings.Contains(ae.Message, `art9_exception "h"`) || !strings.Contains(ae.MessageDE, "lit. h") {
					t.Errorf("%q: the refusal does not ask for the exception: %+v", ex, ae)
				}
			}
		})
		t.Run("an allowed special category with the confirmed exception is stored with it", func(t *testing.T) {
			c := newCase("h")
			must(t, g.CreateCase(service, c))
			got, err := g.Case(service, c.ID)
			must(t, err)
			if prov := records(t, got.Provenance); len(prov) != 1 || prov[0].Art9Exception != "h" {
				t.Errorf("provenance = %+v", prov)
			}
		})
		t.Run("a task never holds a special category, even where the purpose has an exception", func(t *testing.T) {
			task := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Hilfsmittel", Note: "Diagnose Multiple Sklerose"}, Due: "2027-01-15", ContactID: person.ID}
			err := g.CreateTask(service, task)
			wantCode(t, err, tresor.ECSpecialCategory)
			if ae := tresor.AsError(err); ae.Art9Exception != "" {
				t.Errorf("the refusal offers an exception a task cannot carry: %+v", ae)
			}
		})
		t.Run("a category the exception does not cover is still refused", func(t *testing.T) {
			c := newCase("h")
			c.Description = "Mitglied der Kirchengemeinde"
			wantCode(t, g.CreateCase(service, c), tresor.ECSpecialCategory)
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, datadir.Config{DataDir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { run(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()}) })
}
