package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-vcard"
)

// The vCard reader cuts the file into cards itself, line by line and within
// the limits, and hands each card to go-vcard, which is given only a bounded
// piece of text. Cutting the cards here also lets a broken card be reported
// and skipped while the following ones import.

// binaryProps are vCard properties whose (large) data is never kept.
var binaryProps = map[string]bool{"PHOTO": true, "LOGO": true, "SOUND": true, "KEY": true}

type vcardReader struct {
	br   *bufio.Reader
	line int    // physical lines read so far
	lbuf []byte // the current logical (unfolded) line
	cbuf []byte // the start of a physical line that was too long
	err  error  // sticky: a read error, or io.EOF once the input is done

	card       int    // number of the current or last card
	in         bool   // inside BEGIN:VCARD … END:VCARD
	body       []byte // the current card's properties, one per CRLF-terminated line
	props      int    // properties in body
	fail       string // why the current card is broken; it is read to its end, then reported
	skipBinary bool   // skipping the unindented base64 lines of a vCard 2.1 PHOTO and the like
}

// logical is one unfolded line.
type logical struct {
	text    []byte // valid until the next read
	no      int    // line number of its first physical line
	tooLong bool   // longer than MaxFieldBytes; text is cut
	binary  bool   // a binary property, whose value was replaced by "present"
}

func openVCard(r io.Reader) (Reader, error) {
	r, err := unmark(r)
	if err != nil {
		return nil, err
	}
	v := &vcardReader{br: bufio.NewReaderSize(r, MaxFieldBytes+16)}
	for {
		l, err := v.readLogical()
		if err == io.EOF {
			v.err = io.EOF // an empty file: no cards
			return v, nil
		}
		if err != nil {
			return nil, err
		}
		t := bytes.TrimSpace(l.text)
		if len(t) == 0 {
			continue
		}
		if !bytes.EqualFold(t, []byte("BEGIN:VCARD")) {
			return nil, errors.New("importer: not a vCard file: it does not start with BEGIN:VCARD")
		}
		v.begin()
		return v, nil
	}
}

// readPhys reads one physical line, without its line ending. A line longer
// than the buffer is cut: its start is returned, the rest is skipped.
func (v *vcardReader) readPhys() (line []byte, cut bool, err error) {
	line, err = v.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		cut = true
		v.cbuf = append(v.cbuf[:0], line...)
		for err == bufio.ErrBufferFull {
			_, err = v.br.ReadSlice('\n')
		}
		line = v.cbuf
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, false, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, false, err
	}
	v.line++
	line = bytes.TrimRight(line, "\r\n")
	return line, cut, nil
}

// readLogical reads one line, unfolding continuation lines (which start with
// a space or tab) and quoted-printable soft line breaks.
func (v *vcardReader) readLogical() (logical, error) {
	phys, cut, err := v.readPhys()
	if err != nil {
		return logical{}, err
	}
	v.lbuf = append(v.lbuf[:0], phys...)
	l := logical{no: v.line, tooLong: cut || len(phys) > MaxFieldBytes}
	name, colon := splitProperty(v.lbuf)
	qp := false
	if binaryProps[name] && (colon >= 0 || cut) {
		// Keep the name and parameters, never the data.
		l.binary, l.tooLong = true, false
		present := cut || colon < len(v.lbuf)-1 || v.nextIsFolded()
		if colon < 0 {
			v.lbuf = append(append(v.lbuf[:0], name...), ':')
		} else {
			present = present || bytes.Contains(bytes.ToUpper(v.lbuf[:colon]), []byte("BASE64"))
			v.lbuf = v.lbuf[:colon+1]
		}
		if present {
			v.lbuf = append(v.lbuf, "present"...)
		}
	} else if colon >= 0 {
		qp = bytes.Contains(bytes.ToUpper(v.lbuf[:colon]), []byte("QUOTED-PRINTABLE"))
	}
	for {
		switch {
		case v.nextIsFolded():
			phys, cut, err := v.readPhys()
			if err != nil {
				return logical{}, err
			}
			if l.binary || l.tooLong {
				continue
			}
			if cut || len(v.lbuf)+len(phys)-1 > MaxFieldBytes {
				l.tooLong = true
				continue
			}
			v.lbuf = append(v.lbuf, phys[1:]...)
		case qp && !l.tooLong && len(v.lbuf) > colon+1 && v.lbuf[len(v.lbuf)-1] == '=':
			// A soft line break: the value goes on in the next line.
			phys, cut, err := v.readPhys()
			if err == io.EOF {
				l.text = v.lbuf
				return l, nil
			}
			if err != nil {
				return logical{}, err
			}
			v.lbuf = v.lbuf[:len(v.lbuf)-1]
			if cut || len(v.lbuf)+len(phys) > MaxFieldBytes {
				l.tooLong = true
				continue
			}
			v.lbuf = append(v.lbuf, phys...)
		default:
			l.text = v.lbuf
			return l, nil
		}
	}
}

