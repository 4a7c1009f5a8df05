package server

import (
	"context"

	"tresor"
)

// The fakes answer tags and segments like the gate would, recording the
// filter of a list.

func (f *fakeServices) TagContact(ctx context.Context, id, tag string) (*tresor.Tag, error) {
	t, err := tresor.NormalizeTag(tag)
	return &t, err
}

func (f *fakeServices) UntagContact(ctx context.Context, id, tag string) error { return nil }

func (f *fakeServices) TagOrganization(ctx context.Context, id, tag string) (*tresor.Tag, error) {
	return f.TagContact(ctx, id, tag)
}

func (f *fakeServices) UntagOrganization(ctx context.Context, id, tag string) error { return nil }

func (f *fakeServices) Tags(ctx context.Context) ([]tresor.TagCount, error) {
	return []tresor.TagCount{{Tag: tresor.Tag{Key: "messe", Display: "Messe"}, Contacts: 2, Organizations: 1}}, nil
}

var fakeSegment = tresor.SavedSegment{Meta: tresor.Meta{ID: testID, Version: 1}, Name: "Messe", Rules: tresor.SegmentRules{Tag: "Messe"}}

func (f *fakeServices) CreateSegment(ctx context.Context, s *tresor.SavedSegment) error {
	s.ID, s.Version = testID, 1
	return nil
}

func (f *fakeServices) Segment(ctx context.Context, id string) (*tresor.SavedSegment, error) {
	s := fakeSegment
	return &s, nil
}

func (f *fakeServices) Segments(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.SavedSegment], error) {
	f.filter = p
	s := fakeSegment
	return &tresor.List[*tresor.SavedSegment]{Items: []*tresor.SavedSegment{&s}}, nil
}

func (f *fakeServices) UpdateSegment(ctx context.Context, id string, u tresor.Update) (*tresor.SavedSegment, error) {
	s := fakeSegment
	return &s, nil
}

func (f *fakeServices) DeleteSegment(ctx context.Context, id string, ifVersion int64) error {
	return nil
}

func (f *fakeServices) SegmentMembers(ctx context.Context, id string, p tresor.Page) (*tresor.List[*tresor.Contact], error) {
	f.filter = p
	return &tresor.List[*tresor.Contact]{Items: []*tresor.Contact{}}, nil
}
