package importer

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// csvScanner splits a CSV stream into rows, within the package limits.
//
// It keeps the current row's bytes in its own buffer (at most MaxRowBytes and
// a little), so that a row whose quoted field never closes can be given up and
// reading resumed on the line after the row's first one, and so that the
// header row can be read again with another delimiter.
type csvScanner struct {
	r     io.Reader
	buf   []byte
	pos   int // start of the unread bytes (during a scan: of the row)
	end   int // end of the buffered bytes
	eof   bool
	err   error // a read error other than io.EOF; sticky
	line  int   // line number of buf[pos]
	delim byte

	// The last row scanned.
	row      int    // line it started on
	fieldBuf []byte // its fields, one after the other
	ends     []int  // end of each field in fieldBuf

	// Where the last row started, for unread; valid only right after a scan
	// that returned a whole row.
	prevPos, prevLine int
	prevOK            bool
}

const (
	scanBufStart = 64 << 10
	scanBufMax   = MaxRowBytes + 64
)

func newCSVScanner(r io.Reader) *csvScanner {
	return &csvScanner{r: r, line: 1, delim: ','}
}

// more reads more bytes into the buffer, keeping buf[pos:end]. It reports
// false at the end of the input, after a read error, or if the buffer is at
// its limit (which the callers never let happen).
func (s *csvScanner) more() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.end == len(s.buf) {
		if s.pos > 0 {
			n := copy(s.buf, s.buf[s.pos:s.end])
			s.prevOK = false
			s.end, s.pos = n, 0
		}
		if s.end == len(s.buf) {
			if len(s.buf) >= scanBufMax {
				return false
			}
			size := max(scanBufStart, 2*len(s.buf))
			size = min(size, scanBufMax)
			nb := make([]byte, size)
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// at returns the byte at offset off from pos, reading more if need be.
func (s *csvScanner) at(off int) (byte, bool) {
	for s.pos+off >= s.end {
		if !s.more() {
			return 0, false
		}
	}
	return s.buf[s.pos+off], true
}

// endErr is what a scan returns when the input has no more rows.
func (s *csvScanner) endErr() error {
	if s.err != nil {
		return s.err
	}
	return io.EOF
}

// unread puts the last row back, to be scanned again (with another delimiter).
func (s *csvScanner) unread() bool {
	if !s.prevOK {
		return false
	}
	s.pos, s.line, s.prevOK = s.prevPos, s.prevLine, false
	return true
}

// nfields is the number of fields of the last row.
func (s *csvScanner) nfields() int { return len(s.ends) }

// fields returns the fields of the last row as text, into dst. The row is
// read as UTF-8 if it is valid UTF-8, else as Windows-1252.
func (s *csvScanner) fields(dst []string) []string {
	dst = dst[:0]
	start := 0
	if utf8.Valid(s.fieldBuf) {
		// One string for the whole row, the fields are slices of it.
		row := string(s.fieldBuf)
		for _, end := range s.ends {
			dst = append(dst, row[start:end])
			start = end
		}
		return dst
	}
	for _, end := range s.ends {
		dst = append(dst, decodeText(s.fieldBuf[start:end], false))
		start = end
	}
	return dst
}

// scan reads the next row. It returns io.EOF (or the read error) when there
// is none. If the row breaks a limit, or a quoted field does not close, it
// returns a message saying so (for a RowError at s.row), and the scanner is
// ready for the following row.
func (s *csvScanner) scan() (string, error) {
	s.prevOK = false
	// Skip blank lines.
	for {
		c, ok := s.at(0)
		if !ok {
			return "", s.endErr()
		}
		if c != '\n' && c != '\r' {
			break
		}
		s.pos++
		s.line++
		if c == '\r' {
			if c2, ok := s.at(0); ok && c2 == '\n' {
				s.pos++
			}
		}
	}
	s.row = s.line
	s.fieldBuf = s.fieldBuf[:0]
	s.ends = s.ends[:0]
	var (
		off      int    // offset of the next byte from the row's start (s.pos)
		lines    = 1    // lines the row spans so far
		firstEOL = -1   // offset just after the end of the row's first line
		fail     string // a limit this row breaks; the row is read to its end, then reported
		fstart   int    // start of the current field in fieldBuf
	)
	add := func(b []byte) {
		if fail != "" {
			return
		}
		if len(s.fieldBuf)-fstart+len(b) > MaxFieldBytes {
			fail = fmt.Sprintf("a field is longer than %d KiB", MaxFieldBytes>>10)
			return
		}
		s.fieldBuf = append(s.fieldBuf, b...)
	}
	delim := s.delim

	for {
		fstart = len(s.fieldBuf)
		closed := -1 // offset after the closing quote of a quoted field
		if c, ok := s.at(off); ok && c == '"' {
			// A quoted field.
			off++
		quoted:
			for {
				i := s.pos + off
				for i < s.end {
					if c := s.buf[i]; c == '"' || c == '\n' || c == '\r' {
						break
					}
					i++
				}
				add(s.buf[s.pos+off : i])
				off = i - s.pos
				if off > MaxRowBytes {
					return s.giveUp(off, lines, firstEOL, fmt.Sprintf("the row is longer than %d MiB, or a quoted field is not closed", MaxRowBytes>>20))
				}
				if i == s.end {
					if s.more() {
						continue
					}
					if s.err != nil {
						return "", s.err
					}
					return s.giveUp(off, lines, firstEOL, "a quoted field is not closed")
				}
				switch s.buf[i] {
				case '"':
					if c, ok := s.at(off + 1); ok && c == '"' {
						add([]byte{'"'})
						off += 2
						continue
					}
					off++
					closed = off
					break quoted
				case '\r':
					off++
					if c, ok := s.at(off); ok && c == '\n' {
						off++
					}
				case '\n':
					off++
				}
				// A line break inside the quotes.
				if firstEOL < 0 {
					firstEOL = off
				}
				lines++
				if lines > MaxRowLines {
					return s.giveUp(off, lines, firstEOL, fmt.Sprintf("a quoted field is not closed within %d lines", MaxRowLines))
				}
				add([]byte{'\n'})
			}
		}
		// An unquoted field, or what follows the closing quote of a quoted
		// one: spaces, or text, which means the quotes are broken.
		for {
			i := s.pos + off
			for i < s.end {
				if c := s.buf[i]; c == delim || c == '\n' || c == '\r' {
					break
				}
				i++
			}
			add(s.buf[s.pos+off : i])
			off = i - s.pos
			if off > MaxRowBytes {
				return s.giveUp(off, lines, firstEOL, fmt.Sprintf("the row is longer than %d MiB", MaxRowBytes>>20))
			}
			if i < s.end || !s.more() {
				break
			}
		}
		if s.err != nil {
			return "", s.err
		}
		if closed >= 0 && len(bytes.TrimSpace(s.buf[s.pos+closed:s.pos+off])) > 0 {
			if lines > 1 {
				// Most likely a quote that does not close, "closed" by one
				// on a later row.
				return s.giveUp(off, lines, firstEOL, "a quoted field is not closed")
			}
			if fail == "" {
				fail = "a quoted field has text after its closing quote"
			}
		}
		if fail == "" {
			s.ends = append(s.ends, len(s.fieldBuf))
			if len(s.ends) > MaxFields {
				fail = fmt.Sprintf("the row has more than %d fields", MaxFields)
			}
		}
		c, ok := s.at(off)
		if !ok {
			break // the end of the input ends the row
		}
		off++
		if c == delim {
			continue
		}
		if c == '\r' {
			if c2, ok := s.at(off); ok && c2 == '\n' {
				off++
			}
		}
		break
	}
	if s.err != nil {
		return "", s.err
	}
	s.prevPos, s.prevLine, s.prevOK = s.pos, s.line, fail == ""
	s.pos += off
	s.line += lines
	return fail, nil
}

// giveUp abandons the row being scanned, which broke a limit at offset off,
// and returns msg. A row still on its first line is skipped to the end of that
// line; a row that a quoted field made span several lines is taken to be
// broken at its first line, and reading resumes on its second.
func (s *csvScanner) giveUp(off, lines, firstEOL int, msg string) (string, error) {
	if lines > 1 {
		s.pos += firstEOL
		s.line++
		return msg, nil
	}
	s.pos += off
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			s.pos++
			if c == '\n' {
				s.line++
				return msg, nil
			}
			if c == '\r' {
				s.line++
				if c2, ok := s.at(0); ok && c2 == '\n' {
					s.pos++
				}
				return msg, nil
			}
		}
		if !s.more() {
			if s.err != nil {
				return "", s.err
			}
			return msg, nil
		}
	}
}

// detectDelimiter reads the next row with each candidate delimiter and keeps
// the one that splits it into the most fields (comma on a tie). The row is
// left unread. It returns io.EOF if there is no row, and an error if the row
// breaks a limit.
func (s *csvScanner) detectDelimiter() error {
	best, most := byte(','), 0
	for _, d := range []byte{',', ';', '\t'} {
		s.delim = d
		fail, err := s.scan()
		if err != nil {
			return err
		}
		if fail != "" {
			return fmt.Errorf("line %d: %s", s.row, fail)
		}
		if n := s.nfields(); n > most {
			best, most = d, n
		}
		s.unread()
	}
	s.delim = best
	return nil
}
