// Package storetest is the conformance suite every storage backend passes:
// the same tests run against SQLite and PostgreSQL, so the two behave alike.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"tresor"
)

// Opener returns a new, empty, migrated store for one test.
type Opener func(t *testing.T) tresor.Store

// Run runs the conformance suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, tresor.Store)
	}{
		{"MigrateIsIdempotent", testMigrateIsIdempotent},
		{"MigrateRefusesNewerSchema", testMigrateRefusesNewerSchema},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"ContactRoundTrip", testContactRoundTrip},
		{"ContactNotFound", testContactNotFound},
		{"ContactLookup", testContactLookup},
		{"ContactUpdateChecksVersion", testContactUpdateChecksVersion},
		{"ContactDeleteCascades", testContactDeleteCascades},
		{"ContactInvalidReference", testContactInvalidReference},
		{"BulkInsertIsAtomic", testBulkInsertIsAtomic},
		{"KeysetPagination", testKeysetPagination},
		{"ContactFilters", testContactFilters},
		{"Organizations", testOrganizations},
		{"PipelinesAndDeals", testPipelinesAndDeals},
		{"SortedDealPagination", testSortedDealPagination},
		{"Cases", testCases},
		{"Interactions", testInteractions},
		{"RollbackLeavesNothing", testRollbackLeavesNothing},
		{"TxSeesOwnWrites", testTxSeesOwnWrites},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	tests = append(tests, identityTests...)
	tests = append(tests, purposeTests...)
	tests = append(tests, importTests...)
	tests = append(tests, claimTests...)
	tests = append(tests, flagTests...)
	tests = append(tests, mergeTests...)
	tests = append(tests, taskTests...)
	tests = append(tests, mailTests...)
	tests = append(tests, tagTests...)
	tests = append(tests, breachTests...)
	tests = append(tests, listeningTests...)
	tests = append(tests, requestTests...)
	tests = append(tests, requestIntakeTests...)
	tests = append(tests, subjectExportTests...)
	tests = append(tests, objectionTests...)
	tests = append(tests, provenanceTests...)
	tests = append(tests, postTests...)
	tests = append(tests, outboxTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// epoch is a fixed time with microseconds, to check precision round trips.
var epoch = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code tresor.Code) {
	t.Helper()
	if got := tresor.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func update(t *testing.T, s tresor.Store, fn func(tx tresor.Tx) error) {
	t.Helper()
	must(t, s.Update(ctx, fn))
}

// MustUser inserts a user and returns it.
func MustUser(t *testing.T, s tresor.Store, email string) *tresor.User {
	t.Helper()
	u := &tresor.User{ID: newID(), Email: email, Roles: []tresor.Role{tresor.RoleSales},
		PasswordHash: "$argon2id$test", CreatedAt: epoch, UpdatedAt: epoch}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertUser(ctx, u) })
	return u
}

func meta(t time.Time) tresor.Meta {
	return tresor.Meta{ID: newID(), CreatedAt: t, UpdatedAt: t, Version: 1}
}

// contactRow returns a row with an e-mail lookup key and an opaque sealed blob.
func contactRow(owner, email string) *tresor.ContactRow {
	r := &tresor.ContactRow{Sealed: []byte("\x00opaque\xff" + email)}
	r.Meta = meta(epoch)
	r.OwnerID = owner
	r.Provenance = tresor.NewProvenance([]tresor.ProvenanceRecord{{Fields: []string{"emails"}, Purpose: "sales", CollectedAt: epoch,
		CollectedBy: "user:x", Collection: tresor.Collection{LegalBasis: tresor.BasisContract, Source: tresor.SourceManual}}})
	r.Lookup = []tresor.LookupKey{{Kind: tresor.LookupEmail, Value: email}, {Kind: tresor.LookupPhone, Value: "+4930123456"}}
	return r
}

func insertContacts(t *testing.T, s tresor.Store, rows ...*tresor.ContactRow) {
	t.Helper()
	update(t, s, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, rows) })
}

