package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tresor"
)

var (
	_ tresor.TaskReader = (*conn)(nil)
	_ tresor.TaskWriter = (*conn)(nil)
)

func scanTask(s scanner) (*tresor.TaskRow, error) {
	var r tresor.TaskRow
	var assignee, contact, deal, kase sql.NullString
	var done sql.NullInt64
	var created, updated int64
	var key keyColumns
	if err := s.Scan(&r.ID, &r.Due, &assignee, &contact, &deal, &kase, &r.State, &done, &created, &updated,
		&r.Version, &r.Sealed, &key.subject, &key.version, &key.kek, &key.wrapped); err != nil {
		return nil, err
	}
	r.Key, r.DoneAt = key.get(), optTime(done)
	r.AssigneeID, r.ContactID, r.DealID, r.CaseID = assignee.String, contact.String, deal.String, kase.String
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

// Task returns one task.
func (c *conn) Task(ctx context.Context, id string) (*tresor.TaskRow, error) {
	return get(ctx, c, "task", id, scanTask)
}

// Tasks lists tasks by due date, then by id; a page continues after the
// due date and id of the task its cursor names.
func (c *conn) Tasks(ctx context.Context, q tresor.TaskFilter) ([]*tresor.TaskRow, error) {
	var f filter
	f.eq("tk.assignee_id", q.AssigneeID)
	f.eq("tk.state", string(q.State))
	f.eq("tk.contact_id", q.ContactID)
	f.eq("tk.deal_id", q.DealID)
	f.eq("tk.case_id", q.CaseID)
	if q.DueBefore != "" {
		f.add("tk.due < ?", string(q.DueBefore))
	}
	if q.DueUntil != "" {
		f.add("tk.due <= ?", string(q.DueUntil))
	}
	if q.HideRestricted {
		f.add(notRestricted("tk.contact_id"))
	}
	if q.Page.After != "" {
		if !tresor.ValidID(q.Page.After) {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
		}
		f.add("(tk.due > (SELECT a.due FROM tasks a WHERE a.id = ?) OR (tk.due = (SELECT b.due FROM tasks b WHERE b.id = ?) AND tk.id > ?))",
			q.Page.After, q.Page.After, q.Page.After)
	}
	text, args := f.ordered(queries["task-select"], "tk.due, tk.id", q.Page.Limit)
	return list(ctx, c, text, args, scanTask)
}

// TaskAssignees lists the users with open tasks due on or before the day.
func (c *conn) TaskAssignees(ctx context.Context, until tresor.Date) ([]string, error) {
	s, err := c.stmt(ctx, "task-assignees")
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, string(until))
	if err != nil {
		return nil, fmt.Errorf("task assignees: %w", c.db.dialect.TranslateError(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func taskArgs(r *tresor.TaskRow) []any {
	return []any{string(r.Due), nullID(r.AssigneeID), nullID(r.ContactID), nullID(r.DealID), nullID(r.CaseID),
		string(r.State), nullMicros(r.DoneAt), keySubject(r.Key)}
}

// InsertTask inserts a task.
func (c *conn) InsertTask(ctx context.Context, r *tresor.TaskRow) error {
	if err := c.newKey(ctx, r.Sealing, r.CreatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, taskArgs(r)...)
	_, err := c.exec(ctx, "task-insert", append(args, micros(r.CreatedAt), micros(r.UpdatedAt), r.Version, r.Sealed)...)
	return err
}

// UpdateTask replaces a task.
func (c *conn) UpdateTask(ctx context.Context, r *tresor.TaskRow, prev int64) error {
	if err := c.newKey(ctx, r.Sealing, r.UpdatedAt); err != nil {
		return err
	}
	args := append([]any{r.ID}, taskArgs(r)...)
	return changeOne(ctx, c, "task", r.ID, "task-update", append(args, micros(r.UpdatedAt), r.Version, r.Sealed, prev)...)
}

// DeleteTask deletes a task.
func (c *conn) DeleteTask(ctx context.Context, id string) error { return deleteOne(ctx, c, "task", id) }

// MoveTasks links every task of the contact from to the contact to, with
// the content sealed under to's key.
func (c *conn) MoveTasks(ctx context.Context, from, to string, sealed map[string][]byte, at time.Time) (int, error) {
	if !tresor.ValidID(from) || !tresor.ValidID(to) {
		return 0, tresor.Errorf(tresor.ECInvalidReference, "Tasks move between contacts, named by their ids.")
	}
	s, err := c.stmt(ctx, "task-ids-of-contact")
	if err != nil {
		return 0, err
	}
	rows, err := s.QueryContext(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("tasks of contact: %w", c.db.dialect.TranslateError(err))
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, ok := sealed[id]; !ok {
			return 0, tresor.Errorf(tresor.ECConflict, "The task %s of the contact has no content sealed for the contact it moves to; nothing was moved.", id)
		}
	}
	for _, id := range ids {
		if _, err := c.exec(ctx, "task-move", id, to, sealed[id], micros(at), from); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ClaimReminder claims the reminder of a user for a day.
func (c *conn) ClaimReminder(ctx context.Context, userID string, day tresor.Date, at time.Time) (bool, error) {
	res, err := c.exec(ctx, "task-reminder-claim", userID, string(day), micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
