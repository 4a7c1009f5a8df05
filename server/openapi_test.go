package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"tresor"
)

// The tests below keep openapi.json true to the code: the routes, their
// permissions, the list parameters, the schemas of the domain types and the
// references inside the document.

const (
	testToken  = "test-token"
	testUserID = "0190f5a4-0000-7000-8000-000000000001"
	testID     = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b"
)

// fakeServices stands in for the gate. Only the calls the tests make are
// implemented; the others are the embedded nil interfaces and would panic.
// (New takes method values of the services, so nil services do not do.)
type fakeServices struct {
	tresor.ContactService
	tresor.OrganizationService
	tresor.InteractionService
	tresor.DealService
	tresor.CaseService

	filter any // the filter of the last list call
}

func (f *fakeServices) AuthenticateToken(ctx context.Context, secret string) (*tresor.Actor, error) {
	if secret != testToken {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Unknown token.")
	}
	return &tresor.Actor{Kind: tresor.ActorToken, UserID: testUserID, Email: "ada@example.org",
		Roles: []tresor.Role{tresor.RoleSales}, TokenID: "0190f5a4-0000-7000-8000-000000000002"}, nil
}

func (f *fakeServices) AuthenticateSession(ctx context.Context, secret string) (*tresor.Actor, *tresor.Session, error) {
	return nil, nil, tresor.Errorf(tresor.ECUnauthenticated, "No sessions here.")
}

func (f *fakeServices) Ready(ctx context.Context) error { return nil }
func (f *fakeServices) PoolStats() []tresor.PoolStats   { return nil }

func (f *fakeServices) Contacts(ctx context.Context, fl tresor.ContactFilter) (*tresor.List[*tresor.Contact], error) {
	f.filter = fl
	return &tresor.List[*tresor.Contact]{Items: []*tresor.Contact{}}, nil
}

func (f *fakeServices) Organizations(ctx context.Context, fl tresor.OrganizationFilter) (*tresor.List[*tresor.Organization], error) {
	f.filter = fl
	return &tresor.List[*tresor.Organization]{Items: []*tresor.Organization{}}, nil
}

func (f *fakeServices) Interactions(ctx context.Context, fl tresor.InteractionFilter) (*tresor.List[*tresor.Interaction], error) {
	f.filter = fl
	return &tresor.List[*tresor.Interaction]{Items: []*tresor.Interaction{}}, nil
}

func (f *fakeServices) Deals(ctx context.Context, fl tresor.DealFilter) (*tresor.List[*tresor.Deal], error) {
	f.filter = fl
	return &tresor.List[*tresor.Deal]{Items: []*tresor.Deal{}}, nil
}

func (f *fakeServices) Pipelines(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Pipeline], error) {
	f.filter = p
	return &tresor.List[*tresor.Pipeline]{Items: []*tresor.Pipeline{}}, nil
}

func (f *fakeServices) Cases(ctx context.Context, fl tresor.CaseFilter) (*tresor.List[*tresor.Case], error) {
	f.filter = fl
	return &tresor.List[*tresor.Case]{Items: []*tresor.Case{}}, nil
}

