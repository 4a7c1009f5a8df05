package tresor

import (
	"context"
	"time"
)

// TaskState is whether a task is still to do.
type TaskState string

// The task states.
const (
	TaskOpen TaskState = "open"
	TaskDone TaskState = "done"
)

// TaskStates lists every task state.
func TaskStates() []TaskState { return []TaskState{TaskOpen, TaskDone} }

// Task is something a user has to do by a day, about a contact, a deal or a
// case (at most one of them) or about nothing in particular. Its title and
// note may name people, so they are sealed like an interaction's content:
// under the linked contact's key, so that erasing the person destroys them,
// or under the task's own key.
type Task struct {
	Meta
	TaskContent
	Due        Date       `json:"due" category:"none"`
	AssigneeID string     `json:"assignee_id,omitempty" category:"none"`
	ContactID  string     `json:"contact_id,omitempty" category:"none"`
	DealID     string     `json:"deal_id,omitempty" category:"none"`
	CaseID     string     `json:"case_id,omitempty" category:"none"`
	State      TaskState  `json:"state" category:"none"`
	DoneAt     *time.Time `json:"done_at,omitempty" category:"none"`
	Withheld   []Category `json:"withheld,omitempty" category:"none"`
	Integrity
}

// TaskContent is what a task says: personal data.
type TaskContent struct {
	Title string `json:"title" category:"interaction.content"`
	Note  string `json:"note,omitempty" category:"interaction.content"`
}

// Validate checks the task.
func (t *Task) Validate() error {
	var p Problems
	checkText(&p, "title", t.Title, maxShortText, true, false)
	checkText(&p, "note", t.Note, maxLongText, false, true)
	if !t.Due.Valid() {
		p.Add("due", "is required: a date in the form YYYY-MM-DD")
	}
	checkOneOf(&p, "state", t.State, TaskStates(), true)
	checkID(&p, "assignee_id", t.AssigneeID)
	checkID(&p, "contact_id", t.ContactID)
	checkID(&p, "deal_id", t.DealID)
	checkID(&p, "case_id", t.CaseID)
	links := 0
	for _, id := range []string{t.ContactID, t.DealID, t.CaseID} {
		if id != "" {
			links++
		}
	}
	if links > 1 {
		p.Add("contact_id", "a task is linked to one contact, deal or case at most; leave the others out")
	}
	if (t.State == TaskDone) != (t.DoneAt != nil) {
		p.Add("done_at", "is set exactly when the task is done")
	}
	return p.Err("task")
}

// Overdue reports whether the open task was due before the day today.
func (t *Task) Overdue(today Date) bool { return t.State == TaskOpen && t.Due < today }

// TaskFilter selects tasks in a list; lists are ordered by due date, then
// by creation.
type TaskFilter struct {
	AssigneeID string
	State      TaskState
	// DueBefore keeps the tasks due before the day (overdue ones with State
	// open); DueUntil those due on or before it.
	DueBefore, DueUntil Date
	ContactID           string
	DealID              string
	CaseID              string
	// HideRestricted leaves out the tasks of people whose processing is
	// restricted (Art. 18); set by the gate.
	HideRestricted bool
	Page
}

// TaskRow is a task as the store keeps it.
type TaskRow struct {
	Task          // with TaskContent empty
	Sealed []byte // the title and note, prepared by the gate
	Sealing
}

// StoredKey returns the data key the stored row was sealed with; nil for none
// or for a nil row.
func (r *TaskRow) StoredKey() *WrappedKey {
	if r == nil {
		return nil
	}
	return r.Key
}

// TaskReader reads tasks.
type TaskReader interface {
	Task(ctx context.Context, id string) (*TaskRow, error)
	Tasks(ctx context.Context, f TaskFilter) ([]*TaskRow, error)
	// TaskAssignees lists the users with open tasks due on or before the
	// day: whom a daily reminder may concern.
	TaskAssignees(ctx context.Context, until Date) ([]string, error)
}

// TaskWriter writes tasks and the claims of their daily reminders.
type TaskWriter interface {
	InsertTask(ctx context.Context, row *TaskRow) error
	UpdateTask(ctx context.Context, row *TaskRow, prev int64) error
	DeleteTask(ctx context.Context, id string) error
	// MoveTasks links every task of the contact from to the contact to (a
	// merge), each with the content sealed[id] sealed under to's data key,
	// and returns how many it moved. A task of from without an entry in
	// sealed is ECConflict and moves nothing: it would be sealed under the
	// wrong key.
	MoveTasks(ctx context.Context, from, to string, sealed map[string][]byte, at time.Time) (int, error)
	// ClaimReminder claims the daily reminder of a user for a day and
	// reports whether this call got it (false: another process sent it
	// already), so that several servers on one database send it once.
	ClaimReminder(ctx context.Context, userID string, day Date, at time.Time) (bool, error)
}

// TaskService is the gate's interface for tasks.
type TaskService interface {
	CreateTask(ctx context.Context, t *Task) error
	Task(ctx context.Context, id string) (*Task, error)
	Tasks(ctx context.Context, f TaskFilter) (*List[*Task], error)
	UpdateTask(ctx context.Context, id string, u Update) (*Task, error)
	DeleteTask(ctx context.Context, id string, ifVersion int64) error
	// TaskDone marks a task done (done true) or open again.
	TaskDone(ctx context.Context, id string, done bool, ifVersion int64) (*Task, error)
}