func ids[T interface{ Base() *tresor.Meta }](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Base().ID
	}
	return out
}

func testMigrateIsIdempotent(t *testing.T, s tresor.Store) {
	cur, known, err := s.SchemaVersion(ctx)
	must(t, err)
	if cur != known || known < 1 {
		t.Fatalf("schema %d of %d after migration", cur, known)
	}
	from, to, err := s.Migrate(ctx)
	must(t, err)
	if from != known || to != known {
		t.Fatalf("second Migrate = %d→%d, want %d→%d", from, to, known, known)
	}
}

func testMigrateRefusesNewerSchema(t *testing.T, s tresor.Store) {
	_, known, err := s.SchemaVersion(ctx)
	must(t, err)
	// Simulate a newer Tresor having migrated the database.
	raw, ok := s.(interface {
		Exec(ctx context.Context, query string, args ...any) error
	})
	if !ok {
		t.Fatalf("%T has no Exec method for maintenance statements", s)
	}
	must(t, raw.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)", known+1))
	cur, _, err := s.SchemaVersion(ctx)
	must(t, err)
	if cur != known+1 {
		t.Fatalf("schema version = %d, want %d", cur, known+1)
	}
	_, _, err = s.Migrate(ctx)
	wantCode(t, err, tresor.ECSchemaTooNew)
}

func testUsers(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	got, err := s.Read().User(ctx, u.ID)
	must(t, err)
	if got.Email != u.Email || !slices.Equal(got.Roles, u.Roles) || !got.CreatedAt.Equal(epoch) || got.DisabledAt != nil {
		t.Fatalf("user = %+v, want %+v", got, u)
	}
	byMail, err := s.Read().UserByEmail(ctx, "ada@example.org")
	must(t, err)
	if byMail.ID != u.ID {
		t.Fatalf("UserByEmail = %s, want %s", byMail.ID, u.ID)
	}
	_, err = s.Read().UserByEmail(ctx, "nobody@example.org")
	wantCode(t, err, tresor.ECNotFound)
	dup := &tresor.User{ID: newID(), Email: "ada@example.org", Roles: []tresor.Role{tresor.RoleAdmin}, PasswordHash: "x", CreatedAt: epoch, UpdatedAt: epoch}
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertUser(ctx, dup) }), tresor.ECConflict)
	n, err := s.Read().CountUsers(ctx)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountUsers = %d, want 1", n)
	}
}

func testTokens(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	exp := epoch.Add(time.Hour)
	tok := &tresor.Token{ID: newID(), UserID: u.ID, Name: "cli", Hash: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: epoch, ExpiresAt: &exp}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertToken(ctx, tok) })
	got, err := s.Read().TokenByHash(ctx, tok.Hash)
	must(t, err)
	if got.ID != tok.ID || got.UserID != u.ID || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil {
		t.Fatalf("token = %+v", got)
	}
	_, err = s.Read().TokenByHash(ctx, []byte("nope"))
	wantCode(t, err, tresor.ECNotFound)
	bad := &tresor.Token{ID: newID(), UserID: newID(), Name: "x", Hash: []byte("h2"), CreatedAt: epoch}
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertToken(ctx, bad) }), tresor.ECInvalidReference)
}

func testContactRoundTrip(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "owner@example.org")
	r := contactRow(u.ID, "max@example.org")
	insertContacts(t, s, r)
	got, err := s.Read().Contact(ctx, r.ID)
	must(t, err)
	if string(got.Sealed) != string(r.Sealed) {
		t.Fatalf("sealed bytes changed: %q, want %q", got.Sealed, r.Sealed)
	}
	prov, err := got.Provenance.Records()
	must(t, err)
	if got.OwnerID != u.ID || got.OrganizationID != "" || got.Version != 1 || got.RestrictedAt != nil || got.ObjectedAt != nil ||
		len(prov) != 1 || prov[0].LegalBasis != tresor.BasisContract || prov[0].Purpose != "sales" ||
		!prov[0].CollectedAt.Equal(epoch) || prov[0].Fields[0] != "emails" {
		t.Fatalf("contact = %+v", got.Contact)
	}
	if !got.CreatedAt.Equal(epoch) || !got.UpdatedAt.Equal(epoch) {
		t.Fatalf("times = %v / %v, want %v (microsecond precision)", got.CreatedAt, got.UpdatedAt, epoch)
	}
}

