package gate_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	tmail "tresor/mail"
	"tresor/mailtest"
)

func task(title string, due tresor.Date) *tresor.Task {
	return &tresor.Task{TaskContent: tresor.TaskContent{Title: title, Note: "Notiz zu " + title}, Due: due}
}

func taskIDs(l *tresor.List[*tresor.Task]) []string {
	out := make([]string, len(l.Items))
	for i, t := range l.Items {
		out[i] = t.ID
	}
	return out
}

func userOf(ctx context.Context) string { return tresor.ActorFrom(ctx).UserID }

// auditActions lists the actions of the allowed audit entries about the object.
func auditActions(t *testing.T, g *gate.Gate, id string) []string {
	t.Helper()
	l, err := g.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{ContactID: id, Decision: tresor.Allowed, Page: tresor.Page{Limit: 100}})
	must(t, err)
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Action)
	}
	slices.Reverse(out)
	return out
}

func TestTaskRules(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ann := as(t, g, "ann@example.org", "sales", tresor.RoleSales)
		ben := as(t, g, "ben@example.org", "sales", tresor.RoleSales)
		dpo := tresor.WithPurpose(system(), "data_protection")

		t.Run("a new task is open and assigned to its author", func(t *testing.T) {
			tk := task("Angebot an Frau Mustermann", "2026-03-20")
			must(t, g.CreateTask(ann, tk))
			if tk.State != tresor.TaskOpen || tk.AssigneeID != userOf(ann) || tk.DoneAt != nil || tk.Version != 1 {
				t.Fatalf("new task = %+v", tk)
			}
			bad := task("Angebot", "2026-03-20")
			bad.State = tresor.TaskDone
			wantCode(t, g.CreateTask(ann, bad), tresor.ECValidation)
		})

		t.Run("a task is linked to one contact, deal or case at most", func(t *testing.T) {
			c := erika()
			must(t, g.CreateContact(ann, c))
			d := &tresor.Deal{Title: "Rahmenvertrag", Stage: "lead"}
			must(t, g.CreateDeal(ann, d))
			tk := task("Rückruf", "2026-03-20")
			tk.ContactID, tk.DealID = c.ID, d.ID
			wantCode(t, g.CreateTask(ann, tk), tresor.ECValidation)
			tk = task("Rückruf", "2026-03-20")
			tk.DealID = "01890000-0000-7000-8000-000000000000"
			wantCode(t, g.CreateTask(ann, tk), tresor.ECInvalidReference)
		})

		t.Run("assignee and state filters list only those tasks, overdue ones first by due date", func(t *testing.T) {
			a1, a2 := task("Ann später", "2031-05-02"), task("Ann überfällig", "2020-01-02")
			b1 := task("Ben heute", "2030-01-01")
			b1.AssigneeID = userOf(ben)
			for _, tk := range []*tresor.Task{a1, a2, b1} {
				must(t, g.CreateTask(ann, tk))
			}
			l, err := g.Tasks(ben, tresor.TaskFilter{AssigneeID: userOf(ben)})
			must(t, err)
			if got := taskIDs(l); !slices.Equal(got, []string{b1.ID}) {
				t.Fatalf("ben's tasks = %v, want %v", got, []string{b1.ID})
			}
			l, err = g.Tasks(ann, tresor.TaskFilter{AssigneeID: userOf(ann), State: tresor.TaskOpen, DueBefore: "2026-01-01"})
			must(t, err)
			if got := taskIDs(l); !slices.Equal(got, []string{a2.ID}) {
				t.Fatalf("ann's overdue tasks = %v, want %v", got, []string{a2.ID})
			}
			l, err = g.Tasks(ann, tresor.TaskFilter{AssigneeID: userOf(ann)})
			must(t, err)
			for i := 1; i < len(l.Items); i++ {
				if l.Items[i-1].Due > l.Items[i].Due {
					t.Fatalf("tasks not sorted by due: %s before %s", l.Items[i-1].Due, l.Items[i].Due)
				}
			}
		})

		t.Run("done and undo set and clear done_at and are audited with every write", func(t *testing.T) {
			tk := task("Vertrag prüfen", "2026-04-01")
			must(t, g.CreateTask(ann, tk))
			_, err := g.UpdateTask(ann, tk.ID, tresor.Update{Patch: []byte(`{"due":"2026-04-02"}`)})
			must(t, err)
			_, err = g.UpdateTask(ann, tk.ID, tresor.Update{Patch: []byte(`{"state":"done"}`)})
			wantCode(t, err, tresor.ECValidation)
			done, err := g.TaskDone(ann, tk.ID, true, 0)
			must(t, err)
			if done.State != tresor.TaskDone || done.DoneAt == nil || done.Version != 3 {
				t.Fatalf("done task = %+v", done)
			}
			undone, err := g.TaskDone(ann, tk.ID, false, 0)
			must(t, err)
			if undone.State != tresor.TaskOpen || undone.DoneAt != nil {
				t.Fatalf("undone task = %+v", undone)
			}
			got, err := g.Task(ann, tk.ID)
			must(t, err)
			if got.Title != "Vertrag prüfen" || got.Note != "Notiz zu Vertrag prüfen" || got.Due != "2026-04-02" {
				t.Fatalf("read back = %+v", got)
			}
			must(t, g.DeleteTask(ann, tk.ID, 0))
			_, err = g.Task(ann, tk.ID)
			wantCode(t, err, tresor.ECNotFound)
			want := []string{"task.create", "task.update", "task.done", "task.undo", "task.read", "task.delete"}
			if got := auditActions(t, g, tk.ID); !slices.Equal(got, want) {
				t.Fatalf("audit of the task = %v, want %v", got, want)
			}
		})

		t.Run("an administrator without a staff role sees no tasks", func(t *testing.T) {
			admin := as(t, g, "admin@example.org", "sales", tresor.RoleAdmin)
			_, err := g.Tasks(admin, tresor.TaskFilter{})
			if err == nil {
				t.Fatal("an administrator listed tasks")
			}
			if err := g.CreateTask(admin, task("Admin", "2026-01-01")); err == nil {
				t.Fatal("an administrator created a task")
			}
			_, err = g.Tasks(tresor.WithActor(bg, tresor.ActorFrom(ann)), tresor.TaskFilter{})
			if err == nil {
				t.Fatal("tasks were listed without a purpose")
			}
		})

		t.Run("erasure of a contact deletes its tasks", func(t *testing.T) {
			c := erika()
			must(t, g.CreateContact(ann, c))
			tk, other := task("Erika anrufen", "2026-03-01"), task("Allgemein", "2026-03-01")
			tk.ContactID = c.ID
			must(t, g.CreateTask(ann, tk))
			must(t, g.CreateTask(ann, other))
			_, err := g.EraseContact(dpo, c.ID, tresor.EraseRequest{Reason: "request 2026-9"})
			must(t, err)
			_, err = g.Task(ann, tk.ID)
			wantCode(t, err, tresor.ECNotFound)
			if _, err := g.Task(ann, other.ID); err != nil {
				t.Fatalf("an unrelated task went with the erasure: %v", err)
			}
		})

		t.Run("moving tasks re-seals them under the target contact's key", func(t *testing.T) {
			from, to := erika(), erika()
			to.Emails = []string{"erika.neu@example.de"}
			must(t, g.CreateContact(ann, from))
			must(t, g.CreateContact(ann, to))
			a, b := task("Dublette 1", "2026-03-01"), task("Dublette 2", "2026-03-02")
			a.ContactID, b.ContactID = from.ID, from.ID
			must(t, g.CreateTask(ann, a))
			must(t, g.CreateTask(ann, b))
			moved, err := g.MoveTasks(ann, from.ID, to.ID)
			must(t, err)
			if len(moved) != 2 {
				t.Fatalf("moved %v", moved)
			}
			// The source's key no longer seals them: its erasure leaves them readable.
			_, err = g.EraseContact(dpo, from.ID, tresor.EraseRequest{Reason: "merged"})
			must(t, err)
			got, err := g.Task(ann, a.ID)
			must(t, err)
			if got.ContactID != to.ID || got.Title != "Dublette 1" || got.Damaged {
				t.Fatalf("moved task = %+v", got)
			}
			_, err = g.EraseContact(dpo, to.ID, tresor.EraseRequest{Reason: "request"})
			must(t, err)
			_, err = g.Task(ann, b.ID)
			wantCode(t, err, tresor.ECNotFound)
		})
	})
}

