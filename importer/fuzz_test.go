package importer

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

// rowErrorMsgs are all the messages a RowError may carry, with numbers as N.
// Checking against them makes sure no message quotes a row's content.
var rowErrorMsgs = map[string]bool{
	"a field is longer than N KiB":                                               true,
	"the row is longer than N MiB":                                               true,
	"the row is longer than N MiB, or a quoted field is not closed":              true,
	"a quoted field is not closed":                                               true,
	"a quoted field is not closed within N lines":                                true,
	"a quoted field has text after its closing quote":                            true,
	"the row has more than N fields":                                             true,
	"the row has N fields, the header N":                                         true,
	"the e-mail column is not an address":                                        true,
	"the account address is not of the form user@instance":                       true,
	"the account address has no instance, and Options.Network does not name one": true,
	"the email column is not an e-mail address":                                  true,
	"the email:work column is not an e-mail address":                             true,
	"the card has no END:VCARD":                                                  true,
	"END:VCARD on line N has no BEGIN:VCARD":                                     true,
	"line N is not a vCard property":                                             true,
	"the property on line N is longer than N KiB":                                true,
	"the card has more than N properties":                                        true,
	"the card is larger than N MiB":                                              true,
	"the card cannot be parsed":                                                  true,
	"an EMAIL property is not an e-mail address":                                 true,
}

var digits = regexp.MustCompile(`[0-9]+`)

// fuzzMapping maps every field, for FuzzCSV.
var fuzzMapping = &Mapping{Columns: map[string]string{
	"given_name": "given", "family_name": "family", "email": "email", "email:work": "work",
	"phone": "phone", "organization": "org", "position": "pos", "profile_url": "url",
	"handle:mastodon": "mastodon", "handle:bluesky": "bsky", "birthday": "bday", "notes": "notes",
	"street": "street", "postal_code": "zip", "city": "city", "region": "region", "country": "country",
}}

const fuzzCSVHeader = "given,family,email,work,phone,org,pos,url,mastodon,bsky,bday,notes,street,zip,city,region,country\n"

// checkReader reads a whole file and checks what a hostile file must not be
// able to do: panic (the fuzzer sees that), read forever, produce records
// beyond the limits, or put content into error messages.
func checkReader(t *testing.T, format Format, opt Options, data []byte, fieldLimit, recordLimit int) {
	r, err := Open(format, bytes.NewReader(data), opt)
	if err != nil {
		if _, ok := err.(*RowError); ok {
			t.Fatalf("Open returned a RowError: %v", err)
		}
		return
	}
	lastRow := 0
	// Every record and row error consumes at least one byte of the file.
	for calls := 0; ; calls++ {
		if calls > len(data)+2 {
			t.Fatalf("Next did not end after %d calls on %d bytes", calls, len(data))
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			if msg := digits.ReplaceAllString(re.Msg, "N"); !rowErrorMsgs[msg] {
				t.Fatalf("unexpected RowError message %q", re.Msg)
			}
			if re.Row <= lastRow {
				t.Fatalf("RowError for row %d after row %d", re.Row, lastRow)
			}
			lastRow = re.Row
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rec == nil {
			t.Fatal("Next returned neither a record nor an error")
		}
		if rec.Row <= lastRow {
			t.Fatalf("record for row %d after row %d", rec.Row, lastRow)
		}
		lastRow = rec.Row
		if n := recordSize(t, rec, fieldLimit); n > recordLimit {
			t.Fatalf("record of %d bytes, over the limit of %d", n, recordLimit)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after io.EOF: %v", err)
	}
}

// recordSize returns the bytes of text a record holds, and fails if one
// string is over fieldLimit.
func recordSize(t *testing.T, rec *Record, fieldLimit int) int {
	total := 0
	add := func(s string) {
		if len(s) > fieldLimit {
			t.Fatalf("a string of %d bytes, over the limit of %d", len(s), fieldLimit)
		}
		total += len(s)
	}
	for _, s := range []string{rec.GivenName, rec.FamilyName, rec.Organization, rec.Position, rec.ProfileURL, rec.Birthday, rec.Notes, rec.ConnectedOn} {
		add(s)
	}
	for _, s := range rec.Emails {
		add(s)
	}
	for _, s := range rec.Phones {
		add(s)
	}
	for _, h := range rec.Handles {
		add(h.Network)
		add(h.Handle)
	}
	if a := rec.Address; a != nil {
		for _, s := range []string{a.Street, a.PostalCode, a.City, a.Region, a.Country} {
			add(s)
		}
	}
	for k, v := range rec.Extra {
		add(k)
		add(v)
		if strings.EqualFold(k, "photo") && v != "present" {
			t.Fatalf("photo data in a record")
		}
	}
	return total
}

// Limits for the checks: decoding Windows-1252 can make text three times
// longer, and a value may appear twice (a profile URL and its handle).
const (
	csvFieldLimit   = 3 * MaxFieldBytes
	csvRecordLimit  = 2 * 3 * MaxRowBytes
	cardFieldLimit  = 3 * MaxCardBytes
	cardRecordLimit = 3 * 3 * MaxCardBytes
)

func FuzzLinkedIn(f *testing.F) {
	f.Add([]byte(linkedInPreamble + "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n" +
		"Jane,Doe,https://www.linkedin.com/in/jane,jane@example.com,\"Acme, Inc.\",CTO,12 Mar 2024\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, LinkedIn, Options{}, data, csvFieldLimit, csvRecordLimit)
	})
}

func FuzzVCard(f *testing.F) {
	f.Add([]byte(vcard30))
	f.Add([]byte(vcard40))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, VCard, Options{}, data, cardFieldLimit, cardRecordLimit)
	})
}

func FuzzMastodonFollowing(f *testing.F) {
	f.Add([]byte("Account address,Show boosts,Notify on new posts,Languages\nuser@example.social,true,false,\"de,en\"\nlocal,false,false,\n"), "")
	f.Add([]byte("user@example.social\n@other@host.example\n"), "mastodon.social")
	f.Fuzz(func(t *testing.T, data []byte, network string) {
		checkReader(t, MastodonFollowing, Options{Network: network}, data, csvFieldLimit, csvRecordLimit)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(fuzzCSVHeader + "Jane,Doe,jane@example.com,,+1 555,Acme,CTO,https://x.com/jane,@jane@example.social,jane.bsky.social,1970-01-01,\"a\nnote\",Main St 1,12345,Town,,Land\n"))
	f.Add([]byte(win1252(strings.ReplaceAll(fuzzCSVHeader, ",", ";") + "Jörg;Weiß;;;;;;;;;;;;;;;\r\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, CSV, Options{Mapping: fuzzMapping}, data, csvFieldLimit, csvRecordLimit)
	})
}
