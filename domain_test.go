package tresor_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"tresor"
)

// TestEveryFieldDeclaresItsCategory: every field of every domain object says
// whether it holds personal data and of which category, in its struct tag.
func TestEveryFieldDeclaresItsCategory(t *testing.T) {
	for _, v := range []any{tresor.Contact{}, tresor.Organization{}, tresor.Interaction{}, tresor.Deal{}, tresor.Case{}} {
		if err := tresor.CheckCategories(reflect.TypeOf(v)); err != nil {
			t.Error(err)
		}
	}
	type missing struct {
		Name string `json:"name"`
	}
	if err := tresor.CheckCategories(reflect.TypeOf(missing{})); err == nil {
		t.Error("a field without a category tag was accepted")
	}
	type wrong struct {
		Name string `json:"name" category:"contact.nickname"`
	}
	if err := tresor.CheckCategories(reflect.TypeOf(wrong{})); err == nil {
		t.Error("an unknown category was accepted")
	}
}

func TestPersonalFieldsOfContact(t *testing.T) {
	got := map[string]tresor.Category{}
	for _, f := range tresor.PersonalFields(reflect.TypeOf(tresor.Contact{})) {
		got[f.Name] = f.Category
	}
	want := map[string]tresor.Category{
		"given_name": tresor.CatContactName, "family_name": tresor.CatContactName, "emails": tresor.CatContactEmail,
		"phones": tresor.CatContactPhone, "postal_address": tresor.CatContactPostal, "social_handles": tresor.CatSocialHandle,
		"organization": tresor.CatEmployer, "position": tresor.CatPosition, "preferred_language": tresor.CatContactLanguage,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("personal fields = %v, want %v", got, want)
	}
	// What a case says is the content of an interaction; who wrote it on a
	// social network is a handle.
	for _, f := range tresor.PersonalFields(reflect.TypeOf(tresor.Case{})) {
		if want := map[string]tresor.Category{"sender": tresor.CatSocialHandle}[f.Name]; want != "" && f.Category != want ||
			want == "" && f.Category != tresor.CatInteraction {
			t.Errorf("case field %s has category %s", f.Name, f.Category)
		}
	}
	if tresor.CatContactName.Special() || !tresor.CatHealth.Special() {
		t.Error("Special() is wrong")
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Erika@Example.DE":          "erika@example.de",
		"  max.m+crm@muster.co.uk ": "max.m+crm@muster.co.uk",
	} {
		got, err := tresor.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "erika", "Erika <erika@example.de>", "a@localhost", "a@[127.0.0.1]", "a@b.", "a b@example.org",
		strings.Repeat("a", 250) + "@example.org", "<script>@example.org", "x@example.org'; DROP TABLE contacts;--"} {
		if got, err := tresor.NormalizeEmail(in); err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", in, got)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+49 30 1234567":      "+49301234567",
		"0049 (30) 123-45-67": "+49301234567",
		"+43/1/58858":         "+43158858",
	} {
		got, err := tresor.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "030 1234567", "+49 30 abc", "+12", "+0 30 1234567", "+1234567890123456"} {
		if got, err := tresor.NormalizePhone(in); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", in, got)
		}
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		value, cur string
		minor      int64
		format     string
	}{
		{"12500", "EUR", 1250000, "12500.00"},
		{"12500.5", "EUR", 1250050, "12500.50"},
		{"0.01", "CHF", 1, "0.01"},
		{"1000", "JPY", 1000, "1000"},
		{"1.234", "KWD", 1234, "1.234"},
	} {
		got, err := tresor.ParseMoney(tc.value, tc.cur)
		if err != nil || got != tc.minor {
			t.Errorf("ParseMoney(%q, %s) = %d, %v; want %d", tc.value, tc.cur, got, err, tc.minor)
		}
		if f := tresor.FormatMoney(got, tc.cur); f != tc.format {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", got, tc.cur, f, tc.format)
		}
	}
	for _, tc := range [][2]string{{"1,5", "EUR"}, {"-1", "EUR"}, {"1.005", "EUR"}, {"1.5", "JPY"}, {"1", "XYZ"}, {"1", "eur"},
		{"1", "D A"}, {"", "EUR"}, {".5", "EUR"}, {"5.", "EUR"}, {"99999999999999999999", "EUR"}} {
		if _, err := tresor.ParseMoney(tc[0], tc[1]); err == nil {
			t.Errorf("ParseMoney(%q, %q) accepted", tc[0], tc[1])
		}
	}
}

