package gate

import (
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"tresor"
	"tresor/policy"
)

var _ tresor.TaskService = (*Gate)(nil)

// tasks: the title and note are sealed under the linked contact's key (its
// erasure destroys them) or under the task's own key. State and done_at
// change only through TaskDone.
var tasks = &kind[tresor.Task, *tresor.Task, *tresor.TaskRow]{
	name:     "task",
	need:     accessPurpose,
	readOnly: []string{"withheld", "state", "done_at", "damaged"},
	get:      func(ctx context.Context, r tresor.Reader, id string) (*tresor.TaskRow, error) { return r.Task(ctx, id) },
	insert: one(func(ctx context.Context, tx tresor.Tx, row *tresor.TaskRow) error {
		return tx.InsertTask(ctx, row)
	}),
	update: func(ctx context.Context, tx tresor.Tx, row *tresor.TaskRow, prev int64) error {
		return tx.UpdateTask(ctx, row, prev)
	},
	delete: func(ctx context.Context, tx tresor.Tx, id string) error {
		if err := tx.DeleteTask(ctx, id); err != nil {
			return err
		}
		return tx.DeleteDataKey(ctx, id) // its own key, if it belongs to no contact
	},
	toRow: func(ctx context.Context, tx tresor.Tx, g *Gate, t *tresor.Task, old *tresor.TaskRow) (*tresor.TaskRow, error) {
		row := &tresor.TaskRow{Task: *t}
		row.TaskContent, row.Withheld = tresor.TaskContent{}, nil
		var err error
		row.Sealed, row.Sealing, err = g.sealRecord(ctx, tx, "task", t.ID, t.ContactID, old.StoredKey(), &t.TaskContent)
		return row, err
	},
	fromRow: func(ctx context.Context, g *Gate, row *tresor.TaskRow, allow func(tresor.Category) bool) (*tresor.Task, error) {
		t := row.Task
		skipped, err := g.openRecord(ctx, "task", t.ID, row.Key, row.Sealed, &t.TaskContent, allow)
		if err != nil {
			t.TaskContent, t.Damaged = tresor.TaskContent{}, true
		}
		t.Withheld = skipped
		return &t, err
	},
	prepare: func(ctx context.Context, tx tresor.Tx, req *request, t, old *tresor.Task) error {
		if old != nil {
			return nil
		}
		if t.State != "" || t.DoneAt != nil || len(t.Withheld) > 0 {
			return fieldError("task", "state", "state, done_at and withheld are set by Tresor; leave them out and use /done and /undo")
		}
		t.State = tresor.TaskOpen
		if t.AssigneeID == "" {
			t.AssigneeID = req.ownerID()
		}
		return nil
	},
	check: func(ctx context.Context, tx tresor.Tx, req *request, t, old *tresor.Task) error {
		if err := contactWritable(ctx, tx, req, t.ContactID); err != nil {
			return err
		}
		if err := linkedVisible(ctx, tx, req, t); err != nil {
			return err
		}
		// A task has no legal basis of its own to confirm an Art. 9(2)
		// exception with: its text never carries a special category.
		var was tresor.TaskContent
		if old != nil {
			was = old.TaskContent
		}
		if err := screenNever(typed{field: "title", text: t.Title, was: was.Title},
			typed{field: "note", text: t.Note, was: was.Note}); err != nil {
			return err
		}
		var fields []tresor.PersonalField
		if old == nil {
			fields = filledFields(t)
		} else {
			fields = changedFields(old, t)
		}
		if len(fields) == 0 {
			return nil
		}
		// Data minimisation: a purpose writes only what it may read.
		return req.g.policy.CheckCategories(req.pu, categoriesOf(fields))
	},
	guard: func(ctx context.Context, g *Gate, req *request, t *tresor.Task) error {
		return linkedVisible(ctx, g.store.Read(), req, t)
	},
	subject: func(t *tresor.Task) string { return t.ContactID },
	present: func(req *request, t *tresor.Task) { t.Withheld = mergeCategories(t.Withheld, withhold(t, req.pu)) },
	refs: func(t *tresor.Task) []ref {
		return []ref{{"assignee_id", "user", t.AssigneeID}, {"contact_id", "contact", t.ContactID},
			{"deal_id", "deal", t.DealID}, {"case_id", "case", t.CaseID}}
	},
}

