package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tresor"
	"tresor/datadir"
)

// verifiedAccessRequest makes a request of access about a new contact, with
// the requester identified: one the DPO may answer with an export.
func verifiedAccessRequest(a *api) string {
	dpo := tresor.WithPurpose(sys, "data_protection")
	rq, err := a.g.CreateRequest(dpo, tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
		Address: "fixture@example.org", ReceivedAt: "2026-03-02", ContactIDs: []string{a.fixture("contacts")}})
	must(a.t, err)
	_, err = a.g.RequestState(dpo, rq.ID, tresor.RequestIdentityVerified, "")
	must(a.t, err)
	return rq.ID
}

// TestSubjectExportLinkPages: the link's page offers the download and
// changes nothing; its button downloads once; a used, unknown or made-up
// link gets one and the same page, as a page, never JSON.
func TestSubjectExportLinkPages(t *testing.T) {
	a := newAPI(t, datadir.Config{DataDir: t.TempDir(), Migrate: true})
	id := verifiedAccessRequest(a)
	if r := a.do(call{method: "POST", path: "/api/v1/requests/" + id + "/export", role: tresor.RoleDPO, purpose: "data_protection"}); r.status != 200 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	mails := a.mail.all()
	text := mails[len(mails)-1].Text
	_, rest, _ := strings.Cut(text, "/subject-export?token=")
	token := strings.Fields(rest)[0]
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(tok string) (int, string) {
		res, err := browser.Get(a.url + "/subject-export?token=" + url.QueryEscape(tok))
		must(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var page string
	t.Run("opening the link twice changes nothing", func(t *testing.T) {
		for range 2 {
			status, body := get(token)
			if status != 200 || !strings.Contains(body, `id="subject-export-button"`) {
				t.Fatalf("page: %d %.300s", status, body)
			}
			page = body
		}
	})
	t.Run("the button downloads the zip once", func(t *testing.T) {
		m := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(page)
		form := url.Values{"form_token": {m[1]}, "token": {token}}
		res, err := browser.PostForm(a.url+"/subject-export", form)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("download: %d %v", res.StatusCode, res.Header)
		}
		res, err = browser.PostForm(a.url+"/subject-export", form)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("second download: %d", res.StatusCode)
		}
	})
	t.Run("a used link and a made-up one get the same page", func(t *testing.T) {
		s1, used := get(token)
		s2, unknown := get("made-up")
		if s1 != http.StatusNotFound || s2 != http.StatusNotFound || used != unknown || !strings.Contains(used, `id="subject-export-message"`) {
			t.Errorf("used %d, unknown %d:\n%.300s\n%.300s", s1, s2, used, unknown)
		}
	})
}