func testContactNotFound(t *testing.T, s tresor.Store) {
	for _, id := range []string{newID(), "not-a-uuid", ""} {
		_, err := s.Read().Contact(ctx, id)
		wantCode(t, err, tresor.ECNotFound)
	}
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, newID()) }), tresor.ECNotFound)
	r := contactRow("", "a@example.org")
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateContact(ctx, r, 1) }), tresor.ECNotFound)
}

func lookup(t *testing.T, s tresor.Reader, kind tresor.LookupKind, value string) []string {
	t.Helper()
	rows, err := s.Contacts(ctx, tresor.ContactQuery{Lookup: &tresor.LookupKey{Kind: kind, Value: value}, ContactFilter: tresor.ContactFilter{Page: tresor.Page{Limit: 10}}})
	must(t, err)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func testContactLookup(t *testing.T, s tresor.Store) {
	a, b, c := contactRow("", "same@example.org"), contactRow("", "same@example.org"), contactRow("", "other@example.org")
	insertContacts(t, s, a, b, c)
	if got := lookup(t, s.Read(), tresor.LookupEmail, "same@example.org"); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Fatalf("lookup same@ = %v, want %v", got, []string{a.ID, b.ID})
	}
	if got := lookup(t, s.Read(), tresor.LookupEmail, "nobody@example.org"); len(got) != 0 {
		t.Fatalf("lookup nobody@ = %v", got)
	}
	if got := lookup(t, s.Read(), tresor.LookupPhone, "+4930123456"); len(got) != 3 {
		t.Fatalf("lookup phone = %v, want all three", got)
	}
	// A kind is part of the key: an e-mail never matches as a phone.
	if got := lookup(t, s.Read(), tresor.LookupPhone, "same@example.org"); len(got) != 0 {
		t.Fatalf("lookup of an e-mail as phone = %v", got)
	}
}

func testContactUpdateChecksVersion(t *testing.T, s tresor.Store) {
	r := contactRow("", "old@example.org")
	insertContacts(t, s, r)
	next := *r
	next.Version, next.UpdatedAt, next.Sealed = 2, epoch.Add(time.Second), []byte("new")
	next.Lookup = []tresor.LookupKey{{Kind: tresor.LookupEmail, Value: "new@example.org"}}
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateContact(ctx, &next, 1) })
	got, err := s.Read().Contact(ctx, r.ID)
	must(t, err)
	if got.Version != 2 || string(got.Sealed) != "new" || !got.UpdatedAt.Equal(next.UpdatedAt) || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("after update: %+v", got)
	}
	if l := lookup(t, s.Read(), tresor.LookupEmail, "old@example.org"); len(l) != 0 {
		t.Fatalf("old lookup key survived the update: %v", l)
	}
	if l := lookup(t, s.Read(), tresor.LookupEmail, "new@example.org"); !slices.Equal(l, []string{r.ID}) {
		t.Fatalf("new lookup key = %v", l)
	}
	stale := next
	stale.Version = 3
	stale.Sealed = []byte("lost update")
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateContact(ctx, &stale, 1) }), tresor.ECVersionMismatch)
	got, err = s.Read().Contact(ctx, r.ID)
	must(t, err)
	if string(got.Sealed) != "new" {
		t.Fatalf("a stale update was written: %q", got.Sealed)
	}
}

