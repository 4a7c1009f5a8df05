package gate

import (
	"context"
	"fmt"
	"slices"
	"text/template"
	"time"

	"tresor"
)

// Reminders of the deadlines of requests of data subjects: a week before
// a deadline and on the day, every user holding the DPO role gets a mail
// naming the request's id, kind and deadline — never the person. Each
// reminder of a request and deadline is claimed once across servers, like
// the daily task reminder; an extension (a new deadline) gives new
// reminders. A server that was down on the day sends a missed reminder on
// its next run (a week's reminder until the deadline, the day's reminder
// from the deadline on, also when the request is overdue).

// requestReminderWeek is how long before a deadline the first reminder goes.
const requestReminderWeek = 7

// requestReminderDue says which reminder a request with deadline due gets
// on the day, "" for none.
func requestReminderDue(due, day tresor.Date) string {
	switch {
	case day >= due:
		return tresor.RequestReminderDue
	case day >= addDays(due, -requestReminderWeek):
		return tresor.RequestReminderWeek
	}
	return ""
}

func addDays(d tresor.Date, n int) tresor.Date {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return d
	}
	return tresor.Date(t.AddDate(0, 0, n).Format(time.DateOnly))
}

// SendRequestReminders sends the reminders due on the day for the open
// requests to the users holding the DPO role. It returns how many
// reminders (requests × reminder) it sent. A failed mail leaves the claim
// unwritten, so the next run tries again. Each reminder is audited as
// request.remind.
func (g *Gate) SendRequestReminders(ctx context.Context, day tresor.Date) (int, error) {
	ctx = asSystem(ctx)
	if !day.Valid() {
		return 0, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a date in the form YYYY-MM-DD.", day)
	}
	if g.mailer == nil {
		return 0, tresor.Errorf(tresor.ECUnavailable, "No SMTP server is configured; reminders cannot be sent.")
	}
	dpos, err := g.dpoUsers(ctx)
	if err != nil || len(dpos) == 0 {
		return 0, err
	}
	var open []tresor.RequestState
	for _, s := range tresor.RequestStates() {
		if s.Open() {
			open = append(open, s)
		}
	}
	sent := 0
	var errs []error
	f := tresor.RequestFilter{States: open, DueBefore: addDays(day, requestReminderWeek+1), Page: tresor.Page{Limit: 500}}
	for {
		rows, err := g.store.Read().DataRequests(ctx, f)
		if err != nil {
			return sent, err
		}
		for _, row := range rows {
			which := requestReminderDue(row.Due, day)
			if which == "" {
				continue
			}
			ok, err := g.remindRequest(ctx, &row.Request, which, day, dpos)
			if err != nil {
				errs = append(errs, fmt.Errorf("reminder of request %s: %w", row.ID, err))
				continue
			}
			if ok {
				sent++
			}
		}
		if len(rows) < f.Page.Limit {
			break
		}
		f.Page.After = rows[len(rows)-1].ID
	}
	if len(errs) > 0 {
		return sent, errs[0]
	}
	return sent, nil
}

// dpoUsers lists the active users holding the DPO role.
func (g *Gate) dpoUsers(ctx context.Context) ([]*tresor.User, error) {
	var out []*tresor.User
	p := tresor.Page{Limit: tresor.MaxPageSize}
	for {
		us, err := g.store.Read().Users(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if u.DisabledAt == nil && slices.Contains(u.Roles, tresor.RoleDPO) {
				out = append(out, u)
			}
		}
		if len(us) < p.Limit {
			return out, nil
		}
		p.After = us[len(us)-1].ID
	}
}

// remindRequest claims and sends one reminder of a request in one
// transaction: the mails go out while the claim is held, and the claim
// stands only if at least one went.
func (g *Gate) remindRequest(ctx context.Context, r *tresor.Request, which string, day tresor.Date, dpos []*tresor.User) (bool, error) {
	var entry *tresor.AuditEntry
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		claimed, err := tx.ClaimRequestReminder(ctx, r.ID, which, r.Due, g.now())
		if err != nil || !claimed {
			return err
		}
		var failed []error
		for _, u := range dpos {
			if err := g.mailer.Send(ctx, g.requestReminderMail(u, r, which, day)); err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) == len(dpos) {
			return failed[0]
		}
		for _, err := range failed {
			g.log.Warn("a reminder of a request did not reach one DPO", "request", r.ID, "error", err)
		}
		entry = g.entry(ctx, "request.remind", "request", []string{r.ID}, nil, nil)
		entry.Detail = fmt.Sprintf("reminder=%s due=%s recipients=%d failed=%d", which, r.Due, len(dpos)-len(failed), len(failed))
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil || entry == nil {
		return false, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return true, nil
}

// requestReminderMail is a reminder: German, then English. It names the
// request, its kind and deadline; the address and the contacts stay sealed.
func (g *Gate) requestReminderMail(u *tresor.User, r *tresor.Request, which string, day tresor.Date) *tresor.Mail {
	data := map[string]any{"ID": r.ID, "Due": string(r.Due), "Overdue": r.Overdue(day), "Week": which == tresor.RequestReminderWeek,
		"KindDE": requestKindNames["de"][r.Kind], "KindEN": requestKindNames["en"][r.Kind], "Extended": r.Extended,
		"Link": g.publicURL + "/dpo/requests#request-" + r.ID}
	return &tresor.Mail{To: u.Email, Subject: render("request_reminder_subject", data), Text: render("request_reminder", data)}
}

// WatchRequestReminders sends the reminders of requests once the hour of
// the day has come in the time zone loc, like WatchTaskReminders.
func (g *Gate) WatchRequestReminders(ctx context.Context, loc *time.Location, hour int, every time.Duration) {
	g.watchDaily(ctx, loc, hour, every, "request reminders", g.SendRequestReminders)
}

var _ = template.Must(mailTemplates.Parse(`
{{define "request_reminder_subject"}}{{if .Week}}Frist in einer Woche / Deadline in a week{{else if .Overdue}}Frist überschritten / Deadline passed{{else}}Frist heute / Deadline today{{end}}: {{.Due}} – {{.ID}}{{end}}
{{define "request_reminder"}}
Guten Tag,

{{if .Week}}in einer Woche, am {{.Due}}, endet die Frist{{else if .Overdue}}am {{.Due}} endete die Frist{{else}}heute, am {{.Due}}, endet die Frist{{end}} des Antrags {{.ID}} ({{.KindDE}}){{if .Extended}}, bereits verlängert{{end}} (Art. 12 Abs. 3 DSGVO).

Zum Antrag: {{.Link}}

---

Hello,

{{if .Week}}in a week, on {{.Due}}, the deadline{{else if .Overdue}}on {{.Due}} the deadline{{else}}today, {{.Due}}, the deadline{{end}} of request {{.ID}} ({{.KindEN}}){{if .Extended}}, extended already,{{end}} {{if .Overdue}}ended{{else}}ends{{end}} (Art. 12(3) GDPR).

To the request: {{.Link}}

Tresor
{{end}}`))
