package socialtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Acct     string `json:"acct"`
	Locked   bool   `json:"locked"`
}

type status struct {
	ID         string  `json:"id"`
	Content    string  `json:"content"`
	Visibility string  `json:"visibility"`
	Account    account `json:"account"`
}

type notification struct {
	ID      string  `json:"id"`
	Type    string  `json:"type"`
	Account account `json:"account"`
	Status  *status `json:"status"`
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestGoToSocial checks the harness against the real server: two accounts
// with tokens, a public status one posts and the other reads, and a direct
// message that reaches the other's notifications.
func TestGoToSocial(t *testing.T) {
	g := GoToSocial(t)
	alice := g.Account(t, "alice")
	bob := g.Account(t, "bob")
	if alice.ID == bob.ID || alice.Token == bob.Token {
		t.Fatalf("accounts share an ID or token: %+v %+v", alice, bob)
	}

	// A public status by alice, read back by bob.
	var posted status
	must(t, g.Do("POST", "/api/v1/statuses", alice.Token,
		url.Values{"status": {"Hello from Tresor"}, "visibility": {"public"}}, http.StatusOK, &posted))
	if posted.ID == "" || posted.Visibility != "public" || posted.Account.ID != alice.ID {
		t.Fatalf("posted status = %+v", posted)
	}
	var read status
	must(t, g.Do("GET", "/api/v1/statuses/"+posted.ID, bob.Token, nil, http.StatusOK, &read))
	if read.ID != posted.ID || !strings.Contains(read.Content, "Hello from Tresor") || read.Account.Username != "alice" {
		t.Fatalf("status read by bob = %+v", read)
	}
	var list []status
	must(t, g.Do("GET", "/api/v1/accounts/"+alice.ID+"/statuses", bob.Token, nil, http.StatusOK, &list))
	if len(list) != 1 || list[0].ID != posted.ID {
		t.Fatalf("alice's statuses seen by bob = %+v", list)
	}

	// A direct message to bob shows up among bob's notifications (they are
	// created asynchronously, so poll).
	var dm status
	must(t, g.Do("POST", "/api/v1/statuses", alice.Token,
		url.Values{"status": {"@bob a private word"}, "visibility": {"direct"}}, http.StatusOK, &dm))
	if dm.Visibility != "direct" {
		t.Fatalf("direct message = %+v", dm)
	}
	var found *notification
	for deadline := time.Now().Add(30 * time.Second); found == nil; time.Sleep(200 * time.Millisecond) {
		var ns []notification
		must(t, g.Do("GET", "/api/v1/notifications?types[]=mention", bob.Token, nil, http.StatusOK, &ns))
		for i, n := range ns {
			if n.Type == "mention" && n.Status != nil && n.Status.ID == dm.ID {
				found = &ns[i]
			}
		}
		if found == nil && time.Now().After(deadline) {
			t.Fatalf("no mention notification for %s; bob's notifications: %+v", dm.ID, ns)
		}
	}
	if found.Account.ID != alice.ID || found.Status.Visibility != "direct" || !strings.Contains(found.Status.Content, "a private word") {
		t.Fatalf("notification = %+v, status %+v", found, found.Status)
	}
	// Alice's own token cannot read bob's notifications: tokens are per account.
	var mine []notification
	must(t, g.Do("GET", "/api/v1/notifications", alice.Token, nil, http.StatusOK, &mine))
	if len(mine) != 0 {
		t.Fatalf("alice's notifications = %+v", mine)
	}
}

// TestUnlock checks that an unlocked account is followed at once, where a
// locked one only gets a follow request.
func TestUnlock(t *testing.T) {
	g := GoToSocial(t)
	alice, bob, carol := g.Account(t, "alice"), g.Account(t, "bob"), g.Account(t, "carol")
	type relationship struct {
		Following bool `json:"following"`
		Requested bool `json:"requested"`
	}
	var rel relationship
	must(t, g.Do("POST", "/api/v1/accounts/"+carol.ID+"/follow", alice.Token, url.Values{}, http.StatusOK, &rel))
	if rel.Following || !rel.Requested {
		t.Fatalf("following locked carol: %+v, want a follow request", rel)
	}
	g.Unlock(t, bob)
	var me account
	must(t, g.Do("GET", "/api/v1/accounts/verify_credentials", bob.Token, nil, http.StatusOK, &me))
	if me.Locked {
		t.Fatal("bob is still locked")
	}
	must(t, g.Do("POST", "/api/v1/accounts/"+bob.ID+"/follow", alice.Token, url.Values{}, http.StatusOK, &rel))
	if !rel.Following || rel.Requested {
		t.Fatalf("following unlocked bob: %+v, want following", rel)
	}
}