func testContactDeleteCascades(t *testing.T, s tresor.Store) {
	r := contactRow("", "gone@example.org")
	insertContacts(t, s, r)
	in := interactionRow()
	in.ContactID = r.ID
	deal := dealOf(tresor.DefaultPipelineID, "lead")
	deal.ContactID = r.ID
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertInteraction(ctx, in); err != nil {
			return err
		}
		return tx.InsertDeal(ctx, deal)
	})
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteContact(ctx, r.ID) })
	_, err := s.Read().Contact(ctx, r.ID)
	wantCode(t, err, tresor.ECNotFound)
	if l := lookup(t, s.Read(), tresor.LookupEmail, "gone@example.org"); len(l) != 0 {
		t.Fatalf("lookup keys survived the contact: %v", l)
	}
	_, err = s.Read().Interaction(ctx, in.ID)
	wantCode(t, err, tresor.ECNotFound)
	d, err := s.Read().Deal(ctx, deal.ID)
	must(t, err)
	if d.ContactID != "" {
		t.Fatalf("deal still refers to the deleted contact: %q", d.ContactID)
	}
}

func testContactInvalidReference(t *testing.T, s tresor.Store) {
	r := contactRow(newID(), "a@example.org")
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, []*tresor.ContactRow{r}) }), tresor.ECInvalidReference)
	r = contactRow("", "a@example.org")
	r.OrganizationID = newID()
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, []*tresor.ContactRow{r}) }), tresor.ECInvalidReference)
}

func countContacts(t *testing.T, s tresor.Reader) int {
	t.Helper()
	n := 0
	after := ""
	for {
		rows, err := s.Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: tresor.Page{After: after, Limit: tresor.MaxPageSize}}})
		must(t, err)
		n += len(rows)
		if len(rows) < tresor.MaxPageSize {
			return n
		}
		after = rows[len(rows)-1].ID
	}
}

func testBulkInsertIsAtomic(t *testing.T, s tresor.Store) {
	rows := make([]*tresor.ContactRow, 500)
	for i := range rows {
		rows[i] = contactRow("", fmt.Sprintf("p%d@example.org", i))
	}
	rows[499].OwnerID = newID() // the last one refers to a user that does not exist
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertContacts(ctx, rows) }), tresor.ECInvalidReference)
	if n := countContacts(t, s.Read()); n != 0 {
		t.Fatalf("%d contacts of a failed bulk insert were kept", n)
	}
	rows[499].OwnerID = ""
	insertContacts(t, s, rows...)
	if n := countContacts(t, s.Read()); n != 500 {
		t.Fatalf("bulk insert stored %d contacts, want 500", n)
	}
	// The bulk path writes lookup keys too.
	if l := lookup(t, s.Read(), tresor.LookupEmail, "p123@example.org"); !slices.Equal(l, []string{rows[123].ID}) {
		t.Fatalf("lookup after bulk insert = %v", l)
	}
}

func testKeysetPagination(t *testing.T, s tresor.Store) {
	var want []string
	for i := 0; i < 25; i++ {
		r := contactRow("", fmt.Sprintf("k%d@example.org", i))
		insertContacts(t, s, r) // one by one, so ids increase
		want = append(want, r.ID)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: tresor.Page{After: after, Limit: 10}}})
		must(t, err)
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if len(rows) < 10 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages list %d contacts in the order %v, want %v", len(got), got, want)
	}
}

