package sqlstore

import (
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
	"time"
)

//go:embed queries.sql
var queriesSQL string

// queries maps a name to its SQL text. Loading happens at start, so a missing
// or duplicated query stops the program at once rather than at first use.
var queries = mustParseQueries(queriesSQL)

// aliases are the table aliases the *-select queries use; "NAME-get" is derived
// from "NAME-select" for every object listed here.
var aliases = map[string]string{
	"contact": "c", "organization": "o", "interaction": "i", "pipeline": "p", "deal": "d", "case": "k", "user": "u", "token": "t", "campaign": "m",
	"hold": "h", "channel": "h", "post": "p", "grant": "g", "import": "x", "task": "tk", "segment": "s", "breach": "br",
	"request": "rq",
}

func mustParseQueries(text string) map[string]string {
	out := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(body.String())
		}
		body.Reset()
	}
	for _, line := range strings.Split(text, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			if _, dup := out[name]; dup {
				panic("sqlstore: query " + name + " is defined twice")
			}
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	for object, alias := range aliases {
		sel, ok := out[object+"-select"]
		if !ok {
			panic("sqlstore: no query " + object + "-select")
		}
		out[object+"-get"] = fmt.Sprintf("%s WHERE %s.id = $1", sel, alias)
	}
	return out
}

// micros converts a time to the stored form: microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores an optional time.
func nullMicros(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// optTime reads an optional time.
func optTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// nullID stores an optional reference: "" is NULL.
func nullID(s string) any {
	if s == "" {
		return nil
	}
	return s
}
