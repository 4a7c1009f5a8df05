package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// table reads the data rows of a CSV file whose header has been read.
type table struct {
	s      *csvScanner
	width  int // fields in the header; 0 if there is none
	fields []string
	err    error // sticky: io.EOF or a read error
}

// next returns the trimmed fields of the next row that is not empty, or a
// *RowError, io.EOF or a read error. With a header, a row must have as many
// fields as it, or more if the extra ones are empty (trailing delimiters).
func (t *table) next() ([]string, error) {
	for {
		if t.err != nil {
			return nil, t.err
		}
		fail, err := t.s.scan()
		if err != nil {
			t.err = err
			return nil, err
		}
		if fail != "" {
			return nil, &RowError{Row: t.s.row, Msg: fail}
		}
		t.fields = t.s.fields(t.fields)
		empty := true
		for i, f := range t.fields {
			t.fields[i] = strings.TrimSpace(f)
			empty = empty && t.fields[i] == ""
		}
		if empty {
			continue
		}
		if t.width > 0 && len(t.fields) != t.width {
			extra := len(t.fields) > t.width
			for _, f := range t.fields[min(t.width, len(t.fields)):] {
				extra = extra && f == ""
			}
			if !extra {
				return nil, &RowError{Row: t.s.row, Msg: fmt.Sprintf("the row has %d fields, the header %d", len(t.fields), t.width)}
			}
			t.fields = t.fields[:t.width]
		}
		return t.fields, nil
	}
}

// columnIndex maps the header's column names (trimmed, lower case) to their
// positions; the first of two equal names wins.
func columnIndex(header []string) map[string]int {
	idx := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := idx[h]; !dup && h != "" {
			idx[h] = i
		}
	}
	return idx
}

