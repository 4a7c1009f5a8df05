package policy

import "tresor"

// The refusals of hand-entered text (notes, interactions, cases, contact
// fields) that reveals a special category of personal data (Art. 9 GDPR).
const (
	// RSpecialText: the purpose may not store the category at all.
	RSpecialText = string(tresor.ECSpecialCategory) + ":text"
	// RSpecialConfirm: the purpose may store it under an Art. 9(2)
	// exception, which the write did not confirm.
	RSpecialConfirm = string(tresor.ECSpecialCategory) + ":confirm"
	// RSpecialNever: the field holds no special category under any
	// exception (a deal's title, a task).
	RSpecialNever = string(tresor.ECSpecialCategory) + ":never"
)

func init() {
	texts[RSpecialText] = [2]string{
		"The field %[1]s reveals %[2]s, a special category of personal data (Art. 9 GDPR). The purpose %[3]q names no exception of Art. 9(2) GDPR that allows it, so it is not stored: nothing of this entry was saved. Write it without that information.",
		"Das Feld %[1]s verrät %[2]s, eine besondere Kategorie personenbezogener Daten (Art. 9 DSGVO). Der Zweck %[3]q nennt keine Ausnahme nach Art. 9 Abs. 2 DSGVO, die das erlaubt, daher wird sie nicht gespeichert: Von diesem Eintrag wurde nichts gesichert. Schreiben Sie ihn ohne diese Angabe.",
	}
	texts[RSpecialNever] = [2]string{
		"The field %[1]s reveals %[2]s, a special category of personal data (Art. 9 GDPR). This field never holds such data, whatever the purpose: nothing of this entry was saved. Write it without that information; where the purpose allows the category, record it in a note or case of the person.",
		"Das Feld %[1]s verrät %[2]s, eine besondere Kategorie personenbezogener Daten (Art. 9 DSGVO). Dieses Feld nimmt solche Daten nie auf, gleich für welchen Zweck: Von diesem Eintrag wurde nichts gesichert. Schreiben Sie ihn ohne diese Angabe; wo der Zweck die Kategorie erlaubt, halten Sie sie in einer Notiz oder einem Vorgang der Person fest.",
	}
	texts[RSpecialConfirm] = [2]string{
		"The field %[1]s reveals %[2]s, a special category of personal data (Art. 9 GDPR). The purpose %[3]q may store it only under the exception of Art. 9(2)(%[4]s) GDPR: confirm that this exception applies by sending art9_exception %[4]q with the entry, or leave the information out. Nothing was saved.",
		"Das Feld %[1]s verrät %[2]s, eine besondere Kategorie personenbezogener Daten (Art. 9 DSGVO). Der Zweck %[3]q darf sie nur unter der Ausnahme nach Art. 9 Abs. 2 lit. %[4]s DSGVO speichern: Bestätigen Sie, dass diese Ausnahme zutrifft, indem Sie art9_exception %[4]q mit dem Eintrag senden, oder lassen Sie die Angabe weg. Es wurde nichts gespeichert.",
	}
}

// ScreenText refuses text typed by hand into the field that reveals a
// special category, unless the purpose allows that category under an
// Art. 9(2) exception and the write confirms that very exception
// (confirmed, the art9_exception it carries). It names the field and the
// category, never the words found.
func ScreenText(pu *Purpose, field, text, confirmed string) error {
	cat, ok := SpecialCategory(text)
	if !ok {
		return nil
	}
	return screened(pu, field, cat, confirmed)
}

// ScreenNever refuses text typed into a field that holds no special
// category under any exception, when it reveals one.
func ScreenNever(field, text string) error {
	cat, ok := SpecialCategory(text)
	if !ok {
		return nil
	}
	return Refuse(RSpecialNever, field, specialName(cat))
}

// specialName is the category's name in both languages, for refusals.
func specialName(cat tresor.Category) both {
	if name, ok := specialNames[cat]; ok {
		return name
	}
	return both{string(cat), string(cat)}
}

func screened(pu *Purpose, field string, cat tresor.Category, confirmed string) error {
	name := specialName(cat)
	id := ""
	if pu != nil {
		id = pu.ID
	}
	if pu == nil || pu.Art9Exception == "" || !pu.Allows(cat) {
		return Refuse(RSpecialText, field, name, id)
	}
	if confirmed != pu.Art9Exception {
		err := Refuse(RSpecialConfirm, field, name, id, pu.Art9Exception)
		err.(*tresor.Error).Art9Exception = pu.Art9Exception
		return err
	}
	return nil
}

// Art9Exceptions are the letters of Art. 9(2) GDPR an exception may name.
func Art9Exceptions() []string { return append([]string(nil), art9Exceptions...) }
