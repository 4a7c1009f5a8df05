package server

import (
	"context"
	"net/http"

	"tresor"
)

// Tags and segments over the API (issue [2.3]): PUT and DELETE a tag of a
// contact or an organization, the tags in use with their counts, and the
// segments with their members.

// tagServices returns the services of tags and segments: the gate offers
// them beside contacts, so a server built with a gate needs no more wiring.
func (s *Server) tagServices() (tresor.TagService, tresor.SegmentService) {
	tags, segs := s.svc.Tags, s.svc.Segments
	if tags == nil {
		tags, _ = s.svc.Contacts.(tresor.TagService)
	}
	if segs == nil {
		segs, _ = s.svc.Contacts.(tresor.SegmentService)
	}
	return tags, segs
}

func unavailable() error {
	return tresor.Errorf(tresor.ECUnavailable, "Tags and segments are not available on this server.")
}

func (s *Server) tagRoutes() []route {
	tag := func(put func(ctx context.Context, id, tag string) (*tresor.Tag, error)) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			t, err := put(r.Context(), r.PathValue("id"), r.PathValue("tag"))
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, t)
		}
	}
	untag := func(del func(ctx context.Context, id, tag string) error) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			if err := del(r.Context(), r.PathValue("id"), r.PathValue("tag")); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	tags, segs := s.tagServices()
	if tags == nil || segs == nil {
		tags, segs = noTags{}, noTags{}
	}
	rs := []route{
		{"PUT", "/api/v1/contacts/{id}/tags/{tag}", Purpose, tag(tags.TagContact)},
		{"DELETE", "/api/v1/contacts/{id}/tags/{tag}", Purpose, untag(tags.UntagContact)},
		{"PUT", "/api/v1/organizations/{id}/tags/{tag}", Purpose, tag(tags.TagOrganization)},
		{"DELETE", "/api/v1/organizations/{id}/tags/{tag}", Purpose, untag(tags.UntagOrganization)},
		{"GET", "/api/v1/tags", Purpose, func(w http.ResponseWriter, r *http.Request) error {
			ts, err := tags.Tags(r.Context())
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, map[string]any{"items": ts})
		}},
		{"GET", "/api/v1/segments/{id}/members", Purpose, func(w http.ResponseWriter, r *http.Request) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			p := q.page()
			if err := q.err(); err != nil {
				return err
			}
			out, err := pageOf(segs.SegmentMembers(r.Context(), r.PathValue("id"), p))
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, out)
		}},
	}
	return append(rs, crud(s, "/api/v1/segments", Purpose, resource[tresor.SavedSegment]{
		create: segs.CreateSegment, get: segs.Segment, update: segs.UpdateSegment, remove: segs.DeleteSegment,
		list: func(ctx context.Context, q query) (any, error) {
			p := q.page()
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(segs.Segments(ctx, p))
		},
	})...)
}

// noTags answers every call of a server built without tags as unavailable.
type noTags struct{}

func (noTags) TagContact(context.Context, string, string) (*tresor.Tag, error) {
	return nil, unavailable()
}
func (noTags) UntagContact(context.Context, string, string) error { return unavailable() }
func (noTags) TagOrganization(context.Context, string, string) (*tresor.Tag, error) {
	return nil, unavailable()
}
func (noTags) UntagOrganization(context.Context, string, string) error   { return unavailable() }
func (noTags) Tags(context.Context) ([]tresor.TagCount, error)           { return nil, unavailable() }
func (noTags) CreateSegment(context.Context, *tresor.SavedSegment) error { return unavailable() }
func (noTags) Segment(context.Context, string) (*tresor.SavedSegment, error) {
	return nil, unavailable()
}
func (noTags) Segments(context.Context, tresor.Page) (*tresor.List[*tresor.SavedSegment], error) {
	return nil, unavailable()
}
func (noTags) UpdateSegment(context.Context, string, tresor.Update) (*tresor.SavedSegment, error) {
	return nil, unavailable()
}
func (noTags) DeleteSegment(context.Context, string, int64) error { return unavailable() }
func (noTags) SegmentMembers(context.Context, string, tresor.Page) (*tresor.List[*tresor.Contact], error) {
	return nil, unavailable()
}
