package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
)

// fakeNet is an in-memory social network account for the gate's tests.
type fakeNet struct {
	mu        sync.Mutex
	inbox     []tresor.SocialPost
	sent      []tresor.SocialPost
	published []string
	byKey     map[string]tresor.SocialPost // the posts published, by their key
	keys      []string                     // the key of each call of Publish
	lost      int                          // the next publishes go out but their answers are lost
	dropped   int                          // the next publishes are lost on the way: nothing goes out, no answer
	refuse    error                        // Publish refuses
	lookFail  error                        // Published fails
	fail      error
	sendFail  error
	builds    int // connectors built for this account
}

func (f *fakeNet) Network() string                         { return "mastodon" }
func (f *fakeNet) Kind() tresor.NetworkKind                { return tresor.KindMixed }
func (f *fakeNet) Account(context.Context) (string, error) { return "@acme@social.example", nil }
func (f *fakeNet) Profile(_ context.Context, h string) (*tresor.SocialProfile, error) {
	return &tresor.SocialProfile{Network: "mastodon", Handle: h, DisplayName: "Erika", Bio: "Betriebsrätin und Gewerkschaftsmitglied",
		Fields: []tresor.ProfileField{{Name: "Web", Value: "https://erika.example"}, {Name: "Glaube", Value: "katholisch"}}}, nil
}
func (f *fakeNet) Inbox(_ context.Context, cursor string) ([]tresor.SocialPost, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, "", f.fail
	}
	var out []tresor.SocialPost
	next := cursor
	for _, p := range f.inbox {
		if cursor == "" || p.ID > cursor {
			out = append(out, p)
			next = p.ID
		}
	}
	return out, next, nil
}

// Publish posts, honouring the key as Bluesky does: a second post with the
// same key is the first.
func (f *fakeNet) Publish(_ context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, r.Key)
	if f.refuse != nil {
		return nil, f.refuse
	}
	if f.dropped > 0 {
		f.dropped--
		return nil, &tresor.ErrConnector{Network: "mastodon", Op: "publish", Err: fmt.Errorf("%w: connection reset", tresor.ErrOutcomeUnknown)}
	}
	sp, ok := f.byKey[r.Key]
	if !ok {
		f.published = append(f.published, r.Text)
		sp = tresor.SocialPost{ID: "p" + strconv.Itoa(len(f.published)), URL: "https://social.example/p" + strconv.Itoa(len(f.published))}
		if f.byKey == nil {
			f.byKey = map[string]tresor.SocialPost{}
		}
		f.byKey[r.Key] = sp
	}
	if f.lost > 0 {
		f.lost--
		return nil, &tresor.ErrConnector{Network: "mastodon", Op: "publish", Err: fmt.Errorf("%w: timeout awaiting response headers", tresor.ErrOutcomeUnknown)}
	}
	return &sp, nil
}
func (f *fakeNet) Published(_ context.Context, r tresor.PublishRequest) (*tresor.SocialPost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookFail != nil {
		return nil, f.lookFail
	}
	if sp, ok := f.byKey[r.Key]; ok {
		return &sp, nil
	}
	return nil, nil
}
func (f *fakeNet) Send(_ context.Context, to, text string, direct bool, reply string) (*tresor.SocialPost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendFail != nil {
		return nil, f.sendFail
	}
	v := tresor.PostPublic
	if direct {
		v = tresor.PostDirect
	}
	p := tresor.SocialPost{ID: "s" + strconv.Itoa(len(f.sent)+1), Author: to, Text: text, Visibility: v, InReplyTo: reply}
	f.sent = append(f.sent, p)
	return &p, nil
}
func (f *fakeNet) Stream(ctx context.Context, _ []string, _ func(tresor.SocialPost)) error {
	<-ctx.Done()
	return ctx.Err()
}

const fakeToken = "tok-1234567890-secret"

func socialGate(t *testing.T, net *fakeNet) (*privacyEnv, string) {
	t.Helper()
	e := &privacyEnv{clock: newClock(), mail: &mailbox{}, ctx: map[string]context.Context{}}
	dir := t.TempDir()
	e.g = openGate(t, datadir.Config{DataDir: dir, Migrate: true}, gate.WithClock(e.clock.now), gate.WithMailer(e.mail),
		gate.WithConnectors(func(_ context.Context, network string, creds []byte) (tresor.Connector, error) {
			var c struct{ Token string }
			if err := json.Unmarshal(creds, &c); err != nil || c.Token != fakeToken {
				return nil, errors.New("wrong token")
			}
			net.mu.Lock()
			net.builds++
			net.mu.Unlock()
			return net, nil
		}))
	for _, r := range []struct {
		role    tresor.Role
		purpose string
	}{{tresor.RoleSales, "sales"}, {tresor.RoleMarketing, "marketing"}, {tresor.RoleService, "service"}, {tresor.RoleDPO, "data_protection"},
		{tresor.RoleAnalyst, "analytics"}} {
		e.ctx[r.purpose] = as(t, e.g, string(r.role)+"@example.org", r.purpose, r.role)
	}
	return e, dir
}

