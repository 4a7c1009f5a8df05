package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"tresor"
)

// taskTests are the store's part of tasks and their daily reminders.
var taskTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"TasksRoundTripFilterAndOrderByDue", testTasks},
	{"TasksPageByDueThenID", testTasksPaging},
	{"TasksGoWithTheirContactDealOrCase", testTasksCascade},
	{"MoveTasksReplacesContactKeyAndContent", testMoveTasks},
	{"MoveTasksRefusesTaskWithoutNewContent", testMoveTasksIncomplete},
	{"ReminderClaimedOncePerUserAndDay", testReminderClaim},
}

func taskRow(due tresor.Date) *tresor.TaskRow {
	r := &tresor.TaskRow{Sealed: []byte("sealed title " + string(due))}
	r.Meta = meta(epoch)
	r.Due, r.State = due, tresor.TaskOpen
	return r
}

func insertTasks(t *testing.T, s tresor.Store, rows ...*tresor.TaskRow) {
	t.Helper()
	update(t, s, func(tx tresor.Tx) error {
		for _, r := range rows {
			if err := tx.InsertTask(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func listTasks(t *testing.T, s tresor.Store, f tresor.TaskFilter) []string {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 50
	}
	rows, err := s.Read().Tasks(ctx, f)
	must(t, err)
	return ids(rows)
}

func testTasks(t *testing.T, s tresor.Store) {
	u, v := MustUser(t, s, "ann@example.org"), MustUser(t, s, "ben@example.org")
	c := contactRow("", "task@example.org")
	insertContacts(t, s, c)
	late, today, later, done := taskRow("2026-03-01"), taskRow("2026-03-14"), taskRow("2026-04-01"), taskRow("2026-03-02")
	late.AssigneeID, today.AssigneeID, later.AssigneeID, done.AssigneeID = u.ID, u.ID, v.ID, u.ID
	today.ContactID = c.ID
	at := epoch.Add(time.Hour)
	done.State, done.DoneAt = tresor.TaskDone, &at
	insertTasks(t, s, later, today, done, late)

	got, err := s.Read().Task(ctx, done.ID)
	must(t, err)
	if got.Due != "2026-03-02" || got.State != tresor.TaskDone || got.DoneAt == nil || !got.DoneAt.Equal(at) ||
		got.AssigneeID != u.ID || string(got.Sealed) != "sealed title 2026-03-02" || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("task = %+v", got)
	}
	for _, tc := range []struct {
		name string
		f    tresor.TaskFilter
		want []string
	}{
		{"all by due", tresor.TaskFilter{}, []string{late.ID, done.ID, today.ID, later.ID}},
		{"assignee", tresor.TaskFilter{AssigneeID: u.ID}, []string{late.ID, done.ID, today.ID}},
		{"open", tresor.TaskFilter{State: tresor.TaskOpen}, []string{late.ID, today.ID, later.ID}},
		{"overdue", tresor.TaskFilter{State: tresor.TaskOpen, DueBefore: "2026-03-14"}, []string{late.ID}},
		{"due until", tresor.TaskFilter{State: tresor.TaskOpen, DueUntil: "2026-03-14"}, []string{late.ID, today.ID}},
		{"contact", tresor.TaskFilter{ContactID: c.ID}, []string{today.ID}},
	} {
		if got := listTasks(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: tasks = %v, want %v", tc.name, got, tc.want)
		}
	}
	who, err := s.Read().TaskAssignees(ctx, "2026-03-14")
	must(t, err)
	if !slices.Equal(who, []string{u.ID}) {
		t.Errorf("assignees with tasks due = %v, want %v", who, []string{u.ID})
	}

	t2 := *late
	t2.State, t2.DoneAt, t2.Version, t2.Sealed = tresor.TaskDone, &at, 2, []byte("changed")
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateTask(ctx, &t2, 1) })
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateTask(ctx, &t2, 1) }), tresor.ECVersionMismatch)
	got, err = s.Read().Task(ctx, late.ID)
	must(t, err)
	if got.Version != 2 || got.State != tresor.TaskDone || string(got.Sealed) != "changed" {
		t.Errorf("updated task = %+v", got)
	}
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteTask(ctx, late.ID) })
	_, err = s.Read().Task(ctx, late.ID)
	wantCode(t, err, tresor.ECNotFound)
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteTask(ctx, late.ID) }), tresor.ECNotFound)

	bad := taskRow("2026-05-01")
	bad.AssigneeID = newID()
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertTask(ctx, bad) }), tresor.ECInvalidReference)
}

