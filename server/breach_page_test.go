package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
)

// breachFactsForm reads the hidden fields and the values of the facts form
// of a breach's page, as a browser would send them.
func breachFactsForm(t *testing.T, p page) url.Values {
	t.Helper()
	form := p.between(t, `/facts" class="breach-form"`, "</form>")
	v := adminFormFields(form)
	if v.Get("version") == "" {
		t.Fatalf("the facts form has no version: %.500s", form)
	}
	return v
}

// TestBreachPagesFollowTheRules proves the DPO's breach pages over HTTP,
// one rule at a time: only the DPO, never without the session's form
// token, a refused new breach keeps what was typed, a stale edit is
// refused and shown, the drafts escape what was typed, the notice to the
// people goes only after the confirmation (and never with a draft's gap),
// to the scope's contacts without showing them, and the authority's
// notification stops the clock with its reference in the log.
func TestBreachPagesFollowTheRules(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("dana@example.org", tresor.RoleDPO)
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	dana := signedInAs(t, a, "dana@example.org")
	sam := signedInAs(t, a, "sam@example.org")
	csrf := dana.get("/dpo/breaches").field(t, "csrf")
	samCSRF := sam.get("/").field(t, "csrf")
	dpo := tresor.WithPurpose(sys, "data_protection")
	en := map[string]string{"Accept-Language": "en"}

	b := &tresor.Breach{Title: "Liste an falschen Empfänger", AwareAt: time.Now().Add(-5 * time.Hour), Risk: tresor.BreachRiskHigh,
		BreachContent: tresor.BreachContent{Description: "Eine Kundenliste ging per Mail an einen Lieferanten."}}
	must(t, a.g.CreateBreach(dpo, b))
	page := "/dpo/breaches/" + b.ID

	t.Run("only the DPO reaches the breach pages", func(t *testing.T) {
		if r := sam.get(page); r.status != http.StatusForbidden || strings.Contains(r.body, "Kundenliste") {
			t.Fatalf("sales GET: %d %.300s", r.status, r.body)
		}
		r := sam.post("/dpo/breaches", url.Values{"csrf": {samCSRF}, "title": {"Von Sales"}, "aware_at": {"2026-01-01T10:00"},
			"description": {"x"}, "risk": {"none"}}, nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("sales POST: %d", r.status)
		}
		l, err := a.g.Breaches(dpo, tresor.Page{Limit: 10})
		must(t, err)
		if len(l.Items) != 1 {
			t.Fatalf("%d breaches after the refused form", len(l.Items))
		}
	})
	t.Run("a DPO working for another purpose is refused and told why", func(t *testing.T) {
		a.userWithPassword("doris@example.org", tresor.RoleDPO, tresor.RoleSales)
		doris := signedInAs(t, a, "doris@example.org")
		token := doris.get("/").field(t, "csrf")
		if r := doris.post("/purpose", url.Values{"csrf": {token}, "purpose": {"sales"}, "back": {"/"}}, nil); r.status != http.StatusSeeOther {
			t.Fatalf("choosing sales: %d", r.status)
		}
		r := doris.get(page)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, `id="breach-refusal"`) || strings.Contains(r.body, "Kundenliste") {
			t.Fatalf("under sales: %d %.2000s", r.status, r.body)
		}
		r = doris.post(page+"/state", url.Values{"csrf": {token}, "version": {"1"}, "state": {"authority_notified"}, "reference": {"X"}}, nil)
		if r.status != http.StatusForbidden {
			t.Fatalf("state under sales: %d", r.status)
		}
		if got, _ := a.g.Breach(dpo, b.ID); got.State != tresor.BreachOpen {
			t.Fatal("changed under sales")
		}
	})
	t.Run("a form without the session's token changes nothing", func(t *testing.T) {
		v := breachFactsForm(t, dana.get(page))
		v.Del("csrf")
		v.Set("title", "Ohne Token")
		if r := dana.post(page+"/facts", v, nil); r.status != http.StatusForbidden {
			t.Fatalf("without csrf: %d", r.status)
		}
		if r := dana.post(page+"/state", url.Values{"version": {v.Get("version")}, "state": {"authority_notified"}, "reference": {"X"}}, nil); r.status != http.StatusForbidden {
			t.Fatalf("state without csrf: %d", r.status)
		}
		before := len(a.mail.all())
		for _, path := range []string{"/dpo/breaches", page + "/facts", page + "/scope", page + "/state", page + "/notice"} {
			r := dana.post(path, url.Values{"title": {"x"}, "aware_at": {"2026-01-01T10:00"}, "description": {"x"}, "risk": {"none"},
				"version": {v.Get("version")}, "kind": {"user"}, "actor_id": {b.ID}, "since": {"2026-01-01T10:00"}, "until": {"2026-01-02T10:00"},
				"state": {"authority_notified"}, "reference": {"X"}, "source": {"ids"}, "contact_ids": {b.ID}, "confirm": {"yes"},
				"subject": {"x"}, "body": {"x"}}, nil)
			if r.status != http.StatusForbidden {
				t.Errorf("POST %s without csrf: %d", path, r.status)
			}
		}
		got, err := a.g.Breach(dpo, b.ID)
		must(t, err)
		if got.Title != b.Title || got.State != tresor.BreachOpen || got.Version != b.Version || len(a.mail.all()) != before {
			t.Fatalf("changed without a token: %q %s", got.Title, got.State)
		}
		if l, _ := a.g.Breaches(dpo, tresor.Page{Limit: 10}); len(l.Items) != 1 {
			t.Fatalf("%d breaches", len(l.Items))
		}
	})
	t.Run("a refused new breach shows the errors next to the fields and keeps what was typed", func(t *testing.T) {
		r := dana.post("/dpo/breaches", url.Values{"csrf": {csrf}, "title": {`Server <b>offen</b>`}, "aware_at": {"gestern"},
			"description": {"Ein Port war offen."}, "risk": {""}}, en)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="breach-new-aware-error"`) ||
			!strings.Contains(r.body, `value="Server &lt;b&gt;offen&lt;/b&gt;"`) || !strings.Contains(r.body, "Ein Port war offen.</textarea>") {
			t.Fatalf("refused new breach: %d %.3000s", r.status, r.body)
		}
		r = dana.post("/dpo/breaches", url.Values{"csrf": {csrf}, "title": {"Server offen"}, "aware_at": {"2026-01-02T08:30"},
			"description": {"Ein Port war offen."}, "risk": {""}}, en)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="breach-new-risk-error"`) ||
			!strings.Contains(r.body, `value="2026-01-02T08:30"`) {
			t.Fatalf("without a risk: %d %.3000s", r.status, r.body)
		}
	})
	t.Run("a new breach is recorded and its page shows the clock", func(t *testing.T) {
		aware := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")
		r := dana.post("/dpo/breaches", url.Values{"csrf": {csrf}, "title": {"Server offen"}, "aware_at": {aware},
			"description": {"Ein Port war offen."}, "risk": {"risk"}}, en)
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/dpo/breaches/") || !strings.HasSuffix(loc, "?done=created") {
			t.Fatalf("new breach: %d %s %.500s", r.status, loc, r.body)
		}
		p := dana.get(strings.TrimSuffix(loc, "?done=created"))
		if clock := p.between(t, `id="breach-clock-time">`, "</p>"); !strings.Contains(clock, "left: 69 h") && !strings.Contains(clock, "left: 70 h") {
			t.Fatalf("clock: %q", clock)
		}
	})
	t.Run("a stale edit is refused, overwrites nothing and shows what changed", func(t *testing.T) {
		shown := breachFactsForm(t, dana.get(page))
		// Meanwhile the breach is changed elsewhere (another tab, the API).
		_, err := a.g.UpdateBreach(dpo, b.ID, tresor.Update{Patch: json.RawMessage(`{"measures":"Lieferant hat gelöscht"}`)})
		must(t, err)
		form := url.Values{"csrf": {csrf}, "version": {shown.Get("version")}, "title": {b.Title}, "description": {b.Description},
			"categories": {"Namen, E-Mail-Adressen"}, "people_affected": {"40"}, "records_affected": {"40"}, "risk": {"high"},
			"consequences": {"Werbung an die Adressen"}, "measures": {""}}
		r := dana.post(page+"/facts", form, en)
		if r.status != http.StatusConflict || !strings.Contains(r.body, `id="breach-stale"`) || !strings.Contains(r.body, "version_mismatch") {
			t.Fatalf("stale edit: %d %.3000s", r.status, r.body)
		}
		changes := r.between(t, `id="breach-stale-changes"`, "</table>")
		if !strings.Contains(changes, "Lieferant hat gelöscht") || !strings.Contains(changes, "differs") {
			t.Fatalf("the refusal does not show the change: %s", changes)
		}
		if !strings.Contains(r.body, `value="40"`) || !strings.Contains(r.body, "Werbung an die Adressen</textarea>") {
			t.Fatal("the refused form lost what was typed")
		}
		got, err := a.g.Breach(dpo, b.ID)
		must(t, err)
		if got.Measures != "Lieferant hat gelöscht" || got.PeopleAffected != 0 {
			t.Fatalf("the stale form overwrote the breach: %+v", got.BreachContent)
		}
		again := breachFactsForm(t, r)
		if again.Get("version") != "2" {
			t.Fatalf("the form to apply knowingly carries version %q", again.Get("version"))
		}
		form.Set("version", again.Get("version"))
		form.Set("measures", "Lieferant hat gelöscht; Verteiler geprüft")
		if r := dana.post(page+"/facts", form, en); r.status != http.StatusSeeOther {
			t.Fatalf("applied knowingly: %d %.1000s", r.status, r.body)
		}
		got, err = a.g.Breach(dpo, b.ID)
		must(t, err)
		if got.PeopleAffected != 40 || len(got.Categories) != 2 || got.Measures != "Lieferant hat gelöscht; Verteiler geprüft" {
			t.Fatalf("after the knowing edit: %+v", got)
		}
	})
	t.Run("the drafts and the log escape what was typed", func(t *testing.T) {
		evil := &tresor.Breach{Title: `<script>alert("t")</script>`, AwareAt: time.Now().Add(-time.Hour), Risk: tresor.BreachRiskHigh,
			BreachContent: tresor.BreachContent{Description: `</textarea><img src=x onerror=alert(1)>`}}
		must(t, a.g.CreateBreach(dpo, evil))
		p := dana.get("/dpo/breaches/" + evil.ID)
		if p.status != http.StatusOK || strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
			t.Fatalf("unescaped: %.4000s", p.body)
		}
		if !strings.Contains(p.body, "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;") {
			t.Fatal("the description is not shown as text in the drafts")
		}
	})

	// Two contacts touched by Sam's account: the scope of a compromise.
	sams, err := a.g.User(sys, "sam@example.org")
	must(t, err)
	samCtx := tresor.WithPurpose(tresor.WithActor(sys, &tresor.Actor{Kind: tresor.ActorUser, UserID: sams.ID, Email: sams.Email, Roles: sams.Roles}), "sales")
	since := time.Now().UTC().Add(-time.Minute)
	var ids []string
	for _, n := range []string{"Paula", "Peter"} {
		c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: n, FamilyName: "Betroffen", Emails: []string{strings.ToLower(n) + "@example.org"}},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, a.g.CreateContact(samCtx, c))
		ids = append(ids, c.ID)
	}

	t.Run("the notice to the people goes only after the confirmation", func(t *testing.T) {
		before := len(a.mail.all())
		p := dana.post(page+"/notice", url.Values{"csrf": {csrf}, "source": {"ids"}, "contact_ids": {ids[0] + "\n" + ids[1] + "\n" + ids[0]}, "lang": {"de"}}, en)
		if p.status != http.StatusOK || !strings.Contains(p.between(t, `id="breach-people-count">`, "</p>"), "2 contacts") {
			t.Fatalf("preview: %d %.3000s", p.status, p.body)
		}
		if len(a.mail.all()) != before {
			t.Fatal("the preview sent mail")
		}
		if strings.Contains(p.body, "Paula") || strings.Contains(p.body, "Peter") {
			t.Fatal("the preview names the contacts")
		}
		confirm := adminFormFields(p.between(t, `id="breach-people-confirm"`, "</form>"))
		confirm.Set("subject", p.between(t, `id="breach-people-subject" name="subject" type="text" maxlength="200" required value="`, `"`))
		confirm.Set("body", p.between(t, `name="body" rows="16" required lang="de" aria-describedby="breach-people-body-help">`, "</textarea>"))
		if confirm.Get("confirm") != "yes" || !strings.Contains(confirm.Get("body"), "Art. 34 DSGVO") {
			t.Fatalf("the confirmation carries %v", confirm)
		}
		r := dana.post(page+"/notice", confirm, en)
		if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "sent=2") {
			t.Fatalf("confirm: %d %s %s", r.status, r.header.Get("Location"), r.between(t, `id="breach-people`, "</p>"))
		}
		mails := a.mail.all()[before:]
		if len(mails) != 2 || mails[0].Headers["Content-Language"] != "de" {
			t.Fatalf("%d mails after the confirmation", len(mails))
		}
		if again := dana.post(page+"/notice", confirm, en); again.status != http.StatusSeeOther || len(a.mail.all()) != before+2 {
			t.Fatalf("a second submit of the same confirmation sent again: %d, %d mails", again.status, len(a.mail.all())-before)
		}
		got := dana.get(r.header.Get("Location"))
		if !strings.Contains(got.between(t, `id="breach-people-result"`, "</div>"), "2 sent, 0 without an e-mail address, 0 failed") {
			t.Fatalf("result: %.300s", got.between(t, `id="breach-people-result"`, "</div>"))
		}
	})
	t.Run("a notice with a draft's gap is not sent", func(t *testing.T) {
		gap := &tresor.Breach{Title: "Ohne Folgen", AwareAt: time.Now().Add(-time.Hour), Risk: tresor.BreachRiskHigh,
			BreachContent: tresor.BreachContent{Description: "Noch unklar"}}
		must(t, a.g.CreateBreach(dpo, gap))
		before := len(a.mail.all())
		p := dana.post("/dpo/breaches/"+gap.ID+"/notice", url.Values{"csrf": {csrf}, "source": {"ids"}, "contact_ids": {ids[0]}, "lang": {"en"}}, en)
		body := p.between(t, `name="body" rows="16" required lang="en" aria-describedby="breach-people-body-help">`, "</textarea>")
		r := dana.post("/dpo/breaches/"+gap.ID+"/notice", url.Values{"csrf": {csrf}, "source": {"ids"}, "contact_ids": {ids[0]}, "lang": {"en"},
			"confirm": {"yes"}, "subject": {"Info"}, "body": {body}}, en)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="breach-people-problem"`) || len(a.mail.all()) != before {
			t.Fatalf("gap: %d, %d mails %.2000s", r.status, len(a.mail.all())-before, r.body)
		}
	})
	t.Run("the scope is counted from the audit trail and its contacts are told without being shown", func(t *testing.T) {
		r := dana.post(page+"/scope", url.Values{"csrf": {csrf}, "kind": {"user"}, "actor_id": {sams.ID},
			"since": {since.Format("2006-01-02T15:04")}, "until": {time.Now().UTC().Add(2 * time.Minute).Format("2006-01-02T15:04")}}, en)
		if r.status != http.StatusSeeOther {
			t.Fatalf("scope: %d %.2000s", r.status, r.body)
		}
		p := dana.get(page)
		if got := p.between(t, `id="breach-scope-contacts">`, "<"); got != "2" {
			t.Fatalf("scope contacts shown: %q", got)
		}
		prev := dana.post(page+"/notice", url.Values{"csrf": {csrf}, "source": {"scope"}, "lang": {"en"}}, en)
		if prev.status != http.StatusOK || !strings.Contains(prev.body, "2 contacts will receive") {
			t.Fatalf("scope preview: %d %.2000s", prev.status, prev.body)
		}
		for _, id := range ids {
			if strings.Contains(prev.body, id) {
				t.Fatal("the preview carries a contact's id")
			}
		}
		before := len(a.mail.all())
		confirm := adminFormFields(prev.between(t, `id="breach-people-confirm"`, "</form>"))
		confirm.Set("subject", "Information")
		confirm.Set("body", "Ihre Daten waren betroffen. / Your data were concerned.")
		if confirm.Get("count") != "2" || confirm.Get("contact_ids") != "" {
			t.Fatalf("the scope's confirmation carries %v", confirm)
		}
		changed := url.Values{}
		for k := range confirm {
			changed.Set(k, confirm.Get(k))
		}
		changed.Set("count", "5") // the scope was recounted since the preview
		if r := dana.post(page+"/notice", changed, en); r.status != http.StatusOK || !strings.Contains(r.body, "scope changed since the preview") ||
			len(a.mail.all()) != before {
			t.Fatalf("a changed scope: %d, %d mails", r.status, len(a.mail.all())-before)
		}
		if r := dana.post(page+"/notice", confirm, en); r.status != http.StatusSeeOther || len(a.mail.all()) != before+2 {
			t.Fatalf("scope confirm: %d, %d mails", r.status, len(a.mail.all())-before)
		}
	})
	t.Run("the authority's notification stops the clock and its reference is logged", func(t *testing.T) {
		cur, err := a.g.Breach(dpo, b.ID)
		must(t, err)
		stale := url.Values{"csrf": {csrf}, "version": {"1"}, "state": {"authority_notified"}, "reference": {"AZ 4711"}}
		if r := dana.post(page+"/state", stale, en); r.status != http.StatusPreconditionFailed || !strings.Contains(r.body, `id="breach-state-problem"`) {
			t.Fatalf("stale state: %d %.1000s", r.status, r.body)
		}
		if r := dana.post(page+"/state", url.Values{"csrf": {csrf}, "version": {itoa(cur.Version)}, "state": {"authority_notified"}}, en); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("without a reference: %d", r.status)
		}
		r := dana.post(page+"/state", url.Values{"csrf": {csrf}, "version": {itoa(cur.Version)}, "state": {"authority_notified"},
			"reference": {"AZ 4711"}, "note": {"über das Portal des Landesamts"}}, en)
		if r.status != http.StatusSeeOther {
			t.Fatalf("notified: %d %.1000s", r.status, r.body)
		}
		p := dana.get(page)
		if clock := p.between(t, `id="breach-clock-time">`, "</p>"); clock != "stopped" {
			t.Fatalf("clock after the notification: %q", clock)
		}
		if log := p.between(t, `id="breach-log"`, "</table>"); !strings.Contains(log, "AZ 4711") || !strings.Contains(log, "Landesamts") {
			t.Fatalf("log: %s", log)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
