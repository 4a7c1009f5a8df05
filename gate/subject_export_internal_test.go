package gate

import "testing"

// TestSubjectExportDocumentHasEveryTextInBothLanguages: a label missing in
// one language would print as empty in the person's document.
func TestSubjectExportDocumentHasEveryTextInBothLanguages(t *testing.T) {
	de, en := subjectExportLabels["de"], subjectExportLabels["en"]
	for k, v := range de {
		if en[k] == "" || v == "" {
			t.Errorf("label %q: de %q, en %q", k, v, en[k])
		}
	}
	for k := range en {
		if de[k] == "" {
			t.Errorf("label %q has no German text", k)
		}
	}
}