func testTasksPaging(t *testing.T, s tresor.Store) {
	var rows []*tresor.TaskRow
	for _, due := range []tresor.Date{"2026-03-03", "2026-03-01", "2026-03-03", "2026-03-02", "2026-03-01"} {
		rows = append(rows, taskRow(due))
	}
	insertTasks(t, s, rows...)
	want := listTasks(t, s, tresor.TaskFilter{})
	var got []string
	after := ""
	for range 10 {
		page := listTasks(t, s, tresor.TaskFilter{Page: tresor.Page{After: after, Limit: 2}})
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if !slices.Equal(got, want) || len(got) != 5 {
		t.Errorf("pages = %v, want %v", got, want)
	}
}

func testTasksCascade(t *testing.T, s tresor.Store) {
	c := contactRow("", "gone@example.org")
	insertContacts(t, s, c)
	d := dealOf(tresor.DefaultPipelineID, "lead")
	k := caseRow()
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertDeal(ctx, d); err != nil {
			return err
		}
		return tx.InsertCase(ctx, k)
	})
	a, b, e, free := taskRow("2026-03-01"), taskRow("2026-03-02"), taskRow("2026-03-03"), taskRow("2026-03-04")
	a.ContactID, b.DealID, e.CaseID = c.ID, d.ID, k.ID
	insertTasks(t, s, a, b, e, free)
	update(t, s, func(tx tresor.Tx) error {
		if _, err := tx.EraseContact(ctx, c.ID, tresor.EraseRecords, tresor.EraseRecords); err != nil {
			return err
		}
		if err := tx.DeleteDeal(ctx, d.ID); err != nil {
			return err
		}
		return tx.DeleteCase(ctx, k.ID)
	})
	if got := listTasks(t, s, tresor.TaskFilter{}); !slices.Equal(got, []string{free.ID}) {
		t.Errorf("tasks left = %v, want only the unlinked %s", got, free.ID)
	}
}

func testMoveTasks(t *testing.T, s tresor.Store) {
	from, to := contactRow("", "old@example.org"), contactRow("", "new@example.org")
	insertContacts(t, s, from, to)
	k := tresor.WrappedKey{Subject: to.ID, Version: 1, KEKVersion: 1, Wrapped: []byte("wrapped key")}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertDataKey(ctx, k, epoch) })
	a, b, other := taskRow("2026-03-01"), taskRow("2026-03-02"), taskRow("2026-03-03")
	a.ContactID, b.ContactID = from.ID, from.ID
	insertTasks(t, s, a, b, other)
	at := epoch.Add(time.Hour)
	var n int
	update(t, s, func(tx tresor.Tx) error {
		var err error
		n, err = tx.MoveTasks(ctx, from.ID, to.ID, map[string][]byte{a.ID: []byte("a under to"), b.ID: []byte("b under to")}, at)
		return err
	})
	if n != 2 {
		t.Errorf("moved %d tasks, want 2", n)
	}
	if got := listTasks(t, s, tresor.TaskFilter{ContactID: from.ID}); len(got) != 0 {
		t.Errorf("tasks left with the old contact: %v", got)
	}
	got, err := s.Read().Task(ctx, a.ID)
	must(t, err)
	if got.ContactID != to.ID || got.Key == nil || got.Key.Subject != to.ID || string(got.Sealed) != "a under to" ||
		got.Version != 2 || !got.UpdatedAt.Equal(at) {
		t.Errorf("moved task = %+v (key %+v)", got, got.Key)
	}
	o, err := s.Read().Task(ctx, other.ID)
	must(t, err)
	if o.ContactID != "" || string(o.Sealed) != string(other.Sealed) {
		t.Errorf("a task of no contact changed: %+v", o)
	}
}

func testMoveTasksIncomplete(t *testing.T, s tresor.Store) {
	from, to := contactRow("", "old@example.org"), contactRow("", "new@example.org")
	insertContacts(t, s, from, to)
	a, b := taskRow("2026-03-01"), taskRow("2026-03-02")
	a.ContactID, b.ContactID = from.ID, from.ID
	insertTasks(t, s, a, b)
	err := s.Update(ctx, func(tx tresor.Tx) error {
		_, err := tx.MoveTasks(ctx, from.ID, to.ID, map[string][]byte{a.ID: []byte("a under to")}, epoch)
		return err
	})
	wantCode(t, err, tresor.ECConflict)
	if got := listTasks(t, s, tresor.TaskFilter{ContactID: from.ID}); len(got) != 2 {
		t.Errorf("tasks of the old contact = %v, want both still there", got)
	}
}

func testReminderClaim(t *testing.T, s tresor.Store) {
	u, v := MustUser(t, s, "ann@example.org"), MustUser(t, s, "ben@example.org")
	claim := func(userID string, day tresor.Date) bool {
		var got bool
		update(t, s, func(tx tresor.Tx) error {
			var err error
			got, err = tx.ClaimReminder(ctx, userID, day, epoch)
			return err
		})
		return got
	}
	// Several servers race for the same claim: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got bool
			err := s.Update(ctx, func(tx tresor.Tx) error {
				var err error
				got, err = tx.ClaimReminder(ctx, u.ID, "2026-03-14", epoch)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if got {
				wins++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d processes claimed the same reminder, want 1", wins)
	}
	if !claim(v.ID, "2026-03-14") {
		t.Error("another user's reminder of the same day was refused")
	}
	if !claim(u.ID, "2026-03-15") {
		t.Error("the next day's reminder was refused")
	}
	if claim(u.ID, "2026-03-15") {
		t.Error("the same reminder was claimed twice")
	}
}
