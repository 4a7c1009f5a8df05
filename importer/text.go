package importer

import (
	"bytes"
	"io"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// unmark strips a byte order mark from the start of r: a UTF-8 one is dropped,
// a UTF-16 one makes the rest be decoded from UTF-16 to UTF-8.
func unmark(r io.Reader) (io.Reader, error) {
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	b := head[:n]
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return r, nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		// The decoder reads the byte order mark itself.
		rest := io.MultiReader(bytes.NewReader(bytes.Clone(b)), r)
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(rest, dec), nil
	}
	return io.MultiReader(bytes.NewReader(bytes.Clone(b)), r), nil
}

// decodeText returns b as a string: as is if it is valid UTF-8 (the caller
// says so in utf8ok), else decoded from Windows-1252.
func decodeText(b []byte, utf8ok bool) string {
	if utf8ok {
		return string(b)
	}
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(charmap.Windows1252.DecodeByte(c))
		}
	}
	return sb.String()
}

// toUTF8 returns b if it is valid UTF-8, else b decoded from Windows-1252.
func toUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return []byte(decodeText(b, false))
}

// isEmail reports whether s is a bare e-mail address (no display name).
func isEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;") {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == ""
}

// splitMulti splits a cell that holds several values the way Google Contacts
// writes them ("a ::: b"), trimming each and dropping empty ones.
func splitMulti(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ":::") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// setExtra records an extra field, joining repeated ones with a newline.
func (r *Record) setExtra(key, value string) {
	if value == "" {
		return
	}
	if r.Extra == nil {
		r.Extra = map[string]string{}
	}
	if old, ok := r.Extra[key]; ok && old != value {
		value = old + "\n" + value
	}
	r.Extra[key] = value
}

// addHandle adds h unless the record has it already.
func (r *Record) addHandle(h Handle) {
	for _, o := range r.Handles {
		if o == h {
			return
		}
	}
	r.Handles = append(r.Handles, h)
}
