package gate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"tresor"
	"tresor/policy"
)

// Posts of a stream pass the listening gate's checks one by one, at once
// (screening, pseudonymisation, analysis: nothing of a post outlives
// listenPrepare but its keyed hashes and the counts). What they add is
// written in batches: one transaction per listenBatchSize posts or per
// listenFlushEvery, whichever comes first, and at the end of the stream.
// A post is marked seen in its window in the same transaction that counts
// it, so a crash loses at most the batches not yet written (the one being
// written and the one waiting for it), never marked seen, which a stream
// that replays counts again exactly once.

// Default batching of the listening writes.
const (
	listenBatchSize  = 5000
	listenFlushEvery = time.Second
)

// WithListeningBatch sets how many posts of a stream are written in one
// transaction at most, and how long a post waits for its batch at most.
func WithListeningBatch(posts int, every time.Duration) Option {
	return func(g *Gate) {
		if posts > 0 {
			g.listening.batch = posts
		}
		if every > 0 {
			g.listening.every = every
		}
	}
}

// listenItem is a post that passed the gate, reduced to what is counted.
type listenItem struct {
	topicID, network string
	window           string
	postHash, author []byte
	rows             []*tresor.ListeningAggregate
	rowIDs           []uint64
	at               time.Time
}

// listenPrepare passes one post of a stream through the listening gate's
// checks. It returns the post's contribution, or nil when the post is kept
// out: drop names the reason (special-category posts are only counted,
// through special, in the global counter).
func (g *Gate) listenPrepare(ctx context.Context, t *tresor.ListeningTopic, kw *keywordTerms, network string, p tresor.SocialPost, drop func(string), special func()) (*listenItem, error) {
	if p.Visibility != tresor.PostPublic {
		drop("not_public")
		return nil, nil
	}
	if _, sp := policy.SpecialCategory(p.Text); sp {
		// Counted only globally: no topic, bucket or time that could point
		// at the author.
		special()
		return nil, nil
	}
	lang := normalizeLanguage(p.Language)
	if len(t.Languages) > 0 && !slices.Contains(t.Languages, lang) {
		drop("language")
		return nil, nil
	}
	now := g.now().UTC()
	at := p.CreatedAt.UTC()
	if at.IsZero() || at.After(now) {
		at = now
	}
	w, err := g.listenWindowFor(ctx, at)
	if err != nil {
		return nil, err
	}
	if w == nil {
		drop("late")
		return nil, nil
	}
	sentiment, terms, tags := g.listening.analyze().Analyze(lang, p.Text)
	// The topic's own keywords say nothing about what co-occurs with them.
	kwTerms, kwTags := kw.of(lang)
	terms, tags = without(terms, kwTerms), without(tags, kwTags)
	rows := listenRows(t.ID, network, lang, at, sentiment, terms, tags)
	return &listenItem{
		topicID: t.ID, network: network, window: w.id, at: at,
		postHash: keyed(w.key, "post", t.ID, network, p.ID),
		author:   keyed(w.key, "author", t.ID, network, strings.ToLower(strings.TrimSpace(p.Author))),
		rows:     rows,
		rowIDs:   w.rowIDs(rows),
	}, nil
}

// keywordTerms are a topic's keywords analysed as terms and hashtags, per
// language, computed once per stream.
type keywordTerms struct {
	a        Analyzer
	keywords string
	mu       sync.Mutex
	by       map[string][2][]string
}

func (k *keywordTerms) of(lang string) (terms, tags []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.by[lang]; ok {
		return v[0], v[1]
	}
	_, terms, tags = k.a.Analyze(lang, k.keywords)
	if k.by == nil {
		k.by = map[string][2][]string{}
	}
	k.by[lang] = [2][]string{terms, tags}
	return terms, tags
}