// TestTaskTitleNeverStoredInClear greps the SQLite files for a task's title
// and note, linked to a contact and to nothing.
func TestTaskTitleNeverStoredInClear(t *testing.T) {
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	ann := as(t, g, "ann@example.org", "sales", tresor.RoleSales)
	c := erika()
	must(t, g.CreateContact(ann, c))
	linked := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Quittenmarmelade liefern", Note: "Zimtschnecke mitbringen"}, Due: "2026-03-01", ContactID: c.ID}
	free := &tresor.Task{TaskContent: tresor.TaskContent{Title: "Holunderblütensirup bestellen"}, Due: "2026-03-01"}
	must(t, g.CreateTask(ann, linked))
	must(t, g.CreateTask(ann, free))
	_, err := g.UpdateTask(ann, free.ID, tresor.Update{Patch: []byte(`{"note":"Rhabarberkompott"}`)})
	must(t, err)
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var all []byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			all = append(all, b...)
		}
	}
	if len(all) == 0 {
		t.Fatal("no database files found")
	}
	for _, s := range []string{"Quittenmarmelade", "Zimtschnecke", "Holunderblütensirup", "Rhabarberkompott"} {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("%q is stored in clear", s)
		}
	}
}

// TestTaskReminderOncePerDayPerUser: two servers on one database send the
// day's reminders at once; every user gets exactly one mail (the real
// Mailpit counts them), listing the tasks due that day and overdue, and a
// second run the same day sends nothing.
func TestTaskReminderOncePerDayPerUser(t *testing.T) {
	addr, api := mailtest.Mailpit(t)
	sharedDatabase(t, func(t *testing.T, cfg func() datadir.Config) {
		smtp := &tmail.SMTP{Addr: addr, From: "Tresor <crm@example.org>", Timeout: 10 * time.Second}
		day := tresor.Date("2026-03-16")
		noon := func() time.Time { return time.Date(2026, 3, 16, 7, 0, 0, 0, time.UTC) }
		g1 := openGate(t, cfg(), gate.WithMailer(smtp), gate.WithClock(noon), gate.WithPublicURL("https://crm.example.org"))
		g2 := openGate(t, cfg(), gate.WithMailer(smtp), gate.WithClock(noon), gate.WithPublicURL("https://crm.example.org"))
		tag := rand.Uint64()
		ann := as(t, g1, fmt.Sprintf("ann-%d@example.org", tag), "sales", tresor.RoleSales)
		ben := as(t, g1, fmt.Sprintf("ben-%d@example.org", tag), "sales", tresor.RoleSales)
		cid := as(t, g1, fmt.Sprintf("cid-%d@example.org", tag), "sales", tresor.RoleSales)
		for _, tk := range []struct {
			ctx   context.Context
			title string
			due   tresor.Date
		}{
			{ann, "Ann heute fällig", day}, {ann, "Ann überfällig", "2026-03-10"}, {ann, "Ann nächste Woche", "2026-03-23"},
			{ben, "Ben überfällig", "2026-03-01"}, {cid, "Cid nächste Woche", "2026-03-23"},
		} {
			must(t, g1.CreateTask(tk.ctx, task(tk.title, tk.due)))
		}
		var wg sync.WaitGroup
		sent := make([]int, 2)
		for i, g := range []*gate.Gate{g1, g2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := g.SendTaskReminders(bg, day)
				if err != nil {
					t.Error(err)
				}
				sent[i] = n
			}()
		}
		wg.Wait()
		if sent[0]+sent[1] != 2 {
			t.Errorf("the servers sent %v reminders, want 2 in all", sent)
		}
		count := func(to string) int {
			var found struct {
				Messages []struct{ ID, Subject string }
			}
			mailtest.GetJSON(t, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
			return len(found.Messages)
		}
		subject := "Ihre Aufgaben am 2026-03-16 / Your tasks on 2026-03-16: 2"
		text, _ := mailtest.Message(t, api, tresor.ActorFrom(ann).Email, subject)
		t.Run("the reminder lists the tasks due today and overdue, not later ones", func(t *testing.T) {
			if !strings.Contains(text, "Ann heute fällig") || !strings.Contains(text, "2026-03-10 (!)  Ann überfällig") ||
				strings.Contains(text, "nächste Woche") || !strings.Contains(text, "https://crm.example.org/tasks") {
				t.Fatalf("reminder text = %q", text)
			}
		})
		t.Run("one mail per user and day, none without tasks due", func(t *testing.T) {
			if n := count(tresor.ActorFrom(ann).Email); n != 1 {
				t.Errorf("ann got %d mails, want 1", n)
			}
			if n := count(tresor.ActorFrom(ben).Email); n != 1 {
				t.Errorf("ben got %d mails, want 1", n)
			}
			if n := count(tresor.ActorFrom(cid).Email); n != 0 {
				t.Errorf("cid, with nothing due, got %d mails", n)
			}
			n, err := g2.SendTaskReminders(bg, day)
			must(t, err)
			if n != 0 || count(tresor.ActorFrom(ann).Email) != 1 {
				t.Errorf("a second run the same day sent %d more", n)
			}
		})
		t.Run("the reminder is audited with the tasks it listed", func(t *testing.T) {
			l, err := g1.AuditLog(tresor.WithPurpose(system(), "data_protection"), tresor.AuditFilter{Action: "task.remind", Page: tresor.Page{Limit: 10}})
			must(t, err)
			if len(l.Items) != 2 || l.Items[0].Actor != "system" {
				t.Fatalf("task.remind entries = %+v", l.Items)
			}
		})
	})
}

