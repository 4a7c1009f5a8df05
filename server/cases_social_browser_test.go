package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
	"tresor/gate"
	"tresor/server"
	"tresor/social/mastodon"
	"tresor/socialtest"
)

// casesAPIOnGoToSocial is the test server of newAPI with the real Mastodon
// connector, for channels on a GoToSocial server.
func casesAPIOnGoToSocial(t *testing.T) *api {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	box := &mailbox{}
	connect := func(_ context.Context, network string, creds []byte) (tresor.Connector, error) {
		var c mastodon.Credentials
		if err := json.Unmarshal(creds, &c); err != nil {
			return nil, err
		}
		return mastodon.New(c, mastodon.Options{})
	}
	g, err := datadir.Open(context.Background(), datadir.Config{DataDir: t.TempDir(), Migrate: true}, gate.WithLogger(log), gate.WithMailer(box),
		gate.WithPublicURL("https://crm.example.org"), gate.WithConnectors(connect))
	must(t, err)
	t.Cleanup(func() { g.Close() })
	must(t, g.WaitSearch(context.Background()))
	s := server.New(server.Services{Social: g, Imports: g, Notices: g, Audit: g, Protection: g, Contacts: g, Organizations: g, Interactions: g, Deals: g, Cases: g, Tasks: g, Auth: g,
		Users: g, Tokens: g, Sessions: g, Consents: g, Campaigns: g, Health: g}, server.Options{Log: log, Purposes: g.PurposesOf, Catalogue: g.Catalogue()})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &api{t: t, url: hs.URL, tokens: map[tresor.Role]string{}, users: map[tresor.Role]string{}, logs: logs, g: g, srv: s, mail: box}
}