func testContactFilters(t *testing.T, s tresor.Store) {
	u1, u2 := MustUser(t, s, "one@example.org"), MustUser(t, s, "two@example.org")
	org := organizationOf("ACME GmbH")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOrganization(ctx, org) })
	a, b, c := contactRow(u1.ID, "a@example.org"), contactRow(u2.ID, "b@example.org"), contactRow(u1.ID, "c@example.org")
	c.OrganizationID = org.ID
	c.UpdatedAt = epoch.Add(48 * time.Hour)
	insertContacts(t, s, a, b, c)
	for _, tc := range []struct {
		name string
		f    tresor.ContactFilter
		want []string
	}{
		{"owner", tresor.ContactFilter{OwnerID: u1.ID}, []string{a.ID, c.ID}},
		{"organization", tresor.ContactFilter{OrganizationID: org.ID}, []string{c.ID}},
		{"updated_since", tresor.ContactFilter{UpdatedSince: epoch.Add(time.Hour)}, []string{c.ID}},
		{"owner and since", tresor.ContactFilter{OwnerID: u2.ID, UpdatedSince: epoch.Add(time.Hour)}, nil},
	} {
		tc.f.Limit = 10
		rows, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tc.f})
		must(t, err)
		var got []string
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func organizationOf(name string) *tresor.Organization {
	return &tresor.Organization{Meta: meta(epoch), Name: name, Website: "https://example.org",
		Address: &tresor.PostalAddress{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}}
}

func testOrganizations(t *testing.T, s tresor.Store) {
	o := organizationOf("Muster AG")
	update(t, s, func(tx tresor.Tx) error { return tx.InsertOrganization(ctx, o) })
	got, err := s.Read().Organization(ctx, o.ID)
	must(t, err)
	if got.Name != o.Name || got.Address == nil || *got.Address != *o.Address || got.Website != o.Website {
		t.Fatalf("organization = %+v", got)
	}
	o2 := *o
	o2.Name, o2.Address, o2.Version = "Muster SE", nil, 2
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateOrganization(ctx, &o2, 1) })
	got, err = s.Read().Organization(ctx, o.ID)
	must(t, err)
	if got.Name != "Muster SE" || got.Address != nil || got.Version != 2 {
		t.Fatalf("updated organization = %+v", got)
	}
	c := contactRow("", "x@example.org")
	c.OrganizationID = o.ID
	insertContacts(t, s, c)
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteOrganization(ctx, o.ID) })
	gc, err := s.Read().Contact(ctx, c.ID)
	must(t, err)
	if gc.OrganizationID != "" {
		t.Fatalf("contact still refers to the deleted organization")
	}
	list, err := s.Read().Organizations(ctx, tresor.OrganizationFilter{Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("organizations after delete: %d", len(list))
	}
}

func dealOf(pipeline, stage string) *tresor.Deal {
	return &tresor.Deal{Meta: meta(epoch), Title: "50 licences", PipelineID: pipeline, Stage: stage,
		Value: "12500.50", Currency: "EUR", ValueMinor: 1250050, ExpectedClose: "2026-06-30"}
}

func testPipelinesAndDeals(t *testing.T, s tresor.Store) {
	def, err := s.Read().Pipeline(ctx, tresor.DefaultPipelineID)
	must(t, err)
	if len(def.Stages) < 2 {
		t.Fatalf("default pipeline has %d stages", len(def.Stages))
	}
	pl := &tresor.Pipeline{Meta: tresor.Meta{ID: "partners", CreatedAt: epoch, UpdatedAt: epoch, Version: 1}, Name: "Partners",
		Stages: []tresor.Stage{{ID: "talk", Name: "Talk", Outcome: tresor.OutcomeOpen}, {ID: "signed", Name: "Signed", Outcome: tresor.OutcomeWon, Probability: 100}}}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertPipeline(ctx, pl) })
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertPipeline(ctx, pl) }), tresor.ECConflict)

	d := dealOf("partners", "talk")
	closed := epoch.Add(time.Hour)
	d2 := dealOf("partners", "signed")
	d2.ClosedAt = &closed
	d2.OutcomeReason = "competitor"
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertDeal(ctx, d); err != nil {
			return err
		}
		return tx.InsertDeal(ctx, d2)
	})
	got, err := s.Read().Deal(ctx, d.ID)
	must(t, err)
	if got.Value != "12500.50" || got.ValueMinor != 1250050 || got.Currency != "EUR" || got.ExpectedClose != "2026-06-30" || got.ClosedAt != nil {
		t.Fatalf("deal = %+v", got)
	}
	got2, err := s.Read().Deal(ctx, d2.ID)
	must(t, err)
	if got2.ClosedAt == nil || !got2.ClosedAt.Equal(closed) || got2.OutcomeReason != "competitor" {
		t.Fatalf("closed_at = %v, want %v; outcome_reason %q", got2.ClosedAt, closed, got2.OutcomeReason)
	}
	var n int
	update(t, s, func(tx tresor.Tx) (err error) { n, err = tx.CountDeals(ctx, "partners", "talk"); return })
	if n != 1 {
		t.Fatalf("CountDeals(partners, talk) = %d", n)
	}
	list, err := s.Read().Deals(ctx, tresor.DealFilter{Stage: "signed", Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(list) != 1 || list[0].ID != d2.ID {
		t.Fatalf("deals in stage signed = %v", ids(list))
	}
	// A pipeline that deals refer to cannot go.
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.DeletePipeline(ctx, "partners") }), tresor.ECInvalidReference)
	bad := dealOf("nope", "talk")
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.InsertDeal(ctx, bad) }), tresor.ECInvalidReference)
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.DeleteDeal(ctx, d.ID); err != nil {
			return err
		}
		return tx.DeleteDeal(ctx, d2.ID)
	})
	update(t, s, func(tx tresor.Tx) error { return tx.DeletePipeline(ctx, "partners") })
	_, err = s.Read().Pipeline(ctx, "partners")
	wantCode(t, err, tresor.ECNotFound)
}

