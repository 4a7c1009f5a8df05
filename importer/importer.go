// Package importer parses contact files into neutral records for Tresor's
// ingestion gate. It decides nothing about what is kept: it reads what a file
// holds, reports rows it cannot read, and leaves every judgement (consent,
// which fields to store, screening free text) to the gate.
//
// # Formats
//
//   - [LinkedIn]: LinkedIn's Connections.csv export. The preamble LinkedIn puts
//     before the header ("Notes:", a paragraph, a blank line) is skipped; the
//     header row is found by its column names (First Name, Last Name, URL,
//     Email Address, Company, Position, Connected On), in any order.
//   - [VCard]: vCard 3.0 and 4.0 files (2.1 mostly works too) with any number
//     of cards, parsed with github.com/emersion/go-vcard.
//   - [MastodonFollowing]: Mastodon's following_accounts.csv, with the header
//     "Account address,Show boosts,Notify on new posts,Languages" or in the old
//     form of one account per line without a header.
//   - [CSV]: any CSV file whose header row names the columns, read through a
//     [Mapping].
//
// # Encodings and dialects
//
// CSV files may be UTF-8 with or without a byte order mark, UTF-16 with a byte
// order mark, or Windows-1252. The choice between UTF-8 and Windows-1252 is
// made row by row (card by card for vCard): a row whose bytes are valid UTF-8
// is read as UTF-8, any other row as Windows-1252. This keeps reading in one
// pass; a real Windows-1252 text is practically never valid UTF-8. The
// delimiter (comma, semicolon or tab) is detected from the header row. Fields
// may be quoted, with "" for a quote and line breaks inside quotes; lines may
// end in CRLF, LF or CR. Blank lines and rows whose fields are all empty are
// skipped.
//
// # Limits
//
// Files are read as a stream, a row or card at a time, so their size does not
// matter. Hostile rows cannot exhaust memory: a field may hold at most
// [MaxFieldBytes], a row [MaxRowBytes] and [MaxFields] fields, a quoted field
// may span at most [MaxRowLines] lines, and a vCard may hold at most
// [MaxCardBytes] in at most [MaxCardProperties] properties, each property at
// most [MaxFieldBytes]. The limits count bytes of the file; decoding
// Windows-1252 to UTF-8 can make the text up to three times longer. Binary
// vCard properties (PHOTO, LOGO, SOUND, KEY) are never read into memory: they
// are only noted as present, and do not count against the limits. A row or
// card over a limit is reported as a [*RowError], and reading goes on after it.
package importer

import (
	"errors"
	"fmt"
	"io"
)

// Format names a kind of contact file.
type Format string

// The formats Open reads.
const (
	LinkedIn          Format = "linkedin"           // LinkedIn's Connections.csv
	VCard             Format = "vcard"              // vCard 3.0 / 4.0, several cards per file
	MastodonFollowing Format = "mastodon-following" // Mastodon's following_accounts.csv
	CSV               Format = "csv"                // any CSV with a header row, read through a Mapping
)

// Limits on what one row or card may hold. They count bytes of the file.
const (
	MaxFieldBytes     = 64 << 10 // one CSV field or one (unfolded) vCard property
	MaxRowBytes       = 1 << 20  // one CSV row, quotes and line breaks included
	MaxFields         = 1024     // fields in one CSV row
	MaxRowLines       = 256      // lines one CSV row may span through quoted line breaks
	MaxCardBytes      = 1 << 20  // one vCard, binary properties excluded
	MaxCardProperties = 1024     // properties in one vCard
)

// Record is one contact as found in a file, in no particular format. Empty
// strings and nil slices mean the file did not say.
type Record struct {
	Row int // 1-based line (CSV: the row's first line) or card number (vCard) in the file, for error reports

	GivenName, FamilyName string
	Emails, Phones        []string // as found, trimmed; e-mail addresses are checked to be addresses
	Organization          string
	Position              string
	ProfileURL            string   // e.g. the LinkedIn profile URL, or a vCard's (preferred) URL
	Handles               []Handle // social handles, see Handle
	Birthday              string   // as found (vCard BDAY, a mapped column): the gate decides whether to keep it
	Address               *Address // nil if the file gave none
	Notes                 string   // free text (vCard NOTE, a mapped column): the gate screens it
	ConnectedOn           string   // LinkedIn "Connected On", as 2006-01-02 when it parses, else as found

	// Extra holds other fields found, by a stable name: "nickname",
	// "photo" ("present", never the data), "middle_name", "name_prefix",
	// "name_suffix", "department", "mastodon.show_boosts",
	// "mastodon.notify", "mastodon.languages", and "vcard.<PROPERTY>" for any
	// other vCard property (several values joined by newlines; binary ones as
	// "present"). Nil if there are none.
	Extra map[string]string
}

// Handle is an account on a social network.
//
// Network is lower case: "mastodon", "bluesky", "linkedin", "xing", "twitter"
// (also for x.com), "github", "instagram", "facebook", "threads", "telegram",
// "xmpp", "skype", or, from a Mapping, whatever network the mapping names.
// Handle is the account without URL: "@user@instance" for Mastodon (instance
// in lower case), the profile name for LinkedIn ("jane-doe-12345", from
// linkedin.com/in/jane-doe-12345) and XING ("Jane_Doe"), the handle without
// "@" for Bluesky ("jane.bsky.social"), Twitter, GitHub, Instagram and the
// like, and the address for XMPP ("jane@example.org").
type Handle struct{ Network, Handle string }

// Address is a postal address. Country is the ISO 3166-1 alpha-2 code
// where the file names a country CountryCode knows ("Deutschland" is DE),
// else the text as found.
type Address struct{ Street, PostalCode, City, Region, Country string }

// RowError reports a row (CSV) or card (vCard) that could not be read. Reading
// goes on with the next one. Msg says what is wrong and never quotes the
// row's content.
type RowError struct {
	Row int // as Record.Row
	Msg string
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Msg) }

// Reader yields the records of a file.
//
// Next returns the next record, or io.EOF at the end of the file, or a
// *RowError for a row or card that could not be read, after which the next
// call goes on with the following one. Any other error (from the underlying
// io.Reader) ends the reading: Next returns it again on every later call.
type Reader interface {
	Next() (*Record, error)
}

// Options configure Open.
type Options struct {
	// Mapping says which column is which field. Required for CSV, ignored
	// otherwise.
	Mapping *Mapping
	// Network is, for MastodonFollowing, the domain of the instance the file
	// was exported from ("mastodon.social"). Mastodon exports accounts of that
	// instance without a domain; without Network such rows are reported as
	// RowErrors.
	Network string
}

// Open starts reading a file of the given format from r. It reads the header
// (and for LinkedIn the preamble before it) right away, so that a file of the
// wrong kind, or a mapping naming columns the file lacks, is an error here
// rather than one RowError per row. r is read as a stream; it is not closed.
func Open(format Format, r io.Reader, opt Options) (Reader, error) {
	switch format {
	case LinkedIn:
		return openLinkedIn(r)
	case VCard:
		return openVCard(r)
	case MastodonFollowing:
		return openMastodon(r, opt.Network)
	case CSV:
		if opt.Mapping == nil {
			return nil, errors.New("importer: the csv format needs a mapping")
		}
		return openCSV(r, opt.Mapping)
	}
	return nil, fmt.Errorf("importer: unknown format %q", string(format))
}
