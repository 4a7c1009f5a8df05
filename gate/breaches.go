package gate

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"tresor"
)

var _ tresor.BreachService = (*Gate)(nil)

// breachRecords are the object types whose distinct ids count as the
// records a breach concerns (contacts are counted apart, as the people).
var breachRecords = []string{"organization", "interaction", "deal", "case", "task", "campaign", "mail"}

// breachOfficer authorises the breach register: the data-protection
// officer, under the data_protection purpose. An administrator without the
// DPO role is refused (and one holding both is refused by separation of
// duties in authorize).
func (g *Gate) breachOfficer(ctx context.Context) (*request, error) {
	req, err := g.dataProtection(ctx)
	if err != nil {
		return nil, err
	}
	if req.actor.Kind != tresor.ActorSystem && !req.actor.HasRole(tresor.RoleDPO) {
		err := tresor.Errorf(tresor.ECForbidden, "Only the data-protection officer keeps the breach register.")
		g.recordBestEffort(ctx, g.entry(ctx, "breach.read", "breach", nil, nil, err))
		return nil, err
	}
	return req, nil
}

// breachRow seals a breach's content under its own key.
func (g *Gate) breachRow(ctx context.Context, tx tresor.Tx, b *tresor.Breach, old *tresor.BreachRow) (*tresor.BreachRow, error) {
	row := &tresor.BreachRow{Breach: *b}
	row.BreachContent, row.Damaged = tresor.BreachContent{}, false
	var have *tresor.WrappedKey
	if old != nil {
		have = old.Key
	}
	var err error
	row.Sealed, row.Sealing, err = g.sealRecord(ctx, tx, "breach", b.ID, "", have, &b.BreachContent)
	return row, err
}

// openBreach opens a stored breach and sets its clock.
func (g *Gate) openBreach(ctx context.Context, row *tresor.BreachRow) (*tresor.Breach, error) {
	b := row.Breach
	if _, err := g.openRecord(ctx, "breach", b.ID, row.Key, row.Sealed, &b.BreachContent, nil); err != nil {
		b.BreachContent, b.Damaged = tresor.BreachContent{}, true
	}
	b.Clock(g.now())
	return &b, nil
}

// CreateBreach records a new breach in the register, open.
func (g *Gate) CreateBreach(ctx context.Context, b *tresor.Breach) error {
	req, err := g.breachOfficer(ctx)
	if err != nil {
		return err
	}
	if b.State != "" || b.NotifiedAt != nil || b.ClosedAt != nil || b.Scope != nil || len(b.Actions) > 0 {
		return fieldError("breach", "state", "state, notified_at, closed_at, scope and actions are set by Tresor; leave them out")
	}
	b.ID, b.CreatedAt, b.UpdatedAt, b.Version = newID(), req.now, req.now, 1
	b.State, b.AwareAt = tresor.BreachOpen, b.AwareAt.UTC()
	b.Actions = []tresor.BreachAction{{At: req.now, Actor: req.actor.String(), Text: "recorded"}}
	if err := b.Validate(); err != nil {
		return err
	}
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := g.breachRow(ctx, tx, b, nil)
		if err != nil {
			return err
		}
		if err := tx.InsertBreach(ctx, row); err != nil {
			return err
		}
		entry = g.entry(ctx, "breach.create", "breach", []string{b.ID}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "breach.create", "breach", nil, nil, err))
		return err
	}
	g.committed([]*tresor.AuditEntry{entry})
	b.Clock(g.now())
	return nil
}