func newTestServer(t *testing.T) (*Server, *fakeServices) {
	t.Helper()
	f := &fakeServices{}
	s := New(Services{Contacts: f, Organizations: f, Interactions: f, Deals: f, Cases: f, Auth: f, Health: f},
		Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return s, f
}

// ---- reading the document

type object = map[string]any

func loadOpenAPI(t *testing.T) object {
	t.Helper()
	var doc object
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// pointer resolves a local reference such as "#/components/schemas/Contact".
func pointer(doc any, ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("%s does not point into this document", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	if frag == "" {
		return doc, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("%s is not a JSON pointer", ref)
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case object:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%s: there is no %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: there is no element %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: %q is inside a scalar", ref, tok)
		}
	}
	return cur, nil
}

// deref follows $ref until it reaches an object without one.
func deref(t *testing.T, doc object, v any) object {
	t.Helper()
	for range 32 {
		m, ok := v.(object)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		if v, _ = pointer(doc, ref); v == nil {
			t.Errorf("dangling reference %s", ref)
			return nil
		}
	}
	t.Errorf("reference cycle at %v", v)
	return nil
}

func member(v any, keys ...string) object {
	m, _ := v.(object)
	for _, k := range keys {
		m, _ = m[k].(object)
	}
	return m
}

func schemaOf(doc object, name string) object { return member(doc, "components", "schemas", name) }

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation is one documented method of a path.
type operation struct {
	key      string // "GET /api/v1/contacts"
	path     string
	pathItem object
	op       object
}

func operations(doc object) map[string]operation {
	out := map[string]operation{}
	for path, item := range member(doc, "paths") {
		pi, _ := item.(object)
		for _, m := range httpMethods {
			if op, ok := pi[m].(object); ok {
				key := strings.ToUpper(m) + " " + path
				out[key] = operation{key: key, path: path, pathItem: pi, op: op}
			}
		}
	}
	return out
}

// parameters returns the resolved parameters of an operation, its path's first.
func (o operation) parameters(t *testing.T, doc object) []object {
	var out []object
	for _, list := range []any{o.pathItem["parameters"], o.op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			if r := deref(t, doc, p); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

func (o operation) response(t *testing.T, doc object, status string) object {
	r, ok := member(o.op, "responses")[status]
	if !ok {
		return nil
	}
	return deref(t, doc, r)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- the tests

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	v, _ := doc["openapi"].(string)
	if !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}
	if member(doc, "info")["title"] == nil || member(doc, "info")["version"] == nil {
		t.Error("info needs a title and a version")
	}
}

// TestOpenAPIMatchesRoutes compares the registered routes with the documented
// operations in both directions.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		registered[r.Method+" "+r.Pattern] = true
	}
	documented := operations(doc)
	for _, k := range sortedKeys(registered) {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is registered but not in openapi.json", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !registered[k] {
			t.Errorf("openapi.json documents %s, but no such route is registered", k)
		}
	}

	ids := map[string]string{}
	for _, k := range sortedKeys(documented) {
		o := documented[k]
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", k)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s and %s share the operationId %q", prev, k, id)
		}
		ids[id] = k
		// Every template variable is a required path parameter, and back.
		inPath := map[string]bool{}
		for _, seg := range strings.Split(o.path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				inPath[strings.TrimSuffix(name, "}")] = true
			}
		}
		declared := map[string]bool{}
		for _, p := range o.parameters(t, doc) {
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			declared[name] = true
			if !inPath[name] {
				t.Errorf("%s declares the path parameter %q, which the path does not have", k, name)
			}
			if p["required"] != true {
				t.Errorf("%s: the path parameter %q must be required", k, name)
			}
		}
		for _, name := range sortedKeys(inPath) {
			if !declared[name] {
				t.Errorf("%s does not declare the path parameter %q", k, name)
			}
		}
		if len(member(o.op, "responses")) == 0 {
			t.Errorf("%s documents no responses", k)
		}
	}
}

// TestOpenAPIPermissions checks the purpose header and the security of every
// route against its permission.
func TestOpenAPIPermissions(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	schemes := member(doc, "components", "securitySchemes")
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Pattern
		o, ok := ops[key]
		if !ok {
			continue // reported by TestOpenAPIMatchesRoutes
		}
		var purpose object
		for _, p := range o.parameters(t, doc) {
			if name, _ := p["name"].(string); p["in"] == "header" && strings.EqualFold(name, PurposeHeader) {
				purpose = p
			}
		}
		switch {
		case r.Permission == Purpose && purpose == nil:
			t.Errorf("%s needs a purpose but does not declare the %s header", key, PurposeHeader)
		case r.Permission == Purpose && purpose["required"] != true:
			t.Errorf("%s: the %s header must be required", key, PurposeHeader)
		case r.Permission != Purpose && purpose != nil:
			t.Errorf("%s is %s and needs no purpose, but declares the %s header", key, r.Permission, PurposeHeader)
		}

		sec, explicit := o.op["security"]
		if !explicit {
			sec = doc["security"]
		}
		reqs, isList := sec.([]any)
		if sec != nil && !isList {
			t.Errorf("%s: security is not a list", key)
			continue
		}
		if r.Permission == Public {
			if len(reqs) != 0 {
				t.Errorf("%s is public but its security is %v; want []", key, sec)
			}
			continue
		}
		if len(reqs) == 0 {
			t.Errorf("%s needs authentication but its security is empty", key)
		}
		for _, req := range reqs {
			m, _ := req.(object)
			if len(m) == 0 {
				t.Errorf("%s: an empty security requirement makes authentication optional", key)
			}
			for name := range m {
				sch := member(schemes, name)
				if sch == nil {
					t.Errorf("%s: unknown security scheme %q", key, name)
				} else if sch["type"] != "http" || !strings.EqualFold(fmt.Sprint(sch["scheme"]), "bearer") {
					t.Errorf("security scheme %q is not HTTP bearer", name)
				}
			}
		}
		if o.response(t, doc, "401") == nil {
			t.Errorf("%s needs authentication but does not document 401", key)
		}
		if r.Permission == Purpose || r.Permission == Admin {
			if o.response(t, doc, "403") == nil {
				t.Errorf("%s is %s but does not document 403", key, r.Permission)
			}
		}
	}
}

