package gate

import (
	"encoding/csv"
	"io"
	"strings"
)

// csvWriter writes CSV that a spreadsheet opens as text. Every CSV Tresor
// writes goes through it: a cell that begins with =, +, -, @, a tab or a
// carriage return is a formula to Excel, LibreOffice and Google Sheets (a
// given name such as =HYPERLINK(…) would run when the file is opened), so it
// gets a leading single quote, OWASP's rule. A phone number +49 … stays
// readable as '+49 ….
type csvWriter struct{ w *csv.Writer }

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

// newCSVWriterSep is newCSVWriter with another separator than the comma
// (';' for a German Excel).
func newCSVWriterSep(w io.Writer, sep rune) *csvWriter {
	cw := csv.NewWriter(w)
	cw.Comma = sep
	return &csvWriter{w: cw}
}

// Write writes one row, each cell escaped.
func (c *csvWriter) Write(row []string) error {
	out := make([]string, len(row))
	for i, cell := range row {
		out[i] = csvCell(cell)
	}
	return c.w.Write(out)
}

// Flush writes what is buffered and returns the first error of any write.
func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// csvCell escapes a cell a spreadsheet would take for a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