// testSortedDealPagination lists deals in every order, ascending and
// descending, two at a time: the pages continue after the last deal's key
// and id, so equal keys (two deals of the same value, title, stage or date)
// are neither lost nor repeated, and the order is the one SortKey defines.
func testSortedDealPagination(t *testing.T, s tresor.Store) {
	def, err := s.Read().Pipeline(ctx, tresor.DefaultPipelineID)
	must(t, err)
	rank := map[string]int{}
	for i, st := range def.Stages {
		rank[tresor.DefaultPipelineID+"/"+st.ID] = i
	}
	last := def.Stages[len(def.Stages)-1].ID
	var all []*tresor.Deal
	for i, x := range []struct {
		title, stage, value string
		close               tresor.Date
	}{
		{"Delta", "lead", "500.00", "2026-09-01"},
		{"Bravo", last, "12500.50", ""},
		{"Alpha", "lead", "99.00", "2026-07-15"},
		{"Bravo", def.Stages[1].ID, "500.00", "2026-07-15"},
		{"Echo", last, "0.50", ""},
		{"Charlie", "lead", "1000000.00", "2027-01-31"},
		{"Alpha", def.Stages[2].ID, "99.00", "2026-06-30"},
	} {
		d := dealOf(tresor.DefaultPipelineID, x.stage)
		d.Title, d.ExpectedClose = x.title, x.close
		d.ValueMinor, err = tresor.ParseMoney(x.value, "EUR")
		must(t, err)
		d.Value = x.value
		d.UpdatedAt = epoch.Add(time.Duration((i*5)%7) * time.Minute) // two share none; order differs from the ids'
		update(t, s, func(tx tresor.Tx) error { return tx.InsertDeal(ctx, d) })
		all = append(all, d)
	}
	keyOf := func(sort string, d *tresor.Deal) string { return d.SortKey(sort) }
	cmpKey := func(sort string, a, b *tresor.Deal) int {
		switch sort {
		case "value":
			return cmp.Compare(a.ValueMinor, b.ValueMinor)
		case "updated":
			return cmp.Compare(a.UpdatedAt.UnixMicro(), b.UpdatedAt.UnixMicro())
		case "stage":
			return cmp.Compare(int64(rank[keyOf(sort, a)]), int64(rank[keyOf(sort, b)]))
		}
		return cmp.Compare(keyOf(sort, a), keyOf(sort, b))
	}
	for _, base := range tresor.DealSorts() {
		for _, sort := range []string{base, "-" + base} {
			t.Run(sort, func(t *testing.T) {
				want := slices.Clone(all)
				slices.SortFunc(want, func(a, b *tresor.Deal) int {
					c := cmpKey(base, a, b)
					if c == 0 {
						c = cmp.Compare(a.ID, b.ID)
					}
					if sort[0] == '-' {
						c = -c
					}
					return c
				})
				var got []string
				f := tresor.DealFilter{PipelineID: tresor.DefaultPipelineID, Sort: sort, Page: tresor.Page{Limit: 2}}
				for pages := 0; ; pages++ {
					if pages > 10 {
						t.Fatal("pagination does not end")
					}
					rows, err := s.Read().Deals(ctx, f)
					must(t, err)
					for _, r := range rows {
						got = append(got, r.ID)
					}
					if len(rows) < 2 {
						break
					}
					lastRow := rows[len(rows)-1]
					f.After, f.AfterKey = lastRow.ID, lastRow.SortKey(sort)
				}
				if !slices.Equal(got, ids(want)) {
					t.Fatalf("sorted by %s the pages list %v, want %v", sort, titles(all, got), titles(all, ids(want)))
				}
			})
		}
	}
	_, err = s.Read().Deals(ctx, tresor.DealFilter{Sort: "owner", Page: tresor.Page{Limit: 2}})
	wantCode(t, err, tresor.ECInvalidParameter)
}

