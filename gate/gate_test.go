package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/storetest"
)

// backends runs fn against a fresh gate on each storage backend.
func backends(t *testing.T, fn func(t *testing.T, g *gate.Gate)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, openGate(t, datadir.Config{DB: storetest.PostgresURL(t), DataDir: t.TempDir(), Migrate: true}))
	})
}

// sharedDatabase runs a test of several processes on one database, on each
// backend: cfg opens the same SQLite file or PostgreSQL database each time.
func sharedDatabase(t *testing.T, run func(t *testing.T, cfg func() datadir.Config)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		run(t, func() datadir.Config { return datadir.Config{DataDir: dir, Migrate: true} })
	})
	t.Run("postgres", func(t *testing.T) {
		url, dir := storetest.PostgresURL(t), t.TempDir()
		run(t, func() datadir.Config { return datadir.Config{DB: url, DataDir: dir, Migrate: true} })
	})
}

func openGate(t *testing.T, cfg datadir.Config, opts ...gate.Option) *gate.Gate {
	t.Helper()
	opts = append([]gate.Option{gate.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	g, err := datadir.Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

var bg = context.Background()

func system() context.Context {
	return tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorSystem})
}

// as returns the context of a user with the roles, acting for purpose.
func as(t *testing.T, g *gate.Gate, email string, purpose string, roles ...tresor.Role) context.Context {
	t.Helper()
	u, _, err := g.CreateUser(system(), email, roles)
	if err != nil {
		t.Fatal(err)
	}
	ctx := tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: u.ID, Email: u.Email, Roles: u.Roles})
	return tresor.WithPurpose(ctx, purpose)
}

func wantCode(t *testing.T, err error, code tresor.Code) {
	t.Helper()
	if got := tresor.ErrorCode(err); got != code {
		t.Fatalf("error = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func erika() *tresor.Contact {
	return &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann",
		Emails: []string{"Erika.Mustermann@Example.DE"}, Phones: []string{"+49 30 1234567"}, Organization: "Muster GmbH"},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
}

func TestGateRefusesWithoutAuthenticationOrPurpose(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		_, err := g.Contacts(bg, tresor.ContactFilter{})
		wantCode(t, err, tresor.ECUnauthenticated)
		wantCode(t, g.CreateContact(bg, erika()), tresor.ECUnauthenticated)

		sales := as(t, g, "sales@example.org", "", tresor.RoleSales)
		wantCode(t, g.CreateContact(sales, erika()), tresor.ECPurposeMissing)
		wantCode(t, g.CreateContact(tresor.WithPurpose(sales, "curiosity"), erika()), tresor.ECPurposeUnknown)
		wantCode(t, g.CreateContact(tresor.WithPurpose(sales, "marketing"), erika()), tresor.ECPurposeNotAllowed)
		must(t, g.CreateContact(tresor.WithPurpose(sales, "sales"), erika()))

		// Separation of duties: an administrator without a purpose role reaches no contact.
		admin := as(t, g, "admin@example.org", "sales", tresor.RoleAdmin)
		_, err = g.Contacts(admin, tresor.ContactFilter{})
		wantCode(t, err, tresor.ECPurposeNotAllowed)
		// ... but configures pipelines, which a sales user may not.
		pl := &tresor.Pipeline{Meta: tresor.Meta{ID: "renewals"}, Name: "Renewals", Stages: []tresor.Stage{{ID: "due", Name: "Due", Outcome: tresor.OutcomeOpen}}}
		wantCode(t, g.CreatePipeline(tresor.WithPurpose(sales, "sales"), pl), tresor.ECForbidden)
		must(t, g.CreatePipeline(admin, pl))
		if _, err := g.Pipeline(sales, "renewals"); err != nil {
			t.Fatalf("a signed-in user cannot read pipelines: %v", err)
		}
	})
}

func TestContactLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		me := tresor.ActorFrom(ctx)
		c := erika()
		must(t, g.CreateContact(ctx, c))
		prov := records(t, c.Provenance)
		if !tresor.ValidID(c.ID) || c.Version != 1 || c.OwnerID != me.UserID || c.Source != tresor.SourceManual ||
			len(prov) != 1 || prov[0].Purpose != "sales" || prov[0].CollectedBy != "user:"+me.UserID ||
			c.CreatedAt.IsZero() {
			t.Fatalf("created contact = %+v", c)
		}
		if c.Emails[0] != "erika.mustermann@example.de" || c.Phones[0] != "+49301234567" {
			t.Fatalf("identifiers not normalised: %v %v", c.Emails, c.Phones)
		}
		got, err := g.Contact(ctx, c.ID)
		must(t, err)
		if got.GivenName != "Erika" || got.Organization != "Muster GmbH" || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("read back = %+v", got)
		}

		// Exact lookup by e-mail, in any case.
		l, err := g.Contacts(ctx, tresor.ContactFilter{Email: "ERIKA.mustermann@example.de"})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].ID != c.ID {
			t.Fatalf("lookup by e-mail found %d", len(l.Items))
		}
		_, err = g.Contacts(ctx, tresor.ContactFilter{Email: "not an address"})
		wantCode(t, err, tresor.ECInvalidParameter)

		// A merge patch changes what it names and keeps the rest.
		up, err := g.UpdateContact(ctx, c.ID, tresor.Update{Patch: json.RawMessage(`{"family_name":"Musterfrau","emails":["erika@example.org"]}`), IfVersion: 1})
		must(t, err)
		if up.FamilyName != "Musterfrau" || up.GivenName != "Erika" || up.Version != 2 || up.OwnerID != me.UserID || !up.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("updated = %+v", up)
		}
		l, err = g.Contacts(ctx, tresor.ContactFilter{Email: "erika.mustermann@example.de"})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatal("the old e-mail address still finds the contact")
		}
		_, err = g.UpdateContact(ctx, c.ID, tresor.Update{Patch: json.RawMessage(`{"family_name":"X"}`), IfVersion: 1})
		wantCode(t, err, tresor.ECVersionMismatch)
		_, err = g.UpdateContact(ctx, c.ID, tresor.Update{Patch: json.RawMessage(`{"provenance":[]}`)})
		wantCode(t, err, tresor.ECValidation)
		_, err = g.UpdateContact(ctx, c.ID, tresor.Update{Patch: json.RawMessage(`{"emails":["broken"]}`)})
		wantCode(t, err, tresor.ECValidation)
		got, err = g.Contact(ctx, c.ID)
		must(t, err)
		if got.Version != 2 || got.Emails[0] != "erika@example.org" {
			t.Fatalf("a refused change was written: %+v", got)
		}

		wantCode(t, g.DeleteContact(ctx, c.ID, 1), tresor.ECVersionMismatch)
		must(t, g.DeleteContact(ctx, c.ID, 2))
		// A deletion is an erasure: what is left is a tombstone.
		_, err = g.Contact(ctx, c.ID)
		wantCode(t, err, tresor.ECErased)
		wantCode(t, g.DeleteContact(ctx, c.ID, 0), tresor.ECErased)
		wantCode(t, g.DeleteContact(ctx, "01a2243a-c5ff-7982-a0f7-3d62d15d8b71", 0), tresor.ECNotFound)
	})
}

func TestCreateRefusesServerFields(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		for name, c := range map[string]*tresor.Contact{
			"id":         {Meta: tresor.Meta{ID: "01a223f0-8d8f-7682-899e-39452c1ae6d0"}},
			"version":    {Meta: tresor.Meta{Version: 7}},
			"provenance": {Provenance: tresor.NewProvenance([]tresor.ProvenanceRecord{{Fields: []string{"family_name"}}})},
			"restricted": {RestrictedAt: &time.Time{}},
			"withheld":   {Withheld: []tresor.Category{tresor.CatContactEmail}},
		} {
			c.FamilyName = "Test"
			if err := g.CreateContact(ctx, c); tresor.ErrorCode(err) != tresor.ECValidation {
				t.Errorf("a new contact with %s set: %v, want validation_failed", name, err)
			}
		}
	})
}

func TestInvalidReferenceNamesTheField(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		c := erika()
		c.OrganizationID = "01a223f0-8d8f-7682-899e-39452c1ae6d0"
		err := g.CreateContact(ctx, c)
		e := tresor.AsError(err)
		if e == nil || e.Code != tresor.ECInvalidReference || len(e.Fields) != 1 || e.Fields[0].Field != "organization_id" {
			t.Fatalf("error = %v (%+v), want invalid_reference naming organization_id", err, e)
		}
	})
}