// col returns the field at i, or "" if i < 0.
func col(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// colOf returns the position of name in idx, or -1.
func colOf(idx map[string]int, name string) int {
	if i, ok := idx[name]; ok {
		return i
	}
	return -1
}

// ---- LinkedIn ----

// linkedInSearchRows is how many rows may come before LinkedIn's header.
const linkedInSearchRows = 20

type linkedInReader struct {
	t                                                       table
	first, last, url, email, company, position, connectedOn int
}

func openLinkedIn(r io.Reader) (Reader, error) {
	r, err := unmark(r)
	if err != nil {
		return nil, err
	}
	s := newCSVScanner(r)
	notFound := fmt.Errorf("importer: no LinkedIn header row (First Name, Last Name, URL, Email Address, …) in the first %d rows", linkedInSearchRows)
	delims := []byte{',', ';', '\t'}
	for range linkedInSearchRows {
		for i, d := range delims {
			s.delim = d
			fail, err := s.scan()
			if err == io.EOF {
				return nil, notFound
			}
			if err != nil {
				return nil, err
			}
			if fail != "" {
				break // not the header; skipped
			}
			header := s.fields(nil)
			if lr, ok := linkedInHeader(header); ok {
				lr.t = table{s: s, width: len(header)}
				return lr, nil
			}
			if i < len(delims)-1 {
				s.unread()
			}
		}
	}
	return nil, notFound
}

// linkedInHeader recognises the header of Connections.csv: it has First
// Name, Last Name and at least one more of LinkedIn's columns.
func linkedInHeader(header []string) (*linkedInReader, bool) {
	idx := columnIndex(header)
	lr := &linkedInReader{
		first:       colOf(idx, "first name"),
		last:        colOf(idx, "last name"),
		url:         colOf(idx, "url"),
		email:       colOf(idx, "email address"),
		company:     colOf(idx, "company"),
		position:    colOf(idx, "position"),
		connectedOn: colOf(idx, "connected on"),
	}
	if lr.first < 0 || lr.last < 0 || max(lr.url, lr.email, lr.company, lr.position, lr.connectedOn) < 0 {
		return nil, false
	}
	return lr, true
}

// Next returns the next connection.
func (lr *linkedInReader) Next() (*Record, error) {
	f, err := lr.t.next()
	if err != nil {
		return nil, err
	}
	rec := &Record{
		Row:          lr.t.s.row,
		GivenName:    col(f, lr.first),
		FamilyName:   col(f, lr.last),
		ProfileURL:   col(f, lr.url),
		Organization: col(f, lr.company),
		Position:     col(f, lr.position),
		ConnectedOn:  linkedInDate(col(f, lr.connectedOn)),
	}
	if e := col(f, lr.email); e != "" {
		if !isEmail(e) {
			return nil, &RowError{Row: rec.Row, Msg: "the e-mail column is not an address"}
		}
		rec.Emails = []string{e}
	}
	if h, ok := handleFromURL(rec.ProfileURL, "linkedin"); ok && h.Network == "linkedin" {
		rec.Handles = []Handle{h}
	}
	return rec, nil
}

// linkedInDateLayouts are the forms LinkedIn has written "Connected On" in.
var linkedInDateLayouts = []string{"02 Jan 2006", "2 Jan 2006", "Jan 2, 2006", "01/02/2006", "2006-01-02"}

// linkedInDate returns s as 2006-01-02 if it is a date LinkedIn writes, else
// s as it is.
func linkedInDate(s string) string {
	for _, layout := range linkedInDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	return s
}

// ---- Mastodon ----

type mastodonReader struct {
	t                              table
	domain                         string // for accounts without one
	account, boosts, notify, langs int
}

func openMastodon(r io.Reader, network string) (Reader, error) {
	domain := strings.ToLower(strings.TrimSpace(network))
	domain = strings.TrimPrefix(strings.TrimPrefix(domain, "https://"), "http://")
	domain = strings.TrimPrefix(strings.TrimSuffix(domain, "/"), "@")
	if domain != "" && !validDomain(domain) {
		return nil, errors.New("importer: Options.Network is not a domain name")
	}
	r, err := unmark(r)
	if err != nil {
		return nil, err
	}
	s := newCSVScanner(r)
	mr := &mastodonReader{domain: domain, t: table{s: s}, boosts: -1, notify: -1, langs: -1}
	if err := s.detectDelimiter(); err == io.EOF {
		mr.t.err = io.EOF // an empty file: follows nobody
		return mr, nil
	} else if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	if fail, err := s.scan(); err != nil {
		return nil, err
	} else if fail != "" {
		return nil, fmt.Errorf("importer: line %d: %s", s.row, fail)
	}
	header := s.fields(nil)
	idx := columnIndex(header)
	if i, ok := idx["account address"]; ok {
		mr.t.width = len(header)
		mr.account = i
		mr.boosts = colOf(idx, "show boosts")
		mr.notify = colOf(idx, "notify on new posts")
		mr.langs = colOf(idx, "languages")
	} else {
		s.unread() // the old form: no header, the account in the first column
	}
	return mr, nil
}

// Next returns the next followed account.
func (mr *mastodonReader) Next() (*Record, error) {
	f, err := mr.t.next()
	if err != nil {
		return nil, err
	}
	row := mr.t.s.row
	v := col(f, mr.account)
	if h, ok := handleFromURL(v, "mastodon"); ok && h.Network == "mastodon" {
		v = h.Handle // a profile URL, https://instance/@user
	}
	acct, domain := mastodonAccount(v, mr.domain)
	switch {
	case acct == "":
		return nil, &RowError{Row: row, Msg: "the account address is not of the form user@instance"}
	case domain == "":
		return nil, &RowError{Row: row, Msg: "the account address has no instance, and Options.Network does not name one"}
	}
	rec := &Record{Row: row, Handles: []Handle{{Network: "mastodon", Handle: acct}}}
	rec.setExtra("mastodon.show_boosts", strings.ToLower(col(f, mr.boosts)))
	rec.setExtra("mastodon.notify", strings.ToLower(col(f, mr.notify)))
	rec.setExtra("mastodon.languages", col(f, mr.langs))
	return rec, nil
}

// ---- generic CSV ----

type csvReader struct {
	t    table
	cols []mappedColumn // in a fixed order
}

// mappedColumn is one field of a Mapping and its position in the file.
type mappedColumn struct {
	field string
	index int
}

func openCSV(r io.Reader, m *Mapping) (Reader, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	r, err := unmark(r)
	if err != nil {
		return nil, err
	}
	s := newCSVScanner(r)
	if err := s.detectDelimiter(); err == io.EOF {
		return nil, errors.New("importer: the file is empty; a header row is needed")
	} else if err != nil {
		return nil, fmt.Errorf("importer: the header row: %w", err)
	}
	if fail, err := s.scan(); err != nil {
		return nil, err
	} else if fail != "" {
		return nil, fmt.Errorf("importer: the header row: %s", fail)
	}
	header := s.fields(nil)
	idx := columnIndex(header)
	cr := &csvReader{t: table{s: s, width: len(header)}}
	for _, field := range m.fields() {
		name := m.Columns[field]
		i, ok := idx[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return nil, fmt.Errorf("importer: the mapping names column %q for %s, which the header lacks", name, field)
		}
		cr.cols = append(cr.cols, mappedColumn{field, i})
	}
	return cr, nil
}

// Next returns the next row, read through the mapping.
func (cr *csvReader) Next() (*Record, error) {
	f, err := cr.t.next()
	if err != nil {
		return nil, err
	}
	rec := &Record{Row: cr.t.s.row}
	var addr Address
	for _, c := range cr.cols {
		v := col(f, c.index)
		if v == "" {
			continue
		}
		kind, sub, _ := strings.Cut(c.field, ":")
		switch kind {
		case "given_name":
			rec.GivenName = v
		case "family_name":
			rec.FamilyName = v
		case "email":
			for _, e := range splitMulti(v) {
				if !isEmail(e) {
					return nil, &RowError{Row: rec.Row, Msg: fmt.Sprintf("the %s column is not an e-mail address", c.field)}
				}
				rec.Emails = append(rec.Emails, e)
			}
		case "phone":
			rec.Phones = append(rec.Phones, splitMulti(v)...)
		case "organization":
			rec.Organization = v
		case "position":
			rec.Position = v
		case "profile_url":
			rec.ProfileURL = v
			if h, ok := handleFromURL(v, ""); ok {
				rec.addHandle(h)
			}
		case "handle":
			network := strings.ToLower(sub)
			for _, hv := range splitMulti(v) {
				h, ok := normalizeHandle(network, hv)
				if !ok {
					h = Handle{Network: network, Handle: hv}
				}
				rec.addHandle(h)
			}
		case "birthday":
			rec.Birthday = v
		case "notes":
			rec.Notes = v
		case "street":
			addr.Street = v
		case "postal_code":
			addr.PostalCode = v
		case "city":
			addr.City = v
		case "region":
			addr.Region = v
		case "country":
			addr.Country = readCountry(v)
		}
	}
	if addr != (Address{}) {
		rec.Address = &addr
	}
	return rec, nil
}
