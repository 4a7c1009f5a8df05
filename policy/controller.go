package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Controller is what the controller declares about itself for the record
// of processing activities (Art. 30(1)(a), (d), (e)) and the information
// texts (Art. 13/14): who it is, its data-protection officer, who receives
// data, and where each connector sends data.
type Controller struct {
	Name, Address, Email, Phone string
	DPO                         Contact
	// DataSubjects describes the people of a purpose, by purpose id; a
	// purpose without an entry gets a text made from its name.
	DataSubjects map[string]Text
	Recipients   []Recipient
	Transfers    []Transfer
}

// Contact is a person or office one can write to.
type Contact struct{ Name, Address, Email, Phone string }

// Text is a text in German and English.
type Text struct{ DE, EN string }

// In returns the text in the language (en or de).
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.DE
}

// Recipient is a category of recipients (Art. 30(1)(d)): an internal
// department, a processor, an authority. Purposes empty: every purpose.
type Recipient struct {
	Text
	Purposes []string
}

// Transfer says where a connector sends data: the country, and for a third
// country (outside the EU/EEA) the safeguard of Chapter V GDPR.
type Transfer struct {
	// Connector is mastodon, bluesky or mail.
	Connector string
	// Endpoint is the server or network (mastodon.social, bsky.social,
	// smtp.example.org); empty: every connector of that kind.
	Endpoint  string
	Country   string // ISO 3166-1 alpha-2
	Safeguard Safeguard
	Note      Text
	// Purposes empty: every purpose that contacts people.
	Purposes []string
}

// Safeguard is the legal ground of a transfer to a third country.
type Safeguard string

// The safeguards of Chapter V GDPR.
const (
	SafeguardAdequacy Safeguard = "adequacy" // Art. 45
	SafeguardSCC      Safeguard = "scc"      // Art. 46(2)(c)
	SafeguardBCR      Safeguard = "bcr"      // Art. 47
	SafeguardArt49    Safeguard = "art49"    // Art. 49(1)
)

// Connectors are the kinds of connector a transfer may name.
var Connectors = []string{"mastodon", "bluesky", "mail"}

// euEEA are the member states of the EU and the other EEA states, as ISO
// 3166-1 codes (Greece is GR, not EL).
var euEEA = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO"}

// ThirdCountry reports whether an ISO country code lies outside the EU/EEA.
func ThirdCountry(country string) bool { return country != "" && !slices.Contains(euEEA, country) }

type fileTextDE struct {
	DE at[string] `yaml:"de"`
	EN string     `yaml:"en"`
}

type fileParty struct {
	Name    at[string] `yaml:"name"`
	Address string     `yaml:"address"`
	Email   at[string] `yaml:"email"`
	Phone   string     `yaml:"phone"`
}

type controllerFile struct {
	Controller fileParty               `yaml:"controller"`
	DPO        fileParty               `yaml:"dpo"`
	Purposes   map[string]fileSubjects `yaml:"purposes"`
	Recipients []fileRecipient         `yaml:"recipients"`
	Transfers  []fileTransfer          `yaml:"transfers"`
}

type fileSubjects struct {
	DataSubjects fileTextDE `yaml:"data_subjects"`
}

type fileRecipient struct {
	DE       at[string] `yaml:"de"`
	EN       string     `yaml:"en"`
	Purposes []string   `yaml:"purposes"`
}

