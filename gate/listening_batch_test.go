package gate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/gate"
)

// deliveringNet is a stream that hands out its posts, says so, and then
// waits for the end of the context.
type deliveringNet struct {
	streamNet
	once      sync.Once
	delivered chan struct{}
}

func (s *deliveringNet) Stream(ctx context.Context, kw []string, fn func(tresor.SocialPost)) error {
	s.smu.Lock()
	posts := append([]tresor.SocialPost(nil), s.posts...)
	s.smu.Unlock()
	for _, p := range posts {
		fn(p)
	}
	s.once.Do(func() { close(s.delivered) })
	<-ctx.Done()
	return ctx.Err()
}

func (e *listenEnv) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	must(t, e.raw.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestListeningBatches(t *testing.T) {
	t.Run("a crash loses at most the unwritten batch, which the restart counts exactly once", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			must(t, e.g.Close())
			// Batches of 5 posts, and no flush by time: 12 posts are 2
			// written batches and 2 posts waiting.
			net := &deliveringNet{delivered: make(chan struct{})}
			net.add(e.posts(0, 12, "pub", "#AcmeKaffee Bohnen %d")...)
			crashing := openGate(t, e.cfg, gate.WithClock(e.clock.now), gate.WithListeningBatch(5, time.Hour),
				gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return net, nil }))
			ctx, cancel := context.WithCancel(system())
			defer cancel()
			must(t, crashing.SyncListening(ctx))
			<-net.delivered
			// Full batches are written behind the stream, by the writer.
			waitFor(t, "the two full batches written", func() bool { return e.count(t, "listening_seen") >= 10 })
			if n := e.count(t, "listening_seen"); n != 10 {
				t.Fatalf("%d posts marked seen before the crash, want the 10 of two written batches", n)
			}
			var counted int
			must(t, e.raw.QueryRow("SELECT posts FROM listening_aggregates WHERE width = 'day' AND kind = 'bucket'").Scan(&counted))
			if counted != 10 {
				t.Fatalf("%d posts counted before the crash, want 10", counted)
			}
			// The crash: the database goes away before the waiting batch
			// is written; the stream's last write then fails.
			must(t, crashing.Close())
			cancel()

			// The restarted process: the stream replays the 12 posts and
			// brings a new one.
			e.open(t)
			e.net.add(net.posts...)
			e.net.add(e.posts(12, 1, "new", "#AcmeKaffee Bohnen %d")...)
			rep := e.run(t)
			if rep.Counted != 3 || rep.Dropped["duplicate"] != 10 {
				t.Errorf("report after the restart = %+v, want 3 counted (2 lost, 1 new) and 10 duplicates", rep)
			}
			if b := e.day(t); posts(b) != 13 || *b.Authors != 13 {
				t.Errorf("bucket = %+v, want 13 posts by 13 authors: each counted once", b)
			}
			if n := e.count(t, "listening_seen"); n != 13 {
				t.Errorf("%d posts marked seen, want 13", n)
			}
		})
	})

	t.Run("posts wait for their batch at most the flush interval", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			must(t, e.g.Close())
			net := &deliveringNet{delivered: make(chan struct{})}
			net.add(e.posts(0, 3, "pub", "#AcmeKaffee %d")...)
			g := openGate(t, e.cfg, gate.WithClock(e.clock.now), gate.WithListeningBatch(1000, 50*time.Millisecond),
				gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return net, nil }))
			ctx, cancel := context.WithCancel(system())
			defer cancel()
			must(t, g.SyncListening(ctx))
			<-net.delivered
			waitFor(t, "the batch written by time", func() bool { return e.count(t, "listening_seen") == 3 })
		})
	})

	t.Run("a post delivered twice in one batch counts once", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			ps := e.posts(0, 10, "pub", "#AcmeKaffee %d")
			e.net.add(ps...)
			e.net.add(ps[3], ps[7])
			rep := e.run(t)
			if rep.Counted != 10 || rep.Dropped["duplicate"] != 2 {
				t.Errorf("report = %+v, want 10 counted and 2 duplicates", rep)
			}
			if b := e.day(t); posts(b) != 10 {
				t.Errorf("bucket = %+v, want 10 posts", b)
			}
		})
	})
}

// resumingNet is a network whose plain Stream, like a real one, starts at
// the newest post and delivers only what comes later (here: nothing),
// while StreamSince also delivers what was made after since.
type resumingNet struct {
	streamNet
	mu     sync.Mutex
	sinces []time.Time
}

func (s *resumingNet) Stream(ctx context.Context, _ []string, _ func(tresor.SocialPost)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *resumingNet) StreamSince(ctx context.Context, kw []string, since time.Time, fn func(tresor.SocialPost)) error {
	s.mu.Lock()
	s.sinces = append(s.sinces, since)
	s.mu.Unlock()
	s.smu.Lock()
	var posts []tresor.SocialPost
	for _, p := range s.posts {
		if p.CreatedAt.After(since) {
			posts = append(posts, p)
		}
	}
	s.smu.Unlock()
	for _, p := range posts {
		fn(p)
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestListeningResumes(t *testing.T) {
	t.Run("a stream started again catches up from the topic's cursor and counts each post once", func(t *testing.T) {
		listenBackends(t, func(t *testing.T, e *listenEnv) {
			must(t, e.g.Close())
			net := &resumingNet{}
			open := func() *gate.Gate {
				return openGate(t, e.cfg, gate.WithClock(e.clock.now),
					gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return net, nil }))
			}
			// The first run: no cursor yet, so the stream starts at the
			// newest post, as a new stream must (nothing from before).
			net.add(e.posts(0, 4, "before", "#AcmeKaffee %d")...)
			g := open()
			if _, err := g.ListenFor(system(), 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			net.mu.Lock()
			if len(net.sinces) != 0 {
				t.Fatalf("a topic without a cursor resumed from %v", net.sinces)
			}
			net.mu.Unlock()
			must(t, g.Close())
			// Counted by another run (say, before an update): the cursor
			// stands at these posts.
			e.open(t)
			e.net.add(e.posts(0, 4, "before", "#AcmeKaffee %d")...)
			e.run(t)
			must(t, e.g.Close())

			// While the server was down, six more posts were made.
			e.clock.advance(10 * time.Minute)
			net.add(e.posts(4, 6, "downtime", "#AcmeKaffee %d")...)
			g = open()
			rep, err := g.ListenFor(system(), 300*time.Millisecond)
			must(t, err)
			net.mu.Lock()
			sinces := append([]time.Time(nil), net.sinces...)
			net.mu.Unlock()
			if len(sinces) != 1 || sinces[0].IsZero() {
				t.Fatalf("StreamSince called with %v, want once with the cursor", sinces)
			}
			if rep.Counted != 6 || rep.Dropped["duplicate"] != 4 {
				t.Errorf("report = %+v, want the 6 missed posts counted and the 4 known ones as duplicates", rep)
			}
			e.g = g
			if b := e.day(t); posts(b) != 10 {
				t.Errorf("bucket = %+v, want 10 posts, each once", b)
			}
		})
	})
}
