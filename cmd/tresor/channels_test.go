package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/socialtest"
)

// TestChannelCommandsOnGoToSocial adds a company account on a real
// Mastodon-API server (GoToSocial) with the CLI, publishes a post, is
// refused a post that names a person, and reads a direct message of a
// stranger into a case.
func TestChannelCommandsOnGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	bob := gts.Account(t, "bob")
	dir := t.TempDir()
	env := map[string]string{"TRESOR_DATA_DIR": dir}
	expect(t, env, 0, "", "migrate")

	work := t.TempDir()
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("acme.json", map[string]string{"server": gts.URL, "client_id": acme.ClientID, "client_secret": acme.ClientSecret, "access_token": acme.Token})
	wrong := write("wrong.json", map[string]string{"server": gts.URL, "access_token": "not-a-token"})

	expect(t, env, 1, "mastodon", "channel", "add", "mastodon", "--name", "Support", "--credentials", wrong)
	expect(t, env, 1, "no connector", "channel", "add", "myspace", "--name", "Old", "--credentials", good)
	expect(t, env, 2, "needs --name", "channel", "add", "mastodon", "--credentials", good)
	out := expect(t, env, 0, "as @acme@"+strings.ToLower(gts.Host), "channel", "add", "mastodon", "--name", "Support", "--credentials", good)
	id := strings.TrimSuffix(strings.Fields(out)[1], ":")
	expect(t, env, 0, id, "channel", "list")
	db, err := os.ReadFile(filepath.Join(dir, datadir.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(acme.Token)) {
		t.Fatal("the access token is in the database file in the clear")
	}

	// A company post goes out; one that names a person does not.
	expect(t, env, 0, "published", "channel", "post", id, "Neu bei uns: der Winterkatalog")
	var statuses []struct{ Content string }
	if err := gts.Do("GET", "/api/v1/accounts/"+acme.ID+"/statuses", bob.Token, nil, 200, &statuses); err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 || !strings.Contains(statuses[0].Content, "Winterkatalog") {
		t.Fatalf("acme's statuses on the server: %+v", statuses)
	}
	expect(t, env, 1, "names a person", "channel", "post", id, "Danke @bob@"+gts.Host+" für den Tipp")
	expect(t, env, 0, "scheduled", "channel", "post", id, "Morgen geschlossen", "--at", time.Now().Add(time.Hour).Format(time.RFC3339))
	expect(t, env, 0, "Morgen geschlossen", "channel", "posts", id)

	// A direct message of someone who is not a contact becomes a case.
	form := url.Values{"status": {"@acme Meine Bestellung ist nicht angekommen"}, "visibility": {"direct"}}
	if err := gts.Do("POST", "/api/v1/statuses", bob.Token, form, 200, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := expect(t, env, 0, "read", "channel", "poll", id)
		if strings.Contains(out, "read 1: 0 interactions with contacts, 1 cases") {
			break
		}
		if !strings.HasPrefix(out, "read 0:") || time.Now().After(deadline) {
			t.Fatalf("poll: %q", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	expect(t, env, 0, "read 0:", "channel", "poll", id)

	// The server's loop publishes a post when it is due and reads the inbox.
	expect(t, env, 0, "scheduled", "channel", "post", id, "Gleich geht es los", "--at", time.Now().Add(2*time.Second).Format(time.RFC3339))
	form = url.Values{"status": {"@acme Und wann kommt sie?"}, "visibility": {"direct"}}
	if err := gts.Do("POST", "/api/v1/statuses", bob.Token, form, 200, nil); err != nil {
		t.Fatal(err)
	}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
	err = m.withSocial(context.Background(), config{dataDir: dir}, func(g *gate.Gate) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() {
			g.WatchSocial(ctx, 200*time.Millisecond, "service", false)
			close(done)
		}()
		defer func() { cancel(); <-done }()
		sys := tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem})
		for {
			posts, err := g.Posts(tresor.WithPurpose(sys, "marketing"), tresor.PostQuery{ChannelID: id})
			if err != nil {
				return err
			}
			cases, err := g.Cases(tresor.WithPurpose(sys, "service"), tresor.CaseFilter{})
			if err != nil {
				return err
			}
			published := 0
			for _, p := range posts.Items {
				if p.PublishedAt != nil {
					published++
				}
			}
			if published == 2 && len(cases.Items) == 2 {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("after 30 s: %d posts published, %d cases", published, len(cases.Items))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, env, 1, "service", "channel", "poll", id, "--purpose", "marketing")
	expect(t, env, 0, "", "channel", "delete", id)
	if out := expect(t, env, 0, "", "channel", "list"); strings.Contains(out, id) {
		t.Fatalf("the channel is still listed: %q", out)
	}

	// Adding a channel as an operator does: Tresor registers itself, shows
	// the page to allow access, and reads the code the server showed.
	authorizeInteractively(t, gts, acme, env)
}

// authorizeInteractively runs `tresor channel add mastodon --server URL`
// with the operator at the terminal: it waits for the authorize page
// Tresor prints, allows access there as the account, and types the code.
func authorizeInteractively(t *testing.T, gts *socialtest.GTS, acct *socialtest.Account, env map[string]string) {
	t.Helper()
	stdin, typing := io.Pipe()
	prompt, prompted := io.Pipe()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: prompted, Stdin: stdin, Getenv: func(k string) string { return env[k] }}
	exit := make(chan int, 1)
	go func() {
		exit <- exitCode(prompted, m.Run(context.Background(), []string{"channel", "add", "mastodon", "--name", "Presse", "--server", gts.URL}))
		prompted.Close()
	}()
	var said strings.Builder
	page := ""
	buf := make([]byte, 4096)
	for page == "" {
		n, err := prompt.Read(buf)
		said.Write(buf[:n])
		for _, f := range strings.Fields(said.String()) {
			if strings.HasPrefix(f, gts.URL+"/oauth/authorize?") {
				page = f
			}
		}
		if err != nil && page == "" {
			t.Fatalf("tresor printed no authorize page: %q (exit %d)", said.String(), <-exit)
		}
	}
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(said.String(), "paste the code") {
		t.Fatalf("no prompt for the code: %q", said.String())
	}
	code := gts.AuthorizationCode(t, acct, u.Query().Get("client_id"), u.Query().Get("scope"))
	go io.Copy(io.Discard, prompt)
	if _, err := io.WriteString(typing, code+"\n"); err != nil {
		t.Fatal(err)
	}
	if rc := <-exit; rc != 0 || !strings.Contains(out.String(), "as @"+acct.Username+"@"+strings.ToLower(gts.Host)) {
		t.Fatalf("channel add: exit %d, %q", rc, out.String())
	}
}