// TestOpenAPICRUDOperations checks what crud does for every collection:
// If-Match, merge-patch bodies, ETag and Location, and problem+json errors.
func TestOpenAPICRUDOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Pattern
		o, ok := ops[key]
		if !ok {
			continue
		}
		item := strings.HasSuffix(r.Pattern, "/{id}")
		var ifMatch object
		for _, p := range o.parameters(t, doc) {
			if name, _ := p["name"].(string); p["in"] == "header" && strings.EqualFold(name, "If-Match") {
				ifMatch = p
			}
		}
		conditional := item && (r.Method == http.MethodPatch || r.Method == http.MethodDelete)
		switch {
		case conditional && ifMatch == nil:
			t.Errorf("%s does not declare the If-Match header", key)
		case conditional && ifMatch["required"] == true:
			t.Errorf("%s: If-Match is optional", key)
		case !conditional && ifMatch != nil:
			t.Errorf("%s declares If-Match, which it does not read", key)
		}

		wantHeaders := map[string]string{} // status -> header
		var wantMedia []string
		switch {
		case r.Method == http.MethodPost:
			wantHeaders["201"] = "ETag Location"
			wantMedia = []string{"application/json"}
		case item && r.Method == http.MethodGet:
			wantHeaders["200"] = "ETag"
		case item && r.Method == http.MethodPatch:
			wantHeaders["200"] = "ETag"
			wantMedia = []string{"application/json", "application/merge-patch+json"}
		case item && r.Method == http.MethodDelete:
			if o.response(t, doc, "204") == nil {
				t.Errorf("%s does not document 204", key)
			}
		}
		for status, hs := range wantHeaders {
			resp := o.response(t, doc, status)
			if resp == nil {
				t.Errorf("%s does not document %s", key, status)
				continue
			}
			for _, h := range strings.Fields(hs) {
				if member(resp, "headers", h) == nil {
					t.Errorf("%s: response %s does not document the %s header", key, status, h)
				}
			}
		}
		body := deref(t, doc, o.op["requestBody"])
		var media []string
		for mt := range member(body, "content") {
			media = append(media, mt)
		}
		sort.Strings(media)
		if !slices.Equal(media, wantMedia) {
			t.Errorf("%s: request body media types are %v, want %v", key, media, wantMedia)
		}
		if body != nil && body["required"] != true {
			t.Errorf("%s: the request body is required", key)
		}

		for status, resp := range member(o.op, "responses") {
			if n, _ := strconv.Atoi(status); n < 400 {
				continue
			}
			content := member(deref(t, doc, resp), "content")
			ref := member(content, "application/problem+json", "schema")["$ref"]
			if len(content) != 1 || ref != "#/components/schemas/Problem" {
				t.Errorf("%s: response %s must be application/problem+json with the Problem schema", key, status)
			}
		}
	}
}

