package server

import (
	"encoding/json"
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

// TestListeningAPIDescribesOnlyAggregates: the OpenAPI document's listening
// routes take no parameter but the topic and its range, and their answers'
// schemas, followed through every $ref, have no field that names a post, a
// handle or a person.
func TestListeningAPIDescribesOnlyAggregates(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	forbidden := []string{"author", "handle", "text", "url", "post_id", "post", "mentions", "in_reply_to", "account", "contact_id", "email", "sender", "person"}
	allowedParams := []string{"id", "from", "to", "bucket", "format", "If-Match", "Tresor-Purpose"}
	var props []string
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				if !seen[name] {
					seen[name] = true
					walk(schemas[name])
				}
			}
			if ps, ok := x["properties"].(map[string]any); ok {
				for k := range ps {
					props = append(props, k)
				}
			}
			for k, e := range x {
				if k == "parameters" {
					for _, p := range e.([]any) {
						pm := p.(map[string]any)
						if r, ok := pm["$ref"].(string); ok {
							if n := strings.TrimPrefix(r, "#/components/parameters/"); !slices.Contains([]string{"Id", "Purpose", "CSRFToken", "IfMatch"}, n) {
								t.Errorf("a listening route takes the parameter %s", n)
							}
							continue
						}
						if n, _ := pm["name"].(string); !slices.Contains(allowedParams, n) {
							t.Errorf("a listening route takes the parameter %q", n)
						}
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	n := 0
	for p, v := range doc["paths"].(map[string]any) {
		if strings.Contains(p, "listening") {
			n++
			walk(v)
		}
	}
	if n < 3 || !seen["TrendBucket"] || len(props) < 20 {
		t.Fatalf("found %d listening paths, schemas %v, %d properties: the check proves nothing", n, seen, len(props))
	}
	for _, p := range props {
		if slices.Contains(forbidden, p) {
			t.Errorf("a listening answer has the field %q", p)
		}
	}
}