// titles names the deals of the ids by title and value, to read a failure.
func titles(all []*tresor.Deal, idList []string) []string {
	var out []string
	for _, id := range idList {
		for _, d := range all {
			if d.ID == id {
				out = append(out, fmt.Sprintf("%s/%s/%d/%s", d.Title, d.Stage, d.ValueMinor, d.ExpectedClose))
			}
		}
	}
	return out
}

func caseRow() *tresor.CaseRow {
	r := &tresor.CaseRow{Sealed: []byte("case content")}
	r.Meta = meta(epoch)
	r.Status, r.Priority, r.Channel = tresor.CaseOpen, tresor.PriorityHigh, tresor.ChannelEmail
	return r
}

func testCases(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "agent@example.org")
	a, b := caseRow(), caseRow()
	a.AssigneeID = u.ID
	b.Status = tresor.CaseResolved
	resolved := epoch.Add(time.Minute)
	b.ResolvedAt = &resolved
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertCase(ctx, a); err != nil {
			return err
		}
		return tx.InsertCase(ctx, b)
	})
	got, err := s.Read().Case(ctx, b.ID)
	must(t, err)
	if got.Status != tresor.CaseResolved || got.ResolvedAt == nil || !got.ResolvedAt.Equal(resolved) || string(got.Sealed) != "case content" {
		t.Fatalf("case = %+v", got)
	}
	for _, tc := range []struct {
		f    tresor.CaseFilter
		want []string
	}{
		{tresor.CaseFilter{Status: tresor.CaseOpen}, []string{a.ID}},
		{tresor.CaseFilter{AssigneeID: u.ID}, []string{a.ID}},
		{tresor.CaseFilter{Priority: tresor.PriorityHigh}, []string{a.ID, b.ID}},
	} {
		tc.f.Limit = 10
		rows, err := s.Read().Cases(ctx, tc.f)
		must(t, err)
		if got := ids(rows); !slices.Equal(got, tc.want) {
			t.Errorf("cases %+v = %v, want %v", tc.f, got, tc.want)
		}
	}
	a2 := *a
	a2.Status, a2.Version, a2.Sealed = tresor.CasePending, 2, []byte("changed")
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateCase(ctx, &a2, 1) })
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateCase(ctx, &a2, 1) }), tresor.ECVersionMismatch)
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteCase(ctx, a.ID) })
	_, err = s.Read().Case(ctx, a.ID)
	wantCode(t, err, tresor.ECNotFound)
}