// Breach returns one breach of the register.
func (g *Gate) Breach(ctx context.Context, id string) (*tresor.Breach, error) {
	if _, err := g.breachOfficer(ctx); err != nil {
		return nil, err
	}
	row, err := g.store.Read().Breach(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := g.openBreach(ctx, row)
	if err != nil {
		return nil, err
	}
	return b, g.record(ctx, g.entry(ctx, "breach.read", "breach", []string{id}, nil, nil))
}

// Breaches lists the register, newest first.
func (g *Gate) Breaches(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Breach], error) {
	if _, err := g.breachOfficer(ctx); err != nil {
		return nil, err
	}
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	limit := p.Limit
	p.Limit++
	rows, err := g.store.Read().Breaches(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.Breach]{Items: []*tresor.Breach{}}
	for i, row := range rows {
		if i == limit {
			out.Next = tresor.EncodeCursor(rows[limit-1].ID)
			break
		}
		b, err := g.openBreach(ctx, row)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, b)
	}
	return out, g.record(ctx, g.entry(ctx, "breach.read", "breach", idsOf(out.Items), nil, nil))
}

// changeBreach reads, changes and writes one breach in a transaction, with
// the audit entry action.
func (g *Gate) changeBreach(ctx context.Context, action, id string, ifVersion int64,
	fn func(req *request, b *tresor.Breach) error) (*tresor.Breach, error) {
	req, err := g.breachOfficer(ctx)
	if err != nil {
		return nil, err
	}
	var out *tresor.Breach
	var entry *tresor.AuditEntry
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.Breach(ctx, id)
		if err != nil {
			return err
		}
		b, err := g.openBreach(ctx, row)
		if err != nil {
			return err
		}
		if b.Damaged {
			return tresor.Errorf(tresor.ECDamaged, "The breach %s does not decrypt; it cannot be changed.", id)
		}
		if err := checkVersion("breach", b.Version, ifVersion); err != nil {
			return err
		}
		prev := b.Version
		if err := fn(req, b); err != nil {
			return err
		}
		b.UpdatedAt, b.Version, b.ID, b.CreatedAt = req.now, prev+1, row.ID, row.CreatedAt
		if err := b.Validate(); err != nil {
			return err
		}
		newRow, err := g.breachRow(ctx, tx, b, row)
		if err != nil {
			return err
		}
		if err := tx.UpdateBreach(ctx, newRow, prev); err != nil {
			return err
		}
		out = b
		entry = g.entry(ctx, action, "breach", []string{id}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, action, "breach", []string{id}, nil, err))
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	out.Clock(g.now())
	return out, nil
}

// UpdateBreach changes a breach with a merge patch; state, the log and the
// scope change only through their own calls.
func (g *Gate) UpdateBreach(ctx context.Context, id string, u tresor.Update) (*tresor.Breach, error) {
	return g.changeBreach(ctx, "breach.update", id, u.IfVersion, func(req *request, b *tresor.Breach) error {
		keep := *b
		if err := tresor.ApplyPatch(b, u.Patch, append(tresor.BreachReadOnly, tresor.MetaFields...)...); err != nil {
			return err
		}
		b.State, b.NotifiedAt, b.ClosedAt, b.Scope, b.Actions = keep.State, keep.NotifiedAt, keep.ClosedAt, keep.Scope, keep.Actions
		b.AwareAt = b.AwareAt.UTC()
		b.Actions = append(b.Actions, tresor.BreachAction{At: req.now, Actor: req.actor.String(), Text: "changed"})
		return nil
	})
}

// SetBreachState moves a breach on: open → authority_notified → closed. A
// breach assessed as no risk may be closed without notifying (Art. 33(1)).
func (g *Gate) SetBreachState(ctx context.Context, id string, state tresor.BreachState, note string, ifVersion int64) (*tresor.Breach, error) {
	return g.changeBreach(ctx, "breach.state", id, ifVersion, func(req *request, b *tresor.Breach) error {
		ok := false
		switch {
		case b.State == tresor.BreachOpen && state == tresor.BreachAuthorityNotified:
			at := req.now
			b.NotifiedAt, ok = &at, true
		case b.State == tresor.BreachAuthorityNotified && state == tresor.BreachClosed,
			b.State == tresor.BreachOpen && state == tresor.BreachClosed && b.Risk == tresor.BreachRiskNone:
			at := req.now
			b.ClosedAt, ok = &at, true
		}
		if !ok {
			return tresor.Errorf(tresor.ECConflict, "A breach in state %s cannot move to %q; the order is open → authority_notified → closed (closing an open one only when the risk is none).", b.State, state)
		}
		text := "state " + string(state)
		if n := strings.TrimSpace(note); n != "" {
			text += ": " + n
		}
		b.State = state
		b.Actions = append(b.Actions, tresor.BreachAction{At: req.now, Actor: req.actor.String(), Text: text})
		return nil
	})
}

