package server

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tresor"
)

// drillDownFields are the names of fields that would lead from an
// aggregate to a post or a person.
var drillDownFields = []string{"Author", "Handle", "Text", "URL", "PostID", "Post", "Mentions", "InReplyTo", "Account", "Person",
	"Contact", "ContactID", "CreatedBy", "Email", "Sender"}

// fieldsOf collects the field names of t and of every type reachable from it.
func fieldsOf(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		out[f.Name] = true
		fieldsOf(f.Type, seen, out)
	}
}

// TestListeningPagesShowOnlyAggregates: the listening pages' templates name
// only fields of aggregates and of the topic (no drill-down, R10), and no
// type their data is made of can hold a post, a handle or a person.
func TestListeningPagesShowOnlyAggregates(t *testing.T) {
	t.Run("no type of the pages' data can hold a post", func(t *testing.T) {
		// A refusal's text is the gate's explanation of a rule, not a post's.
		seen := map[reflect.Type]bool{reflect.TypeOf(pageErr{}): true}
		all := map[string]bool{}
		for _, v := range []any{listeningData{}, topicPageData{}, tresor.ListeningTrend{}} {
			fieldsOf(reflect.TypeOf(v), seen, all)
		}
		if seen[reflect.TypeOf(tresor.SocialPost{})] {
			t.Error("a page's data reaches tresor.SocialPost")
		}
		for _, f := range []string{"Author", "Handle", "Text", "URL", "PostID", "Mentions", "InReplyTo"} {
			if all[f] {
				t.Errorf("a type of the pages' data has a field %s", f)
			}
		}
	})
	t.Run("the templates name no field that leads to a post or a person", func(t *testing.T) {
		field := regexp.MustCompile(`\.([A-Z][A-Za-z0-9]*)`)
		for _, name := range []string{"listening", "listening_topic"} {
			src, err := webFS.ReadFile("web/templates/" + name + ".html")
			if err != nil {
				t.Fatal(err)
			}
			var used []string
			for _, action := range regexp.MustCompile(`\{\{[^}]*\}\}`).FindAllString(string(src), -1) {
				for _, m := range field.FindAllStringSubmatch(action, -1) {
					used = append(used, m[1])
				}
			}
			if len(used) < 10 {
				t.Fatalf("%s: only %d fields found: the check proves nothing", name, len(used))
			}
			for _, f := range used {
				if slices.Contains(drillDownFields, f) {
					t.Errorf("%s.html names .%s", name, f)
				}
			}
			if strings.Contains(string(src), "href=\"/contacts") || strings.Contains(string(src), "https://") {
				t.Errorf("%s.html links out of the aggregates", name)
			}
		}
	})
}