func TestContactValidateNamesEveryProblem(t *testing.T) {
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{
		GivenName: "Erika\x00", Emails: []string{"ok@example.org", "OK@example.org", "bad"}, Phones: []string{"123"},
		SocialHandles:     []tresor.SocialHandle{{Network: "Mastodon", Handle: "has space"}},
		PostalAddress:     &tresor.PostalAddress{City: "", Country: "Germany"},
		PreferredLanguage: "german!",
	}, Collection: tresor.Collection{Source: "rumour"}}
	err := c.Validate()
	e := tresor.AsError(err)
	if e == nil || e.Code != tresor.ECValidation {
		t.Fatalf("Validate = %v, want validation_failed", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, want := range []string{"given_name", "emails[1]", "emails[2]", "phones[0]", "social_handles[0].network",
		"social_handles[0].handle", "postal_address.city", "postal_address.country", "preferred_language", "source"} {
		if !fields[want] {
			t.Errorf("no problem reported for %s (got %v)", want, e.Fields)
		}
	}
	empty := &tresor.Contact{}
	if tresor.ErrorCode(empty.Validate()) != tresor.ECValidation {
		t.Error("a contact without name, e-mail, phone or handle was accepted")
	}
}

func TestDealValidate(t *testing.T) {
	d := &tresor.Deal{Title: "Licences", PipelineID: "default", Stage: "lead", Value: "100.5", Currency: "EUR", ExpectedClose: "2026-02-30"}
	e := tresor.AsError(d.Validate())
	if e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "expected_close" {
		t.Fatalf("Validate = %v, want one problem in expected_close", e)
	}
	d.ExpectedClose = "2026-02-28"
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.ValueMinor != 10050 || d.Value != "100.50" {
		t.Fatalf("value = %q / %d", d.Value, d.ValueMinor)
	}
	d.Currency = ""
	if e := tresor.AsError(d.Validate()); e == nil || e.Fields[0].Field != "currency" {
		t.Fatalf("a value without currency: %v", e)
	}
}

func TestApplyPatch(t *testing.T) {
	c := &tresor.Contact{Meta: tresor.Meta{ID: "01a223f0-8d8f-7682-899e-39452c1ae6d0", Version: 3},
		ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann", Emails: []string{"e@example.org"},
			PostalAddress: &tresor.PostalAddress{City: "Berlin", Country: "DE"}}}
	patch := `{"family_name":"Musterfrau","postal_address":{"city":"Köln"},"emails":null,"version":3}`
	if err := tresor.ApplyPatch(c, json.RawMessage(patch), tresor.MetaFields...); err != nil {
		t.Fatal(err)
	}
	if c.FamilyName != "Musterfrau" || c.GivenName != "Erika" || c.PostalAddress.City != "Köln" || c.PostalAddress.Country != "DE" || c.Emails != nil {
		t.Fatalf("patched contact = %+v", c.ContactDetails)
	}
	for patch, code := range map[string]tresor.Code{
		`{"version":4}`:          tresor.ECValidation,
		`{"id":"other"}`:         tresor.ECValidation,
		`{"nickname":"E"}`:       tresor.ECUnknownField,
		`[1,2]`:                  tresor.ECMalformedJSON,
		`{"given_name":`:         tresor.ECMalformedJSON,
		`{"given_name":5}`:       tresor.ECValidation,
		`{"given_name":"a"} {}`:  tresor.ECMalformedJSON,
		`{"postal_address":"x"}`: tresor.ECValidation,
	} {
		if got := tresor.ErrorCode(tresor.ApplyPatch(c, json.RawMessage(patch), tresor.MetaFields...)); got != code {
			t.Errorf("ApplyPatch(%s) = %q, want %q", patch, got, code)
		}
	}
}

func TestCursor(t *testing.T) {
	id := "01a223f0-8d8f-7682-899e-39452c1ae6d0"
	got, err := tresor.DecodeCursor(tresor.EncodeCursor(id))
	if err != nil || got != id {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	for _, bad := range []string{"abc", "Yzox", "!!", tresor.EncodeCursor("x' OR 1=1")} {
		if _, err := tresor.DecodeCursor(bad); tresor.ErrorCode(err) != tresor.ECInvalidCursor {
			t.Errorf("DecodeCursor(%q) = %v, want invalid_cursor", bad, err)
		}
	}
}

func TestParseRoles(t *testing.T) {
	rs, err := tresor.ParseRoles("sales, marketing,sales")
	if err != nil || len(rs) != 2 {
		t.Fatalf("ParseRoles = %v, %v", rs, err)
	}
	for _, bad := range []string{"", "root", "sales,superuser"} {
		if _, err := tresor.ParseRoles(bad); err == nil {
			t.Errorf("ParseRoles(%q) accepted", bad)
		}
	}
}
