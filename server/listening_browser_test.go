package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tresor"
)

// TestListeningPages proves the workspace's listening pages in both
// languages: the topics of the purpose with the form (a keyword naming an
// account refused next to its field), and a topic's page whose charts draw
// the days below k authors as marked gaps with no figure; axe finds no
// violation.
func TestListeningPages(t *testing.T) {
	l := newListened(t)
	people := map[string]string{"en": "pia@example.org", "de": "paul@example.org"}
	for _, e := range people {
		l.a.userWithPassword(e, tresor.RolePR)
	}
	// Analysts work under analytics, which sees aggregates only; each
	// browser signs in a fresh user (the second factor enrolls once).
	analysts := map[string]string{"en": "ana@example.org", "de": "anton@example.org"}
	for _, e := range analysts {
		l.a.userWithPassword(e, tresor.RoleAnalyst)
	}
	for _, lang := range []string{"en", "de"} {
		b0 := newChromeFor(t, l.a)
		b0.language(lang)
		b0.signIn(people[lang])
		b0.choosePurpose("pr")
		t.Run("the topics with the form, a person refused as a keyword ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/listening"), chromedp.WaitVisible(`#topics`))
			if !strings.Contains(b.text("#topics"), "Acme Kaffee") {
				t.Fatalf("topics: %q", b.text("#topics"))
			}
			b.run(chromedp.SendKeys(`#topic-new-name`, "Erika"), chromedp.SendKeys(`#topic-new-keywords`, "@erika@social.example"),
				chromedp.Click(`#topic-new-go`), chromedp.WaitVisible(`#topic-new-keywords-error`))
			if got := b.text("#topic-new-keywords-error"); !strings.Contains(got, map[string]string{"en": "never a person", "de": "nie einer Person"}[lang]) {
				t.Errorf("keywords error = %q", got)
			}
			b.checkAccessibility("listening " + lang)
			b.screenshot("listening-" + lang)
		})
		t.Run("the topic's charts mark the days below k without a figure ("+lang+")", func(t *testing.T) {
			b := b0.in(t)
			b.run(chromedp.Navigate(b.url+"/listening/"+l.topic.ID+"?from="+l.from+"&to="+l.to+"&bucket=day"), chromedp.WaitVisible(`#volume-table`))
			vol := b.text("#volume-table")
			want := map[string]string{"en": "withheld: fewer than 10 authors", "de": "zurückgehalten: weniger als 10 Personen"}[lang]
			if strings.Count(vol, want) != 2 {
				t.Errorf("volume table has %d withheld days, want 2: %q", strings.Count(vol, want), vol)
			}
			for _, n := range []string{"12", "15", "11", "13"} {
				if !strings.Contains(vol, n) {
					t.Errorf("volume table lacks %s: %q", n, vol)
				}
			}
			for _, n := range []string{" 3\n", " 4\n"} {
				if strings.Contains(vol+"\n", n) {
					t.Errorf("volume table tells a withheld figure: %q", vol)
				}
			}
			hatched, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#volume svg rect.withheld").length`))
			if err != nil || hatched != 2 {
				t.Errorf("hatched gaps in the volume chart = %d (%v), want 2", hatched, err)
			}
			if terms := b.text("#terms-table"); !strings.Contains(terms, "#frühstück") {
				t.Errorf("terms = %q", terms)
			}
			b.checkAccessibility("listening topic " + lang)
			b.screenshot("listening-topic-" + lang)
		})
		t.Run("an analyst works under analytics and reads a topic under differential privacy ("+lang+")", func(t *testing.T) {
			b := newChromeFor(t, l.a)
			b.language(lang)
			b.signIn(analysts[lang])
			b.choosePurpose("analytics")
			b.run(chromedp.Navigate(b.url+"/listening"), chromedp.WaitVisible(`#topics`))
			if got := b.text("#topics"); !strings.Contains(got, "Acme Kaffee (DP)") {
				t.Errorf("topics under analytics: %q", got)
			}
			b.run(chromedp.Navigate(b.url+"/listening/"+l.dp.ID+"?from="+l.from+"&to="+l.to+"&bucket=day"), chromedp.WaitVisible(`#volume-table`))
			// The English showing spends 0.5 of the topic's 20; the German one,
			// of the same period within the hour, gets the released figures
			// again and spends nothing.
			want := map[string]string{"en": "ε 0.5 of 20 is spent — 39 showings left", "de": "ε 0,5 von 20 – noch 39 Anzeigen"}[lang]
			got := b.text("#topic-dp")
			if !strings.Contains(got, want) {
				t.Errorf("budget = %q, want %q", got, want)
			}
			if again := strings.Contains(got, "erneut gezeigt"); again != (lang == "de") {
				t.Errorf("budget = %q: shown again is %v, want %v", got, again, lang == "de")
			}
			vol := b.text("#volume-table")
			withheld := map[string]string{"en": "withheld: fewer than 10 authors", "de": "zurückgehalten: weniger als 10 Personen"}[lang]
			if strings.Count(vol, withheld) != 2 {
				t.Errorf("volume table has %d withheld days under DP, want 2: %q", strings.Count(vol, withheld), vol)
			}
			b.checkAccessibility("listening topic dp " + lang)
			b.screenshot("listening-topic-dp-" + lang)
		})
	}
}
