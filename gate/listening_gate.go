package gate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tresor"
)

// The listening gate: the only path from a connector's posts to storage.
// A post is kept out unless it is public; a post revealing a special
// category (Art. 9) is dropped entirely and counted only in a global
// counter; the author is pseudonymised at once with a keyed hash whose key
// belongs to the aggregation window (a UTC week, the widest bucket) and is
// destroyed when the window closes, so an author cannot be linked across
// windows; the text is analysed in memory and never stored. What remains
// are aggregates per topic × bucket × network × language.

// Analyzer reads a post's text: its sentiment (-1, 0, 1), the terms worth
// counting (stemmed, without stop words) and its hashtags. The gate keeps
// none of the text, only what Analyze returns, counted.
type Analyzer interface {
	Analyze(lang, text string) (sentiment int, terms []string, hashtags []string)
}

// WithAnalyzer sets the text analyzer of social listening (default: a
// plain tokenizer with a few sentiment words).
func WithAnalyzer(a Analyzer) Option { return func(g *Gate) { g.listening.analyzer = a } }

// listenGrace is how long after its end a window stays open for posts that
// arrive late; then its key and pseudonyms are destroyed.
const listenGrace = time.Hour

// listenTermsPerPost bounds the terms and hashtags one post adds.
const listenTermsPerPost = 20

// listening is the gate's state of social listening.
type listening struct {
	analyzer Analyzer
	batch    int           // posts per write at most (WithListeningBatch)
	every    time.Duration // longest wait of a post for its write
	mu       sync.Mutex
	windows  map[int64]*listenWindow // open windows by start (µs)
	streams  map[string]context.CancelFunc
}

// listenWindow is an open aggregation window with its key in memory.
type listenWindow struct {
	id         string
	start, end time.Time
	key        []byte

	idMu sync.Mutex
	ids  map[string]uint64 // row ids computed, by row key (a cache)
}

// listenRowIDCache bounds a window's cache of row ids.
const listenRowIDCache = 1 << 16

// rowIDs names each row for the window's author sets: a keyed hash of the
// row's key, so that a set says nothing about topics or terms once the
// window's key is destroyed.
func (w *listenWindow) rowIDs(rows []*tresor.ListeningAggregate) []uint64 {
	out := make([]uint64, len(rows))
	var b []byte
	w.idMu.Lock()
	defer w.idMu.Unlock()
	for i, r := range rows {
		b = append(b[:0], r.TopicID...)
		b = append(b, 0)
		b = append(b, r.Width...)
		b = append(b, 0)
		b = strconv.AppendInt(b, r.Start.UnixMicro(), 10)
		for _, s := range []string{r.Network, r.Language, r.Kind, r.Term} {
			b = append(b, 0)
			b = append(b, s...)
		}
		if id, ok := w.ids[string(b)]; ok {
			out[i] = id
			continue
		}
		m := hmac.New(sha256.New, w.key)
		m.Write([]byte("row\x00"))
		m.Write(b)
		id := binary.BigEndian.Uint64(m.Sum(nil))
		if w.ids == nil || len(w.ids) >= listenRowIDCache {
			w.ids = map[string]uint64{}
		}
		w.ids[string(b)] = id
		out[i] = id
	}
	return out
}

func (l *listening) analyze() Analyzer {
	if l.analyzer == nil {
		return textAnalyzer{}
	}
	return l.analyzer
}

// stop ends the streams of a topic.
func (l *listening) stop(topicID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, cancel := range l.streams {
		if strings.HasPrefix(k, topicID+"/") {
			cancel()
			delete(l.streams, k)
		}
	}
}