// CountBreachScope counts in the audit trail the distinct contacts and
// other records the actor touched in the window and stores the counts
// with the breach; the approximate numbers take them as their floor.
func (g *Gate) CountBreachScope(ctx context.Context, id, actor string, since, until time.Time) (*tresor.Breach, error) {
	if !strings.HasPrefix(actor, "user:") && !strings.HasPrefix(actor, "token:") || since.IsZero() || until.IsZero() || !until.After(since) {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "Name the actor (user:ID or token:ID) and the window (since < until).")
	}
	r := g.store.Read()
	return g.changeBreach(ctx, "breach.update", id, 0, func(req *request, b *tresor.Breach) error {
		people, err := r.AuditTouched(ctx, actor, "contact", since, until)
		if err != nil {
			return err
		}
		records := 0
		for _, kind := range breachRecords {
			t, err := r.AuditTouched(ctx, actor, kind, since, until)
			if err != nil {
				return err
			}
			records += len(t)
		}
		b.Scope = &tresor.BreachScope{Actor: actor, Since: since.UTC(), Until: until.UTC(), Contacts: len(people),
			Records: records, CountedAt: req.now}
		b.PeopleAffected = max(b.PeopleAffected, len(people))
		b.RecordsAffected = max(b.RecordsAffected, records+len(people))
		b.Actions = append(b.Actions, tresor.BreachAction{At: req.now, Actor: req.actor.String(),
			Text: fmt.Sprintf("audit trail of %s counted: %d contacts, %d other records", actor, len(people), records)})
		return nil
	})
}

// BreachDrafts writes the notification to the supervisory authority
// (Art. 33(3)) and, when the risk is high, the notice to the people
// (Art. 34(2)), in German (de) or English (en).
func (g *Gate) BreachDrafts(ctx context.Context, id, lang string) (*tresor.BreachDrafts, error) {
	if lang == "" {
		lang = "de"
	}
	if lang != "de" && lang != "en" {
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "lang is de or en, not %q.", lang)
	}
	req, err := g.breachOfficer(ctx)
	if err != nil {
		return nil, err
	}
	row, err := g.store.Read().Breach(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := g.openBreach(ctx, row)
	if err != nil {
		return nil, err
	}
	if b.Damaged {
		return nil, tresor.Errorf(tresor.ECDamaged, "The breach %s does not decrypt; no draft can be written.", id)
	}
	d := breachDraftData(b, req.actor.Email, lang)
	out := &tresor.BreachDrafts{Lang: lang, Authority: renderDraft("breach_authority_"+lang, d)}
	if b.PeopleMustBeTold() {
		out.People = renderDraft("breach_people_"+lang, d)
	}
	return out, g.record(ctx, g.entry(ctx, "breach.read", "breach", []string{id}, nil, nil))
}

func breachDraftData(b *tresor.Breach, dpo, lang string) map[string]any {
	layout, loc := "2006-01-02 15:04 MST", time.UTC
	if lang == "de" {
		layout = "02.01.2006 15:04 MST"
	}
	cats := strings.Join(b.Categories, ", ")
	if cats == "" {
		cats = "—"
	}
	return map[string]any{"B": b, "Aware": b.AwareAt.In(loc).Format(layout), "Deadline": b.Deadline.In(loc).Format(layout),
		"Categories": cats, "DPO": dpo, "Late": b.Overdue || (b.NotifiedAt != nil && b.NotifiedAt.After(b.Deadline))}
}