// TestServiceAgentAnswersAMentionFromGoToSocial proves a service agent's
// working day on a real Mastodon-API server: a mention by someone who is no
// contact arrives as a case from an unknown sender (never a new contact);
// the agent links the sender to the contact they recognise, takes the case,
// reads before sending that a reply is allowed and why, answers — and the
// answer reaches the person on GoToSocial — and closes the case.
func TestServiceAgentAnswersAMentionFromGoToSocial(t *testing.T) {
	gts := socialtest.GoToSocial(t)
	acme := gts.Account(t, "acme")
	bob := gts.Account(t, "bob")
	a := casesAPIOnGoToSocial(t)
	a.userWithPassword("sam@example.org", tresor.RoleService)
	a.userWithPassword("lea@example.org", tresor.RoleService)
	a.userWithPassword("mia@example.org", tresor.RoleMarketing)
	svc := tresor.WithPurpose(sys, "service")

	creds, err := json.Marshal(mastodon.Credentials{Server: gts.URL, ClientID: acme.ClientID, ClientSecret: acme.ClientSecret, AccessToken: acme.Token})
	must(t, err)
	ch, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme support", Credentials: creds})
	must(t, err)
	bobby := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Bob", FamilyName: "Beispiel", Emails: []string{"bob@example.de"}},
		Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(t, a.g.CreateContact(svc, bobby))

	// Bob mentions the company's account in public.
	var mention struct{ ID string }
	must(t, gts.Do("POST", "/api/v1/statuses", bob.Token, url.Values{"status": {"@acme Wo bleibt meine Bestellung 4711?"}, "visibility": {"public"}},
		http.StatusOK, &mention))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rep, err := a.g.PollInbox(svc, ch.ID)
		must(t, err)
		if rep.Cases == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no case after 30 s: %+v", rep)
		}
	}
	l, err := a.g.Contacts(svc, tresor.ContactFilter{Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("reading the inbox created contacts: %d", len(l.Items))
	}
	sender := "@bob@" + strings.ToLower(gts.Host)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("sam@example.org")
	b0.choosePurpose("service")

	t.Run("the mention is a case from an unknown sender, with the handle the network gave", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/cases"), chromedp.WaitVisible(`#cases`))
		got := b.text("#cases")
		if !strings.Contains(got, "unknown sender") || !strings.Contains(got, sender) {
			t.Fatalf("inbox = %q", got)
		}
		b.checkAccessibility("service inbox with a social case")
		b.screenshot("cases-social-en")
	})
	t.Run("until the sender is linked the reply box says no reply and why", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Click(`#cases a`), chromedp.WaitVisible(`#case-link`))
		if got := b.text("#case-reach"); !strings.Contains(got, "not linked") {
			t.Fatalf("reply box before linking: %q", got)
		}
		if _, err := b.textMaybe(`#reply-send`); err == nil {
			t.Fatal("the page offers to send before the sender is linked")
		}
	})
	t.Run("the agent finds the contact by name and links the sender", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#case-who`, "beispiel"), chromedp.Click(`#case-who-go`), chromedp.WaitVisible(`#case-link-go`))
		b.checkAccessibility("case: linking the sender")
		b.screenshot("case-link-en")
		b.run(chromedp.Focus(`#case-link-go`), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#case-linked`))
		k := onlyCase(t, a)
		c, err := a.g.Contact(svc, bobby.ID)
		must(t, err)
		if k.ContactID != bobby.ID || len(c.SocialHandles) != 1 || c.SocialHandles[0].Handle != sender {
			t.Fatalf("after linking: case contact %q, handles %+v", k.ContactID, c.SocialHandles)
		}
		if _, err := b.textMaybe(`#case-link`); err == nil {
			t.Fatal("the linked case still offers linking")
		}
	})
	t.Run("the agent assigns the case to herself from the list of service users", func(t *testing.T) {
		b := b0.in(t)
		opts := b.text(`#case-assign-to`)
		if !strings.Contains(opts, "lea@example.org") || strings.Contains(opts, "mia@example.org") {
			t.Fatalf("assignees offered: %q", opts)
		}
		me, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#case-assign-to option')].find(o => o.textContent.includes('sam@')).value`))
		must(t, err)
		b.run(chromedp.SetValue(`#case-assign-to`, me), chromedp.Focus(`#case-assign`), chromedp.KeyEvent("\r"))
		if got := b.waitText("#case-assignee", "me"); got != "me" {
			t.Fatalf("assignee = %q", got)
		}
	})
	t.Run("the reply box says before sending that the reply is allowed and why", func(t *testing.T) {
		b := b0.in(t)
		reach := b.text("#case-reach")
		if !strings.Contains(reach, "allows") || !strings.Contains(reach, "(") {
			t.Fatalf("reply box: %q", reach)
		}
		b.checkAccessibility("case with the reply box (social)")
		b.screenshot("case-social-en")
	})
	t.Run("the reply reaches the person on GoToSocial", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#reply-text`, "Sie ist heute bei uns rausgegangen."), chromedp.Focus(`#reply-send`), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(`#case-reply-sent`))
		type notification struct {
			Type    string
			Account struct{ ID string }
			Status  *struct{ Content, Visibility string }
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var ns []notification
			must(t, gts.Do("GET", "/api/v1/notifications?types[]=mention", bob.Token, nil, http.StatusOK, &ns))
			found := false
			for _, n := range ns {
				if n.Account.ID == acme.ID && n.Status != nil && strings.Contains(n.Status.Content, "heute bei uns rausgegangen") {
					found = n.Status.Visibility == "direct"
				}
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob got no direct reply from acme: %+v", ns)
			}
		}
	})
	t.Run("the agent closes the case", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SetValue(`#case-new-status`, "closed"), chromedp.Focus(`#case-set-status`), chromedp.KeyEvent("\r"))
		if got := b.waitText("#case-status", "closed"); got != "closed" {
			t.Fatalf("status = %q", got)
		}
		if k := onlyCase(t, a); k.Status != tresor.CaseClosed || k.ResolvedAt == nil {
			t.Fatalf("stored: %s %v", k.Status, k.ResolvedAt)
		}
	})
	t.Run("the inbox and the case in German", func(t *testing.T) {
		c := newChromeFor(t, a)
		c.language("de")
		c.signIn("lea@example.org")
		c.choosePurpose("service")
		c.run(chromedp.Navigate(c.url+"/cases?status=closed"), chromedp.WaitVisible(`#cases`))
		c.checkAccessibility("service inbox (de)")
		c.screenshot("cases-social-de")
		c.run(chromedp.Click(`#cases a`), chromedp.WaitVisible(`#case-reach`))
		if got := c.text("#case-reach"); !strings.Contains(got, "(") {
			t.Fatalf("German reply box: %q", got)
		}
		if got := c.text("#case-assignee"); got != "sam@example.org" {
			t.Fatalf("assignee for a colleague = %q", got)
		}
		c.checkAccessibility("case (de)")
		c.screenshot("case-social-de")
	})
}

// onlyCase returns the one case of the test.
func onlyCase(t *testing.T, a *api) *tresor.Case {
	t.Helper()
	l, err := a.g.Cases(tresor.WithPurpose(sys, "service"), tresor.CaseFilter{Page: tresor.Page{Limit: 10}})
	must(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("%d cases", len(l.Items))
	}
	return l.Items[0]
}

// textMaybe is the text of an element that may be absent.
func (b *chrome) textMaybe(sel string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 500*time.Millisecond)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Text(sel))
}