// TestTaskRemindersWaitForTheHourInTheTimeZone: the watcher sends nothing
// before the configured hour of the working day's time zone, then the
// day's reminder once.
func TestTaskRemindersWaitForTheHourInTheTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	must(t, err)
	var mu sync.Mutex
	now := time.Date(2026, 3, 16, 6, 30, 0, 0, berlin) // 05:30 UTC
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	box := &mailbox{}
	g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(clock), gate.WithMailer(box))
	ann := as(t, g, "ann@example.org", "sales", tresor.RoleSales)
	must(t, g.CreateTask(ann, task("Angebot nachfassen", "2026-03-16")))
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { g.WatchTaskReminders(ctx, berlin, 7, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	t.Run("nothing before seven in Berlin", func(t *testing.T) {
		if n := len(box.all()); n != 0 {
			t.Fatalf("%d mails before the hour", n)
		}
	})
	mu.Lock()
	now = time.Date(2026, 3, 16, 7, 1, 0, 0, berlin)
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for len(box.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	t.Run("one reminder once the hour has come", func(t *testing.T) {
		ms := box.all()
		if len(ms) != 1 || ms[0].To != "ann@example.org" || !strings.Contains(ms[0].Text, "Angebot nachfassen") {
			t.Fatalf("mails = %+v", ms)
		}
	})
}
