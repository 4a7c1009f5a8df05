package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/vault"
)

// listenNet is a fake network whose stream hands out the posts of the day
// being listened to, as a real stream would, then waits.
type listenNet struct {
	stubNet
	mu    sync.Mutex
	posts []tresor.SocialPost
}

func (n *listenNet) Stream(ctx context.Context, _ []string, fn func(tresor.SocialPost)) error {
	n.mu.Lock()
	posts := append([]tresor.SocialPost(nil), n.posts...)
	n.mu.Unlock()
	for _, p := range posts {
		fn(p)
	}
	<-ctx.Done()
	return ctx.Err()
}

// listenClock is the gate's clock: the day being listened to, or now.
type listenClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *listenClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *listenClock) set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

// listened is a server after a listening run: a topic of the pr
// purpose with a week of days, two of them below k authors, and what the
// run was given that must never come out again.
type listened struct {
	a        *api
	dir      string
	clock    *listenClock
	topic    *tresor.ListeningTopic
	dp       *tresor.ListeningTopic // the same, of the analytics purpose, with differential privacy
	from, to string                 // the week, as the topic page's form takes it
	secrets  []string
}

// listeningDays are the posts of each day of the week: how many authors,
// and what they say. Days 1 and 5 have fewer than k = 10 authors.
var listeningDays = []struct {
	n    int
	kind string
}{{12, "pos"}, {3, "pos"}, {15, "mix"}, {0, ""}, {11, "neu"}, {4, "neg"}, {13, "mix"}}

var listeningTexts = map[string]string{
	"pos": "Der #AcmeKaffee ist wirklich gut und lecker zum #Frühstück, sagt Hörerin %03d",
	"neu": "Heute #AcmeKaffee im Büro gekauft für das #Frühstück, Notiz %03d",
	"neg": "Der #AcmeKaffee ist leider schlecht und bitter am #Montag, meint Gast %03d",
}

