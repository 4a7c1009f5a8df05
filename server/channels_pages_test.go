package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// silentNet posts, but its answers never arrive.
type silentNet struct{ stubNet }

func (silentNet) Publish(context.Context, tresor.PublishRequest) (*tresor.SocialPost, error) {
	return nil, &tresor.ErrConnector{Network: "mastodon", Op: "publish", Err: fmt.Errorf("%w: timeout awaiting response headers", tresor.ErrOutcomeUnknown)}
}

// TestChannelPageShowsAnUnconfirmedPost proves that a post whose attempt
// got no answer is shown as unconfirmed, in English and German, neither as
// failed nor as scheduled.
func TestChannelPageShowsAnUnconfirmedPost(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true},
		gate.WithConnectors(func(context.Context, string, []byte) (tresor.Connector, error) { return silentNet{}, nil }))
	a.userWithPassword("pia@example.org", tresor.RolePR)
	ch, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme on Mastodon", Credentials: []byte(`{"token":"t"}`)})
	must(t, err)
	p, err := a.g.SchedulePost(tresor.WithPurpose(sys, "pr"), &tresor.Post{ChannelID: ch.ID, Text: "Our office is closed on 24 December."})
	must(t, err)
	if p.Unconfirmed == "" || p.Error != "" {
		t.Fatalf("post without an answer: %+v", p)
	}
	b := signedInAs(t, a, "pia@example.org")
	for lang, want := range map[string]string{"en": "unconfirmed: the network did not answer", "de": "unbestätigt: das Netzwerk hat nicht geantwortet"} {
		t.Run(lang, func(t *testing.T) {
			r := b.send("GET", "/channels/"+ch.ID, nil, map[string]string{"Accept-Language": lang})
			if r.status != http.StatusOK {
				t.Fatalf("channel page: %d", r.status)
			}
			i := strings.Index(r.body, `id="channel-posts"`)
			if i < 0 || !strings.Contains(r.body[i:], want) || strings.Contains(r.body[i:], "field-error") {
				t.Errorf("the posts do not show %q: %.1500s", want, r.body[max(i, 0):])
			}
		})
	}
}