func TestBulkCreateIsAllOrNothing(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		var cs []*tresor.Contact
		for i := 0; i < 300; i++ {
			c := erika()
			c.Emails = []string{fmt.Sprintf("p%d@example.org", i)}
			cs = append(cs, c)
		}
		cs[17].Emails = []string{"broken"}
		cs[250].Phones = []string{"0301234"}
		err := g.CreateContacts(ctx, cs)
		e := tresor.AsError(err)
		if e == nil || e.Code != tresor.ECValidation || len(e.Fields) != 2 || e.Fields[0].Field != "[17].emails[0]" || e.Fields[1].Field != "[250].phones[0]" {
			t.Fatalf("error = %v", err)
		}
		l, err := g.Contacts(ctx, tresor.ContactFilter{})
		must(t, err)
		if len(l.Items) != 0 {
			t.Fatalf("%d contacts of a refused batch were stored", len(l.Items))
		}
		cs[17].Emails, cs[250].Phones = []string{"p17@example.org"}, nil
		for _, c := range cs {
			c.ID = ""
			c.Meta = tresor.Meta{}
			c.Provenance, c.Collection = tresor.Provenance{}, tresor.Collection{LegalBasis: tresor.BasisContract}
			c.OwnerID = ""
		}
		must(t, g.CreateContacts(ctx, cs))
		// Page through all 300 with the cursor.
		var seen []string
		f := tresor.ContactFilter{Page: tresor.Page{Limit: 64}}
		for {
			l, err := g.Contacts(ctx, f)
			must(t, err)
			for _, c := range l.Items {
				seen = append(seen, c.ID)
			}
			if l.Next == "" {
				break
			}
			f.After, err = tresor.DecodeCursor(l.Next)
			must(t, err)
		}
		if len(seen) != 300 || !slices.IsSorted(seen) {
			t.Fatalf("paged through %d contacts (sorted: %v), want 300", len(seen), slices.IsSorted(seen))
		}
	})
}

func TestDealStagesAndPipelines(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		admin := as(t, g, "admin@example.org", "", tresor.RoleAdmin)
		d := &tresor.Deal{Title: "50 licences", Stage: "nope", Value: "12500", Currency: "EUR"}
		err := g.CreateDeal(ctx, d)
		if e := tresor.AsError(err); e == nil || e.Code != tresor.ECValidation || e.Fields[0].Field != "stage" {
			t.Fatalf("unknown stage: %v", err)
		}
		d = &tresor.Deal{Title: "50 licences", Stage: "lead", Value: "12500", Currency: "EUR"}
		must(t, g.CreateDeal(ctx, d))
		if d.PipelineID != tresor.DefaultPipelineID || d.Value != "12500.00" || d.ClosedAt != nil {
			t.Fatalf("deal = %+v", d)
		}
		won, err := g.UpdateDeal(ctx, d.ID, tresor.Update{Patch: json.RawMessage(`{"stage":"won"}`)})
		must(t, err)
		if won.ClosedAt == nil {
			t.Fatal("a won deal has no closed_at")
		}
		reopened, err := g.UpdateDeal(ctx, d.ID, tresor.Update{Patch: json.RawMessage(`{"stage":"proposal"}`)})
		must(t, err)
		if reopened.ClosedAt != nil {
			t.Fatal("a reopened deal keeps closed_at")
		}
		// A stage that holds a deal cannot be removed; the pipeline cannot be deleted.
		_, err = g.UpdatePipeline(admin, tresor.DefaultPipelineID, tresor.Update{Patch: json.RawMessage(
			`{"stages":[{"id":"lead","name":"Lead","outcome":"open","probability":10},{"id":"won","name":"Won","outcome":"won","probability":100}]}`)})
		wantCode(t, err, tresor.ECConflict)
		wantCode(t, g.DeletePipeline(admin, tresor.DefaultPipelineID, 0), tresor.ECConflict)
		must(t, g.DeleteDeal(ctx, d.ID, 0))
		must(t, g.DeletePipeline(admin, tresor.DefaultPipelineID, 0))
	})
}

func TestCasesAndInteractions(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		ctx := as(t, g, "service@example.org", "service", tresor.RoleService)
		c := erika()
		must(t, g.CreateContact(ctx, c))
		k := &tresor.Case{Channel: tresor.ChannelEmail, ContactID: c.ID, CaseContent: tresor.CaseContent{Subject: "Invoice unclear", Description: "Line 3?"},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateCase(ctx, k))
		if k.Status != tresor.CaseNew || k.Priority != tresor.PriorityNormal || k.ResolvedAt != nil {
			t.Fatalf("case defaults = %+v", k)
		}
		done, err := g.UpdateCase(ctx, k.ID, tresor.Update{Patch: json.RawMessage(`{"status":"resolved"}`)})
		must(t, err)
		if done.ResolvedAt == nil || done.Subject != "Invoice unclear" {
			t.Fatalf("resolved case = %+v", done)
		}
		in := &tresor.Interaction{Kind: tresor.KindNote, ContactID: c.ID, CaseID: k.ID, InteractionContent: tresor.InteractionContent{Body: "Called back."},
			Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
		must(t, g.CreateInteraction(ctx, in))
		if in.Direction != tresor.DirectionInternal || in.OccurredAt.IsZero() {
			t.Fatalf("note defaults = %+v", in)
		}
		lonely := &tresor.Interaction{Kind: tresor.KindCall, Direction: tresor.DirectionOutbound}
		wantCode(t, g.CreateInteraction(ctx, lonely), tresor.ECValidation)
		l, err := g.Interactions(ctx, tresor.InteractionFilter{CaseID: k.ID})
		must(t, err)
		if len(l.Items) != 1 || l.Items[0].Body != "Called back." {
			t.Fatalf("interactions of the case = %+v", l.Items)
		}
		// Deleting the contact takes its interactions along; the case stays.
		must(t, g.DeleteContact(ctx, c.ID, 0))
		_, err = g.Interaction(ctx, in.ID)
		wantCode(t, err, tresor.ECNotFound)
		kept, err := g.Case(ctx, k.ID)
		must(t, err)
		if kept.ContactID != "" {
			t.Fatal("the case still refers to the deleted contact")
		}
	})
}