type fileTransfer struct {
	Connector at[string] `yaml:"connector"`
	Endpoint  string     `yaml:"endpoint"`
	Country   string     `yaml:"country"`
	Safeguard string     `yaml:"safeguard"`
	Note      fileTextDE `yaml:"note"`
	Purposes  []string   `yaml:"purposes"`
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// ParseController reads and checks a controller file against the policy
// whose purposes it names. Its errors name the line of each problem.
func ParseController(text []byte, p *Policy) (*Controller, error) {
	var f controllerFile
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{Msg: "the file is empty; it needs at least controller and dpo (see docs/controller.example.yaml)"}}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			es := make(Errors, len(te.Errors))
			for i, m := range te.Errors {
				es[i] = FileError{Msg: m}
			}
			return nil, es
		}
		return nil, Errors{{Msg: err.Error()}}
	}
	var es Errors
	bad := func(line int, format string, args ...any) {
		es = append(es, FileError{line, fmt.Sprintf(format, args...)})
	}
	checkParty := func(what string, fp fileParty) Contact {
		if strings.TrimSpace(fp.Name.V) == "" {
			bad(fp.Name.Line, "%s.name is missing", what)
		}
		if fp.Email.V == "" {
			bad(fp.Email.Line, "%s.email is missing", what)
		} else if a, err := mail.ParseAddress(fp.Email.V); err != nil || a.Address != fp.Email.V {
			bad(fp.Email.Line, "%s.email %q is not an e-mail address", what, fp.Email.V)
		}
		return Contact{Name: fp.Name.V, Address: fp.Address, Email: fp.Email.V, Phone: fp.Phone}
	}
	ctl := checkParty("controller", f.Controller)
	c := &Controller{Name: ctl.Name, Address: ctl.Address, Email: ctl.Email, Phone: ctl.Phone, DataSubjects: map[string]Text{}}
	if c.Address == "" {
		bad(f.Controller.Name.Line, "controller.address is missing (Art. 13(1)(a) GDPR)")
	}
	c.DPO = checkParty("dpo", f.DPO)
	purposes := func(line int, what string, ids []string) {
		for _, id := range ids {
			if _, ok := p.Purpose(id); !ok {
				bad(line, "%s: unknown purpose %q; the purposes are %s", what, id, p.ids())
			}
		}
	}
	for id, s := range f.Purposes {
		line := s.DataSubjects.DE.Line
		if _, ok := p.Purpose(id); !ok {
			bad(line, "purposes: unknown purpose %q; the purposes are %s", id, p.ids())
			continue
		}
		if s.DataSubjects.DE.V == "" || s.DataSubjects.EN == "" {
			bad(line, "purposes.%s.data_subjects needs a German (de) and an English (en) text", id)
			continue
		}
		c.DataSubjects[id] = Text{s.DataSubjects.DE.V, s.DataSubjects.EN}
	}
	for _, r := range f.Recipients {
		if r.DE.V == "" || r.EN == "" {
			bad(r.DE.Line, "recipients: each needs a German (de) and an English (en) text")
		}
		purposes(r.DE.Line, "recipients", r.Purposes)
		c.Recipients = append(c.Recipients, Recipient{Text{r.DE.V, r.EN}, r.Purposes})
	}
	for _, v := range f.Transfers {
		line := v.Connector.Line
		switch {
		case !slices.Contains(Connectors, v.Connector.V):
			bad(line, "transfers: connector %q: use %s", v.Connector.V, strings.Join(Connectors, ", "))
		case !countryCode.MatchString(v.Country):
			bad(line, "transfers: %s %s: country %q is not a two-letter ISO 3166 code such as US or DE", v.Connector.V, v.Endpoint, v.Country)
		case ThirdCountry(v.Country) && !slices.Contains([]Safeguard{SafeguardAdequacy, SafeguardSCC, SafeguardBCR, SafeguardArt49}, Safeguard(v.Safeguard)):
			bad(line, "transfers: %s %s goes to %s outside the EU/EEA and needs a safeguard: adequacy, scc, bcr or art49 (Chapter V GDPR)", v.Connector.V, v.Endpoint, v.Country)
		case !ThirdCountry(v.Country) && v.Safeguard != "":
			bad(line, "transfers: %s %s stays in the EU/EEA (%s), so it needs no safeguard", v.Connector.V, v.Endpoint, v.Country)
		case (v.Note.DE.V == "") != (v.Note.EN == ""):
			bad(line, "transfers: %s %s: the note needs a German (de) and an English (en) text", v.Connector.V, v.Endpoint)
		}
		purposes(line, "transfers", v.Purposes)
		c.Transfers = append(c.Transfers, Transfer{Connector: v.Connector.V, Endpoint: strings.ToLower(v.Endpoint), Country: v.Country,
			Safeguard: Safeguard(v.Safeguard), Note: Text{v.Note.DE.V, v.Note.EN}, Purposes: v.Purposes})
	}
	if len(es) > 0 {
		slices.SortStableFunc(es, func(a, b FileError) int { return a.Line - b.Line })
		return nil, es
	}
	return c, nil
}
