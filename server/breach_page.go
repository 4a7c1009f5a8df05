package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// The DPO's work on one breach (issue [2.4] §3) in the workspace, without
// JavaScript: record a breach, its page with the 72-hour clock, the facts
// (a stale edit is refused and shown), the scope counted from the audit
// trail, the drafts for the authority and the people in German and
// English, the notice to the people (preview, then confirm), the changes of
// state, and the log of what was done. Every form goes through the gate,
// which admits only the DPO under data_protection; the page names no
// contact, only ids the DPO pasted.

func (s *Server) breachWorkRoutes() []route {
	dpo := AnyRole(tresor.RoleDPO)
	return []route{
		{"POST", "/dpo/breaches", dpo, s.breachCreateForm},
		{"GET", "/dpo/breaches/{id}", dpo, s.breachPage},
		{"POST", "/dpo/breaches/{id}/facts", dpo, s.breachFactsForm},
		{"POST", "/dpo/breaches/{id}/scope", dpo, s.breachScopeForm},
		{"POST", "/dpo/breaches/{id}/state", dpo, s.breachStateForm},
		{"POST", "/dpo/breaches/{id}/notice", dpo, s.breachNoticeForm},
	}
}

// breachTimeLayout is what a datetime-local field sends; the page works in UTC.
const breachTimeLayout = "2006-01-02T15:04"

func parseBreachTime(v string) (time.Time, bool) {
	t, err := time.ParseInLocation(breachTimeLayout, strings.TrimSpace(v), time.UTC)
	return t, err == nil
}

// breachProblems turns a refusal into messages by field; what names no
// field is under "form".
func breachProblems(r *http.Request, err error) map[string]string {
	out := map[string]string{}
	if e := tresor.AsError(err); e != nil {
		for _, f := range e.Fields {
			k := strings.TrimPrefix(f.Field, "breach.")
			if _, ok := out[k]; !ok {
				out[k] = f.Message
			}
		}
	}
	if len(out) == 0 {
		out["form"] = pageRefusal(r, err)
	}
	return out
}

// ---- recording a breach on the register's page

// breachNewForm is what was typed into the form to record a breach.
type breachNewForm struct {
	Title, Aware, Description, Risk string
}

func (s *Server) breachCreateForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	f := breachNewForm{Title: r.PostFormValue("title"), Aware: strings.TrimSpace(r.PostFormValue("aware_at")),
		Description: r.PostFormValue("description"), Risk: r.PostFormValue("risk")}
	return s.once(w, r, func() (string, error) {
		problems := map[string]string{}
		aware, ok := parseBreachTime(f.Aware)
		if !ok {
			problems["aware_at"] = translate(language(r), "breach_bad_time")
		} else if aware.After(time.Now().Add(time.Minute)) {
			problems["aware_at"] = translate(language(r), "breach_future_time")
		}
		b := &tresor.Breach{Title: strings.TrimSpace(f.Title), AwareAt: aware, Risk: tresor.BreachRisk(f.Risk),
			BreachContent: tresor.BreachContent{Description: strings.TrimSpace(f.Description)}}
		if len(problems) == 0 {
			err := svc.CreateBreach(r.Context(), b)
			if err == nil {
				return "/dpo/breaches/" + url.PathEscape(b.ID) + "?done=created", nil
			}
			status, shown := pageStatus(err)
			if !shown {
				return "", err
			}
			return "", s.renderBreaches(w, r, status, &breachesData{Form: f, Problems: breachProblems(r, err)})
		}
		return "", s.renderBreaches(w, r, http.StatusUnprocessableEntity, &breachesData{Form: f, Problems: problems})
	})
}

// ---- the page of one breach

// breachFacts are the editable facts as the form carries them.
type breachFacts struct {
	Version                                    string
	Title, Description, Consequences, Measures string
	Categories, People, Records, Risk          string
}

func factsOf(b *tresor.Breach) breachFacts {
	return breachFacts{Version: strconv.FormatInt(b.Version, 10), Title: b.Title, Description: b.Description,
		Consequences: b.Consequences, Measures: b.Measures, Categories: strings.Join(b.Categories, ", "),
		People: strconv.Itoa(b.PeopleAffected), Records: strconv.Itoa(b.RecordsAffected), Risk: string(b.Risk)}
}

