package bluesky

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluesky-social/indigo/atproto/syntax"

	"tresor"
)

// TestPublishWithTheSameKeyPostsOnce proves that a post's record key is
// chosen before it is sent, so that an attempt whose answer was lost and
// its retry make one post.
func TestPublishWithTheSameKeyPostsOnce(t *testing.T) {
	ctx := context.Background()
	key := func() string { return tresor.NewPostKey(time.Now(), 7) }

	t.Run("a post key is a timestamp id of its time", func(t *testing.T) {
		now := time.Now()
		tid, err := syntax.ParseTID(tresor.NewPostKey(now, 1023))
		if err != nil {
			t.Fatal(err)
		}
		if !tid.Time().Equal(now.Truncate(time.Microsecond)) || tid.ClockID() != 1023 {
			t.Errorf("key %s: time %v clock %d, want %v 1023", tid, tid.Time(), tid.ClockID(), now)
		}
	})

	t.Run("the record is created under the post's key", func(t *testing.T) {
		f := newFake(t)
		c := connect(t, f, Options{})
		k := key()
		p, err := c.Publish(ctx, tresor.PublishRequest{Key: k, Text: "Neu im Laden"})
		if err != nil {
			t.Fatal(err)
		}
		if body := f.lastRecord(); body["rkey"] != k || !strings.HasSuffix(p.ID, "/app.bsky.feed.post/"+k) {
			t.Errorf("rkey %v, post %s; want %s", body["rkey"], p.ID, k)
		}
	})

	t.Run("an attempt whose answer was lost reads its record back", func(t *testing.T) {
		f := newFake(t)
		c := connect(t, f, Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
		k := key()
		f.fail("com.atproto.repo.createRecord", faultLost)
		p, err := c.Publish(ctx, tresor.PublishRequest{Key: k, Text: "Neu im Laden"})
		if err != nil || !strings.HasSuffix(p.ID, "/"+k) || p.Text != "Neu im Laden" {
			t.Fatalf("Publish = %+v, %v", p, err)
		}
		if n := f.postCount(); n != 1 {
			t.Errorf("%d posts", n)
		}
	})

	for _, dup := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		t.Run("when no answer comes, the outcome is unknown, and the retry is the same post (duplicate answered "+http.StatusText(dup)+")", func(t *testing.T) {
			f := newFake(t)
			f.dupAnswer = dup
			c := connect(t, f, Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
			k := key()
			f.fail("com.atproto.repo.createRecord", faultLost)
			f.fail("com.atproto.repo.getRecord", faultSlow)
			_, err := c.Publish(ctx, tresor.PublishRequest{Key: k, Text: "Neu im Laden"})
			connErr(t, f, err, "publish")
			if !errors.Is(err, tresor.ErrOutcomeUnknown) {
				t.Errorf("a lost answer is not an unknown outcome: %v", err)
			}
			p, err := c.Publish(ctx, tresor.PublishRequest{Key: k, Text: "Neu im Laden"})
			if err != nil {
				t.Fatal(err)
			}
			if n := f.postCount(); n != 1 || !strings.HasSuffix(p.ID, "/"+k) || p.Text != "Neu im Laden" || p.URL == "" {
				t.Errorf("%d posts; retry gave %+v", n, p)
			}
			if n := f.count("com.atproto.repo.createRecord"); n != 2 {
				t.Errorf("createRecord called %d times, want 2 (the retry creates again and is refused)", n)
			}
		})
	}

	t.Run("Published finds the post of a key, and none for a key never used", func(t *testing.T) {
		f := newFake(t)
		c := connect(t, f, Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
		k := key()
		f.fail("com.atproto.repo.createRecord", faultLost)
		f.fail("com.atproto.repo.getRecord", faultSlow)
		if _, err := c.Publish(ctx, tresor.PublishRequest{Key: k, Text: "Sommerfest"}); err == nil {
			t.Fatal("no error for a lost answer")
		}
		p, err := c.Published(ctx, tresor.PublishRequest{Key: k, Text: "Sommerfest"})
		if err != nil || p == nil || !strings.HasSuffix(p.ID, "/"+k) || p.Text != "Sommerfest" || p.CreatedAt.IsZero() {
			t.Fatalf("Published = %+v, %v", p, err)
		}
		p, err = c.Published(ctx, tresor.PublishRequest{Key: tresor.NewPostKey(time.Now().Add(time.Hour), 1), Text: "Sommerfest"})
		if err != nil || p != nil {
			t.Errorf("Published of an unused key = %+v, %v", p, err)
		}
	})

	t.Run("a server error is an unknown outcome, a refusal is not", func(t *testing.T) {
		f := newFake(t)
		c := connect(t, f, Options{})
		f.fail("com.atproto.repo.createRecord", fault500)
		_, err := c.Publish(ctx, tresor.PublishRequest{Key: key(), Text: "x"})
		if !errors.Is(err, tresor.ErrOutcomeUnknown) {
			t.Errorf("500: %v is not an unknown outcome", err)
		}
		f.fail("com.atproto.repo.createRecord", fault400)
		_, err = c.Publish(ctx, tresor.PublishRequest{Key: key(), Text: "x"})
		connErr(t, f, err, "publish")
		if errors.Is(err, tresor.ErrOutcomeUnknown) {
			t.Errorf("400: %v is an unknown outcome", err)
		}
	})

	t.Run("a key that is not a timestamp id is refused before anything is sent", func(t *testing.T) {
		f := newFake(t)
		c := connect(t, f, Options{})
		if _, err := c.Publish(ctx, tresor.PublishRequest{Key: "not-a-tid", Text: "x"}); err == nil || f.count("com.atproto.repo.createRecord") != 0 {
			t.Errorf("Publish with a bad key: %v", err)
		}
	})
}