// nextIsFolded reports whether the next line continues the current one.
func (v *vcardReader) nextIsFolded() bool {
	b, err := v.br.Peek(1)
	return err == nil && (b[0] == ' ' || b[0] == '\t')
}

// splitProperty returns the upper-case name (without group) of the property
// on line and the index of the colon that ends its name and parameters; ""
// and -1 if line is not a property.
func splitProperty(line []byte) (string, int) {
	i := 0
	for i < len(line) && (isAlnum(line[i]) || line[i] == '-' || line[i] == '.' || line[i] == '_') {
		i++
	}
	token := line[:i]
	if dot := bytes.LastIndexByte(token, '.'); dot >= 0 {
		token = token[dot+1:]
	}
	if len(token) == 0 || i == len(line) || (line[i] != ':' && line[i] != ';') {
		return "", -1
	}
	name := strings.ToUpper(string(token))
	quoted := false
	for ; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return name, i
			}
		}
	}
	return name, -1
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// begin starts a new card.
func (v *vcardReader) begin() {
	v.card++
	v.in = true
	v.body = v.body[:0]
	v.props = 0
	v.fail = ""
	v.skipBinary = false
}

func (v *vcardReader) rowError(msg string) error { return &RowError{Row: v.card, Msg: msg} }

// Next returns the next card as a Record.
func (v *vcardReader) Next() (*Record, error) {
	for {
		if v.err != nil {
			return nil, v.err
		}
		l, err := v.readLogical()
		if err == io.EOF {
			v.err = io.EOF
			if v.in {
				v.in = false
				if v.fail != "" {
					return nil, v.rowError(v.fail)
				}
				return nil, v.rowError("the card has no END:VCARD")
			}
			return nil, io.EOF
		}
		if err != nil {
			v.err = err
			return nil, err
		}
		t := bytes.TrimSpace(l.text)
		isBegin := bytes.EqualFold(t, []byte("BEGIN:VCARD"))
		isEnd := bytes.EqualFold(t, []byte("END:VCARD"))
		if !v.in {
			switch {
			case isBegin:
				v.begin()
			case isEnd:
				v.card++
				return nil, v.rowError(fmt.Sprintf("END:VCARD on line %d has no BEGIN:VCARD", l.no))
			}
			continue // anything else between cards is ignored
		}
		if isBegin {
			msg := v.fail
			if msg == "" {
				msg = "the card has no END:VCARD"
			}
			card := v.card
			v.begin()
			return nil, &RowError{Row: card, Msg: msg}
		}
		if isEnd {
			v.in = false
			if v.fail != "" {
				return nil, v.rowError(v.fail)
			}
			return v.parse()
		}
		if v.fail != "" {
			continue
		}
		if len(t) == 0 {
			v.skipBinary = false
			continue
		}
		_, colon := splitProperty(l.text)
		if v.skipBinary && colon < 0 && !l.tooLong {
			continue
		}
		v.skipBinary = l.binary
		switch {
		case l.tooLong:
			v.fail = fmt.Sprintf("the property on line %d is longer than %d KiB", l.no, MaxFieldBytes>>10)
		case colon < 0:
			v.fail = fmt.Sprintf("line %d is not a vCard property", l.no)
		case v.props >= MaxCardProperties:
			v.fail = fmt.Sprintf("the card has more than %d properties", MaxCardProperties)
		case len(v.body)+len(l.text)+2 > MaxCardBytes:
			v.fail = fmt.Sprintf("the card is larger than %d MiB", MaxCardBytes>>20)
		default:
			v.props++
			v.body = appendProperty(v.body, l.text, colon)
		}
	}
}

