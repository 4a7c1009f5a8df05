package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// Permission is what a route requires, declared where the route is
// registered so that tests can walk every route. Deny by default: a route
// without a valid one cannot be registered.
type Permission string

// The permissions.
const (
	Public   Permission = "public"      // no authentication (health, metrics, the API description, sign-in pages)
	SignedIn Permission = "signed_in"   // any authenticated actor
	Purpose  Permission = "purpose"     // authenticated, with a declared purpose the actor's roles permit (checked by the gate)
	Admin    Permission = "roles:admin" // an administrator
)

// AnyRole is the permission of a route open to the holders of any of the roles.
func AnyRole(roles ...tresor.Role) Permission {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return Permission("roles:" + strings.Join(s, ","))
}

// Roles returns the roles of a role permission, nil for the others.
func (p Permission) Roles() []tresor.Role {
	list, ok := strings.CutPrefix(string(p), "roles:")
	if !ok {
		return nil
	}
	var out []tresor.Role
	for _, r := range strings.Split(list, ",") {
		out = append(out, tresor.Role(r))
	}
	return out
}

func (p Permission) valid() bool {
	switch p {
	case Public, SignedIn, Purpose:
		return true
	}
	rs := p.Roles()
	for _, r := range rs {
		if !slices.Contains(tresor.Roles(), r) {
			return false
		}
	}
	return len(rs) > 0
}

// route is one registered endpoint.
type route struct {
	method  string
	pattern string
	perm    Permission
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// Routes lists the registered method and pattern of every route with its
// permission, for tests and the API description.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, rt := range s.routes {
		out[i] = RouteInfo{Method: rt.method, Pattern: rt.pattern, Permission: rt.perm}
	}
	return out
}

// RouteInfo describes a registered route.
type RouteInfo struct {
	Method     string
	Pattern    string
	Permission Permission
}