// jsonFields returns the JSON member names of a struct type as encoding/json
// writes them: embedded structs flattened, `json:"-"` skipped.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFields(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// TestOpenAPISchemasMatchGoTypes compares the schemas with the Go types by
// reflection: the properties, the read-only fields and the data categories.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	meta := tresor.MetaFields
	tests := []struct {
		schema   string
		typ      reflect.Type
		readOnly []string // nil: not checked
	}{
		{"Contact", reflect.TypeOf(tresor.Contact{}), append(slices.Clone(meta), "purpose", "collected_by", "withheld")},
		{"Organization", reflect.TypeOf(tresor.Organization{}), meta},
		{"Interaction", reflect.TypeOf(tresor.Interaction{}), append(slices.Clone(meta), "withheld")},
		{"Deal", reflect.TypeOf(tresor.Deal{}), append(slices.Clone(meta), "closed_at")},
		{"Pipeline", reflect.TypeOf(tresor.Pipeline{}), []string{"created_at", "updated_at", "version"}}, // the client names the id
		{"Stage", reflect.TypeOf(tresor.Stage{}), []string{}},
		{"Case", reflect.TypeOf(tresor.Case{}), append(slices.Clone(meta), "resolved_at", "withheld")},
		{"PostalAddress", reflect.TypeOf(tresor.PostalAddress{}), []string{}},
		{"SocialHandle", reflect.TypeOf(tresor.SocialHandle{}), []string{}},
		{"Problem", reflect.TypeOf(problem{}), nil},
		{"FieldError", reflect.TypeOf(tresor.FieldError{}), nil},
		{"ContactList", reflect.TypeOf(listBody[*tresor.Contact]{}), nil},
		{"OrganizationList", reflect.TypeOf(listBody[*tresor.Organization]{}), nil},
		{"InteractionList", reflect.TypeOf(listBody[*tresor.Interaction]{}), nil},
		{"DealList", reflect.TypeOf(listBody[*tresor.Deal]{}), nil},
		{"PipelineList", reflect.TypeOf(listBody[*tresor.Pipeline]{}), nil},
		{"CaseList", reflect.TypeOf(listBody[*tresor.Case]{}), nil},
	}
	for _, tt := range tests {
		sch := schemaOf(doc, tt.schema)
		if sch == nil {
			t.Errorf("openapi.json has no schema %s", tt.schema)
			continue
		}
		props := member(sch, "properties")
		fields := jsonFields(tt.typ)
		inGo := map[string]bool{}
		for _, f := range fields {
			if inGo[f] {
				t.Errorf("%s: the JSON field %q appears twice in the Go type", tt.typ, f)
			}
			inGo[f] = true
		}
		for _, f := range fields {
			if _, ok := props[f]; !ok {
				t.Errorf("schema %s lacks the property %q of %s", tt.schema, f, tt.typ)
			}
		}
		for _, p := range sortedKeys(props) {
			if !inGo[p] {
				t.Errorf("schema %s has the property %q, which %s does not have", tt.schema, p, tt.typ)
			}
		}
		req, _ := sch["required"].([]any)
		for _, r := range req {
			if _, ok := props[fmt.Sprint(r)]; !ok {
				t.Errorf("schema %s requires %v, which is not one of its properties", tt.schema, r)
			}
		}
		if tt.readOnly != nil {
			var ro []string
			for _, p := range sortedKeys(props) {
				if member(props, p)["readOnly"] == true {
					ro = append(ro, p)
				}
			}
			want := slices.Sorted(slices.Values(tt.readOnly))
			if !slices.Equal(ro, want) {
				t.Errorf("schema %s: the read-only properties are %v, want %v", tt.schema, ro, want)
			}
		}
	}

	// Every personal field names its category, and no other field does.
	for _, tt := range []struct {
		schema string
		typ    reflect.Type
	}{
		{"Contact", reflect.TypeOf(tresor.Contact{})},
		{"Organization", reflect.TypeOf(tresor.Organization{})},
		{"Interaction", reflect.TypeOf(tresor.Interaction{})},
		{"Deal", reflect.TypeOf(tresor.Deal{})},
		{"Case", reflect.TypeOf(tresor.Case{})},
	} {
		personal := map[string]tresor.Category{}
		for _, f := range tresor.PersonalFields(tt.typ) {
			personal[f.Name] = f.Category
		}
		props := member(schemaOf(doc, tt.schema), "properties")
		for _, p := range sortedKeys(props) {
			got, has := member(props, p)["x-tresor-category"]
			want, isPersonal := personal[p]
			switch {
			case isPersonal && !has:
				t.Errorf("schema %s: the personal field %q lacks x-tresor-category (%s)", tt.schema, p, want)
			case isPersonal && got != string(want):
				t.Errorf("schema %s: %q has x-tresor-category %v; its Go category tag is %s", tt.schema, p, got, want)
			case !isPersonal && has:
				t.Errorf("schema %s: %q has x-tresor-category %v but is not a personal field", tt.schema, p, got)
			}
		}
	}

	// The enumerations are the Go lists, in the same order.
	for name, want := range map[string][]string{
		"LegalBasis":      strs(tresor.LegalBases()),
		"Source":          strs(tresor.Sources()),
		"Category":        strs(tresor.Categories()),
		"InteractionKind": strs(tresor.InteractionKinds()),
		"Direction":       strs(tresor.Directions()),
		"Outcome":         strs(tresor.Outcomes()),
		"CaseStatus":      strs(tresor.CaseStatuses()),
		"Priority":        strs(tresor.Priorities()),
		"Channel":         strs(tresor.Channels()),
		"Role":            strs(tresor.Roles()),
		"ErrorCode":       strs(tresor.Codes()),
	} {
		list, _ := schemaOf(doc, name)["enum"].([]any)
		got := make([]string, len(list))
		for i, v := range list {
			got[i] = fmt.Sprint(v)
		}
		if !slices.Equal(got, want) {
			t.Errorf("schema %s: enum is %v, want %v", name, got, want)
		}
	}

	limit := member(doc, "components", "parameters", "Limit", "schema")
	if limit["minimum"] != 1.0 || limit["maximum"] != float64(tresor.MaxPageSize) || limit["default"] != float64(tresor.DefaultPageSize) {
		t.Errorf("the limit parameter is %v; want minimum 1, maximum %d, default %d", limit, tresor.MaxPageSize, tresor.DefaultPageSize)
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIRefsResolve fails on a dangling $ref and on a component nothing uses.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	used := map[string]bool{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch c := v.(type) {
		case object:
			if ref, ok := c["$ref"]; ok {
				s, isString := ref.(string)
				if !isString {
					t.Errorf("%s: $ref is not a string", at)
				} else if _, err := pointer(doc, s); err != nil {
					t.Errorf("%s: dangling reference: %v", at, err)
				} else {
					used[s] = true
				}
			}
			for _, k := range sortedKeys(c) {
				walk(c[k], at+"/"+k)
			}
		case []any:
			for i, e := range c {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
	for section, comps := range member(doc, "components") {
		if section == "securitySchemes" { // named by security requirements, not $ref
			continue
		}
		for _, name := range sortedKeys(member(comps)) {
			if ref := "#/components/" + section + "/" + name; !used[ref] {
				t.Errorf("%s is never used", ref)
			}
		}
	}
}

// TestOpenAPIListParameters calls every list with all its documented query
// parameters: the list must accept each (it refuses parameters it does not
// read), and together they must fill every field of the filter the list
// passes on, so a parameter the list reads cannot be missing from the document.
func TestOpenAPIListParameters(t *testing.T) {
	doc := loadOpenAPI(t)
	s, fake := newTestServer(t)
	ops := operations(doc)
	patterns := map[string]bool{}
	for _, r := range s.Routes() {
		patterns[r.Method+" "+r.Pattern] = true
	}
	lists := 0
	for _, r := range s.Routes() {
		if r.Method != http.MethodGet || !patterns[http.MethodGet+" "+r.Pattern+"/{id}"] {
			continue // not the list of a collection
		}
		lists++
		key := r.Method + " " + r.Pattern
		o, ok := ops[key]
		if !ok {
			continue
		}
		q := url.Values{}
		for _, p := range o.parameters(t, doc) {
			if p["in"] != "query" {
				continue
			}
			name, _ := p["name"].(string)
			ex, ok := p["example"]
			if !ok {
				t.Errorf("%s: the query parameter %q has no example", key, name)
				continue
			}
			if f, isNum := ex.(float64); isNum {
				q.Set(name, strconv.FormatFloat(f, 'f', -1, 64))
			} else {
				q.Set(name, fmt.Sprint(ex))
			}
		}
		fake.filter = nil
		w := serve(s, http.MethodGet, r.Pattern+"?"+q.Encode(), true)
		if w.Code != http.StatusOK {
			t.Errorf("%s with the documented parameters %s: status %d: %s", key, q.Encode(), w.Code, w.Body)
			continue
		}
		if fake.filter == nil {
			t.Errorf("%s did not reach the list", key)
			continue
		}
		for _, f := range unset(reflect.ValueOf(fake.filter), "") {
			t.Errorf("%s: no documented query parameter sets the filter field %s", key, f)
		}
		// The check above relies on the list refusing parameters it does not know.
		if w := serve(s, http.MethodGet, r.Pattern+"?no_such_parameter=1", true); w.Code != http.StatusBadRequest {
			t.Errorf("%s accepts an unknown parameter (status %d)", key, w.Code)
		}
	}
	if lists == 0 {
		t.Error("found no lists")
	}
}

// unset returns the fields of a struct value that hold their zero value.
func unset(v reflect.Value, prefix string) []string {
	var out []string
	for i := 0; i < v.NumField(); i++ {
		f, fv := v.Type().Field(i), v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			out = append(out, unset(fv, prefix+f.Name+".")...)
		} else if fv.IsZero() {
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

func serve(s *Server, method, target string, auth bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set(PurposeHeader, "sales")
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

// TestOpenAPIDescribesResponses compares live responses with the document:
// the routes that need no services, and 401 from every authenticated route.
func TestOpenAPIDescribesResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	check := func(key string, w *httptest.ResponseRecorder) {
		t.Helper()
		o, ok := ops[key]
		if !ok {
			return
		}
		resp := o.response(t, doc, strconv.Itoa(w.Code))
		if resp == nil {
			t.Errorf("%s answered %d, which is not documented", key, w.Code)
			return
		}
		mt, _, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
		if err != nil {
			t.Errorf("%s: Content-Type %q: %v", key, w.Header().Get("Content-Type"), err)
			return
		}
		sch := deref(t, doc, member(resp, "content", mt)["schema"])
		if sch == nil {
			t.Errorf("%s: response %d is %s, which is not documented", key, w.Code, mt)
			return
		}
		if w.Header().Get("WWW-Authenticate") != "" && member(resp, "headers", "WWW-Authenticate") == nil {
			t.Errorf("%s: response %d does not document WWW-Authenticate", key, w.Code)
		}
		if !strings.HasSuffix(mt, "json") {
			return
		}
		var body object
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			if sch["type"] == "object" {
				t.Errorf("%s: the body is not a JSON object: %v", key, err)
			}
			return
		}
		props := member(sch, "properties")
		if props == nil {
			return
		}
		for _, k := range sortedKeys(body) {
			p, ok := props[k]
			if !ok {
				t.Errorf("%s: the response member %q is not documented", key, k)
			} else if c, ok := member(p)["const"]; ok && c != body[k] {
				t.Errorf("%s: %q is %v, documented as %v", key, k, body[k], c)
			}
		}
		req, _ := sch["required"].([]any)
		for _, k := range req {
			if _, ok := body[fmt.Sprint(k)]; !ok {
				t.Errorf("%s: the required member %v is missing from the response", key, k)
			}
		}
	}
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Pattern
		target := strings.ReplaceAll(r.Pattern, "{id}", testID)
		if r.Permission == Public || r.Pattern == "/api/v1/me" {
			w := serve(s, r.Method, target, true)
			check(key, w)
			if r.Pattern == "/api/v1/openapi.json" && w.Body.String() != string(openAPI) {
				t.Errorf("%s does not serve openapi.json", key)
			}
		}
		if r.Permission != Public {
			w := serve(s, r.Method, target, false)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s without a token: status %d, want 401", key, w.Code)
			}
			check(key, w)
		}
	}
}
