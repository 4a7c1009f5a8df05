package gate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/sqlite"
	"tresor/storetest"
)

// subjectEnv is a gate with a person (Erika) whose request of access was
// verified, and another person (Quendelmeier) whose records touch hers.
type subjectEnv struct {
	g                *gate.Gate
	dir              string // the data directory (its SQLite file on that backend)
	clock            *clock
	mail             *mailbox
	dpo, sales, serv context.Context
	erika, other     *tresor.Contact
	request          *tresor.Request
}

func subjectBackends(t *testing.T, fn func(t *testing.T, e *subjectEnv)) {
	open := func(t *testing.T, cfg datadir.Config) *subjectEnv {
		e := &subjectEnv{clock: newClock(), mail: &mailbox{}, dir: cfg.DataDir}
		cfg.Migrate = true
		e.g = openGate(t, cfg, gate.WithClock(e.clock.now), gate.WithMailer(e.mail), gate.WithPublicURL("https://crm.example.org"))
		e.dpo = as(t, e.g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		e.sales = as(t, e.g, "sales.colleague@example.org", "sales", tresor.RoleSales)
		e.serv = as(t, e.g, "service.colleague@example.org", "service", tresor.RoleService)
		e.seed(t)
		return e
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, datadir.Config{DataDir: t.TempDir()})) })
	t.Run("postgres", func(t *testing.T) { fn(t, open(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir()})) })
}

func (e *subjectEnv) seed(t *testing.T) {
	g := e.g
	e.erika = erika()
	must(t, g.CreateContact(e.sales, e.erika))
	e.other = &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Zacharias", FamilyName: "Quendelmeier",
		Emails: []string{"zq@quendel.example"}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, g.CreateContact(e.sales, e.other))
	basis := tresor.Collection{LegalBasis: tresor.BasisContract}
	deal := &tresor.Deal{Title: "Rahmenvertrag Muster GmbH", Stage: "lead", ContactID: e.erika.ID}
	must(t, g.CreateDeal(e.sales, deal))
	k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: e.erika.ID, Collection: basis,
		CaseContent: tresor.CaseContent{Subject: "Lieferung verspätet", Description: "Die Lieferung kam zwei Wochen zu spät."}}
	must(t, g.CreateCase(e.serv, k))
	for _, in := range []*tresor.Interaction{
		{Kind: tresor.KindCall, Direction: tresor.DirectionInbound, ContactID: e.erika.ID, Collection: basis,
			InteractionContent: tresor.InteractionContent{Subject: "Preisanfrage", Body: "Frau Mustermann fragt nach Staffelpreisen."}},
		{Kind: tresor.KindNote, Direction: tresor.DirectionInternal, DealID: deal.ID, Collection: basis,
			InteractionContent: tresor.InteractionContent{Subject: "Angebot vorbereitet", Body: "Angebot für 50 Lizenzen."}},
		// On Erika's case, but about someone else: it stays out of her export.
		{Kind: tresor.KindCall, Direction: tresor.DirectionInbound, ContactID: e.other.ID, CaseID: k.ID, Collection: basis,
			InteractionContent: tresor.InteractionContent{Subject: "Rückruf Quendelmeier", Body: "Herr Quendelmeier rief wegen der Lieferung an."}},
	} {
		ctx := e.sales
		if in.CaseID != "" {
			ctx = e.serv
		}
		must(t, g.CreateInteraction(ctx, in))
	}
	must(t, g.CreateTask(e.serv, &tresor.Task{TaskContent: tresor.TaskContent{Title: "Gutschrift prüfen"}, Due: "2026-12-10", CaseID: k.ID}))
	must(t, g.CreateTask(e.sales, &tresor.Task{TaskContent: tresor.TaskContent{Title: "Quendelmeier zurückrufen"}, Due: "2026-12-11", ContactID: e.other.ID}))
	// A colleague reads Erika, and lists both people.
	_, err := g.Contact(e.sales, e.erika.ID)
	must(t, err)
	_, err = g.Contacts(e.sales, tresor.ContactFilter{})
	must(t, err)

	e.request, err = g.CreateRequest(e.dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
		Address: "erika.mustermann@example.de", ReceivedAt: "2026-11-27", ContactIDs: []string{e.erika.ID}})
	must(t, err)
	_, err = g.RequestState(e.dpo, e.request.ID, tresor.RequestIdentityVerified, "")
	must(t, err)
}

