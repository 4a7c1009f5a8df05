package gate_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/social/bluesky"
	"tresor/socialtest"
	"tresor/sqlite"
)

// TestInboxOnBluesky reads a channel's inbox through the gate from a real
// PDS and AppView, the cursor kept by the store between the reads. The
// AppView sorts a backdated mention below the ones already read; the
// inbox takes it in all the same, and takes nothing in twice.
func TestInboxOnBluesky(t *testing.T) {
	atp := realATProto.Get(t)
	acme := atp.Account(t, "acme-inbox-gate")
	person := atp.Account(t, "kundin-inbox-gate")
	dir := t.TempDir()
	g := openGate(t, datadir.Config{DataDir: dir, Migrate: true},
		gate.WithConnectors(func(ctx context.Context, _ string, creds []byte) (tresor.Connector, error) {
			c, err := bluesky.ParseCredentials(creds)
			if err != nil {
				return nil, err
			}
			return bluesky.New(ctx, c, bluesky.Options{})
		}))
	creds, err := json.Marshal(bluesky.Credentials{Service: atp.URL, Handle: acme.Handle, AppPassword: atp.AppPassword(t, acme)})
	must(t, err)
	ch, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "bluesky", Name: "Support", Credentials: creds})
	must(t, err)
	svc := as(t, g, "service@example.org", "service", tresor.RoleService)

	mention := func(text string, at time.Time) string {
		return atp.Post(t, person, socialtest.ATPost{Text: text + " @" + acme.Handle, Mention: acme, CreatedAt: at})
	}
	// poll reads the inbox once the AppView notifies the account of every
	// post of uris.
	poll := func(t *testing.T, uris ...string) *tresor.InboxReport {
		t.Helper()
		atp.Wait(t, "the notifications", func() (bool, error) {
			var out struct{ Notifications []struct{ URI string } }
			err := atp.XRPC("GET", "app.bsky.notification.listNotifications?limit=100", acme.AccessJwt, nil, &out)
			found := 0
			for _, n := range out.Notifications {
				for _, u := range uris {
					if n.URI == u {
						found++
					}
				}
			}
			return found == len(uris), err
		})
		rep, err := g.PollInbox(svc, ch.ID)
		must(t, err)
		return rep
	}
	cases := func() int {
		cs, err := g.Cases(svc, tresor.CaseFilter{})
		must(t, err)
		return len(cs.Items)
	}

	first := mention("Guten Tag, wann öffnen Sie morgen?", time.Time{})
	if rep := poll(t, first); rep.Read != 1 || rep.Cases != 1 {
		t.Fatalf("first read: %+v, want one mention as a case", rep)
	}

	t.Run("a backdated mention below the cursor is taken in, once", func(t *testing.T) {
		late := mention("Nachtrag: die Rechnung kam nicht an", time.Now().Add(-3*time.Hour))
		later := mention("Und die Lieferung auch nicht", time.Time{})
		if rep := poll(t, late, later); rep.Read != 2 || rep.Cases != 2 {
			t.Fatalf("second read: %+v, want the backdated and the new mention", rep)
		}
		if rep := poll(t); rep.Read != 0 {
			t.Errorf("third read: %+v, want nothing", rep)
		}
		if n := cases(); n != 3 {
			t.Errorf("%d cases, want 3", n)
		}
	})

	t.Run("the stored cursor names neither the person nor a post", func(t *testing.T) {
		raw, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, datadir.DatabaseFile)))
		must(t, err)
		defer raw.Close()
		var cursor string
		must(t, raw.QueryRow("SELECT inbox_cursor FROM channels WHERE id = $1", ch.ID).Scan(&cursor))
		if cursor == "" {
			t.Fatal("no cursor stored")
		}
		for _, nd := range []string{person.DID, person.Handle, "app.bsky.feed.post"} {
			if strings.Contains(cursor, nd) {
				t.Errorf("the cursor %q holds %q", cursor, nd)
			}
		}
	})
}
