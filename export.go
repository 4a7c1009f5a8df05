package tresor

// The export of contacts for users (issue [2.3]): the current list or a
// selection, as CSV or vCard, with only the fields the declared purpose may
// see. The gate writes it; every export is audited with the ids it holds.

// ExportFormat is the file format of an export.
type ExportFormat string

// The export formats.
const (
	ExportCSV   ExportFormat = "csv"   // UTF-8 with a byte order mark, a header row
	ExportVCard ExportFormat = "vcard" // vCard 4.0 (RFC 6350), one card per contact
)

// ExportFormats lists every export format.
func ExportFormats() []ExportFormat { return []ExportFormat{ExportCSV, ExportVCard} }

// MaxExport is the most contacts one export holds. A larger list is refused
// before anything is written: narrow it (a search, an owner, an organization).
const MaxExport = 10000

// ExportRequest says what to export: a selection of contacts by id, or,
// without ids, the list Filter describes (its Query searches; its Page is
// ignored: the whole list is exported, up to MaxExport).
type ExportRequest struct {
	IDs    []string
	Filter ContactFilter
	Format ExportFormat
	// Separator of CSV cells: ',' (the default) or ';' for a German Excel.
	Separator rune
}

// ExportResult says what an export held.
type ExportResult struct {
	Format ExportFormat
	// IDs are the contacts exported, in the order of the file.
	IDs []string
	// Withheld are the categories the purpose may not see: their columns
	// (or vCard properties) are left out.
	Withheld []Category
	// Left out of a selection: contacts that do not exist, that the purpose
	// may not see (restricted, archived, objected), or whose stored record
	// is damaged.
	Skipped int
}

// ContentType is the media type of the format.
func (f ExportFormat) ContentType() string {
	if f == ExportVCard {
		return "text/vcard; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

// Extension is the file name extension of the format.
func (f ExportFormat) Extension() string {
	if f == ExportVCard {
		return "vcf"
	}
	return "csv"
}