// appendProperty appends a property line for go-vcard, turning vCard 2.1
// parameters without a name ("TEL;CELL:…", "NOTE;QUOTED-PRINTABLE:…"), which
// go-vcard does not read, into named ones ("TYPE=CELL", "ENCODING=…").
func appendProperty(dst, line []byte, colon int) []byte {
	start := bytes.IndexAny(line, ";:")
	params := line[start:colon]
	if len(params) == 0 || !hasBareParam(params) {
		dst = append(dst, line...)
		return append(dst, '\r', '\n')
	}
	dst = append(dst, line[:start]...)
	for p := range bytes.SplitSeq(params[1:], []byte(";")) {
		if len(p) == 0 {
			continue
		}
		dst = append(dst, ';')
		if bytes.IndexByte(p, '=') < 0 {
			switch strings.ToUpper(string(p)) {
			case "QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT":
				dst = append(dst, "ENCODING="...)
			default:
				dst = append(dst, "TYPE="...)
			}
		}
		dst = append(dst, p...)
	}
	dst = append(dst, line[colon:]...)
	return append(dst, '\r', '\n')
}

// hasBareParam reports whether a parameter list (";A=b;C") has a parameter
// without "=". Quoted values are rare where this matters; a list with quotes
// is left alone.
func hasBareParam(params []byte) bool {
	if bytes.IndexByte(params, '"') >= 0 {
		return false
	}
	for p := range bytes.SplitSeq(params[1:], []byte(";")) {
		if len(p) > 0 && bytes.IndexByte(p, '=') < 0 {
			return true
		}
	}
	return false
}

// parse hands the current card to go-vcard and maps it to a Record.
func (v *vcardReader) parse() (*Record, error) {
	text := make([]byte, 0, len(v.body)+26)
	text = append(text, "BEGIN:VCARD\r\n"...)
	text = append(text, v.body...)
	text = append(text, "END:VCARD\r\n"...)
	card, err := vcard.NewDecoder(bytes.NewReader(toUTF8(text))).Decode()
	if err != nil {
		return nil, v.rowError("the card cannot be parsed")
	}
	return cardRecord(card, v.card)
}

