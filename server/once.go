package server

import (
	"net/http"
	"sync"
	"time"
)

// Forms that create something carry a random form id (the template func
// formID). A second submit of the same form in the same session — a double
// click, a reload of the answer to a POST — gets the first submit's answer
// (its redirect) instead of creating a second object. The memory is this
// server's: a cluster's load balancer keeps a browser's requests on one
// server in the normal case, and an entry lives 30 minutes.

const onceTTL = 30 * time.Minute

// submitted remembers the answers of the forms submitted recently.
type submitted struct {
	mu   sync.Mutex
	seen map[string]submission
}

type submission struct {
	location string
	at       time.Time
}

// once runs create at most once for the form id of the request and
// answers with its redirect; a repeated submit gets the same redirect.
// Without a form id (an old page), create runs.
func (s *Server) once(w http.ResponseWriter, r *http.Request, create func() (location string, err error)) error {
	id := r.PostFormValue("form_id")
	sess := sessionFrom(r.Context())
	if id == "" || len(id) > 64 || sess == nil {
		loc, err := create()
		if err != nil || loc == "" {
			return err
		}
		http.Redirect(w, r, loc, http.StatusSeeOther)
		return nil
	}
	key := sess.ID + "/" + id
	f := &s.forms
	f.mu.Lock()
	now := time.Now()
	if f.seen == nil {
		f.seen = map[string]submission{}
	}
	for k, v := range f.seen {
		if now.Sub(v.at) > onceTTL {
			delete(f.seen, k)
		}
	}
	if prev, ok := f.seen[key]; ok {
		f.mu.Unlock()
		if prev.location == "" {
			// The first submit is still running: answer when it is done.
			return s.waitOnce(w, r, key)
		}
		http.Redirect(w, r, prev.location, http.StatusSeeOther)
		return nil
	}
	f.seen[key] = submission{at: now}
	f.mu.Unlock()
	loc, err := create()
	f.mu.Lock()
	if err != nil || loc == "" {
		delete(f.seen, key) // a refused form may be corrected and sent again
	} else {
		f.seen[key] = submission{location: loc, at: now}
	}
	f.mu.Unlock()
	if err != nil || loc == "" {
		return err
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
	return nil
}

// waitOnce answers a repeated submit once the first one has finished.
func (s *Server) waitOnce(w http.ResponseWriter, r *http.Request, key string) error {
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		s.forms.mu.Lock()
		prev, ok := s.forms.seen[key]
		s.forms.mu.Unlock()
		if !ok {
			break
		}
		if prev.location != "" {
			http.Redirect(w, r, prev.location, http.StatusSeeOther)
			return nil
		}
	}
	http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
	return nil
}