// writeListening counts a batch in one transaction: each post is marked
// seen in its window and, where new, added to its aggregates; the cursors
// move to the newest post counted; specials are added to the global
// counter. It returns how many posts were counted and how many had been
// counted before.
func (g *Gate) writeListening(ctx context.Context, items []*listenItem, specials int) (counted, dups int, err error) {
	if len(items) == 0 && specials == 0 {
		return 0, 0, nil
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		counted, dups = 0, 0
		type tn struct{ topic, network string }
		cursors := map[tn]time.Time{}
		seen := make([]tresor.ListeningSeen, len(items))
		for i, it := range items {
			seen[i] = tresor.ListeningSeen{WindowID: it.window, TopicID: it.topicID, Hash: it.postHash}
		}
		isNew, err := tx.MarkListeningSeen(ctx, seen)
		if err != nil {
			return err
		}
		var add []tresor.ListeningPost
		for i, it := range items {
			if !isNew[i] {
				dups++
				continue
			}
			add = append(add, tresor.ListeningPost{WindowID: it.window, Author: it.author, Rows: it.rows, RowIDs: it.rowIDs})
			k := tn{it.topicID, it.network}
			if it.at.After(cursors[k]) {
				cursors[k] = it.at
			}
			counted++
		}
		if err := tx.AddListeningPosts(ctx, add); err != nil {
			return err
		}
		for k, at := range cursors {
			if err := tx.SetListeningCursor(ctx, k.topic, k.network, at); err != nil {
				return err
			}
		}
		if specials > 0 {
			return tx.CountListeningDropped(ctx, "special", specials)
		}
		return nil
	})
	return counted, dups, err
}

// listen runs one stream until ctx ends, passing every post through the
// listening gate and writing them in batches. rep, if not nil, is updated
// under repMu.
func (g *Gate) listen(ctx context.Context, tg listenTarget, rep *tresor.ListeningReport, repMu *sync.Mutex) error {
	_, conn, err := g.channelConnector(ctx, tg.channel)
	if err != nil {
		return err
	}
	report := func(f func(r *tresor.ListeningReport)) {
		if rep == nil {
			return
		}
		if repMu != nil {
			repMu.Lock()
			defer repMu.Unlock()
		}
		f(rep)
	}
	size, every := g.listening.batch, g.listening.every
	if size <= 0 {
		size = listenBatchSize
	}
	if every <= 0 {
		every = listenFlushEvery
	}
	wctx := context.WithoutCancel(ctx) // a batch read is written even as the stream ends
	// The stream's goroutine passes posts through the gate while a writer
	// goroutine stores the batch before, so that the analysis of one batch
	// and the writing of the last overlap; at most one batch waits.
	type batch struct {
		items    []*listenItem
		specials int
	}
	var (
		mu       sync.Mutex // guards pending, specials, failed
		pending  []*listenItem
		specials int
		failed   error
	)
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
	}
	kw := &keywordTerms{a: g.listening.analyze(), keywords: strings.Join(tg.topic.Keywords, " ")}
	batches := make(chan batch, 1)
	written := make(chan struct{})
	go func() {
		defer close(written)
		for b := range batches {
			counted, dups, err := g.writeListening(wctx, b.items, b.specials)
			if err != nil {
				// Nothing of the batch is marked seen: a stream that
				// replays counts it again.
				fail(err)
				continue
			}
			report(func(r *tresor.ListeningReport) {
				r.Counted += counted
				if dups > 0 {
					r.Dropped["duplicate"] += dups
				}
			})
		}
	}()
	flush := func() {
		mu.Lock()
		b := batch{pending, specials}
		pending, specials = nil, 0
		mu.Unlock()
		if len(b.items) > 0 || b.specials > 0 {
			batches <- b
		}
	}
	done := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				flush()
			}
		}
	}()
	stream := conn.Stream
	if r, ok := conn.(tresor.StreamResumer); ok && !tg.topic.Cursors[tg.network].IsZero() {
		// A stream started again catches up from the newest post counted
		// (less the grace for posts that arrive late); what comes twice
		// is marked seen and counted once.
		since := tg.topic.Cursors[tg.network].Add(-listenGrace)
		stream = func(ctx context.Context, kw []string, fn func(tresor.SocialPost)) error {
			return r.StreamSince(ctx, kw, since, fn)
		}
	}
	err = stream(ctx, tg.topic.Keywords, func(p tresor.SocialPost) {
		drop := func(reason string) { report(func(r *tresor.ListeningReport) { r.Dropped[reason]++ }) }
		special := func() { mu.Lock(); specials++; mu.Unlock() }
		it, err := g.listenPrepare(wctx, tg.topic, kw, tg.network, p, drop, special)
		if err != nil {
			fail(err)
		}
		mu.Lock()
		if it != nil {
			pending = append(pending, it)
		}
		full := len(pending) >= size
		mu.Unlock()
		if full {
			flush()
		}
	})
	close(done)
	<-ticked
	flush()
	close(batches)
	<-written
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	mu.Lock()
	defer mu.Unlock()
	return errors.Join(connectorErrorOrNil(err), failed)
}