// linkedVisible refuses a task whose deal or case the purpose may not
// touch: one archived or of a restricted person. (A linked contact is the
// task's subject and is checked as such.)
func linkedVisible(ctx context.Context, r tresor.Reader, req *request, t *tresor.Task) error {
	if req.pu != nil && req.pu.SeesRestricted {
		return nil
	}
	var contactID string
	var archived *time.Time
	switch {
	case t.DealID != "":
		d, err := r.Deal(ctx, t.DealID)
		if err != nil {
			return nil // a missing deal is the reference check's to name
		}
		contactID, archived = d.ContactID, d.ArchivedAt
	case t.CaseID != "":
		k, err := r.Case(ctx, t.CaseID)
		if err != nil {
			return nil
		}
		contactID, archived = k.ContactID, k.ArchivedAt
	default:
		return nil
	}
	if archived != nil {
		return policy.Refuse(policy.RArchived, archived.Format(time.DateOnly))
	}
	return personUnrestricted(ctx, r, contactID)
}

// CreateTask stores a new task, open, assigned to the caller unless it
// names an assignee.
func (g *Gate) CreateTask(ctx context.Context, t *tresor.Task) error {
	return create(ctx, g, tasks, []*tresor.Task{t})
}

// Task returns one task.
func (g *Gate) Task(ctx context.Context, id string) (*tresor.Task, error) {
	return read(ctx, g, tasks, id)
}

// Tasks lists tasks by due date.
func (g *Gate) Tasks(ctx context.Context, f tresor.TaskFilter) (*tresor.List[*tresor.Task], error) {
	req, limit, err := g.page(ctx, tasks.need, &f.Page)
	if err != nil {
		return nil, err
	}
	if f.State != "" && f.State != tresor.TaskOpen && f.State != tresor.TaskDone {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a state of tasks; use open or done.", f.State)
	}
	for _, d := range []tresor.Date{f.DueBefore, f.DueUntil} {
		if d != "" && !d.Valid() {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a date in the form YYYY-MM-DD.", d)
		}
	}
	f.HideRestricted = !req.pu.SeesRestricted
	rows, err := g.store.Read().Tasks(ctx, f)
	if err != nil {
		return nil, err
	}
	return listOf(ctx, g, tasks, req, rows, limit)
}

// UpdateTask changes a task with a merge patch.
func (g *Gate) UpdateTask(ctx context.Context, id string, u tresor.Update) (*tresor.Task, error) {
	return change(ctx, g, tasks, id, u)
}

// DeleteTask deletes a task and its own data key.
func (g *Gate) DeleteTask(ctx context.Context, id string, ifVersion int64) error {
	return remove(ctx, g, tasks, id, ifVersion, nil)
}

// TaskDone marks a task done, or open again (done false); the audit trail
// records task.done or task.undo. Marking a done task done (or an open one
// open) changes nothing and records nothing.
func (g *Gate) TaskDone(ctx context.Context, id string, done bool, ifVersion int64) (*tresor.Task, error) {
	action, state := "task.undo", tresor.TaskOpen
	if done {
		action, state = "task.done", tresor.TaskDone
	}
	req, err := g.authorize(ctx, tasks.need)
	if err != nil {
		return nil, err
	}
	var out *tresor.Task
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.Task(ctx, id)
		if err != nil {
			return err
		}
		t, err := tasks.fromRow(ctx, g, row, nil)
		if gerr := tasks.guarded(ctx, g, tx, req, t); gerr != nil {
			return gerr
		}
		if err != nil {
			return err
		}
		if err := contactWritable(ctx, tx, req, t.ContactID); err != nil {
			return err
		}
		if err := checkVersion("task", t.Version, ifVersion); err != nil {
			return err
		}
		out = t
		if t.State == state {
			return nil
		}
		prev := t.Version
		t.State, t.DoneAt = state, nil
		if done {
			at := req.now
			t.DoneAt = &at
		}
		t.UpdatedAt, t.Version = req.now, prev+1
		newRow, err := tasks.toRow(ctx, tx, g, t, row)
		if err != nil {
			return err
		}
		if err := tx.UpdateTask(ctx, newRow, prev); err != nil {
			return err
		}
		entry = g.entry(ctx, action, "task", []string{id}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, "task", []string{id}, nil, err))
		return nil, err
	}
	if entry != nil {
		g.committed([]*tresor.AuditEntry{entry})
	}
	return tasks.shown(req, out), nil
}