func renderDraft(name string, data any) string {
	var buf bytes.Buffer
	if err := breachTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		panic("gate: breach template " + name + ": " + err.Error()) // the templates are fixed; a failure is a bug
	}
	return strings.TrimSpace(buf.String()) + "\n"
}

var breachTemplates = template.Must(template.New("breach").Parse(`
{{define "breach_authority_de"}}
Meldung einer Verletzung des Schutzes personenbezogener Daten (Art. 33 DSGVO)

Bezeichnung: {{.B.Title}}
Kenntnis seit: {{.Aware}} (Frist zur Meldung: {{.Deadline}}){{if .Late}}
Gründe für die Verzögerung (Art. 33 Abs. 1 Satz 2): [bitte ergänzen]{{end}}

a) Art der Verletzung:
{{.B.Description}}

Kategorien personenbezogener Daten: {{.Categories}}
Ungefähre Zahl der betroffenen Personen: {{.B.PeopleAffected}}
Ungefähre Zahl der betroffenen Datensätze: {{.B.RecordsAffected}}

b) Datenschutzbeauftragte(r), Kontakt: {{.DPO}}

c) Wahrscheinliche Folgen:
{{if .B.Consequences}}{{.B.Consequences}}{{else}}[bitte ergänzen]{{end}}

d) Ergriffene oder vorgeschlagene Maßnahmen:
{{if .B.Measures}}{{.B.Measures}}{{else}}[bitte ergänzen]{{end}}
{{end}}
{{define "breach_authority_en"}}
Notification of a personal data breach (Art. 33 GDPR)

Title: {{.B.Title}}
Aware since: {{.Aware}} (deadline to notify: {{.Deadline}}){{if .Late}}
Reasons for the delay (Art. 33(1), second sentence): [to be completed]{{end}}

(a) Nature of the breach:
{{.B.Description}}

Categories of personal data: {{.Categories}}
Approximate number of people concerned: {{.B.PeopleAffected}}
Approximate number of records concerned: {{.B.RecordsAffected}}

(b) Data-protection officer, contact: {{.DPO}}

(c) Likely consequences:
{{if .B.Consequences}}{{.B.Consequences}}{{else}}[to be completed]{{end}}

(d) Measures taken or proposed:
{{if .B.Measures}}{{.B.Measures}}{{else}}[to be completed]{{end}}
{{end}}
{{define "breach_people_de"}}
Information über eine Verletzung des Schutzes Ihrer personenbezogenen Daten (Art. 34 DSGVO)

Guten Tag,

wir müssen Ihnen mitteilen, dass Ihre personenbezogenen Daten von einer Sicherheitsverletzung betroffen sind.

Was geschehen ist:
{{.B.Description}}

Betroffene Daten: {{.Categories}}

Wahrscheinliche Folgen:
{{if .B.Consequences}}{{.B.Consequences}}{{else}}[bitte ergänzen]{{end}}

Was wir unternommen haben und was Sie tun können:
{{if .B.Measures}}{{.B.Measures}}{{else}}[bitte ergänzen]{{end}}

Für Fragen erreichen Sie unsere(n) Datenschutzbeauftragte(n): {{.DPO}}
{{end}}
{{define "breach_people_en"}}
Information about a breach of your personal data (Art. 34 GDPR)

Hello,

we have to inform you that your personal data were affected by a security breach.

What happened:
{{.B.Description}}

Data concerned: {{.Categories}}

Likely consequences:
{{if .B.Consequences}}{{.B.Consequences}}{{else}}[to be completed]{{end}}

What we have done and what you can do:
{{if .B.Measures}}{{.B.Measures}}{{else}}[to be completed]{{end}}

For questions, contact our data-protection officer: {{.DPO}}
{{end}}`))