// validateSubjectExport validates an export against the committed schema.
func validateSubjectExport(t *testing.T, doc []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "schemas", "subject-export-v1.json"))
	must(t, err)
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	must(t, err)
	c := jsonschema.NewCompiler()
	must(t, c.AddResource("subject-export-v1.json", schemaDoc))
	sch, err := c.Compile("subject-export-v1.json")
	must(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	must(t, err)
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the export does not validate against its schema: %v", err)
	}
}

func exportOf(t *testing.T, e *subjectEnv) (*tresor.SubjectExport, []byte) {
	t.Helper()
	b, err := e.g.BuildSubjectExport(e.dpo, e.request.ID, tresor.SubjectExportJSON)
	must(t, err)
	var x tresor.SubjectExport
	must(t, json.Unmarshal(b, &x))
	return &x, b
}

func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		must(t, err)
		b, err := io.ReadAll(r)
		must(t, err)
		out[f.Name] = b
	}
	return out
}

func TestSubjectExportRules(t *testing.T) {
	subjectBackends(t, func(t *testing.T, e *subjectEnv) {
		g := e.g

		t.Run("only the data-protection officer builds an export", func(t *testing.T) {
			_, err := g.BuildSubjectExport(e.sales, e.request.ID, tresor.SubjectExportJSON)
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.SendSubjectExport(e.sales, e.request.ID)
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.BuildSubjectExport(bg, e.request.ID, tresor.SubjectExportJSON)
			wantCode(t, err, tresor.ECUnauthenticated)
		})

		t.Run("only a verified, open request of access or portability with a contact is answered", func(t *testing.T) {
			mk := func(kind tresor.RequestKind, ids []string, to tresor.RequestState) string {
				r, err := g.CreateRequest(e.dpo, tresor.NewRequest{Kind: kind, Channel: tresor.ArrivedByEmail,
					Address: "erika.mustermann@example.de", ReceivedAt: "2026-11-27", ContactIDs: ids})
				must(t, err)
				if to != tresor.RequestReceived {
					_, err = g.RequestState(e.dpo, r.ID, tresor.RequestIdentityVerified, "")
					must(t, err)
				}
				if to == tresor.RequestAnswered {
					_, err = g.RequestState(e.dpo, r.ID, tresor.RequestAnswered, "")
					must(t, err)
				}
				return r.ID
			}
			ids := []string{e.erika.ID}
			for name, id := range map[string]string{
				"not yet verified": mk(tresor.RequestAccess, ids, tresor.RequestReceived),
				"answered":         mk(tresor.RequestAccess, ids, tresor.RequestAnswered),
				"of erasure":       mk(tresor.RequestErasure, ids, tresor.RequestIdentityVerified),
				"without contact":  mk(tresor.RequestAccess, nil, tresor.RequestIdentityVerified),
			} {
				_, err := g.BuildSubjectExport(e.dpo, id, tresor.SubjectExportJSON)
				if tresor.ErrorCode(err) != tresor.ECConflict || tresor.AsError(err).MessageDE == "" {
					t.Errorf("%s: error = %v, want a conflict explained in both languages", name, err)
				}
			}
			id := mk(tresor.RequestPortability, ids, tresor.RequestIdentityVerified)
			_, err := g.BuildSubjectExport(e.dpo, id, tresor.SubjectExportJSON)
			must(t, err)
		})

		t.Run("the export holds the person's data and validates against its schema", func(t *testing.T) {
			x, raw := exportOf(t, e)
			validateSubjectExport(t, raw)
			if x.Schema != "tresor.subject-export/v1" || len(x.Contacts) != 1 || x.Contacts[0].FamilyName != "Mustermann" ||
				x.Contacts[0].Emails[0] == "" || len(x.Contacts[0].Provenance) == 0 || x.Contacts[0].Provenance[0].LegalBasis != tresor.BasisContract {
				t.Fatalf("contacts = %+v", x.Contacts)
			}
			var subjects []string
			for _, in := range x.Interactions {
				subjects = append(subjects, in.Subject)
			}
			slices.Sort(subjects)
			if !slices.Equal(subjects, []string{"Angebot vorbereitet", "Preisanfrage"}) {
				t.Errorf("interactions = %v", subjects)
			}
			for _, in := range x.Interactions {
				if in.Purpose != "sales" || in.LegalBasis != tresor.BasisContract {
					t.Errorf("interaction %q: purpose %q, basis %q", in.Subject, in.Purpose, in.LegalBasis)
				}
			}
			if len(x.Cases) != 1 || x.Cases[0].Purpose != "service" || len(x.Deals) != 1 || len(x.Tasks) != 1 || x.Tasks[0].Title != "Gutschrift prüfen" {
				t.Errorf("cases %+v, deals %+v, tasks %+v", x.Cases, x.Deals, x.Tasks)
			}
			if !slices.ContainsFunc(x.Retention, func(r tresor.SubjectRetention) bool {
				return r.Category == tresor.CatContactName && r.Purpose == "sales" && r.Days == 1095 && r.Until != nil
			}) || !slices.ContainsFunc(x.Retention, func(r tresor.SubjectRetention) bool {
				return r.Category == tresor.CatInteraction && r.Purpose == "sales" && r.Days > 0
			}) || !slices.ContainsFunc(x.Retention, func(r tresor.SubjectRetention) bool {
				return r.Category == tresor.CatInteraction && r.Purpose == "service" // the case's description
			}) {
				t.Errorf("retention = %+v", x.Retention)
			}
		})

		t.Run("nothing of another person is in the export", func(t *testing.T) {
			_, raw := exportOf(t, e)
			html, err := g.BuildSubjectExport(e.dpo, e.request.ID, tresor.SubjectExportHTML)
			must(t, err)
			for _, doc := range [][]byte{raw, html} {
				for _, s := range []string{"Quendelmeier", "Zacharias", "zq@quendel.example", e.other.ID} {
					if bytes.Contains(doc, []byte(s)) {
						t.Errorf("the export names %q, of another person", s)
					}
				}
			}
		})

		t.Run("the access log names roles and purposes, never colleagues", func(t *testing.T) {
			x, raw := exportOf(t, e)
			read := false
			for _, a := range x.AccessLog {
				if a.Action == "contact.read" && a.Purpose == "sales" && slices.Equal(a.Roles, []string{"sales"}) && a.ActorKind == "staff" {
					read = true
				}
			}
			if !read {
				t.Fatalf("the colleague's read is not in the access log: %+v", x.AccessLog)
			}
			for _, ctx := range []context.Context{e.sales, e.serv, e.dpo} {
				a := tresor.ActorFrom(ctx)
				for _, s := range []string{a.UserID, a.Email} {
					if bytes.Contains(raw, []byte(s)) {
						t.Errorf("the export names the colleague %q", s)
					}
				}
			}
		})

		t.Run("the readable document is self-contained and in the person's language", func(t *testing.T) {
			html, err := g.BuildSubjectExport(e.dpo, e.request.ID, tresor.SubjectExportHTML)
			must(t, err)
			s := string(html)
			if !strings.Contains(s, `<html lang="de">`) || !strings.Contains(s, "Auskunft über Ihre personenbezogenen Daten") ||
				!strings.Contains(s, "@media print") || !strings.Contains(s, "Frau Mustermann fragt nach Staffelpreisen.") {
				t.Fatalf("the document is not the German one with its content")
			}
			for _, bad := range []string{"http://", "https://", "<script", "<link", "src=", "@import"} {
				if strings.Contains(s, bad) {
					t.Errorf("the document loads something from outside: %q", bad)
				}
			}
			_, err = g.UpdateContact(e.sales, e.erika.ID, tresor.Update{Patch: json.RawMessage(`{"preferred_language": "en"}`)})
			must(t, err)
			html, err = g.BuildSubjectExport(e.dpo, e.request.ID, tresor.SubjectExportHTML)
			must(t, err)
			if !strings.Contains(string(html), `<html lang="en">`) || !strings.Contains(string(html), "Your personal data: access") {
				t.Errorf("the document of a person who prefers English is not in English")
			}
			_, err = g.UpdateContact(e.sales, e.erika.ID, tresor.Update{Patch: json.RawMessage(`{"preferred_language": ""}`)})
			must(t, err)
		})

		t.Run("building an export is audited", func(t *testing.T) {
			if a := auditActions(t, g, e.request.ID); !slices.Contains(a, "subject_export.build") {
				t.Errorf("audit = %v", a)
			}
		})

		t.Run("the link works once; a used, unknown or expired link gets the same refusal", func(t *testing.T) {
			sent, err := g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			if !sent.ExpiresAt.Equal(e.clock.now().AddDate(0, 0, 14)) {
				t.Errorf("expires = %v", sent.ExpiresAt)
			}
			m := e.mail.last(t)
			if m.To != "erika.mustermann@example.de" || len(m.Headers) != 0 || !strings.Contains(m.Text, "https://crm.example.org/subject-export?token=") {
				t.Fatalf("mail = %+v", m)
			}
			token := link(t, m.Text, "/subject-export")
			for range 2 { // the page changes nothing: a mail scanner may open it
				l, err := g.SubjectExportLink(bg, token)
				must(t, err)
				if l.Language != "de" {
					t.Errorf("link = %+v", l)
				}
			}
			f, err := g.DownloadSubjectExport(bg, token)
			must(t, err)
			files := unzip(t, f.Data)
			validateSubjectExport(t, files["export.json"])
			if !bytes.Contains(files["export.html"], []byte("Mustermann")) {
				t.Error("the zip lacks the readable document")
			}
			_, err = g.DownloadSubjectExport(bg, token)
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = g.SubjectExportLink(bg, token)
			wantCode(t, err, tresor.ECLinkInvalid)
			_, err = g.SubjectExportLink(bg, "made-up-token")
			wantCode(t, err, tresor.ECLinkInvalid)
			r, err := g.DataRequest(e.dpo, e.request.ID)
			must(t, err)
			var actions []string
			for _, h := range r.History {
				if h.Action != "" {
					actions = append(actions, string(h.Action))
				}
			}
			if !slices.Equal(actions, []string{"export_sent", "export_downloaded"}) {
				t.Errorf("history = %+v", r.History)
			}
		})

		t.Run("an export not downloaded is deleted after 14 days", func(t *testing.T) {
			_, err := g.SendSubjectExport(e.dpo, e.request.ID)
			must(t, err)
			token := link(t, e.mail.last(t).Text, "/subject-export")
			e.clock.advance(14*24*time.Hour - time.Minute)
			n, err := g.PurgeSubjectExports(bg)
			must(t, err)
			if n != 0 {
				t.Fatalf("purged %d exports before their time", n)
			}
			_, err = g.SubjectExportLink(bg, token)
			must(t, err)
			e.clock.advance(2 * time.Minute)
			_, err = g.DownloadSubjectExport(bg, token)
			wantCode(t, err, tresor.ECLinkInvalid)
			n, err = g.PurgeSubjectExports(bg)
			must(t, err)
			if n != 1 {
				t.Fatalf("purged %d exports, want 1", n)
			}
			r, err := g.DataRequest(e.dpo, e.request.ID)
			must(t, err)
			if last := r.History[len(r.History)-1]; last.Action != "export_expired" {
				t.Errorf("history ends with %+v", last)
			}
		})
	})
}

