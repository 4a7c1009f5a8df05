package policy_test

import (
	"strings"
	"testing"

	"tresor"
	"tresor/policy"
)

// TestScreenText holds the rules for text typed by hand that reveals a
// special category (issue [2.4] §4).
func TestScreenText(t *testing.T) {
	plain := &policy.Purpose{ID: "sales", Categories: []tresor.Category{tresor.CatInteraction}}
	care := &policy.Purpose{ID: "care", Categories: []tresor.Category{tresor.CatInteraction, tresor.CatHealth}, Art9Exception: "h"}
	code := func(err error) string {
		if ae := tresor.AsError(err); ae != nil {
			return string(ae.Code)
		}
		return ""
	}

	t.Run("a clean text passes", func(t *testing.T) {
		if err := policy.ScreenText(plain, "body", "Angebot für 20 Lizenzen", ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a special category without an exception is refused in both languages", func(t *testing.T) {
		err := policy.ScreenText(plain, "body", "wegen Diabetes krankgeschrieben", "h")
		ae := tresor.AsError(err)
		if code(err) != "special_category" || !strings.Contains(ae.Message, "health") || !strings.Contains(ae.MessageDE, "Gesundheit") ||
			strings.Contains(ae.Message+ae.MessageDE, "Diabetes") {
			t.Fatalf("err = %+v", ae)
		}
	})
	t.Run("a category the exception does not cover is refused", func(t *testing.T) {
		if code(policy.ScreenText(care, "body", "Mitglied der Kirchengemeinde", "h")) != "special_category" {
			t.Fatal("religion passed a purpose that allows only health")
		}
	})
	t.Run("an allowed category needs the exception confirmed", func(t *testing.T) {
		err := policy.ScreenText(care, "body", "Diagnose Diabetes", "")
		ae := tresor.AsError(err)
		if code(err) != "special_category" || !strings.Contains(ae.Message, "art9_exception \"h\"") || !strings.Contains(ae.MessageDE, "lit. h") {
			t.Fatalf("err = %+v", ae)
		}
		if code(policy.ScreenText(care, "body", "Diagnose Diabetes", "a")) != "special_category" {
			t.Fatal("another exception than the purpose's was taken")
		}
		if err := policy.ScreenText(care, "body", "Diagnose Diabetes", "h"); err != nil {
			t.Fatalf("the confirmed exception was refused: %v", err)
		}
	})
}