func (s *Server) apiRoutes() []route {
	rs := []route{
		{"GET", "/healthz", Public, s.healthz},
		{"GET", "/readyz", Public, s.readyz},
		{"GET", "/metrics", Public, s.serveMetrics},
		{"GET", "/api/v1/openapi.json", Public, serveOpenAPI},
	}
	rs = append(rs, s.identityRoutes()...)
	rs = append(rs, s.privacyRoutes()...)
	rs = append(rs, s.protectionRoutes()...)
	rs = append(rs, s.auditRoutes()...)
	rs = append(rs, s.socialRoutes()...)
	rs = append(rs, s.channelRoutes()...)
	rs = append(rs, s.mailRoutes()...)
	rs = append(rs, s.exportRoutes()...)
	rs = append(rs, s.mergeRoutes()...)
	rs = append(rs, s.taskRoutes()...)
	rs = append(rs, s.tagRoutes()...)
	rs = append(rs, s.breachRoutes()...)
	rs = append(rs, s.requestRoutes()...)
	rs = append(rs, s.subjectExportRoutes()...)
	rs = append(rs, s.decisionRoutes()...)
	rs = append(rs, s.requestAnswerRoutes()...)
	rs = append(rs, s.breachNotifyRoutes()...)
	rs = append(rs, s.recordRoutes()...)
	rs = append(rs, s.listeningRoutes()...)
	rs = append(rs, crud(s, "/api/v1/contacts", Purpose, resource[tresor.Contact]{
		create: s.svc.Contacts.CreateContact, get: s.svc.Contacts.Contact,
		update: s.svc.Contacts.UpdateContact, remove: s.svc.Contacts.DeleteContact,
		list: func(ctx context.Context, q query) (any, error) {
			f := q.contactFilter()
			f.Page = q.page()
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Contacts.Contacts(ctx, f))
		},
	})...)
	rs = append(rs, crud(s, "/api/v1/organizations", Purpose, resource[tresor.Organization]{
		create: s.svc.Organizations.CreateOrganization, get: s.svc.Organizations.Organization,
		update: s.svc.Organizations.UpdateOrganization, remove: s.svc.Organizations.DeleteOrganization,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.OrganizationFilter{OwnerID: q.owner("owner"), UpdatedSince: q.time("updated_since"), Query: q.str("q"), Page: q.page(),
				Tag: q.str("tag")}
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Organizations.Organizations(ctx, f))
		},
	})...)
	rs = append(rs, crud(s, "/api/v1/interactions", Purpose, resource[tresor.Interaction]{
		create: s.svc.Interactions.CreateInteraction, get: s.svc.Interactions.Interaction,
		update: s.svc.Interactions.UpdateInteraction, remove: s.svc.Interactions.DeleteInteraction,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.InteractionFilter{Kind: tresor.InteractionKind(q.str("kind")), OwnerID: q.owner("owner"),
				ContactID: q.id("contact_id"), OrganizationID: q.id("organization_id"), DealID: q.id("deal_id"),
				CaseID: q.id("case_id"), UpdatedSince: q.time("updated_since"), Page: q.page()}
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Interactions.Interactions(ctx, f))
		},
	})...)
	rs = append(rs, crud(s, "/api/v1/deals", Purpose, resource[tresor.Deal]{
		create: s.svc.Deals.CreateDeal, get: s.svc.Deals.Deal,
		update: s.svc.Deals.UpdateDeal, remove: s.svc.Deals.DeleteDeal,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.DealFilter{OwnerID: q.owner("owner"), PipelineID: q.str("pipeline"), Stage: q.str("stage"),
				ContactID: q.id("contact_id"), OrganizationID: q.id("organization_id"),
				UpdatedSince: q.time("updated_since")}
			q.dealOrder(&f)
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Deals.Deals(ctx, f))
		},
	})...)
	rs = append(rs, crud(s, "/api/v1/cases", Purpose, resource[tresor.Case]{
		create: s.svc.Cases.CreateCase, get: s.svc.Cases.Case,
		update: s.svc.Cases.UpdateCase, remove: s.svc.Cases.DeleteCase,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.CaseFilter{Status: tresor.CaseStatus(q.str("status")), Priority: tresor.Priority(q.str("priority")),
				AssigneeID: q.owner("assignee"), ContactID: q.id("contact_id"), UpdatedSince: q.time("updated_since"), Page: q.page()}
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Cases.Cases(ctx, f))
		},
	})...)
	pipelines := crud(s, "/api/v1/pipelines", Admin, resource[tresor.Pipeline]{
		create: s.svc.Deals.CreatePipeline, get: s.svc.Deals.Pipeline,
		update: s.svc.Deals.UpdatePipeline, remove: s.svc.Deals.DeletePipeline,
		list: func(ctx context.Context, q query) (any, error) {
			p := q.page()
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Deals.Pipelines(ctx, p))
		},
	})
	for i := range pipelines {
		if pipelines[i].method == http.MethodGet {
			pipelines[i].perm = SignedIn // everyone who works with deals reads the pipelines
		}
	}
	return append(rs, pipelines...)
}

// wrap turns a route into a handler: authentication for every route that is
// not public, its permission, the declared purpose into the context, CSRF
// protection for sessions, the body limit, and errors into problem+json.
//
// For an HTML page (page true), errors become pages and sign-in redirects.
func (s *Server) wrap(rt route, page bool) http.Handler {
	if !rt.perm.valid() {
		panic(fmt.Sprintf("server: route %s %s declares no valid permission (%q)", rt.method, rt.pattern, rt.perm))
	}
	roles := rt.perm.Roles()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			limit := s.bodyLimit
			if rt.method == "POST" && (rt.pattern == importPattern || rt.pattern == importPagePattern) {
				limit = ImportBodyLimit // a file, not a JSON object
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		fail := s.writeError
		if page {
			fail = s.pageError
		}
		if rt.perm != Public {
			actor, err := s.authenticate(w, r)
			if err != nil {
				fail(w, r, err)
				return
			}
			if len(roles) > 0 && !slices.ContainsFunc(roles, actor.HasRole) {
				fail(w, r, tresor.Errorf(tresor.ECForbidden, "This needs one of the roles %s.", strings.TrimPrefix(string(rt.perm), "roles:")))
				return
			}
			ctx := tresor.WithActor(r.Context(), actor)
			if p := r.Header.Get(PurposeHeader); p != "" {
				ctx = tresor.WithPurpose(ctx, strings.TrimSpace(p))
			} else if sess := sessionFrom(r.Context()); sess != nil && sess.Purpose != "" {
				// A signed-in browser works for the purpose it chose.
				ctx = tresor.WithPurpose(ctx, sess.Purpose)
			}
			r = r.WithContext(ctx)
		}
		if err := rt.handle(w, r); err != nil {
			fail(w, r, err)
		}
	})
}

