package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
	"tresor/datadir"
)

// TestPRPublishesOnAChannelButReadsNoInbox proves the channel pages'
// rules: a PR person sees the company's channels, publishes a company post
// with the keyboard; a post that names a person is refused with the rule
// shown, keeping what was typed; reading the inbox is refused with the
// reason (service work).
func TestPRPublishesOnAChannelButReadsNoInbox(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	a.userWithPassword("pia@example.org", tresor.RolePR)
	ch, err := a.g.CreateChannel(sys, tresor.SocialChannelRequest{Network: "mastodon", Name: "Acme on Mastodon", Credentials: []byte(`{"token":"t"}`)})
	must(t, err)

	b0 := newChromeFor(t, a)
	b0.language("en")
	b0.signIn("pia@example.org")
	b0.choosePurpose("pr")

	t.Run("the channels are listed", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/channels"), chromedp.WaitVisible(`#channels`))
		if got := b.text("#channels"); !strings.Contains(got, "Acme on Mastodon") {
			t.Fatalf("channels = %q", got)
		}
		b.checkAccessibility("channels")
	})
	t.Run("a company post is published with the keyboard", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/channels/"+ch.ID), chromedp.WaitVisible(`#post-text`),
			chromedp.SendKeys(`#post-text`, "Our office is closed on 24 December."),
			chromedp.Focus(`#post-submit`), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`#channel-posts`))
		if got := b.text("#channel-posts"); !strings.Contains(got, "closed on 24 December") || !strings.Contains(got, "published") {
			t.Fatalf("posts = %q", got)
		}
		b.checkAccessibility("channel")
		b.screenshotBoth("channel")
	})
	t.Run("a post naming a person is refused and the text is kept", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.SendKeys(`#post-text`, "Thanks @erika@social.example for the visit!"), chromedp.Click(`#post-submit`),
			chromedp.WaitVisible(`main .error`))
		v, err := chromedp.Run(b.ctx, chromedp.Value(`#post-text`))
		must(t, err)
		if !strings.Contains(v, "@erika@social.example") {
			t.Fatalf("the text typed is gone: %q", v)
		}
		if got := b.text("main .error"); got == "" {
			t.Fatal("no reason shown")
		}
	})
	t.Run("reading the inbox is service work: PR is told so", func(t *testing.T) {
		b := b0.in(t)
		b.run(chromedp.Navigate(b.url+"/channels/"+ch.ID), chromedp.WaitVisible(`#channel-read-inbox`),
			chromedp.Click(`#channel-read-inbox`), chromedp.WaitVisible(`main .error`))
		if got := b.text("main .error"); !strings.Contains(got, "service") || !strings.Contains(got, "(forbidden)") {
			t.Fatalf("refusal = %q", got)
		}
	})
}