// TestSubjectExportIsEncryptedAtRest: the stored export is sealed — neither
// the person's name nor the zip's own member names are in the SQLite file —
// and after the download neither the export nor its key is left.
func TestSubjectExportIsEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	e := &subjectEnv{clock: newClock(), mail: &mailbox{}, dir: dir}
	e.g = openGate(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(e.clock.now), gate.WithMailer(e.mail))
	e.dpo = as(t, e.g, "dpo@example.org", "data_protection", tresor.RoleDPO)
	e.sales = as(t, e.g, "sales.colleague@example.org", "sales", tresor.RoleSales)
	e.serv = as(t, e.g, "service.colleague@example.org", "service", tresor.RoleService)
	e.seed(t)
	_, err := e.g.SendSubjectExport(e.dpo, e.request.ID)
	must(t, err)
	db := filepath.Join(dir, datadir.DatabaseFile)
	raw, err := sql.Open("sqlite", sqlite.DSN(db))
	must(t, err)
	defer raw.Close()
	count := func(q string) int {
		var n int
		must(t, raw.QueryRow(q).Scan(&n))
		return n
	}
	keys := "SELECT count(*) FROM data_keys WHERE subject IN (SELECT id FROM subject_exports)"
	if count("SELECT count(*) FROM subject_exports") != 1 || count(keys) != 1 {
		t.Fatal("the export and its own key are not stored: the check cannot fail")
	}
	files := readAll(t, db, db+"-wal")
	for _, s := range []string{"Mustermann", "Staffelpreisen", "export.json", "export.html"} {
		if bytes.Contains(files, []byte(s)) {
			t.Errorf("the database file holds %q in clear", s)
		}
	}
	var id string
	must(t, raw.QueryRow("SELECT id FROM subject_exports").Scan(&id))
	_, err = e.g.DownloadSubjectExport(bg, link(t, e.mail.last(t).Text, "/subject-export"))
	must(t, err)
	if count("SELECT count(*) FROM subject_exports") != 0 || count("SELECT count(*) FROM data_keys WHERE subject = '"+id+"'") != 0 {
		t.Error("after the download, the export or its key is still stored")
	}
}