// resource binds the five operations of one object type.
type resource[T any] struct {
	create func(ctx context.Context, v *T) error
	get    func(ctx context.Context, id string) (*T, error)
	update func(ctx context.Context, id string, u tresor.Update) (*T, error)
	remove func(ctx context.Context, id string, ifVersion int64) error
	list   func(ctx context.Context, q query) (any, error)
}

type versioned interface{ Base() *tresor.Meta }

// crud returns the five routes of a collection at base.
func crud[T any](s *Server, base string, perm Permission, res resource[T]) []route {
	item := base + "/{id}"
	return []route{
		{"POST", base, perm, func(w http.ResponseWriter, r *http.Request) error {
			v := new(T)
			if err := decodeBody(r, v, "application/json"); err != nil {
				return err
			}
			if err := res.create(r.Context(), v); err != nil {
				return err
			}
			m := any(v).(versioned).Base()
			w.Header().Set("Location", base+"/"+m.ID)
			return writeObject(w, http.StatusCreated, v)
		}},
		{"GET", base, perm, func(w http.ResponseWriter, r *http.Request) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			q.actor = tresor.ActorFrom(r.Context())
			out, err := res.list(r.Context(), q)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, out)
		}},
		{"GET", item, perm, func(w http.ResponseWriter, r *http.Request) error {
			v, err := res.get(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		}},
		{"PATCH", item, perm, func(w http.ResponseWriter, r *http.Request) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			var patch json.RawMessage
			if err := decodeBody(r, &patch, "application/merge-patch+json", "application/json"); err != nil {
				return err
			}
			v, err := res.update(r.Context(), r.PathValue("id"), tresor.Update{Patch: patch, IfVersion: ifVersion})
			if err != nil {
				return err
			}
			return writeObject(w, http.StatusOK, v)
		}},
		{"DELETE", item, perm, func(w http.ResponseWriter, r *http.Request) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			if err := res.remove(r.Context(), r.PathValue("id"), ifVersion); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}},
	}
}

// writeObject writes one object with its version as ETag.
func writeObject(w http.ResponseWriter, status int, v any) error {
	if m, ok := v.(versioned); ok {
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, m.Base().Version))
	}
	if err := writeJSON(w, status, v); err != nil {
		w.Header().Del("ETag") // the problem that follows is no version of the object
		return err
	}
	return nil
}

// ifMatch reads the version a change is conditional on: If-Match: "3".
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, tresor.Errorf(tresor.ECInvalidParameter, "If-Match must be the ETag of the object, such as \"3\".")
	}
	return v, nil
}

// decodeBody checks the media type and decodes the JSON body strictly.
func decodeBody(r *http.Request, v any, mediaTypes ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ok := false
	for _, want := range mediaTypes {
		ok = ok || (err == nil && mt == want)
	}
	if !ok {
		return tresor.Errorf(tresor.ECUnsupportedMedia, "Send the body as %s.", strings.Join(mediaTypes, " or "))
	}
	if r.Body == nil {
		return tresor.Errorf(tresor.ECMalformedJSON, "The body is empty; a JSON object is expected.")
	}
	defer io.Copy(io.Discard, r.Body)
	return tresor.DecodeJSON(r.Body, v)
}

// listBody is the JSON of a list response.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Total      *int   `json:"total,omitempty"` // the number of all hits of a search
}

func pageOf[T any](l *tresor.List[T], err error) (any, error) {
	if err != nil {
		return nil, err
	}
	b := listBody[T]{Items: l.Items, NextCursor: l.Next}
	if l.Counted {
		b.Total = &l.Total
	}
	return b, nil
}

// query reads and checks the query parameters of a list: every parameter must
// be one the list knows, so a typo is an error and not a silently ignored filter.
type query struct {
	v         url.Values
	used      map[string]bool
	actor     *tresor.Actor
	probs     []string
	cursorBad bool
}