// keyed is the pseudonym of parts under a window's key.
func keyed(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

// listenRows are the aggregate rows one post adds to, for every width.
func listenRows(topicID, network, lang string, at time.Time, sentiment int, terms, tags []string) []*tresor.ListeningAggregate {
	var out []*tresor.ListeningAggregate
	terms, tags = distinct(terms, listenTermsPerPost), distinct(tags, listenTermsPerPost)
	for _, b := range tresor.ListeningBuckets() {
		base := tresor.ListeningAggregate{TopicID: topicID, Width: b, Start: b.Start(at), Network: network, Language: lang, Posts: 1}
		row := base
		row.Kind = "bucket"
		switch {
		case sentiment < 0:
			row.Negative = 1
		case sentiment > 0:
			row.Positive = 1
		default:
			row.Neutral = 1
		}
		out = append(out, &row)
		for _, term := range terms {
			r := base
			r.Kind, r.Term = "term", term
			out = append(out, &r)
		}
		for _, tag := range tags {
			r := base
			r.Kind, r.Term = "hashtag", tag
			out = append(out, &r)
		}
	}
	return out
}

func distinct(s []string, limit int) []string {
	var out []string
	for _, x := range s {
		x = strings.TrimSpace(x)
		if x == "" || len(x) > 100 || slices.Contains(out, x) {
			continue
		}
		out = append(out, x)
		if len(out) == limit {
			break
		}
	}
	return out
}

// listenWindowFor returns the open window a post of time at counts in,
// opening it if need be; nil when that window has closed.
func (g *Gate) listenWindowFor(ctx context.Context, at time.Time) (*listenWindow, error) {
	start := tresor.BucketWeek.Start(at)
	end := start.AddDate(0, 0, 7)
	if !g.now().Before(end.Add(listenGrace)) {
		return nil, nil
	}
	l := &g.listening
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.windows[start.UnixMicro()]; ok {
		return w, nil
	}
	for range 2 {
		ws, err := g.store.Read().ListeningWindows(ctx)
		if err != nil {
			return nil, err
		}
		for _, sw := range ws {
			if !sw.Start.Equal(start) {
				continue
			}
			dk, err := g.unwrap(ctx, &sw.Key)
			if err != nil {
				return nil, damaged("listening window", sw.ID, err)
			}
			key, err := dk.OpenValue("listening_window", sw.ID, "key", sw.Sealed)
			dk.Destroy()
			if err != nil {
				return nil, damaged("listening window", sw.ID, err)
			}
			w := &listenWindow{id: sw.ID, start: sw.Start, end: sw.End, key: key}
			if l.windows == nil {
				l.windows = map[int64]*listenWindow{}
			}
			l.windows[start.UnixMicro()] = w
			return w, nil
		}
		// A new window: a random key, sealed under a data key wrapped by
		// the key-encryption key, so that a copy of the database alone
		// never reveals it.
		id := newID()
		dk, wk, err := g.newKey(id)
		if err != nil {
			return nil, err
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			dk.Destroy()
			return nil, err
		}
		sw := &tresor.ListeningWindow{ID: id, Start: start, End: end, Key: *wk, Sealed: dk.SealValue("listening_window", id, "key", raw)}
		dk.Destroy()
		clear(raw)
		err = g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertListeningWindow(ctx, sw) })
		if err != nil && tresor.ErrorCode(err) != tresor.ECConflict {
			return nil, err
		}
		// Read it back (another server may have opened it first).
	}
	return nil, errors.New("listening window: cannot open")
}