// breachStaleRow is one fact of a refused stale edit: what the DPO typed
// and what the breach holds now.
type breachStaleRow struct {
	Label, Yours, Now string
	Changed           bool
}

// breachNotice is the notice to the people on its way: the ids pasted,
// the preview, and the result after sending.
type breachNotice struct {
	Source   string // "ids" (pasted) or "scope" (the counted scope's contacts)
	IDs      string // as pasted, shown again
	Lang     string
	Count    int      // distinct well-formed ids
	Invalid  []string // what is no id
	Subject  string
	Body     string
	Preview  bool
	Problem  string
	Sent     string // after sending: counts from the query
	NoAddr   string
	Failed   string
	NoAddrID []string
}

// breachPageData is what the page of one breach shows.
type breachPageData struct {
	B            *tresor.Breach
	Left         string
	Notice       string // catalogue key of what was just done
	Refusal      string
	Facts        breachFacts
	FactProblems map[string]string
	Stale        []breachStaleRow
	ScopeKind    string
	ScopeID      string
	ScopeSince   string
	ScopeUntil   string
	ScopeProblem string
	Drafts       []*tresor.BreachDrafts // de, en
	Moves        []tresor.BreachState
	StateProblem string
	People       breachNotice
	// ScopeContacts: the counted scope names contacts, so the notice may
	// go to them.
	ScopeContacts bool
	Risks         []tresor.BreachRisk
}

func (s *Server) breachPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := &breachPageData{Notice: map[string]string{"created": "breach_done_created", "saved": "breach_done_saved",
		"counted": "breach_done_counted", "moved": "breach_done_moved", "notified": "breach_done_notified"}[q.Get("done")]}
	if d.Notice == "breach_done_notified" {
		d.People.Sent, d.People.NoAddr, d.People.Failed = digits(q.Get("sent")), digits(q.Get("no_address")), digits(q.Get("failed"))
		for _, id := range strings.Split(q.Get("na"), ",") {
			if tresor.ValidID(id) {
				d.People.NoAddrID = append(d.People.NoAddrID, id)
			}
		}
	}
	return s.renderBreach(w, r, http.StatusOK, d)
}

// digits keeps a count from the query as digits only.
func digits(v string) string {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return strconv.Itoa(n)
	}
	return "0"
}

func (s *Server) renderBreach(w http.ResponseWriter, r *http.Request, status int, d *breachPageData) error {
	v, err := s.workspaceView(r, "breach_title", "/dpo")
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet {
		v.Work.Back = "/dpo/breaches/" + url.PathEscape(r.PathValue("id"))
	}
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	d.Risks = tresor.BreachRisks()
	b, err := svc.Breach(r.Context(), r.PathValue("id"))
	if err != nil {
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			return err
		}
		code := tresor.ErrorCode(err)
		if d.Refusal, err = refusedOrFailed(r, err); err != nil {
			return err
		}
		if status == http.StatusOK {
			status = statusOf[code]
		}
		v.Data = d
		return s.render(w, r, status, "breach", v)
	}
	d.B, d.Left = b, hoursMinutes(b.Remaining)
	d.ScopeContacts = b.Scope != nil && b.Scope.Contacts > 0
	if d.Facts.Version == "" {
		d.Facts = factsOf(b)
	} else {
		d.Facts.Version = strconv.FormatInt(b.Version, 10) // a stale form is shown again at the current version
	}
	if d.ScopeSince == "" && d.ScopeUntil == "" {
		since, until := b.AwareAt.Add(-7*24*time.Hour), time.Now()
		if sc := b.Scope; sc != nil {
			since, until = sc.Since, sc.Until
			d.ScopeKind, d.ScopeID, _ = strings.Cut(sc.Actor, ":")
		}
		d.ScopeSince, d.ScopeUntil = since.UTC().Format(breachTimeLayout), until.UTC().Format(breachTimeLayout)
	}
	switch b.State {
	case tresor.BreachOpen:
		d.Moves = []tresor.BreachState{tresor.BreachAuthorityNotified}
		if b.Risk == tresor.BreachRiskNone {
			d.Moves = append(d.Moves, tresor.BreachClosed)
		}
	case tresor.BreachAuthorityNotified:
		d.Moves = []tresor.BreachState{tresor.BreachClosed}
	}
	if !b.Damaged {
		for _, lang := range []string{"de", "en"} {
			dr, err := svc.BreachDrafts(r.Context(), b.ID, lang)
			if err != nil {
				return err
			}
			d.Drafts = append(d.Drafts, dr)
		}
	}
	if d.People.Lang == "" {
		d.People.Lang = language(r)
	}
	v.Data = d
	return s.render(w, r, status, "breach", v)
}

