package importer

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// item is what a Reader yields once: a record or a row error.
type item struct {
	rec *Record
	err *RowError
}

func (it item) String() string {
	if it.err != nil {
		return fmt.Sprintf("error %d: %s", it.err.Row, it.err.Msg)
	}
	s := fmt.Sprintf("%+v", *it.rec)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// readAll reads r to its end, failing the test on any error but RowErrors.
func readAll(t testing.TB, r Reader) []item {
	t.Helper()
	var items []item
	for range 10000 {
		rec, err := r.Next()
		if err == io.EOF {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after io.EOF: %v", err)
			}
			return items
		}
		var re *RowError
		switch {
		case errors.As(err, &re):
			items = append(items, item{err: re})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			items = append(items, item{rec: rec})
		}
	}
	t.Fatal("Next does not end")
	return nil
}

func rowErr(row int, msg string) item { return item{err: &RowError{Row: row, Msg: msg}} }
func rec(r Record) item               { return item{rec: &r} }

func win1252(s string) string {
	b, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

const linkedInPreamble = "Notes:\r\n" +
	"\"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed their connections to see or download their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more here https://www.linkedin.com/help/linkedin/answer/261\"\r\n" +
	"\r\n"

type test struct {
	name   string
	format Format
	opt    Options
	in     string
	want   []item
}

func runTests(t *testing.T, tests []test) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.format, strings.NewReader(tt.in), tt.opt)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got := readAll(t, r)
			if len(got) != len(tt.want) {
				t.Errorf("got %d items, want %d", len(got), len(tt.want))
			}
			for i := range max(len(got), len(tt.want)) {
				var g, w item
				if i < len(got) {
					g = got[i]
				}
				if i < len(tt.want) {
					w = tt.want[i]
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("item %d:\n got %v\nwant %v", i, g, w)
				}
			}
		})
	}
}

func TestLinkedIn(t *testing.T) {
	header := "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
	runTests(t, []test{{
		name:   "export with preamble",
		format: LinkedIn,
		in: "\uFEFF" + linkedInPreamble + header +
			"Jane,Doe,https://www.linkedin.com/in/jane-doe-12345,,\"Acme, Inc.\",CTO,12 Mar 2024\r\n" +
			"Jürgen,Müller,https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller,j.mueller@example.de,Müller GmbH,Geschäftsführer,01 Feb 2019\r\n",
		want: []item{
			rec(Record{Row: 5, GivenName: "Jane", FamilyName: "Doe", ProfileURL: "https://www.linkedin.com/in/jane-doe-12345",
				Handles: []Handle{{"linkedin", "jane-doe-12345"}}, Organization: "Acme, Inc.", Position: "CTO", ConnectedOn: "2024-03-12"}),
			rec(Record{Row: 6, GivenName: "Jürgen", FamilyName: "Müller", ProfileURL: "https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller",
				Handles: []Handle{{"linkedin", "jürgen-müller"}}, Emails: []string{"j.mueller@example.de"},
				Organization: "Müller GmbH", Position: "Geschäftsführer", ConnectedOn: "2019-02-01"}),
		},
	}, {
		name:   "older export without preamble or URL, other column order",
		format: LinkedIn,
		in: "First Name,Last Name,Email Address,Company,Position,Connected On\n" +
			"Ann,Lee,ann@example.com,,,\"3 Jan 2020\"\n" +
			"Bob,Ray,,,,someday\n",
		want: []item{
			rec(Record{Row: 2, GivenName: "Ann", FamilyName: "Lee", Emails: []string{"ann@example.com"}, ConnectedOn: "2020-01-03"}),
			rec(Record{Row: 3, GivenName: "Bob", FamilyName: "Ray", ConnectedOn: "someday"}),
		},
	}, {
		name:   "malformed rows",
		format: LinkedIn,
		in: linkedInPreamble + header +
			"Jane,Doe,,not-an-address,,,\r\n" + // 5
			"Too,Many,,,,,,x\r\n" + // 6
			"Too,Few\r\n" + // 7
			"Trailing,Delims,,,,,,,\r\n" + // 8: empty extra fields are fine
			"\"Unclosed,Quote,,,,,\r\n" + // 9: the quote swallows the next lines …
			"Next,Row,,,,,\r\n" + // 10: … but reading resumes here
			",,,,,,\r\n" + // 11: empty, skipped
			"\r\n" + // 12: blank
			"\"Bad\"quote,x,,,,,\r\n" + // 13
			"Last,One,,,,,12 Mar 2024", // 14: no line end
		want: []item{
			rowErr(5, "the e-mail column is not an address"),
			rowErr(6, "the row has 8 fields, the header 7"),
			rowErr(7, "the row has 2 fields, the header 7"),
			rec(Record{Row: 8, GivenName: "Trailing", FamilyName: "Delims"}),
			rowErr(9, "a quoted field is not closed"),
			rec(Record{Row: 10, GivenName: "Next", FamilyName: "Row"}),
			rowErr(13, "a quoted field has text after its closing quote"),
			rec(Record{Row: 14, GivenName: "Last", FamilyName: "One", ConnectedOn: "2024-03-12"}),
		},
	}, {
		name:   "re-saved by a German spreadsheet: semicolons, Windows-1252",
		format: LinkedIn,
		in: win1252("Notes:\r\nIrgendwas\r\n\r\n" +
			"First Name;Last Name;URL;Email Address;Company;Position;Connected On\r\n" +
			"Jörg;Weiß;;;Bäckerei Süß;Meister;05 May 2021\r\n"),
		want: []item{
			rec(Record{Row: 5, GivenName: "Jörg", FamilyName: "Weiß", Organization: "Bäckerei Süß", Position: "Meister", ConnectedOn: "2021-05-05"}),
		},
	}, {
		name:   "quoted line breaks keep the row numbers right",
		format: LinkedIn,
		in: header +
			"\"Multi\nLine\",Name,,,\"Firm\r\nGmbH\",,\n" + // 2-4
			"A,B,,,,,\n", // 5
		want: []item{
			rec(Record{Row: 2, GivenName: "Multi\nLine", FamilyName: "Name", Organization: "Firm\nGmbH"}),
			rec(Record{Row: 5, GivenName: "A", FamilyName: "B"}),
		},
	}})
}

func TestOpenErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		format Format
		opt    Options
		in     string
	}{
		{"unknown format", "excel", Options{}, "a,b\n"},
		{"linkedin without header", LinkedIn, Options{}, "Name,Mail\nJane,j@example.com\n"},
		{"linkedin empty", LinkedIn, Options{}, ""},
		{"vcard of something else", VCard, Options{}, "Name,Mail\n"},
		{"csv without mapping", CSV, Options{}, "a\n"},
		{"csv empty", CSV, Options{Mapping: &Mapping{Columns: map[string]string{"email": "Mail"}}}, ""},
		{"csv column missing", CSV, Options{Mapping: &Mapping{Columns: map[string]string{"email": "Mail"}}}, "Name,E-Mail\n"},
		{"csv bad mapping field", CSV, Options{Mapping: &Mapping{Columns: map[string]string{"mail": "Mail"}}}, "Mail\n"},
		{"mastodon bad network", MastodonFollowing, Options{Network: "not a domain"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Open(tt.format, strings.NewReader(tt.in), tt.opt); err == nil {
				t.Error("Open succeeded")
			}
		})
	}
}

func TestMastodonFollowing(t *testing.T) {
	mastodon := func(row int, h string, extra map[string]string) item {
		return rec(Record{Row: row, Handles: []Handle{{"mastodon", h}}, Extra: extra})
	}
	runTests(t, []test{{
		name:   "current export",
		format: MastodonFollowing,
		opt:    Options{Network: "chaos.social"},
		in: "Account address,Show boosts,Notify on new posts,Languages\n" +
			"Gargron@Mastodon.Social,true,false,\n" +
			"@jane@example.org,false,true,\"de,en\"\n" +
			"localuser,true,false,\n" +
			"not an account,true,false,\n" +
			"x@y@z,true,false,\n",
		want: []item{
			mastodon(2, "@Gargron@mastodon.social", map[string]string{"mastodon.show_boosts": "true", "mastodon.notify": "false"}),
			mastodon(3, "@jane@example.org", map[string]string{"mastodon.show_boosts": "false", "mastodon.notify": "true", "mastodon.languages": "de,en"}),
			mastodon(4, "@localuser@chaos.social", map[string]string{"mastodon.show_boosts": "true", "mastodon.notify": "false"}),
			rowErr(5, "the account address is not of the form user@instance"),
			rowErr(6, "the account address is not of the form user@instance"),
		},
	}, {
		name:   "old form without header",
		format: MastodonFollowing,
		in:     "\uFEFFalice@example.social\r\nbob@b.example\r\n\r\nlocal\r\n",
		want: []item{
			mastodon(1, "@alice@example.social", nil),
			mastodon(2, "@bob@b.example", nil),
			rowErr(4, "the account address has no instance, and Options.Network does not name one"),
		},
	}, {
		name:   "empty file",
		format: MastodonFollowing,
		in:     "",
	}, {
		name:   "header only",
		format: MastodonFollowing,
		in:     "Account address,Show boosts,Notify on new posts,Languages\n",
	}})
}