func newQuery(v url.Values) (query, error) {
	for k, vs := range v {
		if len(vs) > 1 {
			return query{}, tresor.Errorf(tresor.ECInvalidParameter, "The parameter %s is given %d times; give it once.", k, len(vs))
		}
	}
	return query{v: v, used: map[string]bool{}}, nil
}

func (q *query) str(name string) string {
	q.used[name] = true
	return strings.TrimSpace(q.v.Get(name))
}

// id reads an object id parameter.
func (q *query) id(name string) string {
	s := q.str(name)
	if s != "" && !tresor.ValidID(s) {
		q.probs = append(q.probs, fmt.Sprintf("%s must be an id", name))
	}
	return s
}

// owner reads a user id parameter, where "me" stands for the caller.
func (q *query) owner(name string) string {
	if q.str(name) == "me" && q.actor != nil {
		return q.actor.UserID
	}
	return q.id(name)
}

func (q *query) time(name string) time.Time {
	s := q.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.probs = append(q.probs, fmt.Sprintf("%s must be a time such as 2026-01-31T08:00:00Z", name))
	}
	return t
}

// consent reads the consent filter of a contact list, written
// PURPOSE:CHANNEL:STATE (marketing:email:granted).
func (q *query) consent() *tresor.ConsentFilter {
	v := q.str("consent")
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ":")
	if len(parts) < 3 {
		q.probs = append(q.probs, "consent is written purpose:channel:state, e.g. marketing:email:granted or marketing:social_dm:mastodon:granted")
		return nil
	}
	return &tresor.ConsentFilter{Purpose: parts[0], Channel: tresor.ConsentChannel(strings.Join(parts[1:len(parts)-1], ":")),
		State: tresor.ConsentState(parts[len(parts)-1])}
}

func (q *query) limit() int {
	s := q.str("limit")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > tresor.MaxPageSize {
		q.probs = append(q.probs, fmt.Sprintf("limit must be a number from 1 to %d", tresor.MaxPageSize))
	}
	return n
}

func (q *query) page() tresor.Page {
	p := tresor.Page{Limit: q.limit()}
	after, err := tresor.DecodeCursor(q.str("cursor"))
	if err != nil {
		q.probs = append(q.probs, "cursor: "+tresor.ErrorMessage(err))
		q.cursorBad = true
	}
	p.After = after
	return p
}

// dealOrder reads the order (sort), the limit and the cursor of a list of
// deals; a sorted list's cursor carries its order and the last deal's key.
func (q *query) dealOrder(f *tresor.DealFilter) {
	f.Limit = q.limit()
	sort := q.str("sort")
	if !tresor.ValidDealSort(sort) {
		q.probs = append(q.probs, fmt.Sprintf("sort must be one of %s, each descending with a leading -", strings.Join(tresor.DealSorts(), ", ")))
		sort = ""
	}
	order, key, after, err := tresor.DecodeDealCursor(sort, q.str("cursor"))
	if err != nil {
		q.probs = append(q.probs, "cursor: "+tresor.ErrorMessage(err))
		q.cursorBad = true
	}
	f.Sort, f.AfterKey, f.After = order, key, after
}

// err reports unknown and malformed parameters.
func (q *query) err() error {
	for k := range q.v {
		if !q.used[k] {
			return tresor.Errorf(tresor.ECInvalidParameter, "This list has no parameter %q.", k)
		}
	}
	if q.cursorBad {
		return tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued; start again without a cursor.")
	}
	if len(q.probs) > 0 {
		return tresor.Errorf(tresor.ECInvalidParameter, "Invalid parameter: %s.", strings.Join(q.probs, "; "))
	}
	return nil
}

// contactFilter reads the filter of the contact list, which the export of
// that list takes alike.
func (q *query) contactFilter() tresor.ContactFilter {
	return tresor.ContactFilter{OwnerID: q.owner("owner"), OrganizationID: q.id("organization_id"),
		UpdatedSince: q.time("updated_since"), Email: q.str("email"), Query: q.str("q"), Sort: q.str("sort"), Consent: q.consent(),
		Tag: q.str("tag"), Segment: q.id("segment"), CreatedSince: q.time("created_since"), CreatedBefore: q.time("created_before"),
		UpdatedBefore: q.time("updated_before")}
}