func (s *Server) breachDone(w http.ResponseWriter, r *http.Request, query string) error {
	http.Redirect(w, r, "/dpo/breaches/"+url.PathEscape(r.PathValue("id"))+"?"+query, http.StatusSeeOther)
	return nil
}

// breachRefused shows the page again with d filled by the caller, or
// returns the error when it is no refusal.
func (s *Server) breachRefused(w http.ResponseWriter, r *http.Request, err error, d *breachPageData, set func(msg string)) error {
	status, shown := pageStatus(err)
	if !shown {
		return err
	}
	set(pageRefusal(r, err))
	return s.renderBreach(w, r, status, d)
}

// ---- the facts, with the version the form showed

func (s *Server) breachFactsForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	f := breachFacts{Version: r.PostFormValue("version"), Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		Consequences: r.PostFormValue("consequences"), Measures: r.PostFormValue("measures"), Categories: r.PostFormValue("categories"),
		People: strings.TrimSpace(r.PostFormValue("people_affected")), Records: strings.TrimSpace(r.PostFormValue("records_affected")),
		Risk: r.PostFormValue("risk")}
	d := &breachPageData{Facts: f, FactProblems: map[string]string{}}
	version, err := strconv.ParseInt(f.Version, 10, 64)
	if err != nil || version < 1 {
		d.FactProblems["form"] = translate(language(r), "breach_no_version")
	}
	count := func(field, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			d.FactProblems[field] = translate(language(r), "breach_bad_count")
		}
		return n
	}
	people, records := count("people_affected", f.People), count("records_affected", f.Records)
	if len(d.FactProblems) > 0 {
		return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
	}
	cats := []string{}
	for _, c := range strings.Split(f.Categories, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	patch, err := json.Marshal(map[string]any{"title": strings.TrimSpace(f.Title), "description": strings.TrimSpace(f.Description),
		"consequences": strings.TrimSpace(f.Consequences), "measures": strings.TrimSpace(f.Measures), "categories": cats,
		"people_affected": people, "records_affected": records, "risk": f.Risk})
	if err != nil {
		return err
	}
	_, err = svc.UpdateBreach(r.Context(), r.PathValue("id"), tresor.Update{Patch: patch, IfVersion: version})
	if tresor.ErrorCode(err) == tresor.ECVersionMismatch {
		// Someone changed the breach since the form was shown: nothing is
		// overwritten; the page shows what the DPO typed beside what the
		// breach holds now, with the current version to apply it knowingly.
		now, rerr := svc.Breach(r.Context(), r.PathValue("id"))
		if rerr != nil {
			return rerr
		}
		d.Stale = staleRows(r, f, factsOf(now))
		d.FactProblems["form"] = pageRefusal(r, err)
		return s.renderBreach(w, r, http.StatusConflict, d)
	}
	if err != nil {
		status, shown := pageStatus(err)
		if !shown {
			return err
		}
		d.FactProblems = breachProblems(r, err)
		return s.renderBreach(w, r, status, d)
	}
	return s.breachDone(w, r, "done=saved")
}