func TestCSV(t *testing.T) {
	mapping, err := ParseMapping(strings.NewReader(`{"columns": {
		"given_name": "Vorname", "family_name": "Nachname",
		"email": "E-Mail", "email:work": "E-Mail (geschäftlich)", "phone": "Telefon",
		"organization": "Firma", "handle:mastodon": "Mastodon", "handle:threema": "Threema",
		"birthday": "Geburtstag", "notes": "Notizen",
		"street": "Straße", "postal_code": "PLZ", "city": "Ort", "country": "Land"
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	header := "Vorname;Nachname;E-Mail;E-Mail (geschäftlich);Telefon;Firma;Mastodon;Threema;Geburtstag;Notizen;Straße;PLZ;Ort;Land;Unbenutzt\r\n"
	runTests(t, []test{{
		name:   "German Windows-1252 with semicolons",
		format: CSV,
		opt:    Options{Mapping: mapping},
		in: win1252(header +
			"Jürgen;Müller;j.mueller@example.de;jm@firma.example;+49 30 1234567;Müller & Söhne GmbH;@jm@chaos.social;ABCD1234;24.12.1970;\"Trifft man \"\"immer\"\"\r\nauf Messen\";Hauptstraße 5;10115;Berlin;Deutschland;geheim\r\n" +
			"Ärger;Öztürk;kaputt;;;;;;;;;;;;\r\n" +
			"Zoë;;;;;;;;;;;;;;\r\n"),
		want: []item{
			rec(Record{Row: 2, GivenName: "Jürgen", FamilyName: "Müller",
				Emails: []string{"j.mueller@example.de", "jm@firma.example"}, Phones: []string{"+49 30 1234567"},
				Organization: "Müller & Söhne GmbH",
				Handles:      []Handle{{"mastodon", "@jm@chaos.social"}, {"threema", "ABCD1234"}},
				Birthday:     "24.12.1970", Notes: "Trifft man \"immer\"\nauf Messen",
				Address: &Address{Street: "Hauptstraße 5", PostalCode: "10115", City: "Berlin", Country: "DE"}}),
			rowErr(4, "the email column is not an e-mail address"),
			rec(Record{Row: 5, GivenName: "Zoë"}),
		},
	}, {
		name:   "UTF-8 with BOM, commas, Google-style multiple values",
		format: CSV,
		opt:    Options{Mapping: &Mapping{Columns: map[string]string{"given_name": "name", "email": "MAIL", "phone": "tel"}}},
		in:     "\uFEFFName,Mail,Tel\nZoë,a@example.com ::: b@example.com,1 ::: 2\n",
		want: []item{
			rec(Record{Row: 2, GivenName: "Zoë", Emails: []string{"a@example.com", "b@example.com"}, Phones: []string{"1", "2"}}),
		},
	}, {
		name:   "UTF-16 with BOM, tabs",
		format: CSV,
		opt:    Options{Mapping: &Mapping{Columns: map[string]string{"given_name": "Name", "city": "City"}}},
		in:     "\xFF\xFEN\x00a\x00m\x00e\x00\t\x00C\x00i\x00t\x00y\x00\n\x00Z\x00o\x00\xEB\x00\t\x00K\x00\xF6\x00l\x00n\x00\n\x00",
		want: []item{
			rec(Record{Row: 2, GivenName: "Zoë", Address: &Address{City: "Köln"}}),
		},
	}, {
		name:   "old Mac line ends",
		format: CSV,
		opt:    Options{Mapping: &Mapping{Columns: map[string]string{"given_name": "Name"}}},
		in:     "Name\rAnn\r\rBob",
		want: []item{
			rec(Record{Row: 2, GivenName: "Ann"}),
			rec(Record{Row: 4, GivenName: "Bob"}),
		},
	}})
}

func TestParseMapping(t *testing.T) {
	for _, in := range []string{
		``,
		`{}`,
		`{"columns": {}}`,
		`{"columns": {"given_name": ""}}`,
		`{"columns": {"nickname": "Spitzname"}}`,
		`{"columns": {"handle:": "x"}}`,
		`{"columns": {"handle:a b": "x"}}`,
		`{"columns": {"given_name": "Vorname"}, "other": 1}`,
		`{"columns": {"given_name": "Vorname"}} {}`,
		`["given_name"]`,
		`{"columns": {"given_name": "` + strings.Repeat("x", maxMappingBytes) + `"}}`,
	} {
		if _, err := ParseMapping(strings.NewReader(in)); err == nil {
			t.Errorf("ParseMapping(%.40q) succeeded", in)
		}
	}
	m, err := ParseMapping(strings.NewReader(`{"columns": {"given_name": "Vorname", "phone:mobil": "Handy", "handle:Bluesky": "Bsky"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"given_name", "handle:Bluesky", "phone:mobil"}
	if got := m.fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("fields() = %v, want %v", got, want)
	}
}

const vcard30 = "BEGIN:VCARD\r\n" +
	"VERSION:3.0\r\n" +
	"PRODID:-//XING AG//XING vCard//EN\r\n" +
	"N:Müller;Jürgen;Karl;Dr.;\r\n" +
	"FN:Dr. Jürgen Karl Müller\r\n" +
	"ORG:Müller & Söhne GmbH;Vertrieb\r\n" +
	"TITLE:Leiter Vertrieb\r\n" +
	"EMAIL;TYPE=INTERNET,WORK:j.mueller@example.de\r\n" +
	"EMAIL;TYPE=INTERNET,HOME:juergen@example.org\r\n" +
	"TEL;TYPE=WORK,VOICE:+49 30 1234567\r\n" +
	"TEL;TYPE=CELL:+49 170 1234567\r\n" +
	"ADR;TYPE=WORK:;;Hauptstraße 5;Berlin;;10115;Deutschland\r\n" +
	"URL:https://www.xing.com/profile/Juergen_Mueller\r\n" +
	"X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/juergen-mueller\r\n" +
	"X-SOCIALPROFILE;TYPE=mastodon:https://chaos.social/@jm\r\n" +
	"X-SOCIALPROFILE;TYPE=bluesky:https://bsky.app/profile/jm.bsky.social\r\n" +
	"X-SOCIALPROFILE;type=twitter;x-user=jmueller:http://twitter.com/jmueller\r\n" +
	"X-SOCIALPROFILE;TYPE=myspace:https://myspace.com/jm\r\n" +
	"IMPP;X-SERVICE-TYPE=Jabber:xmpp:jm@jabber.example\r\n" +
	"NICKNAME:Jü\r\n" +
	"BDAY:1970-12-24\r\n" +
	"NOTE:Trifft man auf Messen\\, meist\\nin Halle 3\\; sagt er.\r\n" +
	"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwME\r\n" +
	" BAMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2w\r\n" +
	"UID:abc-123\r\n" +
	"END:VCARD\r\n" +
	"BEGIN:VCARD\r\n" +
	"VERSION:3.0\r\n" +
	"FN:Acme Corp\r\n" +
	"ORG:Acme Corp\r\n" +
	"EMAIL:info@acme.example\r\n" +
	"END:VCARD\r\n"

const vcard40 = "BEGIN:VCARD\n" +
	"VERSION:4.0\n" +
	"FN:Jane Doe\n" +
	"N:Doe;Jane;;;\n" +
	"EMAIL;PREF=1:jane@example.com\n" +
	"TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+1-555-555-5555\n" +
	"BDAY:--0312\n" +
	"ADR;TYPE=home;LABEL=\"Main St 1\\nSpringfield\":;;Main St 1;Springfield;IL;62701;USA\n" +
	"IMPP;PREF=1:xmpp:jane@example.com\n" +
	"URL;PREF=1:https://jane.example\n" +
	"URL:https://github.com/janedoe\n" +
	"PHOTO:https://jane.example/me.jpg\n" +
	"END:VCARD\n" +
	"\n" +
	"BEGIN:VCARD\n" +
	"VERSION:4.0\n" +
	"FN:Doe\\, John\n" +
	"END:VCARD\n"

func TestVCard(t *testing.T) {
	runTests(t, []test{{
		name:   "vCard 3.0 (XING style), two cards",
		format: VCard,
		in:     vcard30,
		want: []item{
			rec(Record{Row: 1, GivenName: "Jürgen", FamilyName: "Müller",
				Emails: []string{"j.mueller@example.de", "juergen@example.org"}, Phones: []string{"+49 30 1234567", "+49 170 1234567"},
				Organization: "Müller & Söhne GmbH", Position: "Leiter Vertrieb", ProfileURL: "https://www.xing.com/profile/Juergen_Mueller",
				Handles: []Handle{{"xing", "Juergen_Mueller"}, {"linkedin", "juergen-mueller"}, {"mastodon", "@jm@chaos.social"},
					{"bluesky", "jm.bsky.social"}, {"twitter", "jmueller"}, {"xmpp", "jm@jabber.example"}},
				Birthday: "1970-12-24",
				Address:  &Address{Street: "Hauptstraße 5", PostalCode: "10115", City: "Berlin", Country: "DE"},
				Notes:    "Trifft man auf Messen, meist\nin Halle 3; sagt er.",
				Extra: map[string]string{"middle_name": "Karl", "name_prefix": "Dr.", "department": "Vertrieb",
					"vcard.FN": "Dr. Jürgen Karl Müller", "nickname": "Jü", "photo": "present", "vcard.UID": "abc-123",
					"vcard.X-SOCIALPROFILE": "https://myspace.com/jm"}}),
			rec(Record{Row: 2, Emails: []string{"info@acme.example"}, Organization: "Acme Corp", Extra: map[string]string{"vcard.FN": "Acme Corp"}}),
		},
	}, {
		name:   "vCard 4.0, two cards",
		format: VCard,
		in:     vcard40,
		want: []item{
			rec(Record{Row: 1, GivenName: "Jane", FamilyName: "Doe", Emails: []string{"jane@example.com"}, Phones: []string{"+1-555-555-5555"},
				ProfileURL: "https://jane.example", Handles: []Handle{{"github", "janedoe"}, {"xmpp", "jane@example.com"}},
				Birthday: "--0312", Address: &Address{Street: "Main St 1", PostalCode: "62701", City: "Springfield", Region: "IL", Country: "US"},
				Extra: map[string]string{"photo": "present", "vcard.URL": "https://github.com/janedoe"}}),
			rec(Record{Row: 2, GivenName: "John", FamilyName: "Doe", Extra: map[string]string{"vcard.FN": "Doe, John"}}),
		},
	}, {
		name:   "vCard 2.1 with quoted-printable and bare parameters",
		format: VCard,
		in: "BEGIN:VCARD\r\nVERSION:2.1\r\n" +
			"N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n" +
			"TEL;CELL:+49 170 1\r\n" +
			"NOTE;QUOTED-PRINTABLE:Erste Zeile=0D=0Azweite =\r\nZeile\r\n" +
			"PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n" +
			"/9j/4AAQSkZJRgABAQEASABIAAD\r\n" +
			"BAMEBQgFBQQEBQoHBwYIDAoMDAs\r\n" +
			"\r\n" +
			"END:VCARD\r\n",
		want: []item{
			rec(Record{Row: 1, GivenName: "Jürgen", FamilyName: "Müller", Phones: []string{"+49 170 1"}, Notes: "Erste Zeile\r\nzweite Zeile",
				Extra: map[string]string{"photo": "present"}}),
		},
	}, {
		name:   "Windows-1252 card among UTF-8 ones",
		format: VCard,
		in:     "BEGIN:VCARD\nVERSION:3.0\nN:Weiß;Jörg\nEND:VCARD\n" + win1252("BEGIN:VCARD\nVERSION:3.0\nN:Weiß;Jörg\nEND:VCARD\n"),
		want: []item{
			rec(Record{Row: 1, GivenName: "Jörg", FamilyName: "Weiß"}),
			rec(Record{Row: 2, GivenName: "Jörg", FamilyName: "Weiß"}),
		},
	}, {
		name:   "broken cards",
		format: VCard,
		in: "BEGIN:VCARD\nVERSION:3.0\nN:One;A\nEND:VCARD\n" + // 1
			"BEGIN:VCARD\nVERSION:3.0\nN:Two;B\nEMAIL:not-an-address\nEND:VCARD\n" + // 2
			"BEGIN:VCARD\nVERSION:3.0\nN:Three;C\nthis is no property\nEND:VCARD\n" + // 3
			"BEGIN:VCARD\nVERSION:3.0\nN:Four;D\n" + // 4: no END
			"BEGIN:VCARD\nVERSION:3.0\nNOTE:" + strings.Repeat("x", MaxFieldBytes) + "\nEND:VCARD\n" + // 5
			"BEGIN:VCARD\nVERSION:3.0\n" + strings.Repeat("X-A:b\n", MaxCardProperties) + "END:VCARD\n" + // 6
			"garbage between cards is ignored\n" +
			"VERSION:3.0\nN:Seven;E\nEND:VCARD\n" + // 7: BEGIN lost
			"BEGIN:VCARD\nVERSION:3.0\nN:Eight;F\nPHOTO;ENCODING=b:" + strings.Repeat("QUFB", MaxCardBytes) + "\nEND:VCARD\n" + // 8: a big photo is fine
			"BEGIN:VCARD\nVERSION:3.0\nN:Nine;G\n", // 9: the file ends
		want: []item{
			rec(Record{Row: 1, GivenName: "A", FamilyName: "One"}),
			rowErr(2, "an EMAIL property is not an e-mail address"),
			rowErr(3, "line 13 is not a vCard property"),
			rowErr(4, "the card has no END:VCARD"),
			rowErr(5, "the property on line 20 is longer than 64 KiB"),
			rowErr(6, "the card has more than 1024 properties"),
			rowErr(7, "END:VCARD on line 1052 has no BEGIN:VCARD"),
			rec(Record{Row: 8, GivenName: "F", FamilyName: "Eight", Extra: map[string]string{"photo": "present"}}),
			rowErr(9, "the card has no END:VCARD"),
		},
	}, {
		name:   "empty file",
		format: VCard,
		in:     "\r\n",
	}})
}

func TestCSVLimits(t *testing.T) {
	m := &Mapping{Columns: map[string]string{"given_name": "a", "notes": "b"}}
	long := strings.Repeat("x", MaxFieldBytes+1)
	manyFields := "y" + strings.Repeat(",", MaxFields)
	longRow := strings.Repeat(strings.Repeat("z", MaxFieldBytes-1)+",", 17)
	runTests(t, []test{{
		name:   "rows over the limits",
		format: CSV,
		opt:    Options{Mapping: m},
		in: "a,b\n" +
			"ok,1\n" + // 2
			long + ",2\n" + // 3
			"ok,\"" + long + "\"\n" + // 4
			manyFields + "\n" + // 5
			longRow + "\n" + // 6
			"after,all\n", // 7
		want: []item{
			rec(Record{Row: 2, GivenName: "ok", Notes: "1"}),
			rowErr(3, "a field is longer than 64 KiB"),
			rowErr(4, "a field is longer than 64 KiB"),
			rowErr(5, "the row has more than 1024 fields"),
			rowErr(6, "the row is longer than 1 MiB"),
			rec(Record{Row: 7, GivenName: "after", Notes: "all"}),
		},
	}, {
		name:   "a quoted field over too many lines is given up at its first line",
		format: CSV,
		opt:    Options{Mapping: &Mapping{Columns: map[string]string{"given_name": "a"}}},
		in:     "a\n\"" + strings.Repeat("line\n", MaxRowLines+5) + "end\"\n",
		want: append([]item{rowErr(2, "a quoted field is not closed within 256 lines")},
			func() []item {
				var items []item
				for i := range MaxRowLines + 4 {
					items = append(items, rec(Record{Row: 3 + i, GivenName: "line"}))
				}
				return append(items, rec(Record{Row: MaxRowLines + 7, GivenName: "end\""}))
			}()...),
	}})
}