// CloseListeningWindows destroys the keys and pseudonyms of the windows
// whose end (plus a grace for late posts) has passed; the aggregates stay.
// It returns the number of windows closed.
func (g *Gate) CloseListeningWindows(ctx context.Context) (int, error) {
	ws, err := g.store.Read().ListeningWindows(ctx)
	if err != nil {
		return 0, err
	}
	now := g.now()
	n := 0
	for _, w := range ws {
		if now.Before(w.End.Add(listenGrace)) {
			continue
		}
		if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.CloseListeningWindow(ctx, w.ID) }); err != nil {
			return n, err
		}
		g.listening.mu.Lock()
		if lw, ok := g.listening.windows[w.Start.UnixMicro()]; ok {
			clear(lw.key)
			lw.idMu.Lock()
			lw.ids = nil
			lw.idMu.Unlock()
			delete(g.listening.windows, w.Start.UnixMicro())
		}
		g.listening.mu.Unlock()
		n++
	}
	if n > 0 {
		// Deleted rows must not linger in free pages or the write-ahead log.
		if err := g.store.Compact(ctx, false); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ListeningDropped returns the global counters of posts kept out of every
// aggregate (for the data-protection officer; no topic, no time).
func (g *Gate) ListeningDropped(ctx context.Context) (map[string]int64, error) {
	if _, err := g.authorizeListening(ctx); err != nil {
		return nil, err
	}
	return g.store.Read().ListeningDropped(ctx)
}

// listenTarget is one stream of a topic: a channel's connector.
type listenTarget struct {
	topic   *tresor.ListeningTopic
	channel string
	network string
}

// listenTargets resolves the streams of every topic whose purpose may
// still listen: the named channels, and every channel of the named networks.
func (g *Gate) listenTargets(ctx context.Context) ([]listenTarget, error) {
	topics, err := g.store.Read().ListeningTopics(ctx)
	if err != nil {
		return nil, err
	}
	chans, err := g.store.Read().Channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []listenTarget
	for _, t := range topics {
		if !g.listeningPurposeOK(t) {
			continue
		}
		for _, ch := range chans {
			if slices.Contains(t.Channels, ch.ID) || slices.Contains(t.Networks, ch.Network) {
				out = append(out, listenTarget{topic: t, channel: ch.ID, network: ch.Network})
			}
		}
	}
	return out, nil
}

func connectorErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return connectorError(err)
}

// ListenFor runs the streams of every topic for d, then closes the windows
// that have ended. It runs as Tresor itself.
func (g *Gate) ListenFor(ctx context.Context, d time.Duration) (*tresor.ListeningReport, error) {
	if a := tresor.ActorFrom(ctx); a == nil || a.Kind != tresor.ActorSystem {
		return nil, tresor.Errorf(tresor.ECForbidden, "Only Tresor itself runs the listening streams.")
	}
	if _, err := g.CloseListeningWindows(ctx); err != nil {
		return nil, err
	}
	targets, err := g.listenTargets(ctx)
	if err != nil {
		return nil, err
	}
	rep := &tresor.ListeningReport{Dropped: map[string]int{}}
	seen := map[string]bool{}
	for _, tg := range targets {
		seen[tg.topic.ID] = true
	}
	rep.Topics = len(seen)
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(targets))
	for i, tg := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.listen(sctx, tg, rep, &mu)
		}()
	}
	wg.Wait()
	_, cerr := g.CloseListeningWindows(ctx)
	return rep, errors.Join(append(errs, cerr)...)
}

// SyncListening keeps one background stream running per topic and channel
// (restarting those of a changed topic, ending those of a deleted one) and
// closes the windows that have ended. The social loop calls it; the streams
// end with ctx. Several servers may stream the same topic: a post counts
// once, because its keyed hash is recorded in the window, on one database.
func (g *Gate) SyncListening(ctx context.Context) error {
	if _, err := g.CloseListeningWindows(ctx); err != nil {
		return err
	}
	targets, err := g.listenTargets(ctx)
	if err != nil {
		return err
	}
	want := map[string]listenTarget{}
	for _, tg := range targets {
		want[tg.topic.ID+"/"+tg.channel+"/"+strconv.FormatInt(tg.topic.Version, 10)] = tg
	}
	l := &g.listening
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streams == nil {
		l.streams = map[string]context.CancelFunc{}
	}
	for k, cancel := range l.streams {
		if _, ok := want[k]; !ok {
			cancel()
			delete(l.streams, k)
		}
	}
	for k, tg := range want {
		if _, ok := l.streams[k]; ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		l.streams[k] = cancel
		go func() {
			defer func() {
				l.mu.Lock()
				if _, ok := l.streams[k]; ok {
					delete(l.streams, k)
				}
				l.mu.Unlock()
				cancel()
			}()
			if err := g.listen(sctx, tg, nil, nil); err != nil {
				g.log.Warn("a listening stream failed", "topic", tg.topic.ID, "network", tg.network, "error", err)
			}
		}()
	}
	return nil
}
