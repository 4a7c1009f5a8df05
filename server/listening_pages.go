package server

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// The workspace pages of social listening (R10): the topics of the
// session's purpose with the form to add one, and each topic's page with
// its trend drawn as SVG on the server (listening_chart.go). The pages read
// what the trend API reads — aggregates through the gate, k-anonymity
// applied there — and link nowhere below an aggregate: there is no post,
// no handle and no person to link to.

// listeningRoles are the roles whose purposes (pr, analytics) may listen.
var listeningRoles = AnyRole(tresor.RolePR, tresor.RoleAnalyst)

// listeningNetworks are the networks a topic may listen on from the form.
var listeningNetworks = []string{"mastodon", "bluesky"}

func (s *Server) listeningPageRoutes() []route {
	return []route{
		{"GET", "/listening", listeningRoles, s.listeningPage},
		{"POST", "/listening", listeningRoles, s.listeningCreateForm},
		{"GET", "/listening/{id}", listeningRoles, s.listeningTopicPage},
	}
}

// topicForm is what was typed into the form to add a topic.
type topicForm struct {
	Name, Keywords, Languages string
	Networks                  []string
	DP                        bool
}

// Has reports whether the form ticks the network n.
func (f topicForm) Has(n string) bool {
	for _, x := range f.Networks {
		if x == n {
			return true
		}
	}
	return false
}

type listeningData struct {
	Topics   []*tresor.ListeningTopic
	Err      *pageErr
	Form     topicForm
	Networks []string
	Problems map[string]string // by field; "form" for the rest
}

func noListening() error {
	return tresor.Errorf(tresor.ECUnavailable, "Social listening is not available on this server.")
}

func (s *Server) listeningPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderListening(w, r, http.StatusOK, &listeningData{Form: topicForm{Networks: []string{"mastodon"}}})
}

func (s *Server) renderListening(w http.ResponseWriter, r *http.Request, status int, d *listeningData) error {
	v, err := s.workspaceView(r, "listening_title", "/listening")
	if err != nil {
		return err
	}
	svc := s.listening()
	if svc == nil {
		return noListening()
	}
	d.Networks = listeningNetworks
	ts, err := svc.Topics(r.Context())
	if err != nil {
		if d.Err, err = adminRefusal(r, err); err != nil {
			return err
		}
	}
	d.Topics = ts
	v.Data = d
	return s.render(w, r, status, "listening", v)
}

// splitList splits a form field at commas and line breaks; empty parts go.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) listeningCreateForm(w http.ResponseWriter, r *http.Request) error {
	svc := s.listening()
	if svc == nil {
		return noListening()
	}
	if err := r.ParseForm(); err != nil {
		return tresor.Errorf(tresor.ECInvalidParameter, "The form cannot be read.")
	}
	f := topicForm{Name: r.PostFormValue("name"), Keywords: r.PostFormValue("keywords"), Languages: r.PostFormValue("languages"),
		Networks: r.PostForm["network"], DP: r.PostFormValue("dp") != ""}
	return s.once(w, r, func() (string, error) {
		langs := splitList(strings.ReplaceAll(f.Languages, " ", ","))
		t := &tresor.ListeningTopic{Name: f.Name, Keywords: splitList(f.Keywords), Networks: append([]string(nil), f.Networks...), Languages: langs, DP: f.DP}
		err := svc.CreateTopic(r.Context(), t)
		if err == nil {
			return "/listening/" + url.PathEscape(t.ID), nil
		}
		status, shown := pageStatus(err)
		if !shown {
			return "", err
		}
		problems := map[string]string{}
		if e := tresor.AsError(err); e != nil {
			for _, fe := range e.Fields {
				k := strings.TrimPrefix(fe.Field, "topic.")
				if k == "channels" {
					k = "networks"
				}
				if _, ok := problems[k]; !ok {
					problems[k] = topicProblem(language(r), k, fe.Message)
				}
			}
		}
		if len(problems) == 0 {
			problems["form"] = pageRefusal(r, err)
		}
		return "", s.renderListening(w, r, status, &listeningData{Form: f, Problems: problems})
	})
}

// topicPageData is what a topic's page shows.
type topicPageData struct {
	Topic    *tresor.ListeningTopic
	Err      *pageErr
	From, To string // the period as the form carries it (days, To included)
	Bucket   string
	Buckets  []tresor.ListeningBucket
	Problems map[string]string
	K        int
	Charts   *trendCharts
	Budget   string // under differential privacy: the budget, in words
}

// topicPageDays is the period a topic's page shows when none is chosen.
const topicPageDays = 30