// TestSocialChannels: a channel's credentials are sealed; company posts
// are published at once or when due, and never name people; the outbound
// gate decides about messages to people; the inbox turns mentions and
// direct messages into interactions and cases, never into new contacts.
func TestSocialChannels(t *testing.T) {
	net := &fakeNet{}
	e, dir := socialGate(t, net)
	g := e.g
	_, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"wrong"}`)})
	wantCode(t, err, tresor.ECValidation)
	_, err = g.CreateChannel(e.ctx["sales"], tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"` + fakeToken + `"}`)})
	wantCode(t, err, tresor.ECForbidden)
	ch, err := g.CreateChannel(system(), tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme", Credentials: json.RawMessage(`{"token":"` + fakeToken + `"}`)})
	must(t, err)
	if ch.Account != "@acme@social.example" {
		t.Fatalf("channel: %+v", ch)
	}
	db := filepath.Join(dir, datadir.DatabaseFile)
	if b, _ := os.ReadFile(db); bytes.Contains(b, []byte(fakeToken)) {
		t.Fatal("the channel's token is in the database file")
	}
	if b, _ := os.ReadFile(db + "-wal"); bytes.Contains(b, []byte(fakeToken)) {
		t.Fatal("the channel's token is in the write-ahead log")
	}

	// Company posts.
	mk := e.ctx["marketing"]
	p, err := g.SchedulePost(mk, &tresor.Post{ChannelID: ch.ID, Text: "Neu: unser Frühjahrsangebot"})
	must(t, err)
	if p.PublishedAt == nil || len(net.published) != 1 {
		t.Fatalf("published at once: %+v %v", p, net.published)
	}
	_, err = g.SchedulePost(mk, &tresor.Post{ChannelID: ch.ID, Text: "Danke @erika@social.example für den Tipp"})
	wantCode(t, err, tresor.ECValidation)
	_, err = g.SchedulePost(e.ctx["analytics"], &tresor.Post{ChannelID: ch.ID, Text: "x"})
	wantCode(t, err, tresor.ECAggregatesOnly)
	later, err := g.SchedulePost(mk, &tresor.Post{ChannelID: ch.ID, Text: "Morgen: Tag der offenen Tür", PublishAt: e.clock.now().Add(time.Hour)})
	must(t, err)
	if later.PublishedAt != nil {
		t.Fatal("a scheduled post went out early")
	}
	e.clock.advance(2 * time.Hour)
	n, err := g.PublishDue(system())
	must(t, err)
	if n != 1 || len(net.published) != 2 {
		t.Fatalf("due posts: %d, published %v", n, net.published)
	}

	// Messages to people go through the outbound gate.
	c := erika()
	c.SocialHandles = []tresor.SocialHandle{{Network: "mastodon", Handle: "@erika@social.example"}}
	must(t, g.CreateContact(e.ctx["sales"], c))
	d, err := g.SendSocial(mk, tresor.SocialSend{ChannelID: ch.ID, ContactID: c.ID, Text: "Unser Angebot für Sie", Direct: true, Advertising: true})
	wantCode(t, err, tresor.ECForbidden)
	if d == nil || d.Allowed || d.Reasons[0].Code != "consent_missing" || !strings.Contains(tresor.AsError(err).MessageDE, "Einwilligung") {
		t.Fatalf("advertising without consent: %+v %v", d, err)
	}
	_, err = g.RecordConsent(mk, c.ID, tresor.ConsentRequest{Purpose: "marketing", Channel: "social_dm:mastodon", Action: tresor.ConsentGrant,
		Method: tresor.MethodWebForm, Proof: tresor.ConsentProof{TextVersion: "v1"}})
	must(t, err)
	d, err = g.SendSocial(mk, tresor.SocialSend{ChannelID: ch.ID, ContactID: c.ID, Text: "Unser Angebot für Sie", Direct: true, Advertising: true})
	must(t, err)
	if !d.Allowed || len(net.sent) != 1 || net.sent[0].Visibility != tresor.PostDirect || net.sent[0].Author != "@erika@social.example" {
		t.Fatalf("with consent: %+v %+v", d, net.sent)
	}
	// Consent to direct messages is not consent to public mentions.
	_, err = g.SendSocial(mk, tresor.SocialSend{ChannelID: ch.ID, ContactID: c.ID, Text: "Schau mal", Advertising: true})
	wantCode(t, err, tresor.ECForbidden)

	// The inbox.
	net.mu.Lock()
	net.inbox = []tresor.SocialPost{
		{ID: "1", Author: "@erika@social.example", Text: "Mein Paket ist nicht angekommen", Visibility: tresor.PostDirect, ToCompany: true, URL: "https://social.example/1"},
		{ID: "2", Author: "@erika@social.example", Text: "Danke @acme für die schnelle Hilfe", Visibility: tresor.PostPublic, ToCompany: true},
		{ID: "3", Author: "@fremd@other.example", Text: "Hallo @acme, habt ihr das auch in Blau?", Visibility: tresor.PostPublic, ToCompany: true},
		{ID: "4", Author: "@erika@social.example", Text: "Nach meiner Krebserkrankung brauche ich Hilfe", Visibility: tresor.PostDirect, ToCompany: true},
		{ID: "5", Author: "@fremd@other.example", Text: "nur für Follower", Visibility: tresor.PostFollowers},
	}
	net.mu.Unlock()
	_, err = g.PollInbox(mk, ch.ID)
	wantCode(t, err, tresor.ECForbidden)
	svc := e.ctx["service"]
	rep, err := g.PollInbox(svc, ch.ID)
	must(t, err)
	if rep.Read != 5 || rep.Interactions != 1 || rep.Cases != 3 || rep.Dropped["not_public"] != 1 || rep.Dropped["special:"+string(tresor.CatHealth)] != 1 {
		t.Fatalf("inbox: %+v", rep)
	}
	l, err := g.Contacts(e.ctx["sales"], tresor.ContactFilter{})
	must(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("the inbox made contacts: %d", len(l.Items))
	}
	cs, err := g.Cases(svc, tresor.CaseFilter{})
	must(t, err)
	linked, unlinked, withheld := 0, 0, 0
	for _, k := range cs.Items {
		if k.ContactID == c.ID {
			linked++
		} else {
			unlinked++
		}
		if k.Description == "" {
			withheld++
		}
	}
	if linked != 2 || unlinked != 1 || withheld != 1 {
		t.Fatalf("cases: %d linked, %d unlinked, %d without content", linked, unlinked, withheld)
	}
	rep, err = g.PollInbox(svc, ch.ID)
	must(t, err)
	if rep.Read != 0 {
		t.Fatalf("the second poll read %d again", rep.Read)
	}

	// A reply in the conversation she started needs no consent.
	d, err = g.SendSocial(svc, tresor.SocialSend{ChannelID: ch.ID, ContactID: c.ID, Text: "Wir kümmern uns", Direct: true, InReplyTo: "1"})
	must(t, err)
	if !d.Allowed || len(net.sent) != 2 || net.sent[1].InReplyTo != "1" {
		t.Fatalf("the service reply: %+v", d)
	}

	// A network that fails leaves the channel usable and says why.
	net.mu.Lock()
	net.fail = &tresor.ErrConnector{Network: "mastodon", Op: "inbox", Err: errors.New("timeout")}
	net.mu.Unlock()
	_, err = g.PollInbox(svc, ch.ID)
	wantCode(t, err, tresor.ECUnavailable)
	chans, err := g.Channels(system())
	must(t, err)
	if chans[0].LastError == "" {
		t.Fatal("the failure is not on the channel")
	}
	net.mu.Lock()
	net.fail = nil
	net.mu.Unlock()
	_, err = g.PollInbox(svc, ch.ID)
	must(t, err)

	// What the network cannot do is refused as such, not as an outage.
	net.mu.Lock()
	net.sendFail = &tresor.ErrConnector{Network: "mastodon", Op: "send", Err: fmt.Errorf("no direct messages here (%w)", tresor.ErrNotSupported)}
	net.mu.Unlock()
	_, err = g.SendSocial(svc, tresor.SocialSend{ChannelID: ch.ID, ContactID: c.ID, Text: "Wir kümmern uns", Direct: true, InReplyTo: "1"})
	wantCode(t, err, tresor.ECValidation)
	if !strings.Contains(err.Error(), "no direct messages here") {
		t.Fatalf("not supported: %v", err)
	}
	net.mu.Lock()
	net.sendFail = nil
	net.mu.Unlock()

	// The connector is built once per channel and kept while its
	// credentials stay the same (Bluesky logs in when it is built).
	if net.builds != 1 {
		t.Fatalf("the connector was built %d times", net.builds)
	}

	// Profiles are screened like imports and not stored.
	_, _, err = g.SocialProfile(e.ctx["sales"], ch.ID, "@erika@social.example")
	wantCode(t, err, tresor.ECCategoryNotAllowed)
	if !strings.Contains(err.Error(), "contact.name") {
		t.Fatalf("the refusal does not say what the purpose may store: %v", err)
	}
	prof, dropped, err := g.SocialProfile(e.ctx["data_protection"], ch.ID, "@erika@social.example")
	must(t, err)
	if prof.Bio != "" || len(prof.Fields) != 1 || len(dropped) != 2 {
		t.Fatalf("profile: %+v dropped %v", prof, dropped)
	}
}
