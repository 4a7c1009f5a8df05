package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

var (
	_ tresor.ListeningReader = (*conn)(nil)
	_ tresor.ListeningWriter = (*conn)(nil)
)

// topicPlain is what a topic's plain column holds.
type topicPlain struct {
	Name      string   `json:"name"`
	Keywords  []string `json:"keywords"`
	Networks  []string `json:"networks"`
	Channels  []string `json:"channels,omitempty"`
	Languages []string `json:"languages,omitempty"`
}

func scanTopic(s scanner) (*tresor.ListeningTopic, error) {
	var t tresor.ListeningTopic
	var plain, cursors string
	var created, updated, budget, spent int64
	if err := s.Scan(&t.ID, &t.Purpose, &plain, &cursors, &t.CreatedBy, &created, &updated, &t.Version, &budget, &spent); err != nil {
		return nil, err
	}
	var p topicPlain
	if err := json.Unmarshal([]byte(plain), &p); err != nil {
		return nil, fmt.Errorf("listening topic %s: %w", t.ID, err)
	}
	t.Name, t.Keywords, t.Networks, t.Channels, t.Languages = p.Name, p.Keywords, p.Networks, p.Channels, p.Languages
	cur, err := parseCursors(cursors)
	if err != nil {
		return nil, fmt.Errorf("listening topic %s: %w", t.ID, err)
	}
	if len(cur) > 0 {
		t.Cursors = cur
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	t.EpsilonBudget, t.EpsilonSpent = fromMicroEpsilon(budget), fromMicroEpsilon(spent)
	t.DP = budget > 0
	return &t, nil
}

func parseCursors(s string) (map[string]time.Time, error) {
	var us map[string]int64
	if err := json.Unmarshal([]byte(s), &us); err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(us))
	for n, v := range us {
		out[n] = fromMicros(v)
	}
	return out, nil
}

func plainTopic(t *tresor.ListeningTopic) (string, error) {
	b, err := json.Marshal(topicPlain{Name: t.Name, Keywords: t.Keywords, Networks: t.Networks, Channels: t.Channels, Languages: t.Languages})
	return string(b), err
}

// ListeningTopic returns one topic.
func (c *conn) ListeningTopic(ctx context.Context, id string) (*tresor.ListeningTopic, error) {
	return get(ctx, c, "listening-topic", id, scanTopic)
}

// ListeningTopics lists every topic, oldest first.
func (c *conn) ListeningTopics(ctx context.Context) ([]*tresor.ListeningTopic, error) {
	return list(ctx, c, queries["listening-topic-select"], nil, scanTopic)
}

// InsertListeningTopic inserts a topic.
func (c *conn) InsertListeningTopic(ctx context.Context, t *tresor.ListeningTopic) error {
	plain, err := plainTopic(t)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "listening-topic-insert", t.ID, t.Purpose, plain, t.CreatedBy, micros(t.CreatedAt), micros(t.UpdatedAt), t.Version,
		microEpsilon(t.EpsilonBudget))
	return err
}

// UpdateListeningTopic replaces a topic's fields if its version is prev.
func (c *conn) UpdateListeningTopic(ctx context.Context, t *tresor.ListeningTopic, prev int64) error {
	plain, err := plainTopic(t)
	if err != nil {
		return err
	}
	return changeOne(ctx, c, "listening-topic", t.ID, "listening-topic-update", t.ID, plain, micros(t.UpdatedAt), t.Version, prev,
		microEpsilon(t.EpsilonBudget))
}

// DeleteListeningTopic deletes a topic; its aggregates and window state go
// with it (ON DELETE CASCADE).
func (c *conn) DeleteListeningTopic(ctx context.Context, id string) error {
	if !tresor.ValidID(id) {
		return notFound("listening topic", id)
	}
	res, err := c.exec(ctx, "listening-topic-delete", id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("listening topic", id)
	}
	return nil
}

// microEpsilon turns a privacy loss ε into the millionths the store keeps,
// so that spending is exact integer arithmetic.
func microEpsilon(e float64) int64 { return int64(math.Round(e * 1e6)) }

func fromMicroEpsilon(n int64) float64 { return float64(n) / 1e6 }

