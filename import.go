package tresor

import (
	"context"
	"io"
	"time"
)

// ImportState is where an import stands.
type ImportState string

const (
	// ImportRunning: the file is being read and stored.
	ImportRunning ImportState = "running"
	// ImportDone: every row was read; what the rules let in is stored.
	ImportDone ImportState = "done"
	// ImportFailed: the import stopped on an error; the batches stored
	// before it stay (running it again stores the rest, without duplicates).
	ImportFailed ImportState = "failed"
	// ImportInterrupted: the server stopped during the import (a shutdown
	// rolls the batch under way back), or the import has not moved for so
	// long that no server can be running it any more.
	ImportInterrupted ImportState = "interrupted"
)

// ImportRecord is the history entry of a real import (a dry run stores
// nothing, not even this): who imported which file under which purpose and
// legal basis, and what came of it. It names no person of the file.
type ImportRecord struct {
	ID         string      `json:"id"`
	Format     string      `json:"format"`
	Network    string      `json:"network,omitempty"`
	Purpose    string      `json:"purpose"`
	LegalBasis LegalBasis  `json:"legal_basis"`
	FileName   string      `json:"file_name,omitempty"`  // as the browser sent it; "" over the API
	Actor      string      `json:"actor"`                // "user:ID", "token:ID", "system"
	ActorName  string      `json:"actor_name,omitempty"` // the user's sign-in address, for showing who
	State      ImportState `json:"state"`
	Error      Code        `json:"error,omitempty"` // the code the import failed with
	Rows       int         `json:"rows"`
	Created    int         `json:"created"`
	Duplicates int         `json:"duplicates"`
	Refused    int         `json:"refused"` // whole rows refused, every reason
	// RefusedBy and Dropped count by reason, as the report does.
	RefusedBy  map[string]int `json:"refused_by"`
	Dropped    map[string]int `json:"dropped_fields"`
	StartedAt  time.Time      `json:"started_at"`
	UpdatedAt  time.Time      `json:"updated_at"` // the last batch stored, or the end
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	// Progress is how far a running import has read its file, while this
	// server runs it; nil otherwise.
	Progress *ImportProgress `json:"progress,omitempty"`
}

// ImportProgress is how far a running import has read its file.
type ImportProgress struct {
	Rows  int   `json:"rows"`  // rows read so far
	Read  int64 `json:"read"`  // bytes of the file read so far
	Bytes int64 `json:"bytes"` // the file's size (0 if not known)
}

// Percent is how much of the file was read, 0 to 100 (0 if the size is
// not known).
func (p *ImportProgress) Percent() int {
	if p == nil || p.Bytes <= 0 {
		return 0
	}
	return int(min(100, p.Read*100/p.Bytes))
}

// ImportQuery selects import records, newest first (Page.After is an id).
type ImportQuery struct {
	Purpose string // "" for every purpose
	Page
}

// ImportHistory lists and follows imports.
type ImportHistory interface {
	// Imports lists the import records the caller's purpose may see,
	// newest first.
	Imports(ctx context.Context, q ImportQuery) (*List[*ImportRecord], error)
	// ImportRecord returns one import record, with its progress while it runs.
	ImportRecord(ctx context.Context, id string) (*ImportRecord, error)
	// StartImport checks the request and the file's beginning, records the
	// import as running and runs it in the background; size is the file's
	// length in bytes (0 if not known), for the progress. The gate closes
	// r when the import ends, or at once if it refuses to start it.
	StartImport(ctx context.Context, r io.ReadCloser, size int64, req ImportRequest) (*ImportRecord, error)
}
