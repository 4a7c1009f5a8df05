package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestSalesPersonWorksTheirTasks proves the task pages: a sales person adds
// tasks, sees the overdue one apart from today's, marks it done and opens
// it again with CSRF-protected forms, adds a task from a contact's page in
// its tasks panel, and finds what is due on "My day".
func TestSalesPersonWorksTheirTasks(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("sara@example.org", tresor.RoleSales)
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann", Emails: []string{"erika@example.de"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(tresor.WithPurpose(sys, "sales"), c))

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sara@example.org")
	b0.choosePurpose("sales")

	add := func(b *chrome, title, due string) {
		b.run(chromedp.WaitVisible(`#task-title`), chromedp.SendKeys(`#task-title`, title), chromedp.SetValue(`#task-due`, due),
			chromedp.Click(`#task-submit`))
	}
	t.Run("an overdue task is listed apart from today's", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/tasks"), chromedp.WaitVisible(`#tasks-panel`))
		add(b, "Send the offer to Muster GmbH", "2020-01-02")
		b.waitText("#tasks-overdue", "Send the offer to Muster GmbH")
		today, err := chromedp.Run(b.ctx, chromedp.Value(`#task-due`))
		must(t, err)
		add(b, "Prepare the trade fair", today)
		b.waitText("#tasks-today", "Prepare the trade fair")
		if got := b.text("#tasks-overdue"); strings.Contains(got, "trade fair") {
			t.Fatalf("today's task is listed as overdue: %q", got)
		}
		b.checkAccessibility("tasks")
	})
	t.Run("done and undo move the task with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Focus(`#tasks-overdue .task-done`), chromedp.KeyEvent("\r"))
		b.waitText("#tasks-done", "Send the offer to Muster GmbH")
		b.screenshotBoth("tasks")
		b.run(chromedp.Focus(`#tasks-done .task-undo`), chromedp.KeyEvent("\r"))
		b.waitText("#tasks-overdue", "Send the offer to Muster GmbH")
	})
	t.Run("a task is added in the contact's tasks panel", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/contacts/"+c.ID), chromedp.WaitVisible(`#tasks-panel #task-title`))
		add(b, "Call Erika back", "2020-02-03")
		b.run(chromedp.WaitVisible(`#tasks-panel #tasks-open`))
		if got := b.waitText("#tasks-panel #tasks-open", "Call Erika back"); !strings.Contains(got, "Call Erika back") {
			t.Fatalf("panel = %q", got)
		}
		loc, err := chromedp.Run(b.ctx, chromedp.Location())
		must(t, err)
		if !strings.Contains(loc, "/contacts/"+c.ID) {
			t.Fatalf("after adding, the page is %s, not the contact's", loc)
		}
		b.checkAccessibility("contact tasks panel")
		b.screenshot("contact-tasks-en")
	})
	t.Run("My day lists the tasks due today and overdue", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(`#start-task-list`))
		got := b.text("#start-task-list")
		for _, want := range []string{"Send the offer to Muster GmbH", "Prepare the trade fair", "Call Erika back"} {
			if !strings.Contains(got, want) {
				t.Errorf("My day lacks %q: %q", want, got)
			}
		}
		b.checkAccessibility("my day")
	})
}
