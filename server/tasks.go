package server

import (
	"context"
	"net/http"
	"time"

	"tresor"
)

// taskRoutes are the JSON API of tasks: the collection, and done and undo.
func (s *Server) taskRoutes() []route {
	ts := s.tasks()
	rs := crud(s, "/api/v1/tasks", Purpose, resource[tresor.Task]{
		create: ts.CreateTask, get: ts.Task, update: ts.UpdateTask, remove: ts.DeleteTask,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.TaskFilter{AssigneeID: q.owner("assignee"), State: tresor.TaskState(q.str("state")),
				ContactID: q.id("contact"), DealID: q.id("deal"), CaseID: q.id("case"), DueUntil: tresor.Date(q.str("due_until")), Page: q.page()}
			if f.DueUntil != "" && !f.DueUntil.Valid() {
				q.probs = append(q.probs, "due_until must be a date in the form YYYY-MM-DD")
			}
			switch q.str("overdue") {
			case "true":
				f.DueBefore = s.today()
				if f.State == "" {
					f.State = tresor.TaskOpen
				} else if f.State != tresor.TaskOpen {
					q.probs = append(q.probs, "overdue=true lists open tasks; leave state out or give state=open")
				}
			case "", "false":
			default:
				q.probs = append(q.probs, "overdue must be true or false")
			}
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(ts.Tasks(ctx, f))
		},
	})
	state := func(done bool) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			t, err := ts.TaskDone(r.Context(), r.PathValue("id"), done, ifVersion)
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, t)
		}
	}
	return append(rs,
		route{"POST", "/api/v1/tasks/{id}/done", Purpose, state(true)},
		route{"POST", "/api/v1/tasks/{id}/undo", Purpose, state(false)},
	)
}

// tasks is the task service, or one that answers that tasks are not
// available where the server was built without it.
func (s *Server) tasks() tresor.TaskService {
	if s.svc.Tasks != nil {
		return s.svc.Tasks
	}
	return noTasks{}
}

// location is the time zone of the working day.
func (s *Server) location() *time.Location {
	if s.opt.TimeZone != nil {
		return s.opt.TimeZone
	}
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}

// today is the day it is in the time zone of the working day.
func (s *Server) today() tresor.Date {
	return tresor.Date(time.Now().In(s.location()).Format(time.DateOnly))
}

type noTasks struct{}

func errNoTasks() error {
	return tresor.Errorf(tresor.ECUnavailable, "Tasks are not available on this server.")
}

func (noTasks) CreateTask(context.Context, *tresor.Task) error     { return errNoTasks() }
func (noTasks) Task(context.Context, string) (*tresor.Task, error) { return nil, errNoTasks() }
func (noTasks) DeleteTask(context.Context, string, int64) error    { return errNoTasks() }
func (noTasks) Tasks(context.Context, tresor.TaskFilter) (*tresor.List[*tresor.Task], error) {
	return nil, errNoTasks()
}
func (noTasks) UpdateTask(context.Context, string, tresor.Update) (*tresor.Task, error) {
	return nil, errNoTasks()
}
func (noTasks) TaskDone(context.Context, string, bool, int64) (*tresor.Task, error) {
	return nil, errNoTasks()
}