func newListened(t *testing.T) *listened {
	t.Helper()
	dir := t.TempDir()
	l := &listened{dir: dir, clock: &listenClock{}}
	net := &listenNet{}
	l.a = newAPI(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(l.clock.now),
		gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return net, nil }))
	_, err := l.a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"x"}`)})
	must(t, err)
	l.topic = &tresor.ListeningTopic{Name: "Acme Kaffee", Keywords: []string{"#acmekaffee"}, Networks: []string{"mastodon"}}
	must(t, l.a.g.CreateTopic(tresor.WithPurpose(sys, "pr"), l.topic))
	l.dp = &tresor.ListeningTopic{Name: "Acme Kaffee (DP)", Keywords: []string{"#acmekaffee"}, Networks: []string{"mastodon"}, EpsilonBudget: 20}
	must(t, l.a.g.CreateTopic(tresor.WithPurpose(sys, "analytics"), l.dp))
	first := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7)
	l.from, l.to = first.Format(time.DateOnly), first.AddDate(0, 0, 6).Format(time.DateOnly)
	for d, day := range listeningDays {
		noon := first.AddDate(0, 0, d).Add(12 * time.Hour)
		var posts []tresor.SocialPost
		for i := range day.n {
			kind := day.kind
			if kind == "mix" {
				kind = []string{"pos", "neu", "neg"}[i%3]
			}
			no := d*100 + i
			handle := fmt.Sprintf("@lauscher%03d@social.example", no)
			text := fmt.Sprintf(listeningTexts[kind], no)
			id := fmt.Sprintf("1139%08d", no)
			posts = append(posts, tresor.SocialPost{ID: id, Network: "mastodon", Author: handle, Text: text,
				Visibility: tresor.PostPublic, Language: "de", URL: "https://social.example/@lauscher/" + id, CreatedAt: noon.Add(-time.Duration(i) * time.Minute)})
			l.secrets = append(l.secrets, handle, strings.TrimPrefix(handle, "@"), text, id)
		}
		net.mu.Lock()
		net.posts = posts
		net.mu.Unlock()
		l.clock.set(noon)
		_, err := l.a.g.ListenFor(sys, 300*time.Millisecond)
		must(t, err)
	}
	// The windows close: their keys and pseudonyms are destroyed.
	l.clock.set(time.Now().AddDate(0, 0, 8))
	_, err = l.a.g.CloseListeningWindows(sys)
	must(t, err)
	l.clock.set(time.Time{})
	return l
}

// leaked returns the first secret of the run found in b.
func (l *listened) leaked(b []byte) string {
	for _, s := range l.secrets {
		if bytes.Contains(b, []byte(s)) {
			return s
		}
	}
	return ""
}

// TestListeningHasNoDrillDown proves R10's "no drill-down": from an
// aggregate there is no route, parameter, page or log line that leads to a
// post, a handle or a person, and nothing of the posts is on disk.
func TestListeningHasNoDrillDown(t *testing.T) {
	l := newListened(t)
	l.a.userWithPassword("pia@example.org", tresor.RolePR)
	b := newBrowser(t, l.a.url)
	if p := b.signIn("pia@example.org", webPassword); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.status)
	}
	csrf := b.get("/").field(t, "csrf")
	if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"pr"}, "back": {"/"}}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("choosing pr: %d %.800s", p.status, p.body)
	}

	t.Run("the listening routes take no parameter but the topic", func(t *testing.T) {
		n := 0
		for _, r := range l.a.srv.Routes() {
			if !strings.Contains(r.Pattern, "listening") {
				continue
			}
			n++
			rest := strings.ReplaceAll(r.Pattern, "{id}", "")
			if strings.Contains(rest, "{") {
				t.Errorf("%s %s names something below a topic", r.Method, r.Pattern)
			}
			for _, w := range []string{"post", "author", "handle", "person", "account", "contact"} {
				if strings.Contains(strings.ToLower(r.Pattern), w) {
					t.Errorf("%s %s leads to a %s", r.Method, r.Pattern, w)
				}
			}
		}
		if n < 9 {
			t.Errorf("only %d listening routes found", n)
		}
	})

	t.Run("every listening response is free of the run's handles, texts and post ids", func(t *testing.T) {
		id := l.topic.ID
		q := "?from=" + l.from + "&to=" + l.to
		api := []call{
			{method: "GET", path: "/api/v1/listening/topics", role: tresor.RolePR, purpose: "pr"},
			{method: "GET", path: "/api/v1/listening/topics/" + id, role: tresor.RolePR, purpose: "pr"},
			{method: "GET", path: "/api/v1/listening/topics/" + id + "/trend" + q, role: tresor.RolePR, purpose: "pr"},
			{method: "GET", path: "/api/v1/listening/topics/" + id + "/trend" + q + "&bucket=hour", role: tresor.RolePR, purpose: "pr"},
			{method: "GET", path: "/api/v1/listening/topics/" + id + "/trend" + q + "&format=csv", role: tresor.RolePR, purpose: "pr"},
		}
		var trend reply
		for i, c := range api {
			r := l.a.do(c)
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", c.path, r.status, r.body)
			}
			if s := l.leaked(r.body); s != "" {
				t.Errorf("%s gives away %q", c.path, s)
			}
			if i == 2 {
				trend = r
			}
		}
		// The trend has shown and suppressed days: the test can fail.
		if !bytes.Contains(trend.body, []byte(`"suppressed":true`)) || !bytes.Contains(trend.body, []byte(`"posts":12`)) {
			t.Fatalf("trend: %s", trend.body)
		}
		for _, p := range []string{"/listening", "/listening/" + id + q, "/listening/" + id + q + "&bucket=hour", "/listening/" + id + q + "&bucket=week"} {
			r := b.get(p)
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %.500s\n%s", p, r.status, r.body, lastLines(l.a.logs.String(), 3))
			}
			if s := l.leaked([]byte(r.body)); s != "" {
				t.Errorf("%s gives away %q", p, s)
			}
		}
	})

	t.Run("no GET route of the server, for any role, gives away a handle, a text or a post id", func(t *testing.T) {
		as := []struct {
			role    tresor.Role
			purpose string
		}{{tresor.RolePR, "pr"}, {tresor.RoleAnalyst, "analytics"}, {tresor.RoleDPO, "data_protection"}, {tresor.RoleAdmin, ""}, {tresor.RoleMarketing, "marketing"}}
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		n := 0
		for _, r := range l.a.srv.Routes() {
			if r.Method != "GET" {
				continue
			}
			path := r.Pattern
			for strings.Contains(path, "{") {
				i, j := strings.Index(path, "{"), strings.Index(path, "}")
				path = path[:i] + l.topic.ID + path[j+1:]
			}
			for _, who := range as {
				req, err := http.NewRequest("GET", l.a.url+path, nil)
				must(t, err)
				req.Header.Set("Authorization", "Bearer "+l.a.token(who.role))
				if who.purpose != "" {
					req.Header.Set("Tresor-Purpose", who.purpose)
				}
				res, err := client.Do(req)
				if err != nil {
					continue // a stream that does not end is no answer to grep
				}
				body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
				res.Body.Close()
				n++
				if s := l.leaked(body); s != "" {
					t.Errorf("GET %s as %s gives away %q", path, who.role, s)
				}
			}
			if r := b.get(path); l.leaked([]byte(r.body)) != "" {
				t.Errorf("the page %s gives away %q", path, l.leaked([]byte(r.body)))
			}
		}
		if n < 100 {
			t.Errorf("only %d answers read", n)
		}
	})

	t.Run("no log line names a handle, a text or a post id", func(t *testing.T) {
		logs := l.a.logs.String()
		if !strings.Contains(logs, "listening") {
			t.Fatal("the log shows nothing of listening: the test can fail only if it does")
		}
		if s := l.leaked([]byte(logs)); s != "" {
			t.Errorf("the log gives away %q", s)
		}
	})

	t.Run("neither the database, its WAL nor a backup holds a handle, a text or a post id", func(t *testing.T) {
		var files int
		must(t, filepath.Walk(l.dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			files++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if s := l.leaked(data); s != "" {
				t.Errorf("%s holds %q", filepath.Base(path), s)
			}
			return nil
		}))
		if files == 0 {
			t.Fatal("no files in the data directory")
		}
		secret, recipient, err := datadir.NewBackupIdentity()
		must(t, err)
		idFile := filepath.Join(t.TempDir(), "identity")
		must(t, os.WriteFile(idFile, []byte(secret+"\n"), 0o600))
		var enc bytes.Buffer
		_, err = l.a.g.CreateBackup(sys, &enc, []string{recipient}, t.TempDir(), "test", nil)
		must(t, err)
		ids, err := vault.ReadIdentities(idFile)
		must(t, err)
		r, err := vault.DecryptBackup(&enc, ids)
		must(t, err)
		var plain bytes.Buffer
		_, err = plain.ReadFrom(r)
		must(t, err)
		if !bytes.Contains(plain.Bytes(), []byte("Acme Kaffee")) {
			t.Fatal("the backup does not hold the topic: the grep proves nothing")
		}
		if s := l.leaked(plain.Bytes()); s != "" {
			t.Errorf("the backup holds %q", s)
		}
	})
}

// lastLines returns the last n lines of s, to show why a page failed.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestListeningTopicForm proves the form that adds a topic: a good one
// opens the topic's page, a bad one comes back with the problem next to its
// field, a form without the session's token is refused, and roles whose
// purposes may not listen do not reach the pages.
func TestListeningTopicForm(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("pia@example.org", tresor.RolePR)
	a.userWithPassword("sam@example.org", tresor.RoleSales)
	b := newBrowser(t, a.url)
	if p := b.signIn("pia@example.org", webPassword); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.status)
	}
	csrf := b.get("/").field(t, "csrf")
	if p := b.post("/purpose", url.Values{"csrf": {csrf}, "purpose": {"pr"}, "back": {"/"}}, nil); p.status != http.StatusSeeOther {
		t.Fatalf("choosing pr: %d", p.status)
	}
	t.Run("a good topic opens its page", func(t *testing.T) {
		p := b.post("/listening", url.Values{"csrf": {csrf}, "name": {"Presse Acme"}, "keywords": {"#acme, Acme Kaffee"}, "network": {"mastodon", "bluesky"}, "languages": {"de en"}}, nil)
		loc := p.header.Get("Location")
		if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/listening/") {
			t.Fatalf("create: %d %q %.500s", p.status, loc, p.body)
		}
		page := b.get(loc)
		if page.status != http.StatusOK || !strings.Contains(page.body, "Presse Acme") || !strings.Contains(page.body, "Acme Kaffee") {
			t.Fatalf("topic page: %d %.500s", page.status, page.body)
		}
		if l := b.get("/listening"); !strings.Contains(l.body, "Presse Acme") {
			t.Error("the list does not show the new topic")
		}
	})
	t.Run("a bad topic comes back with the problems next to their fields", func(t *testing.T) {
		p := b.post("/listening", url.Values{"csrf": {csrf}, "name": {""}, "keywords": {"@erika@social.example"}, "languages": {"deutsch"}}, nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("create: %d %.500s", p.status, p.body)
		}
		for _, id := range []string{"topic-new-name-error", "topic-new-keywords-error", "topic-new-networks-error", "topic-new-languages-error"} {
			if !strings.Contains(p.body, `id="`+id+`"`) {
				t.Errorf("no %s in the page", id)
			}
		}
		if !strings.Contains(p.body, `value="@erika@social.example"`) {
			t.Error("what was typed is not kept")
		}
	})
	t.Run("a form without the session's token is refused", func(t *testing.T) {
		p := b.post("/listening", url.Values{"name": {"X"}, "keywords": {"x"}, "network": {"mastodon"}}, nil)
		if p.status != http.StatusForbidden {
			t.Errorf("without csrf: %d", p.status)
		}
	})
	t.Run("a period that cannot be read is said next to its field", func(t *testing.T) {
		topics, err := a.g.Topics(tresor.WithPurpose(sys, "pr"))
		must(t, err)
		p := b.get("/listening/" + topics[0].ID + "?from=gestern&bucket=month")
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="topic-from-error"`) || !strings.Contains(p.body, `id="topic-bucket-error"`) {
			t.Errorf("bad period: %d %.300s", p.status, p.body)
		}
	})
	t.Run("roles that may not listen do not reach the pages", func(t *testing.T) {
		s := newBrowser(t, a.url)
		if p := s.signIn("sam@example.org", webPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", p.status)
		}
		if p := s.get("/listening"); p.status != http.StatusForbidden {
			t.Errorf("sales on /listening: %d", p.status)
		}
		if strings.Contains(s.get("/").body, `href="/listening"`) {
			t.Error("sales sees the listening link")
		}
	})
}
