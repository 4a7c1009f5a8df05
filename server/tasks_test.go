package server

import (
	"context"
	"time"

	"tresor"
)

// The fake services answer the task routes with one task, open or done.

var fakeTask = tresor.Task{Meta: tresor.Meta{ID: testID, CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	UpdatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Version: 1},
	TaskContent: tresor.TaskContent{Title: "Call back about the offer"}, Due: "2026-03-16", State: tresor.TaskOpen}

func (f *fakeServices) Tasks(ctx context.Context, fl tresor.TaskFilter) (*tresor.List[*tresor.Task], error) {
	f.filter = fl
	t := fakeTask
	return &tresor.List[*tresor.Task]{Items: []*tresor.Task{&t}}, nil
}

func (f *fakeServices) TaskDone(ctx context.Context, id string, done bool, ifVersion int64) (*tresor.Task, error) {
	t := fakeTask
	t.Version = 2
	if done {
		at := t.UpdatedAt
		t.State, t.DoneAt = tresor.TaskDone, &at
	}
	return &t, nil
}