// cardRecord maps a card to a Record.
func cardRecord(card vcard.Card, row int) (*Record, error) {
	rec := &Record{Row: row}
	for _, fields := range card {
		for _, f := range fields {
			decodeQP(f)
		}
	}

	// Name.
	if f := card.Preferred(vcard.FieldName); f != nil {
		n := splitStructured(f.Value)
		get := func(i int) string {
			if i < len(n) {
				return n[i]
			}
			return ""
		}
		rec.FamilyName, rec.GivenName = get(0), get(1)
		rec.setExtra("middle_name", get(2))
		rec.setExtra("name_prefix", get(3))
		rec.setExtra("name_suffix", get(4))
	}
	if f := card.Preferred(vcard.FieldOrganization); f != nil {
		org := splitStructured(f.Value)
		if len(org) > 0 {
			rec.Organization = org[0]
			var units []string
			for _, u := range org[1:] {
				if u != "" {
					units = append(units, u)
				}
			}
			rec.setExtra("department", strings.Join(units, ", "))
		}
	}
	if fn := textValue(card.PreferredValue(vcard.FieldFormattedName)); fn != "" {
		if rec.GivenName == "" && rec.FamilyName == "" && fn != rec.Organization && card.Kind() == vcard.KindIndividual {
			rec.GivenName, rec.FamilyName = splitFullName(fn)
		}
		if fn != strings.TrimSpace(rec.GivenName+" "+rec.FamilyName) {
			rec.setExtra("vcard.FN", fn)
		}
	}

	for _, f := range card[vcard.FieldEmail] {
		e := textValue(f.Value)
		if len(e) > 7 && strings.EqualFold(e[:7], "mailto:") {
			e = e[7:]
		}
		if e == "" {
			continue
		}
		if !isEmail(e) {
			return nil, &RowError{Row: row, Msg: "an EMAIL property is not an e-mail address"}
		}
		rec.Emails = append(rec.Emails, e)
	}
	for _, f := range card[vcard.FieldTelephone] {
		t := textValue(f.Value)
		if len(t) > 4 && strings.EqualFold(t[:4], "tel:") {
			t = strings.TrimSpace(t[4:])
		}
		if t != "" {
			rec.Phones = append(rec.Phones, t)
		}
	}
	rec.Position = textValue(card.PreferredValue(vcard.FieldTitle))
	rec.Birthday = textValue(card.PreferredValue(vcard.FieldBirthday))

	if pref := card.Preferred(vcard.FieldURL); pref != nil {
		rec.ProfileURL = textValue(pref.Value)
		for _, f := range card[vcard.FieldURL] {
			u := textValue(f.Value)
			if h, ok := handleFromURL(u, ""); ok {
				rec.addHandle(h)
			}
			if f != pref {
				rec.setExtra("vcard.URL", u)
			}
		}
	}

	if pref := card.Preferred(vcard.FieldAddress); pref != nil {
		for _, f := range card[vcard.FieldAddress] {
			if f != pref {
				rec.setExtra("vcard.ADR", textValue(f.Value))
				continue
			}
			a := splitStructured(f.Value)
			get := func(i int) string {
				if i < len(a) {
					return a[i]
				}
				return ""
			}
			street := get(2)
			if ext := get(1); ext != "" {
				street = strings.TrimSpace(street + ", " + ext)
			}
			if pobox := get(0); pobox != "" && street == "" {
				street = pobox
			}
			addr := Address{Street: street, PostalCode: get(5), City: get(3), Region: get(4), Country: readCountry(get(6))}
			if addr != (Address{}) {
				rec.Address = &addr
			}
		}
	}

	var notes []string
	for _, f := range card[vcard.FieldNote] {
		if n := textValue(f.Value); n != "" {
			notes = append(notes, n)
		}
	}
	rec.Notes = strings.Join(notes, "\n\n")

	for _, f := range card[vcard.FieldNickname] {
		rec.setExtra("nickname", textValue(f.Value))
	}
	if card.Value(vcard.FieldPhoto) != "" {
		rec.setExtra("photo", "present")
	}

	for _, f := range card["X-SOCIALPROFILE"] {
		if h, ok := socialProfile(f); ok {
			rec.addHandle(h)
		} else {
			rec.setExtra("vcard.X-SOCIALPROFILE", textValue(f.Value))
		}
	}
	for _, f := range card[vcard.FieldIMPP] {
		if h, ok := impp(f); ok {
			rec.addHandle(h)
		} else {
			rec.setExtra("vcard.IMPP", textValue(f.Value))
		}
	}
	for _, hp := range handleProps {
		for _, f := range card[hp.prop] {
			if h, ok := normalizeHandle(hp.network, textValue(f.Value)); ok {
				rec.addHandle(h)
			} else {
				rec.setExtra("vcard."+hp.prop, textValue(f.Value))
			}
		}
	}

	for prop, fields := range card {
		if knownProps[prop] {
			continue
		}
		for _, f := range fields {
			rec.setExtra("vcard."+prop, textValue(f.Value))
		}
	}
	return rec, nil
}