func staleRows(r *http.Request, yours, now breachFacts) []breachStaleRow {
	lang := language(r)
	row := func(key, a, b string) breachStaleRow {
		return breachStaleRow{Label: translate(lang, key), Yours: a, Now: b, Changed: strings.TrimSpace(a) != strings.TrimSpace(b)}
	}
	return []breachStaleRow{
		row("breach_f_title", yours.Title, now.Title),
		row("breach_f_description", yours.Description, now.Description),
		row("breach_f_categories", yours.Categories, now.Categories),
		row("breach_f_people", yours.People, now.People),
		row("breach_f_records", yours.Records, now.Records),
		row("breach_f_risk", yours.Risk, now.Risk),
		row("breach_f_consequences", yours.Consequences, now.Consequences),
		row("breach_f_measures", yours.Measures, now.Measures),
	}
}

// ---- the scope from the audit trail

func (s *Server) breachScopeForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	d := &breachPageData{ScopeKind: r.PostFormValue("kind"), ScopeID: strings.TrimSpace(r.PostFormValue("actor_id")),
		ScopeSince: strings.TrimSpace(r.PostFormValue("since")), ScopeUntil: strings.TrimSpace(r.PostFormValue("until"))}
	since, ok1 := parseBreachTime(d.ScopeSince)
	until, ok2 := parseBreachTime(d.ScopeUntil)
	switch {
	case d.ScopeKind != "user" && d.ScopeKind != "token":
		d.ScopeProblem = translate(language(r), "breach_scope_bad_kind")
	case !tresor.ValidID(d.ScopeID):
		d.ScopeProblem = translate(language(r), "breach_scope_bad_id")
	case !ok1 || !ok2 || !until.After(since):
		d.ScopeProblem = translate(language(r), "breach_scope_bad_window")
	}
	if d.ScopeProblem != "" {
		return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
	}
	if _, err := svc.CountBreachScope(r.Context(), r.PathValue("id"), d.ScopeKind+":"+d.ScopeID, since, until); err != nil {
		return s.breachRefused(w, r, err, d, func(m string) { d.ScopeProblem = m })
	}
	return s.breachDone(w, r, "done=counted#breach-scope-h")
}

// ---- the changes of state

func (s *Server) breachStateForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.breaches()
	if svc == nil {
		return noBreaches()
	}
	d := &breachPageData{}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		d.StateProblem = translate(language(r), "breach_no_version")
		return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
	}
	state := tresor.BreachState(r.PostFormValue("state"))
	var parts []string
	if state == tresor.BreachAuthorityNotified {
		ref := strings.TrimSpace(r.PostFormValue("reference"))
		if ref == "" {
			d.StateProblem = translate(language(r), "breach_reference_required")
			return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
		}
		parts = append(parts, "Aktenzeichen/reference: "+ref)
		if at := strings.TrimSpace(r.PostFormValue("notified_at")); at != "" {
			t, ok := parseBreachTime(at)
			if !ok {
				d.StateProblem = translate(language(r), "breach_bad_time")
				return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
			}
			parts = append(parts, "gemeldet/notified: "+t.Format("2006-01-02 15:04")+" UTC")
		}
	}
	if n := strings.TrimSpace(r.PostFormValue("note")); n != "" {
		parts = append(parts, n)
	}
	if _, err := svc.SetBreachState(r.Context(), r.PathValue("id"), state, strings.Join(parts, "; "), version); err != nil {
		return s.breachRefused(w, r, err, d, func(m string) { d.StateProblem = m })
	}
	return s.breachDone(w, r, "done=moved")
}

// ---- the notice to the people: pasted ids, a preview with the count,
// then the confirmation sends it

// breachPlaceholders mark a draft's gaps; a notice with one is not sent.
var breachPlaceholders = []string{"[bitte ergänzen]", "[to be completed]"}