func interactionRow() *tresor.InteractionRow {
	r := &tresor.InteractionRow{Sealed: []byte("said")}
	r.Meta = meta(epoch)
	r.Kind, r.Direction, r.OccurredAt, r.DurationSec = tresor.KindCall, tresor.DirectionInbound, epoch.Add(-time.Hour), 300
	return r
}

func testInteractions(t *testing.T, s tresor.Store) {
	c := contactRow("", "caller@example.org")
	insertContacts(t, s, c)
	k := caseRow()
	update(t, s, func(tx tresor.Tx) error { return tx.InsertCase(ctx, k) })
	a, b := interactionRow(), interactionRow()
	a.ContactID = c.ID
	b.CaseID, b.Kind, b.Network = k.ID, tresor.KindSocialMessage, "mastodon"
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertInteraction(ctx, a); err != nil {
			return err
		}
		return tx.InsertInteraction(ctx, b)
	})
	got, err := s.Read().Interaction(ctx, b.ID)
	must(t, err)
	if got.Kind != tresor.KindSocialMessage || got.Network != "mastodon" || got.CaseID != k.ID || !got.OccurredAt.Equal(b.OccurredAt) || got.DurationSec != 300 {
		t.Fatalf("interaction = %+v", got.Interaction)
	}
	rows, err := s.Read().Interactions(ctx, tresor.InteractionFilter{ContactID: c.ID, Page: tresor.Page{Limit: 10}})
	must(t, err)
	if got := ids(rows); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("interactions of the contact = %v", got)
	}
	rows, err = s.Read().Interactions(ctx, tresor.InteractionFilter{Kind: tresor.KindSocialMessage, Page: tresor.Page{Limit: 10}})
	must(t, err)
	if got := ids(rows); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("social messages = %v", got)
	}
	// Deleting the case keeps the interaction, without the link.
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteCase(ctx, k.ID) })
	got, err = s.Read().Interaction(ctx, b.ID)
	must(t, err)
	if got.CaseID != "" {
		t.Fatalf("interaction still refers to the deleted case")
	}
}

var errRollback = errors.New("roll back")

func testRollbackLeavesNothing(t *testing.T, s tresor.Store) {
	r := contactRow("", "rolled@example.org")
	err := s.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertContacts(ctx, []*tresor.ContactRow{r}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	_, err = s.Read().Contact(ctx, r.ID)
	wantCode(t, err, tresor.ECNotFound)
}

func testTxSeesOwnWrites(t *testing.T, s tresor.Store) {
	r := contactRow("", "mine@example.org")
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertContacts(ctx, []*tresor.ContactRow{r}); err != nil {
			return err
		}
		if _, err := tx.Contact(ctx, r.ID); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if l := lookup(t, tx, tresor.LookupEmail, "mine@example.org"); len(l) != 1 {
			return fmt.Errorf("lookup of own write = %v", l)
		}
		return nil
	})
}

// testConcurrentWriters runs many writers at once: each transaction must
// succeed — no "database is locked", no lost rows.
func testConcurrentWriters(t *testing.T, s tresor.Store) {
	const writers, txs, perTx = 8, 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*txs)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < txs; i++ {
				rows := make([]*tresor.ContactRow, perTx)
				for j := range rows {
					rows[j] = contactRow("", fmt.Sprintf("w%d-%d-%d@example.org", w, i, j))
				}
				err := s.Update(ctx, func(tx tresor.Tx) error {
					// read, then write: the pattern that fails under lock upgrades
					if _, err := tx.CountUsers(ctx); err != nil {
						return err
					}
					return tx.InsertContacts(ctx, rows)
				})
				if err != nil {
					errs <- err
				}
			}
		}(w)
	}
	// Readers at the same time.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			if _, err := s.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: tresor.Page{Limit: 20}}}); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write failed: %v", err)
	}
	if n := countContacts(t, s.Read()); n != writers*txs*perTx {
		t.Fatalf("stored %d contacts, want %d", n, writers*txs*perTx)
	}
}