// knownProps are mapped to Record fields, or dropped (VERSION and the like).
var knownProps = map[string]bool{
	"BEGIN": true, "END": true, "VERSION": true, "PRODID": true, "REV": true,
	vcard.FieldName: true, vcard.FieldFormattedName: true, vcard.FieldEmail: true,
	vcard.FieldTelephone: true, vcard.FieldOrganization: true, vcard.FieldTitle: true,
	vcard.FieldURL: true, vcard.FieldBirthday: true, vcard.FieldAddress: true,
	vcard.FieldNote: true, vcard.FieldNickname: true, vcard.FieldPhoto: true,
	"X-SOCIALPROFILE": true, vcard.FieldIMPP: true,
	"X-TWITTER": true, "X-MASTODON": true, "X-JABBER": true, "X-SKYPE": true, "X-SKYPE-USERNAME": true,
}

// handleProps are older vendor properties that hold one network's handle.
var handleProps = []struct{ prop, network string }{
	{"X-TWITTER", "twitter"},
	{"X-MASTODON", "mastodon"},
	{"X-JABBER", "xmpp"},
	{"X-SKYPE", "skype"},
	{"X-SKYPE-USERNAME", "skype"},
}

// socialProfile reads an X-SOCIALPROFILE property (Apple, XING and others):
// "X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/…", possibly
// with the user name in an X-USER parameter.
func socialProfile(f *vcard.Field) (Handle, bool) {
	network := ""
	for _, t := range f.Params.Types() {
		if n := networkName(t); n != "" {
			network = n
			break
		}
	}
	value := textValue(f.Value)
	if h, ok := handleFromURL(value, network); ok && (network == "" || h.Network == network) {
		return h, true
	}
	if network == "" {
		return Handle{}, false
	}
	if user := f.Params.Get("X-USER"); user != "" {
		if h, ok := normalizeHandle(network, user); ok {
			return h, true
		}
	}
	return normalizeHandle(network, value)
}

// impp reads an IMPP property: "IMPP;X-SERVICE-TYPE=Skype:skype:jane".
func impp(f *vcard.Field) (Handle, bool) {
	value := textValue(f.Value)
	network := networkName(f.Params.Get("X-SERVICE-TYPE"))
	if scheme, _, ok := strings.Cut(value, ":"); ok && network == "" {
		network = networkName(scheme)
	}
	if network == "" {
		for _, t := range f.Params.Types() {
			if network = networkName(t); network != "" {
				break
			}
		}
	}
	if network == "" {
		return Handle{}, false
	}
	return normalizeHandle(network, value)
}

// decodeQP decodes a vCard 2.1 quoted-printable value in place.
func decodeQP(f *vcard.Field) {
	if !strings.EqualFold(f.Params.Get("ENCODING"), "QUOTED-PRINTABLE") {
		return
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(f.Value)))
	if err != nil && len(b) == 0 {
		return
	}
	f.Value = string(toUTF8(b))
}

// textUnescaper undoes the vCard escapes go-vcard leaves alone.
var textUnescaper = strings.NewReplacer(`\;`, ";", `\:`, ":", `\N`, "\n")

// textValue returns a vCard text value, unescaped and trimmed.
func textValue(s string) string {
	if strings.IndexByte(s, '\\') >= 0 {
		s = textUnescaper.Replace(s)
	}
	return strings.TrimSpace(s)
}

// splitStructured splits a structured value (N, ADR, ORG) at the semicolons
// that are not escaped, and unescapes and trims the components.
func splitStructured(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ';':
			out = append(out, textValue(s[start:i]))
			start = i + 1
		}
	}
	return append(out, textValue(s[start:]))
}

// splitFullName splits a formatted name into given and family name, for
// cards without N: "Jane Q. Doe" and "Doe, Jane Q." both give "Jane Q." and
// "Doe"; a single word is taken as the given name.
func splitFullName(fn string) (given, family string) {
	if f, g, ok := strings.Cut(fn, ","); ok {
		return strings.TrimSpace(g), strings.TrimSpace(f)
	}
	words := strings.Fields(fn)
	if len(words) == 1 {
		return words[0], ""
	}
	return strings.Join(words[:len(words)-1], " "), words[len(words)-1]
}
