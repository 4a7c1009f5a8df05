package tresor

import (
	"context"
	"io"
	"time"
)

// Notice is the information duty of Art. 14 GDPR: a person whose data was
// not collected from them (an import, a social network) must be told who
// holds it, for what, on which basis, from which source and what their
// rights are — within a month, or at the first contact if that is earlier.
type Notice struct {
	ID        string     `json:"id"`
	ContactID string     `json:"contact_id"`
	Source    string     `json:"source"`  // the format the data came in: linkedin, vcard, mastodon-following, csv, connector
	Network   string     `json:"network"` // the social network, if any
	ImportID  string     `json:"import_id,omitempty"`
	Purpose   string     `json:"purpose"`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     time.Time  `json:"due_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Channel   string     `json:"channel,omitempty"` // how it was sent: email
}

// NoticeQuery selects notices.
type NoticeQuery struct {
	Open      bool      // not sent yet
	DueBefore time.Time // due before this time (zero: any)
	ContactID string
	Page
}

// ImportReport says what an import accepted and dropped, and why. Its
// examples name rows and rules, never the data.
type ImportReport struct {
	ID         string           `json:"id"`
	Format     string           `json:"format"`
	Network    string           `json:"network,omitempty"`
	Purpose    string           `json:"purpose"`
	DryRun     bool             `json:"dry_run"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Rows       int              `json:"rows"`
	Created    int              `json:"created"`
	Duplicates int              `json:"duplicates"`
	Refused    map[string]int   `json:"refused"`        // whole rows, by reason ("malformed" counts Errors)
	Dropped    map[string]int   `json:"dropped_fields"` // fields removed from accepted rows, by reason
	Errors     []ImportRowError `json:"errors"`         // malformed rows (skipped), the first 1,000
	Examples   []string         `json:"examples"`       // "row 12: e-mail visible to connections only (R9)"; the first 25
	// Explained groups the rows of the report by what happened to them:
	// one entry per reason and explanation, its rows as ranges ("rows
	// 2–51, 60: a birthday is private and is not stored"). It covers every
	// row that Refused, Dropped and Errors count.
	Explained []ImportExplained `json:"explained"`
	Notices   int               `json:"notices"` // Art. 14 duties created
}

// ImportExplained is one explanation of a report and the rows it applies to.
type ImportExplained struct {
	Reason  string `json:"reason"`  // as the keys of Refused and Dropped: "private:contact.birthday", "invalid:postal_country", "malformed"
	Refused bool   `json:"refused"` // the rows were refused (else a field of them was dropped)
	Message string `json:"message"` // the gate's explanation, in English
	Count   int    `json:"count"`   // how many times it applied
	// Rows are the rows it applied to, ascending, as ranges; the first
	// MaxImportRanges of them (Count counts them all).
	Rows []ImportRowRange `json:"rows"`
}

// ImportRowRange is the rows From to To, both included.
type ImportRowRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// MaxImportRanges bounds the row ranges of one explanation in a report.
const MaxImportRanges = 100

// AddRow adds a row to the explanation; rows come in ascending order, a
// row already covered is counted but not listed again.
func (x *ImportExplained) AddRow(row int) {
	x.Count++
	if n := len(x.Rows); n > 0 {
		last := &x.Rows[n-1]
		switch {
		case row <= last.To && row >= last.From:
			return
		case row == last.To+1:
			last.To = row
			return
		}
	}
	if len(x.Rows) < MaxImportRanges {
		x.Rows = append(x.Rows, ImportRowRange{From: row, To: row})
	}
}

// ImportRowError is a row that could not be read.
type ImportRowError struct {
	Row int    `json:"row"`
	Msg string `json:"message"`
}

// NoticeService serves the information duties to the data-protection officer.
type NoticeService interface {
	Notices(ctx context.Context, q NoticeQuery) (*List[*Notice], error)
	// SendNotices sends every open notice that is due by the time (zero:
	// all open ones) to people with an e-mail address; it returns how many
	// went and how many need another channel.
	SendNotices(ctx context.Context, due time.Time) (sent, other int, err error)
	// MarkNoticeGiven records a notice given another way (postal, phone, in_person).
	MarkNoticeGiven(ctx context.Context, id, channel string) error
}

// ImportRequest describes a file to import.
type ImportRequest struct {
	Format        string     `json:"format"` // linkedin, vcard, mastodon-following, csv
	LegalBasis    LegalBasis `json:"legal_basis"`
	BalancingNote string     `json:"balancing_note,omitempty"`
	// Network is the social network a vCard or CSV file comes from ("" for
	// the company's own records).
	Network string `json:"network,omitempty"`
	// Mapping is, for csv, the JSON column mapping.
	Mapping string `json:"mapping,omitempty"`
	DryRun  bool   `json:"dry_run,omitempty"`
	// FileName is the name the file had where it came from, kept in the
	// import's history ("" if not known).
	FileName string `json:"file_name,omitempty"`
}

// ImportService imports files through the ingestion gate.
type ImportService interface {
	Import(ctx context.Context, r io.Reader, req ImportRequest) (*ImportReport, error)
	ImportHistory
}