// MoveTasks links every task of the contact from to the contact to, as a
// merge of the two people does, re-sealing each title and note under to's
// data key (erasing to then destroys them, erasing from no longer does). It
// returns the ids of the tasks moved; the audit trail records task.update.
func (g *Gate) MoveTasks(ctx context.Context, from, to string) ([]string, error) {
	req, err := g.authorize(ctx, tasks.need)
	if err != nil {
		return nil, err
	}
	var moved []string
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if moved, err = g.moveTasks(ctx, tx, req, from, to); err != nil || len(moved) == 0 {
			return err
		}
		entry = g.entry(ctx, "task.update", "task", moved, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "task.update", "task", nil, nil, err))
		return nil, err
	}
	if entry != nil {
		g.committed([]*tresor.AuditEntry{entry})
	}
	return moved, nil
}

// moveTasks is MoveTasks inside a transaction of the caller's (a merge
// writes it together with the rest of the merge).
func (g *Gate) moveTasks(ctx context.Context, tx tresor.Tx, req *request, from, to string) ([]string, error) {
	for _, id := range []string{from, to} {
		if _, err := tx.Contact(ctx, id); err != nil {
			return nil, err
		}
		if err := contactWritable(ctx, tx, req, id); err != nil {
			return nil, err
		}
	}
	if from == to {
		return nil, nil
	}
	s, err := g.sealerFor(ctx, tx, to, nil)
	if err != nil {
		return nil, err
	}
	if s.new {
		if err := tx.InsertDataKey(ctx, *s.key, req.now); err != nil {
			return nil, err
		}
	}
	sealed := map[string][]byte{}
	var ids []string
	p := tresor.Page{Limit: tresor.MaxPageSize}
	for {
		rows, err := tx.Tasks(ctx, tresor.TaskFilter{ContactID: from, Page: p})
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			var c tresor.TaskContent
			if _, err := g.openRecord(ctx, "task", row.ID, row.Key, row.Sealed, &c, nil); err != nil {
				return nil, err
			}
			if sealed[row.ID], _, err = s.seal("task", row.ID, &c); err != nil {
				return nil, err
			}
			ids = append(ids, row.ID)
		}
		if len(rows) < p.Limit {
			break
		}
		p.After = rows[len(rows)-1].ID
	}
	if _, err := tx.MoveTasks(ctx, from, to, sealed, req.now); err != nil {
		return nil, err
	}
	return ids, nil
}

// ---- the daily reminder

// reminderMax is how many tasks one reminder lists; the mail says how many
// more there are.
const reminderMax = 50

// SendTaskReminders mails every user with open tasks due on the day or
// before it one reminder listing them, unless a reminder of that day was
// claimed already (by this or another server on the database). It returns
// how many mails it sent. A failed mail leaves its claim unwritten, so the
// next run tries again.
func (g *Gate) SendTaskReminders(ctx context.Context, day tresor.Date) (int, error) {
	ctx = asSystem(ctx)
	if !day.Valid() {
		return 0, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a date in the form YYYY-MM-DD.", day)
	}
	if g.mailer == nil {
		return 0, tresor.Errorf(tresor.ECUnavailable, "No SMTP server is configured; reminders cannot be sent.")
	}
	users, err := g.store.Read().TaskAssignees(ctx, day)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, id := range users {
		ok, err := g.remind(ctx, id, day)
		if err != nil {
			errs = append(errs, fmt.Errorf("reminder to user %s: %w", id, err))
			continue
		}
		if ok {
			sent++
		}
	}
	if len(errs) > 0 {
		return sent, errs[0]
	}
	return sent, nil
}