func (s *Server) listeningTopicPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "listening_topic_title", "/listening")
	if err != nil {
		return err
	}
	svc := s.listening()
	if svc == nil {
		return noListening()
	}
	d := &topicPageData{Buckets: tresor.ListeningBuckets(), Problems: map[string]string{}}
	v.Data = d
	status := http.StatusOK
	t, err := svc.Topic(r.Context(), r.PathValue("id"))
	if err != nil {
		st, _ := pageStatus(err)
		if d.Err, err = adminRefusal(r, err); err != nil {
			return err
		}
		return s.render(w, r, st, "listening_topic", v)
	}
	d.Topic = t
	lang := language(r)
	q := r.URL.Query()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	to, from := today, today.AddDate(0, 0, -topicPageDays+1)
	d.Bucket = string(tresor.BucketDay)
	if b := q.Get("bucket"); b != "" {
		if tresor.ListeningBucket(b).Valid() {
			d.Bucket = b
		} else {
			d.Problems["bucket"] = translate(lang, "listening_bad_bucket")
		}
	}
	if v := strings.TrimSpace(q.Get("to")); v != "" {
		if x, err := time.Parse(time.DateOnly, v); err == nil {
			to = x
		} else {
			d.Problems["to"] = translate(lang, "listening_bad_day")
		}
	}
	if v := strings.TrimSpace(q.Get("from")); v != "" {
		if x, err := time.Parse(time.DateOnly, v); err == nil {
			from = x
		} else {
			d.Problems["from"] = translate(lang, "listening_bad_day")
		}
	} else if q.Get("to") != "" {
		from = to.AddDate(0, 0, -topicPageDays+1)
	}
	if len(d.Problems) == 0 && from.After(to) {
		d.Problems["from"] = translate(lang, "listening_from_after_to")
	}
	d.From, d.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	if len(d.Problems) > 0 {
		return s.render(w, r, http.StatusUnprocessableEntity, "listening_topic", v)
	}
	var released *tresor.ListeningTrend // under DP
	tr, err := svc.Trend(r.Context(), t.ID, tresor.TrendQuery{From: from, To: to.AddDate(0, 0, 1), Bucket: tresor.ListeningBucket(d.Bucket)})
	if err != nil {
		st, shown := pageStatus(err)
		if !shown {
			return err
		}
		d.Problems["form"] = pageRefusal(r, err)
		if e := tresor.AsError(err); e != nil && lang == "de" && e.MessageDE != "" {
			d.Problems["form"] = e.MessageDE
		}
		status = st
	} else {
		d.K = tr.K
		d.Charts = trendChartsOf(lang, tr)
		if tr.Epsilon > 0 {
			t.EpsilonSpent = tr.EpsilonSpent // after this read
		}
		if tr.Noise != nil {
			released = tr
		}
	}
	if t.DP {
		d.Budget = budgetText(lang, t, released)
	}
	return s.render(w, r, status, "listening_topic", v)
}

// topicProblem is the message of a refused field in the page's language:
// the gate's own words in English, the catalogue's in German.
func topicProblem(lang, field, msg string) string {
	if lang != "de" {
		return msg
	}
	key := "listening_p_" + field
	if field == "keywords" && strings.Contains(msg, "names an account") {
		key = "listening_p_keywords_account"
	}
	if t := translate(lang, key); t != key {
		return t
	}
	return msg
}

// budgetText says, in the page's language, how much of a DP topic's
// privacy budget is spent and how many showings are left, how large the
// noise of the figures shown is, and whether they were released before.
func budgetText(lang string, t *tresor.ListeningTopic, tr *tresor.ListeningTrend) string {
	num := func(f float64) string {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if lang == "de" {
			s = strings.ReplaceAll(s, ".", ",")
		}
		return s
	}
	left := 0
	if t.EpsilonPerQuery > 0 {
		// in millionths, as the store counts, so 0.1s add up exactly
		left = int((math.Round(t.EpsilonBudget*1e6) - math.Round(t.EpsilonSpent*1e6)) / math.Round(t.EpsilonPerQuery*1e6))
	}
	text := fmt.Sprintf(translate(lang, "listening_dp_budget"), num(t.EpsilonPerQuery), num(t.EpsilonSpent), num(t.EpsilonBudget), left)
	if tr == nil {
		return text
	}
	// The mean deviation of discrete Laplace noise is close to its scale.
	text += " " + fmt.Sprintf(translate(lang, "listening_dp_noise"), num(math.Round(tr.Noise.BucketScale)), num(math.Round(tr.Noise.TermScale)))
	if tr.ReleasedAt != nil {
		text += " " + fmt.Sprintf(translate(lang, "listening_dp_reused"), formatTime(lang, *tr.ReleasedAt))
	}
	return text
}