// SpendListeningBudget spends epsilon of a DP topic's budget if it fits.
func (c *conn) SpendListeningBudget(ctx context.Context, topicID string, epsilon float64) (bool, error) {
	if !tresor.ValidID(topicID) {
		return false, notFound("listening topic", topicID)
	}
	e := microEpsilon(epsilon)
	if e <= 0 {
		return false, fmt.Errorf("listening budget: spend %v: not a privacy loss", epsilon)
	}
	res, err := c.exec(ctx, "listening-budget-spend", topicID, e)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ListeningRelease returns the answer released for a query at or after since.
func (c *conn) ListeningRelease(ctx context.Context, topicID, query string, since time.Time) ([]byte, time.Time, bool, error) {
	if !tresor.ValidID(topicID) {
		return nil, time.Time{}, false, nil
	}
	s, err := c.stmt(ctx, "listening-release-get")
	if err != nil {
		return nil, time.Time{}, false, err
	}
	var body string
	var at int64
	err = s.QueryRowContext(ctx, topicID, query, micros(since)).Scan(&body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, c.db.dialect.TranslateError(err)
	}
	return []byte(body), fromMicros(at), true, nil
}

// PutListeningRelease keeps a released answer and prunes the topic's old ones.
func (c *conn) PutListeningRelease(ctx context.Context, topicID, query string, at time.Time, body []byte, prune time.Time) error {
	if _, err := c.exec(ctx, "listening-release-prune", topicID, micros(prune)); err != nil {
		return err
	}
	_, err := c.exec(ctx, "listening-release-put", topicID, query, micros(at), string(body))
	return err
}

// SetListeningCursor stores the newest post time counted on a network.
func (c *conn) SetListeningCursor(ctx context.Context, topicID, network string, at time.Time) error {
	if !tresor.ValidID(topicID) {
		return notFound("listening topic", topicID)
	}
	s, err := c.stmt(ctx, "listening-cursors-get")
	if err != nil {
		return err
	}
	var text string
	if err := s.QueryRowContext(ctx, topicID).Scan(&text); err != nil {
		return notFound("listening topic", topicID)
	}
	var us map[string]int64
	if err := json.Unmarshal([]byte(text), &us); err != nil {
		return err
	}
	if us == nil {
		us = map[string]int64{}
	}
	if v, ok := us[network]; ok && v >= micros(at) {
		return nil
	}
	us[network] = micros(at)
	b, err := json.Marshal(us)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "listening-cursors-set", topicID, string(b))
	return err
}

func scanAggregate(s scanner) (*tresor.ListeningAggregate, error) {
	var a tresor.ListeningAggregate
	var width string
	var start int64
	if err := s.Scan(&a.TopicID, &width, &start, &a.Network, &a.Language, &a.Kind, &a.Term, &a.Posts, &a.Authors,
		&a.Negative, &a.Neutral, &a.Positive); err != nil {
		return nil, err
	}
	a.Width, a.Start = tresor.ListeningBucket(width), fromMicros(start)
	return &a, nil
}

// ListeningAggregates returns a topic's aggregate rows of one width in [from, to).
func (c *conn) ListeningAggregates(ctx context.Context, topicID string, b tresor.ListeningBucket, from, to time.Time) ([]*tresor.ListeningAggregate, error) {
	if !tresor.ValidID(topicID) {
		return nil, nil
	}
	return list(ctx, c, queries["listening-aggregates"], []any{topicID, string(b), micros(from), micros(to)}, scanAggregate)
}

