package tresor

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Category is the data category of a personal field (DESIGN §3). Every personal
// field of every domain object has exactly one; policy decisions, minimisation,
// retention and encryption are made per category.
type Category string

// The category taxonomy.
const (
	CatContactName     Category = "contact.name"
	CatContactEmail    Category = "contact.email"
	CatContactPhone    Category = "contact.phone"
	CatContactPostal   Category = "contact.postal"
	CatContactLanguage Category = "contact.language" // an addition to DESIGN §3: the language to address someone in
	CatSocialHandle    Category = "social.handle"
	CatSocialProfile   Category = "social.profile"
	CatEmployer        Category = "professional.employer"
	CatPosition        Category = "professional.position"
	CatBirthday        Category = "personal.birthday"
	CatFamily          Category = "personal.family"
	CatInterests       Category = "personal.interests"
	CatInteraction     Category = "interaction.content"

	// Special categories of GDPR Art. 9: blocked unless a purpose names an exception.
	CatHealth             Category = "special.health"
	CatReligion           Category = "special.religion"
	CatPolitics           Category = "special.politics"
	CatEthnicity          Category = "special.ethnicity"
	CatSexualOrientation  Category = "special.sexual_orientation"
	CatUnion              Category = "special.union"
	CatBiometric          Category = "special.biometric"
	CatGenetic            Category = "special.genetic"
	categoryNone          Category = "none" // tag value of a field that holds no personal data
	categoryTagName                = "category"
	specialCategoryPrefix          = "special."
)

// Categories lists the whole taxonomy in a stable order.
func Categories() []Category {
	return []Category{
		CatContactName, CatContactEmail, CatContactPhone, CatContactPostal, CatContactLanguage,
		CatSocialHandle, CatSocialProfile, CatEmployer, CatPosition,
		CatBirthday, CatFamily, CatInterests, CatInteraction,
		CatHealth, CatReligion, CatPolitics, CatEthnicity, CatSexualOrientation, CatUnion, CatBiometric, CatGenetic,
	}
}

// Valid reports whether c is part of the taxonomy.
func (c Category) Valid() bool {
	for _, k := range Categories() {
		if c == k {
			return true
		}
	}
	return false
}

// Special reports whether c is a special category of GDPR Art. 9.
func (c Category) Special() bool { return strings.HasPrefix(string(c), specialCategoryPrefix) }

// PersonalField describes one personal field of a domain object, as declared by
// the `category` struct tag on the field.
type PersonalField struct {
	Name     string   // the JSON name
	Category Category // the data category
	Index    []int    // for reflect.Value.FieldByIndex
}

var fieldCache sync.Map // reflect.Type -> []PersonalField

// PersonalFields returns the personal fields of a domain struct type, read from
// the `category` tags where the type declares them. It panics on a field
// without a tag or with an unknown category: the tags are the single place where
// categories are declared, so a missing one is a programming error that the
// tests catch (see TestEveryFieldDeclaresItsCategory).
func PersonalFields(t reflect.Type) []PersonalField {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]PersonalField)
	}
	fields, err := scanCategories(t, nil, "")
	if err != nil {
		panic(err)
	}
	fieldCache.Store(t, fields)
	return fields
}

// CheckCategories reports the first field of struct type t that lacks a valid
// `category` tag ("none" for fields without personal data).
func CheckCategories(t reflect.Type) error {
	_, err := scanCategories(t, nil, "")
	return err
}

func scanCategories(t reflect.Type, index []int, prefix string) ([]PersonalField, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("tresor: %s is not a struct", t)
	}
	var out []PersonalField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		tag, hasTag := f.Tag.Lookup(categoryTagName)
		if f.Anonymous && !hasTag {
			inner, err := scanCategories(f.Type, idx, prefix)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" {
			name = f.Name
		}
		switch {
		case !hasTag:
			return nil, fmt.Errorf("tresor: field %s.%s declares no category tag", t.Name(), f.Name)
		case Category(tag) == categoryNone:
		case !Category(tag).Valid():
			return nil, fmt.Errorf("tresor: field %s.%s has unknown category %q", t.Name(), f.Name, tag)
		default:
			out = append(out, PersonalField{Name: prefix + name, Category: Category(tag), Index: idx})
		}
	}
	return out, nil
}