func (s *Server) breachNoticeForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.breaches()
	notifier, ok := svc.(tresor.BreachNotifier)
	if svc == nil || !ok {
		return noBreaches()
	}
	lang := r.PostFormValue("lang")
	if lang != "de" && lang != "en" {
		lang = language(r)
	}
	n := breachNotice{Source: r.PostFormValue("source"), IDs: r.PostFormValue("contact_ids"), Lang: lang,
		Subject: r.PostFormValue("subject"), Body: r.PostFormValue("body")}
	d := &breachPageData{}
	problem := func(key string) error {
		n.Problem = translate(language(r), key)
		d.People = n
		return s.renderBreach(w, r, http.StatusUnprocessableEntity, d)
	}
	var ids []string
	if n.Source == "scope" {
		// The contacts of the counted scope: resolved by the gate at the
		// preview and again at the confirmation; the page carries only
		// their number, never the ids or names.
		lister, ok := svc.(tresor.BreachScopeLister)
		if !ok {
			return noBreaches()
		}
		var err error
		if ids, err = lister.BreachScopeContacts(r.Context(), r.PathValue("id")); err != nil {
			return s.breachRefused(w, r, err, d, func(m string) { n.Problem = m; d.People = n })
		}
		n.IDs = ""
		if len(ids) == 0 {
			return problem("breach_notice_scope_empty")
		}
	} else {
		n.Source = "ids"
		for _, f := range strings.FieldsFunc(n.IDs, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
			switch {
			case !tresor.ValidID(f):
				if len(n.Invalid) < 20 {
					n.Invalid = append(n.Invalid, f)
				}
			case !slices.Contains(ids, f):
				ids = append(ids, f)
			}
		}
		if len(n.Invalid) > 0 {
			n.Count = len(ids)
			return problem("breach_notice_invalid")
		}
		if len(ids) == 0 {
			return problem("breach_notice_no_ids")
		}
		if len(ids) > tresor.MaxBreachNoticeContacts {
			return problem("breach_notice_too_many")
		}
		n.IDs = strings.Join(ids, " ")
	}
	n.Count = len(ids)
	if r.PostFormValue("confirm") != "yes" || (n.Source == "scope" && r.PostFormValue("count") != strconv.Itoa(n.Count)) {
		// The preview: the count and the text, prefilled from the draft.
		dr, err := svc.BreachDrafts(r.Context(), r.PathValue("id"), lang)
		if err != nil {
			return s.breachRefused(w, r, err, d, func(m string) { n.Problem = m; d.People = n })
		}
		if dr.People == "" {
			return problem("breach_notice_not_high")
		}
		if n.Body == "" {
			n.Body = dr.People
		}
		if n.Subject == "" {
			n.Subject = translate(lang, "breach_notice_subject_default")
		}
		n.Preview = true
		if r.PostFormValue("confirm") == "yes" {
			n.Problem = translate(language(r), "breach_notice_scope_changed")
		}
		d.People = n
		return s.renderBreach(w, r, http.StatusOK, d)
	}
	n.Preview = true
	for _, p := range breachPlaceholders {
		if strings.Contains(n.Body, p) {
			return problem("breach_notice_placeholder")
		}
	}
	return s.once(w, r, func() (string, error) {
		var sent, failed int
		var noAddr []string
		for start := 0; start < len(ids); start += tresor.MaxBreachNoticeContacts {
			batch := ids[start:min(len(ids), start+tresor.MaxBreachNoticeContacts)]
			out, err := notifier.NotifyBreachPeople(r.Context(), r.PathValue("id"), tresor.BreachPeopleNotice{Lang: lang,
				Subject: n.Subject, Body: n.Body, ContactIDs: batch})
			if err != nil && start == 0 {
				return "", s.breachRefused(w, r, err, d, func(m string) { n.Problem = m; d.People = n })
			} else if err != nil {
				return "", err // a later batch failed: what went out is in the breach's log
			}
			sent, failed, noAddr = sent+out.Sent, failed+len(out.Failed), append(noAddr, out.NoAddress...)
		}
		q := url.Values{"done": {"notified"}, "sent": {strconv.Itoa(sent)}, "no_address": {strconv.Itoa(len(noAddr))},
			"failed": {strconv.Itoa(failed)}}
		if len(noAddr) > 0 {
			q.Set("na", strings.Join(noAddr[:min(len(noAddr), 50)], ","))
		}
		return "/dpo/breaches/" + url.PathEscape(r.PathValue("id")) + "?" + q.Encode() + "#breach-people-h", nil
	})
}