// remind claims and sends one user's reminder of the day, in one
// transaction: the mail goes out while the claim is held, and the claim
// stands only if the mail went.
func (g *Gate) remind(ctx context.Context, userID string, day tresor.Date) (bool, error) {
	u, err := g.store.Read().User(ctx, userID)
	if err != nil {
		return false, err
	}
	if u.DisabledAt != nil {
		return false, nil
	}
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		claimed, err := tx.ClaimReminder(ctx, userID, day, g.now())
		if err != nil || !claimed {
			return err
		}
		rows, err := tx.Tasks(ctx, tresor.TaskFilter{AssigneeID: userID, State: tresor.TaskOpen, DueUntil: day,
			HideRestricted: true, Page: tresor.Page{Limit: tresor.MaxPageSize}})
		if err != nil {
			return err
		}
		var listed []*tresor.Task
		for _, row := range rows {
			t, err := tasks.fromRow(ctx, g, row, nil)
			if err != nil {
				continue // a damaged task is left out of the mail, not the others
			}
			listed = append(listed, t)
		}
		if len(listed) == 0 {
			return nil
		}
		ids := idsOf(listed)
		if err := g.mailer.Send(ctx, g.reminderMail(u, day, listed)); err != nil {
			return err
		}
		entry = g.entry(ctx, "task.remind", "task", ids, []tresor.Category{"interaction.content"}, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil || entry == nil {
		return false, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return true, nil
}

// reminderMail is the reminder of a day: German, then English.
func (g *Gate) reminderMail(u *tresor.User, day tresor.Date, ts []*tresor.Task) *tresor.Mail {
	var list strings.Builder
	overdue := 0
	for i, t := range ts {
		if i == reminderMax {
			fmt.Fprintf(&list, "  … +%d\n", len(ts)-reminderMax)
			break
		}
		mark := ""
		if t.Overdue(day) {
			mark = " (!)"
		}
		fmt.Fprintf(&list, "- %s%s  %s\n", t.Due, mark, t.Title)
	}
	for _, t := range ts {
		if t.Overdue(day) {
			overdue++
		}
	}
	data := map[string]any{"Day": string(day), "Count": len(ts), "Overdue": overdue, "List": list.String(),
		"Link": g.publicURL + "/tasks"}
	return &tresor.Mail{To: u.Email, Subject: render("task_reminder_subject", data), Text: render("task_reminder", data)}
}

// WatchTaskReminders sends the daily reminders once the hour of the day
// has come in the time zone loc; it looks every interval, and each server
// sends a day's reminders at most once (the claims settle it between
// servers, should two lead at one moment).
func (g *Gate) WatchTaskReminders(ctx context.Context, loc *time.Location, hour int, every time.Duration) {
	g.watchDaily(ctx, loc, hour, every, "task reminders", g.SendTaskReminders)
}

// watchDaily runs send once a day, once the hour has come in the time
// zone loc, looking every interval; a failed day is tried again at the
// next look.
func (g *Gate) watchDaily(ctx context.Context, loc *time.Location, hour int, every time.Duration, what string,
	send func(context.Context, tresor.Date) (int, error)) {
	var last tresor.Date
	check := func() {
		now := g.now().In(loc)
		day := tresor.Date(now.Format(time.DateOnly))
		if now.Hour() < hour || day == last || !g.turn(ctx, what) {
			return
		}
		n, err := send(ctx, day)
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error(what, "error", err, "sent", n)
			}
			return
		}
		last = day
		if n > 0 {
			g.log.Info(what+" sent", "mails", n, "day", string(day))
		}
	}
	check()
	ticking(ctx, every, check)
}

// The reminder's texts join the mails Tresor writes itself.
var _ = template.Must(mailTemplates.Parse(`
{{define "task_reminder_subject"}}Ihre Aufgaben am {{.Day}} / Your tasks on {{.Day}}: {{.Count}}{{end}}
{{define "task_reminder"}}
Guten Morgen,

heute sind {{.Count}} Aufgaben fällig, davon {{.Overdue}} überfällig (!):

{{.List}}
Alle Aufgaben: {{.Link}}

---

Good morning,

{{.Count}} tasks are due today, {{.Overdue}} of them overdue (!):

{{.List}}
All tasks: {{.Link}}

Tresor
{{end}}`))