// AddListeningPosts counts several posts (see tresor.ListeningWriter). The
// authors' row sets are read and locked together, the rows not in a set
// yet count its author, and the changed sets are written back together;
// the figures are summed in memory and every aggregate row written once,
// in key order, many rows per statement.
func (c *conn) AddListeningPosts(ctx context.Context, posts []tresor.ListeningPost) error {
	type key struct {
		topic, width                  string
		start                         int64
		network, language, kind, term string
	}
	type author struct {
		window, topic string
		pseudo        []byte
		posts         []*tresor.ListeningPost
		set           []uint64
	}
	byAuthor := map[string]*author{}
	var authors []*author
	for i := range posts {
		p := &posts[i]
		if len(p.RowIDs) != len(p.Rows) {
			return fmt.Errorf("listening post: %d row ids for %d rows", len(p.RowIDs), len(p.Rows))
		}
		if len(p.Rows) == 0 {
			continue
		}
		k := p.WindowID + "\x00" + string(p.Author)
		a, ok := byAuthor[k]
		if !ok {
			a = &author{window: p.WindowID, topic: p.Rows[0].TopicID, pseudo: p.Author}
			byAuthor[k] = a
			authors = append(authors, a)
		}
		a.posts = append(a.posts, p)
	}
	// One order for every writer, so that two servers never wait for each
	// other's locks in a cycle.
	slices.SortFunc(authors, func(x, y *author) int {
		return cmp.Or(cmp.Compare(x.window, y.window), bytes.Compare(x.pseudo, y.pseudo))
	})
	lock := make([][]any, len(authors))
	for i, a := range authors {
		lock[i] = []any{a.window, a.pseudo, a.topic, []byte{0}}
	}
	err := c.multiRows(ctx, "listening-author-lock", lock, func(s scanner) error {
		var window string
		var pseudo, stored []byte
		if err := s.Scan(&window, &pseudo, &stored); err != nil {
			return err
		}
		if a, ok := byAuthor[window+"\x00"+string(pseudo)]; ok {
			a.set = decodeRowIDs(stored)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sums := map[key]*tresor.ListeningAggregate{}
	var sets [][]any
	for _, a := range authors {
		before := len(a.set)
		for _, p := range a.posts {
			for i, r := range p.Rows {
				k := key{r.TopicID, string(r.Width), micros(r.Start), r.Network, r.Language, r.Kind, r.Term}
				s, ok := sums[k]
				if !ok {
					s = &tresor.ListeningAggregate{}
					sums[k] = s
				}
				s.Posts += r.Posts
				s.Negative += r.Negative
				s.Neutral += r.Neutral
				s.Positive += r.Positive
				if j, found := slices.BinarySearch(a.set, p.RowIDs[i]); !found {
					a.set = slices.Insert(a.set, j, p.RowIDs[i])
					s.Authors++
				}
			}
		}
		if len(a.set) != before {
			sets = append(sets, []any{a.window, a.pseudo, a.topic, encodeRowIDs(a.set)})
		}
	}
	if err := c.multiRows(ctx, "listening-author-set", sets, nil); err != nil {
		return err
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.width, b.width), cmp.Compare(a.start, b.start),
			cmp.Compare(a.network, b.network), cmp.Compare(a.language, b.language), cmp.Compare(a.kind, b.kind), cmp.Compare(a.term, b.term))
	})
	add := make([][]any, len(keys))
	for i, k := range keys {
		s := sums[k]
		add[i] = []any{k.topic, k.width, k.start, k.network, k.language, k.kind, k.term, s.Posts, s.Authors, s.Negative, s.Neutral, s.Positive}
	}
	return c.multiRows(ctx, "listening-aggregate-add", add, nil)
}

// decodeRowIDs reads a stored row set: a version byte (0), then sorted
// 8-byte big-endian ids.
func decodeRowIDs(b []byte) []uint64 {
	if len(b) == 0 {
		return nil
	}
	b = b[1:]
	out := make([]uint64, 0, len(b)/8+8)
	for len(b) >= 8 {
		out = append(out, binary.BigEndian.Uint64(b))
		b = b[8:]
	}
	return out
}

func encodeRowIDs(ids []uint64) []byte {
	out := make([]byte, 1, 1+8*len(ids))
	for _, id := range ids {
		out = binary.BigEndian.AppendUint64(out, id)
	}
	return out
}

// MarkListeningSeen records posts' keyed hashes and reports which were new.
func (c *conn) MarkListeningSeen(ctx context.Context, posts []tresor.ListeningSeen) ([]bool, error) {
	out := make([]bool, len(posts))
	first := map[string]int{}
	var rows [][]any
	for i, p := range posts {
		k := p.WindowID + "\x00" + p.TopicID + "\x00" + string(p.Hash)
		if _, dup := first[k]; dup {
			continue
		}
		first[k] = i
		rows = append(rows, []any{p.WindowID, p.TopicID, p.Hash})
	}
	err := c.multiRows(ctx, "listening-seen-add", rows, func(s scanner) error {
		var window, topic string
		var hash []byte
		if err := s.Scan(&window, &topic, &hash); err != nil {
			return err
		}
		if i, ok := first[window+"\x00"+topic+"\x00"+string(hash)]; ok {
			out[i] = true
		}
		return nil
	})
	return out, err
}

// listenChunk is how many rows one listening statement writes at most
// (13 parameters a row at most: well below either backend's limit).
const listenChunk = 100

func init() {
	for _, q := range []string{"listening-aggregate-add", "listening-seen-add", "listening-author-lock", "listening-author-set"} {
		queries[q+"*chunk"] = multiRow(queries[q], listenChunk, false)
		queries[q+"*chunk?"] = multiRow(queries[q], listenChunk, true)
	}
}

