package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tresor"
)

// The task pages (issue [2.3]): "my tasks" — overdue, due today, later,
// done — with a form to add one, and the tasks of one contact, deal or case
// (?contact=, ?deal=, ?case=), which the contact's and the case's pages
// show as their tasks panel. Everything goes through the same gate
// functions as the API, under the session's purpose.

func (s *Server) taskPages() []route {
	return []route{
		{"GET", "/tasks", SignedIn, s.tasksPage},
		{"POST", "/tasks", SignedIn, s.taskCreate},
		{"POST", "/tasks/{id}/done", SignedIn, s.taskStateForm(true)},
		{"POST", "/tasks/{id}/undo", SignedIn, s.taskStateForm(false)},
	}
}

// tasksData is what the task page shows.
type tasksData struct {
	Today    tresor.Date
	Sections []taskSection
	// LinkKind and LinkID name the contact, deal or case whose tasks the
	// page shows ("" for the person's own tasks).
	LinkKind, LinkID string
	Back             string // where the forms go back to
	Refusal          string // why the purpose sees no tasks, in the person's language
	Problem          string // a refused change, in the person's language
	Form             taskForm
	Assignees        []tresor.Assignee
	Names            map[string]string
	Me               string
}

// taskSection is one table of the page.
type taskSection struct {
	ID    string // the HTML id of its heading
	Title string // a catalogue key
	Empty string // a catalogue key, said when it is empty
	Tasks []*tresor.Task
}

// taskForm keeps what was typed into the form after a refusal.
type taskForm struct {
	Title, Note, Assignee string
	Due                   tresor.Date
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderTasks(w, r, http.StatusOK, &tasksData{})
}

func (s *Server) renderTasks(w http.ResponseWriter, r *http.Request, status int, d *tasksData) error {
	v, err := s.workspaceView(r, "tasks_title", "/tasks")
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	d.Today, d.Me = s.today(), tresor.ActorFrom(ctx).UserID
	if d.Form.Due == "" {
		d.Form.Due = d.Today
	}
	for _, kind := range []string{"contact", "deal", "case"} {
		if id := q.Get(kind); id != "" {
			if !tresor.ValidID(id) {
				return tresor.Errorf(tresor.ECInvalidParameter, "%s must be an id.", kind)
			}
			d.LinkKind, d.LinkID = kind, id
			break
		}
	}
	d.Back = "/tasks"
	if d.LinkKind != "" {
		d.Back = "/tasks?" + d.LinkKind + "=" + d.LinkID
	}
	if b := q.Get("back"); b != "" && localPath(b) == b {
		d.Back = b // the page the panel is shown in
	}
	if as, err := s.svc.Cases.CaseAssignees(ctx); err == nil {
		d.Assignees, d.Names = as, map[string]string{}
		for _, a := range as {
			d.Names[a.ID] = a.Name
		}
	}
	ts := s.tasks()
	list := func(f tresor.TaskFilter) []*tresor.Task {
		if d.Refusal != "" || err != nil {
			return nil
		}
		f.Limit = 100
		l, lerr := ts.Tasks(ctx, f)
		if lerr == nil {
			return l.Items
		}
		d.Refusal, err = refusedOrFailed(r, lerr)
		return nil
	}
	if d.LinkKind != "" {
		f := tresor.TaskFilter{}
		switch d.LinkKind {
		case "contact":
			f.ContactID = d.LinkID
		case "deal":
			f.DealID = d.LinkID
		case "case":
			f.CaseID = d.LinkID
		}
		f.State = tresor.TaskOpen
		open := list(f)
		f.State = tresor.TaskDone
		done := list(f)
		d.Sections = []taskSection{{"tasks-open", "tasks_open", "tasks_none_open", open}, {"tasks-done", "tasks_done", "tasks_none_done", done}}
	} else {
		open := list(tresor.TaskFilter{AssigneeID: d.Me, State: tresor.TaskOpen})
		done := list(tresor.TaskFilter{AssigneeID: d.Me, State: tresor.TaskDone})
		var overdue, today, later []*tresor.Task
		for _, t := range open {
			switch {
			case t.Due < d.Today:
				overdue = append(overdue, t)
			case t.Due == d.Today:
				today = append(today, t)
			default:
				later = append(later, t)
			}
		}
		d.Sections = []taskSection{{"tasks-overdue", "tasks_overdue", "tasks_none_overdue", overdue},
			{"tasks-today", "tasks_today", "tasks_none_today", today}, {"tasks-later", "tasks_later", "tasks_none_later", later},
			{"tasks-done", "tasks_done", "tasks_none_done", done}}
	}
	if err != nil {
		return err
	}
	v.Data = d
	return s.render(w, r, status, "tasks", v)
}

// taskCreate adds a task from the form; a refusal shows the page again
// with what was typed and the reason.
func (s *Server) taskCreate(w http.ResponseWriter, r *http.Request) error {
	f := taskForm{Title: strings.TrimSpace(r.PostFormValue("title")), Note: strings.TrimSpace(r.PostFormValue("note")),
		Due: tresor.Date(r.PostFormValue("due")), Assignee: r.PostFormValue("assignee")}
	t := &tresor.Task{TaskContent: tresor.TaskContent{Title: f.Title, Note: f.Note}, Due: f.Due, AssigneeID: f.Assignee,
		ContactID: r.PostFormValue("contact"), DealID: r.PostFormValue("deal"), CaseID: r.PostFormValue("case")}
	err := s.tasks().CreateTask(r.Context(), t)
	if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && statusOf[code] < 500 {
		return s.renderTasks(w, r, statusOf[code], &tasksData{Form: f, Problem: pageRefusal(r, err)})
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, tasksBack(r), http.StatusSeeOther)
	return nil
}

// taskStateForm marks a task done or open again, at the version the page
// showed, and goes back to the page the button was on.
func (s *Server) taskStateForm(done bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
		if err != nil || version < 1 {
			return tresor.Errorf(tresor.ECValidation, "The form lacks the version of the task; reload the page.")
		}
		if _, err := s.tasks().TaskDone(r.Context(), r.PathValue("id"), done, version); err != nil {
			return err
		}
		http.Redirect(w, r, tasksBack(r), http.StatusSeeOther)
		return nil
	}
}

// tasksBack is where a task form goes back to: a page of this site.
func tasksBack(r *http.Request) string {
	back := localPath(r.PostFormValue("back"))
	if back == "/" && r.PostFormValue("back") != "/" {
		return "/tasks"
	}
	if u, err := url.Parse(back); err == nil && u.Fragment == "" && strings.HasPrefix(u.Path, "/contacts/") {
		return back + "#tasks-panel"
	}
	return back
}
