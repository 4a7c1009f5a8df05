package gate

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestVCardTextEscapes: the escapes of RFC 6350 §3.4, one case per rule;
// line breaks (which the contact forms refuse, but an export must not trust
// that) become \n and never end the property.
func TestVCardTextEscapes(t *testing.T) {
	for _, tc := range []struct{ rule, in, want string }{
		{"a comma is escaped", "Müller, Söhne", `Müller\, Söhne`},
		{"a semicolon is escaped", "A;B", `A\;B`},
		{"a backslash is escaped", `C:\dir`, `C:\\dir`},
		{"a line feed becomes \\n", "eins\nzwei", `eins\nzwei`},
		{"a CRLF becomes one \\n", "eins\r\nzwei", `eins\nzwei`},
		{"a lone carriage return becomes \\n", "eins\rzwei", `eins\nzwei`},
		{"other control characters are dropped", "a\x00b\x1bc\td", "abcd"},
		{"a formula stays text", `=HYPERLINK("x")`, `=HYPERLINK("x")`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			if got := vcardText(tc.in); got != tc.want {
				t.Fatalf("vcardText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestVCardFolds: lines of at most 75 octets, continuations after a space,
// no character split, and unfolding gives the line back.
func TestVCardFolds(t *testing.T) {
	for _, tc := range []struct{ rule, line string }{
		{"a short line is not folded", "FN:Erika Mustermann"},
		{"an ASCII line is folded at 75 octets", "NOTE:" + strings.Repeat("x", 300)},
		{"a line of two-octet characters is never split inside one", "TITLE:" + strings.Repeat("ä", 200)},
		{"a line of four-octet characters is never split inside one", "FN:" + strings.Repeat("😀", 90)},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			vcardFold(w, tc.line)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.HasSuffix(out, "\r\n") {
				t.Fatalf("the line does not end with CRLF: %q", out)
			}
			for i, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
				if len(l) > vcardMaxLine || !utf8.ValidString(l) || (i > 0 && !strings.HasPrefix(l, " ")) {
					t.Errorf("line %d is %d octets, valid UTF-8 %v: %q", i, len(l), utf8.ValidString(l), l)
				}
			}
			if got := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""); got != tc.line {
				t.Errorf("unfolded %q, want %q", got, tc.line)
			}
		})
	}
}