func TestTokens(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		u, password, err := g.CreateUser(system(), "Ada@Example.org", []tresor.Role{tresor.RoleSales})
		must(t, err)
		if len(password) < 16 || u.Email != "ada@example.org" {
			t.Fatalf("user %+v, password %q", u, password)
		}
		_, _, err = g.CreateUser(system(), "ada@example.org", []tresor.Role{tresor.RoleSales})
		wantCode(t, err, tresor.ECConflict)
		tok, secret, err := g.CreateToken(system(), tresor.TokenRequest{UserEmail: "ada@example.org", Name: "ci", TTL: time.Hour})
		must(t, err)
		a, err := g.AuthenticateToken(bg, secret)
		must(t, err)
		if a.UserID != u.ID || a.TokenID != tok.ID || a.Kind != tresor.ActorToken || !a.HasRole(tresor.RoleSales) {
			t.Fatalf("actor = %+v", a)
		}
		for _, bad := range []string{"", "tresor_", secret + "x", "Bearer " + secret, "tresor_' OR '1'='1"} {
			_, err := g.AuthenticateToken(bg, bad)
			wantCode(t, err, tresor.ECUnauthenticated)
		}
		_, _, err = g.CreateToken(system(), tresor.TokenRequest{UserEmail: "nobody@example.org", Name: "ci", TTL: time.Hour})
		wantCode(t, err, tresor.ECNotFound)
		_, _, err = g.CreateToken(system(), tresor.TokenRequest{UserEmail: "ada@example.org", Name: "ci", TTL: 5 * 365 * 24 * time.Hour})
		wantCode(t, err, tresor.ECValidation)
		// Only the system and administrators manage users.
		salesCtx := tresor.WithActor(bg, a)
		_, _, err = g.CreateUser(salesCtx, "eve@example.org", []tresor.Role{tresor.RoleAdmin})
		wantCode(t, err, tresor.ECForbidden)
	})
}

func TestTokenExpires(t *testing.T) {
	now := time.Now()
	g := openGate(t, datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithClock(func() time.Time { return now }))
	_, _, err := g.CreateUser(system(), "ada@example.org", []tresor.Role{tresor.RoleSales})
	must(t, err)
	_, secret, err := g.CreateToken(system(), tresor.TokenRequest{UserEmail: "ada@example.org", Name: "short", TTL: time.Hour})
	must(t, err)
	_, err = g.AuthenticateToken(bg, secret)
	must(t, err)
	now = now.Add(time.Hour)
	_, err = g.AuthenticateToken(bg, secret)
	wantCode(t, err, tresor.ECUnauthenticated)
}

func TestPasswordHash(t *testing.T) {
	h, err := gate.HashPassword("correct horse battery staple")
	must(t, err)
	if !gate.VerifyPassword(h, "correct horse battery staple") || gate.VerifyPassword(h, "correct horse battery stapl") {
		t.Fatal("VerifyPassword disagrees with HashPassword")
	}
	h2, _ := gate.HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if gate.VerifyPassword("$argon2id$v=19$m=1,t=1,p=1$$", "") {
		t.Fatal("a malformed hash verified")
	}
}

func TestSchemaGuards(t *testing.T) {
	dir := t.TempDir()
	// Without migration, a fresh database is refused as behind.
	_, err := datadir.Open(bg, datadir.Config{DataDir: dir})
	wantCode(t, err, tresor.ECSchemaBehind)
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true})
	must(t, g.Ready(bg))
}

// records decodes provenance for a test.
func records(t *testing.T, p tresor.Provenance) []tresor.ProvenanceRecord {
	t.Helper()
	r, err := p.Records()
	if err != nil {
		t.Fatal(err)
	}
	return r
}