// multiRow turns a query of one VALUES tuple into one of n tuples,
// numbering the parameters on, or with ? parameters (positional), where
// the tuple's parameters are $1 … $k in order and the only ones; what
// else the tuple holds (a NULL, a constant) is repeated as it is.
func multiRow(q string, n int, positional bool) string {
	i := strings.Index(q, "VALUES (")
	j := i + strings.Index(q[i:], ")")
	if i < 0 || j < i {
		panic("sqlstore: no VALUES tuple in " + q)
	}
	tuple := q[i+len("VALUES ") : j+1]
	width := strings.Count(tuple, "$")
	var b strings.Builder
	b.WriteString(q[:i+len("VALUES ")])
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		for k := 0; k < len(tuple); k++ {
			if tuple[k] != '$' {
				b.WriteByte(tuple[k])
				continue
			}
			e := k + 1
			for e < len(tuple) && tuple[e] >= '0' && tuple[e] <= '9' {
				e++
			}
			if positional {
				b.WriteByte('?')
			} else {
				p, _ := strconv.Atoi(tuple[k+1 : e])
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(r*width + p))
			}
			k = e - 1
		}
	}
	b.WriteString(q[j+1:])
	return b.String()
}

// multiRows runs a query of queries.sql for every row, listenChunk rows a
// statement (prepared once for full chunks), passing each row it returns
// to scan.
func (c *conn) multiRows(ctx context.Context, name string, rows [][]any, scan func(scanner) error) error {
	for len(rows) > 0 {
		n := min(len(rows), listenChunk)
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		rows = rows[n:]
		var rs *sql.Rows
		var err error
		positional := c.db.dialect.PositionalParams
		if n == listenChunk {
			chunk := name + "*chunk"
			if positional {
				chunk += "?"
			}
			var s *sql.Stmt
			if s, err = c.stmt(ctx, chunk); err != nil {
				return err
			}
			rs, err = s.QueryContext(ctx, args...)
		} else {
			rs, err = c.queryText(ctx, multiRow(queries[name], n, positional), args...)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, c.db.dialect.TranslateError(err))
		}
		for rs.Next() {
			if scan == nil {
				continue
			}
			if err := scan(rs); err != nil {
				rs.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := rs.Close(); err != nil {
			return fmt.Errorf("%s: %w", name, c.db.dialect.TranslateError(err))
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, c.db.dialect.TranslateError(err))
		}
	}
	return nil
}

// ListeningWindows returns the open windows, oldest first.
func (c *conn) ListeningWindows(ctx context.Context) ([]*tresor.ListeningWindow, error) {
	return list(ctx, c, queries["listening-window-select"], nil, func(s scanner) (*tresor.ListeningWindow, error) {
		var w tresor.ListeningWindow
		var start, end int64
		if err := s.Scan(&w.ID, &start, &end, &w.Key.Version, &w.Key.KEKVersion, &w.Key.Wrapped, &w.Sealed); err != nil {
			return nil, err
		}
		w.Start, w.End, w.Key.Subject = fromMicros(start), fromMicros(end), w.ID
		return &w, nil
	})
}

// InsertListeningWindow opens a window.
func (c *conn) InsertListeningWindow(ctx context.Context, w *tresor.ListeningWindow) error {
	_, err := c.exec(ctx, "listening-window-insert", w.ID, micros(w.Start), micros(w.End), w.Key.Version, w.Key.KEKVersion, w.Key.Wrapped, w.Sealed)
	return err
}

// CloseListeningWindow deletes a window's pseudonyms and then its key.
func (c *conn) CloseListeningWindow(ctx context.Context, id string) error {
	for _, q := range []string{"listening-window-seen-delete", "listening-window-authors-delete", "listening-window-delete"} {
		if _, err := c.exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// CountListeningDropped adds n to a global counter.
func (c *conn) CountListeningDropped(ctx context.Context, reason string, n int) error {
	_, err := c.exec(ctx, "listening-dropped-add", reason, n)
	return err
}

// ListeningDropped returns the global counters.
func (c *conn) ListeningDropped(ctx context.Context) (map[string]int64, error) {
	type kv struct {
		k string
		v int64
	}
	rows, err := list(ctx, c, queries["listening-dropped-select"], nil, func(s scanner) (kv, error) {
		var r kv
		return r, s.Scan(&r.k, &r.v)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.k] = r.v
	}
	return out, nil
}
