package gate_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

func breach(title, desc string, aware time.Time, risk tresor.BreachRisk) *tresor.Breach {
	return &tresor.Breach{Title: title, AwareAt: aware, Risk: risk, Categories: []string{"contact.email"},
		BreachContent: tresor.BreachContent{Description: desc}}
}

func TestBreachRules(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		sales := as(t, g, "ann@example.org", "sales", tresor.RoleSales)

		t.Run("the 72-hour clock runs from aware_at and turns overdue after it", func(t *testing.T) {
			now := time.Now()
			fresh := breach("Laptop gestohlen", "Im Zug", now.Add(-70*time.Hour), tresor.BreachRiskSome)
			must(t, g.CreateBreach(dpo, fresh))
			if !fresh.Deadline.Equal(fresh.AwareAt.Add(72*time.Hour)) || fresh.Overdue ||
				fresh.Remaining < int64(119*60) || fresh.Remaining > int64(2*3600) {
				t.Fatalf("clock: deadline %v remaining %d overdue %v", fresh.Deadline, fresh.Remaining, fresh.Overdue)
			}
			late := breach("USB-Stick verloren", "Im Büro", now.Add(-73*time.Hour), tresor.BreachRiskSome)
			must(t, g.CreateBreach(dpo, late))
			got, err := g.Breach(dpo, late.ID)
			must(t, err)
			if !got.Overdue || got.Remaining > -3599 {
				t.Fatalf("an hour past the deadline: remaining %d overdue %v", got.Remaining, got.Overdue)
			}
			got, err = g.SetBreachState(dpo, late.ID, tresor.BreachAuthorityNotified, "per Portal", 0)
			must(t, err)
			if got.Overdue || got.Remaining != 0 || got.NotifiedAt == nil {
				t.Fatalf("once notified the clock stops: %+v", got)
			}
		})

		t.Run("only the data-protection officer keeps the register", func(t *testing.T) {
			admin := as(t, g, "admin@example.org", "data_protection", tresor.RoleAdmin)
			auditor := as(t, g, "audit@example.org", "data_protection", tresor.RoleAuditor)
			for _, ctx := range []struct {
				name string
				err  func() error
			}{
				{"admin", func() error { return g.CreateBreach(admin, breach("x", "y", time.Now(), tresor.BreachRiskNone)) }},
				{"auditor", func() error { _, err := g.Breaches(auditor, tresor.Page{}); return err }},
				{"sales", func() error { _, err := g.Breaches(sales, tresor.Page{}); return err }},
			} {
				if err := ctx.err(); err == nil {
					t.Errorf("%s reached the breach register", ctx.name)
				}
			}
			l, err := g.Breaches(dpo, tresor.Page{})
			must(t, err)
			if len(l.Items) == 0 {
				t.Fatal("the DPO sees no breaches")
			}
		})

		t.Run("high risk requires the notice to the people", func(t *testing.T) {
			b := breach("Fehlversand", "Rechnungen an falsche Empfänger", time.Now(), tresor.BreachRiskSome)
			must(t, g.CreateBreach(dpo, b))
			d, err := g.BreachDrafts(dpo, b.ID, "de")
			must(t, err)
			if d.People != "" || !strings.Contains(d.Authority, "Art. 33") || !strings.Contains(d.Authority, "dpo@example.org") ||
				!strings.Contains(d.Authority, "Rechnungen an falsche Empfänger") {
				t.Fatalf("risk: drafts %+v", d)
			}
			_, err = g.UpdateBreach(dpo, b.ID, tresor.Update{Patch: []byte(`{"risk":"high","measures":"Passwörter zurückgesetzt"}`)})
			must(t, err)
			d, err = g.BreachDrafts(dpo, b.ID, "en")
			must(t, err)
			if !strings.Contains(d.People, "Art. 34") || !strings.Contains(d.People, "Passwörter zurückgesetzt") ||
				!strings.Contains(d.Authority, "Notification of a personal data breach") {
				t.Fatalf("high risk: drafts %+v", d)
			}
			_, err = g.BreachDrafts(dpo, b.ID, "fr")
			wantCode(t, err, tresor.ECInvalidParameter)
		})

		t.Run("the state moves open to authority_notified to closed only", func(t *testing.T) {
			b := breach("Phishing", "Ein Konto übernommen", time.Now(), tresor.BreachRiskSome)
			must(t, g.CreateBreach(dpo, b))
			_, err := g.SetBreachState(dpo, b.ID, tresor.BreachClosed, "", 0)
			wantCode(t, err, tresor.ECConflict)
			_, err = g.SetBreachState(dpo, b.ID, tresor.BreachAuthorityNotified, "", 0)
			must(t, err)
			got, err := g.SetBreachState(dpo, b.ID, tresor.BreachClosed, "erledigt", 0)
			must(t, err)
			if got.State != tresor.BreachClosed || got.ClosedAt == nil || got.NotifiedAt == nil || len(got.Actions) != 3 ||
				!strings.Contains(got.Actions[2].Text, "erledigt") {
				t.Fatalf("closed: %+v", got)
			}
			_, err = g.UpdateBreach(dpo, b.ID, tresor.Update{Patch: []byte(`{"state":"open"}`)})
			wantCode(t, err, tresor.ECValidation)
		})

		t.Run("affected counts come from the audit trail", func(t *testing.T) {
			since := time.Now().Add(-time.Second)
			var ids []string
			for _, mail := range []string{"a@example.org", "b@example.org", "c@example.org"} {
				c := erika()
				c.Emails = []string{mail}
				must(t, g.CreateContact(sales, c))
				ids = append(ids, c.ID)
			}
			_, err := g.Contact(sales, ids[0]) // a second touch of the same person counts once
			must(t, err)
			must(t, g.CreateTask(sales, &tresor.Task{TaskContent: tresor.TaskContent{Title: "Anrufen"}, Due: "2026-03-01", ContactID: ids[1]}))
			must(t, g.CreateTask(sales, &tresor.Task{TaskContent: tresor.TaskContent{Title: "Mailen"}, Due: "2026-03-02"}))
			until := time.Now().Add(time.Second)
			b := breach("Konto von Ann kompromittiert", "Fremder Zugriff", time.Now(), tresor.BreachRiskHigh)
			must(t, g.CreateBreach(dpo, b))
			actor := tresor.ActorFrom(sales).String()
			got, err := g.CountBreachScope(dpo, b.ID, actor, since, until)
			must(t, err)
			if got.Scope == nil || got.Scope.Contacts != 3 || got.Scope.Records != 2 || got.PeopleAffected != 3 ||
				got.RecordsAffected != 5 || got.Scope.Actor != actor {
				t.Fatalf("scope: %+v people %d records %d", got.Scope, got.PeopleAffected, got.RecordsAffected)
			}
			_, err = g.CountBreachScope(dpo, b.ID, "ann", since, until)
			wantCode(t, err, tresor.ECInvalidParameter)
		})
	})
}

func TestBreachDescriptionNeverInClearInTheSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
	b := breach("Vorfall 7", "Quittenmarmelade bei Frau Holunderbusch", time.Now(), tresor.BreachRiskHigh)
	b.Measures = "Rhabarberkompott gesperrt"
	must(t, g.CreateBreach(dpo, b))
	_, err := g.SetBreachState(dpo, b.ID, tresor.BreachAuthorityNotified, "Zimtschnecke informiert", 0)
	must(t, err)
	g.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var all []byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			all = append(all, b...)
		}
	}
	if !bytes.Contains(all, []byte("Vorfall 7")) {
		t.Fatal("the plain title is not in the files: wrong files read")
	}
	for _, s := range []string{"Quittenmarmelade", "Holunderbusch", "Rhabarberkompott", "Zimtschnecke"} {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("%q is stored in clear", s)
		}
	}
}
