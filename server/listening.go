package server

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"tresor"
)

// listening is the social listening service: the gate offers it beside
// contacts, so a server built with a gate needs no more wiring.
func (s *Server) listening() tresor.ListeningService {
	if l, ok := s.svc.Contacts.(tresor.ListeningService); ok {
		return l
	}
	return nil
}

// topicList is the body of GET /api/v1/listening/topics.
type topicList struct {
	Items []*tresor.ListeningTopic `json:"items"`
}

// listeningRoutes are the JSON API of social listening (R10): topics and
// their trends, aggregates only. There is no route from an aggregate to a
// post or a person: the store holds none.
func (s *Server) listeningRoutes() []route {
	svc := s.listening()
	with := func(h func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error) func(w http.ResponseWriter, r *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			if svc == nil {
				return tresor.Errorf(tresor.ECUnavailable, "Social listening is not available on this server.")
			}
			return h(w, r, svc)
		}
	}
	writeTopic := func(w http.ResponseWriter, status int, t *tresor.ListeningTopic) error {
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, t.Version))
		return writeJSON(w, status, t)
	}
	return []route{
		{"POST", "/api/v1/listening/topics", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			var body struct {
				Name      string   `json:"name"`
				Keywords  []string `json:"keywords"`
				Networks  []string `json:"networks"`
				Channels  []string `json:"channels"`
				Languages []string `json:"languages"`
				DP        bool     `json:"dp"`
				Budget    float64  `json:"epsilon_budget"`
			}
			if err := decodeBody(r, &body, "application/json"); err != nil {
				return err
			}
			t := &tresor.ListeningTopic{Name: body.Name, Keywords: body.Keywords, Networks: body.Networks, Channels: body.Channels, Languages: body.Languages,
				DP: body.DP, EpsilonBudget: body.Budget}
			if err := l.CreateTopic(r.Context(), t); err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/listening/topics/"+t.ID)
			return writeTopic(w, http.StatusCreated, t)
		})},
		{"GET", "/api/v1/listening/topics", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			if err := q.err(); err != nil {
				return err
			}
			ts, err := l.Topics(r.Context())
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, topicList{Items: ts})
		})},
		{"GET", "/api/v1/listening/topics/{id}", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			t, err := l.Topic(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			return writeTopic(w, http.StatusOK, t)
		})},
		{"PATCH", "/api/v1/listening/topics/{id}", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			var p tresor.ListeningTopicPatch
			if err := decodeBody(r, &p, "application/merge-patch+json", "application/json"); err != nil {
				return err
			}
			t, err := l.UpdateTopic(r.Context(), r.PathValue("id"), p, ifVersion)
			if err != nil {
				return err
			}
			return writeTopic(w, http.StatusOK, t)
		})},
		{"DELETE", "/api/v1/listening/topics/{id}", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			ifVersion, err := ifMatch(r)
			if err != nil {
				return err
			}
			if err := l.DeleteTopic(r.Context(), r.PathValue("id"), ifVersion); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})},
		{"GET", "/api/v1/listening/topics/{id}/trend", Purpose, with(func(w http.ResponseWriter, r *http.Request, l tresor.ListeningService) error {
			q, err := newQuery(r.URL.Query())
			if err != nil {
				return err
			}
			tq := tresor.TrendQuery{From: dayOrTime(&q, "from"), To: dayOrTime(&q, "to"), Bucket: tresor.ListeningBucket(q.str("bucket"))}
			format := q.str("format")
			if err := q.err(); err != nil {
				return err
			}
			if tq.Bucket != "" && !tq.Bucket.Valid() {
				return tresor.Errorf(tresor.ECInvalidParameter, "bucket must be hour, day or week.")
			}
			if format != "" && format != "json" && format != "csv" {
				return tresor.Errorf(tresor.ECInvalidParameter, "format must be json or csv.")
			}
			tr, err := l.Trend(r.Context(), r.PathValue("id"), tq)
			if err != nil {
				return err
			}
			if format == "csv" || (format == "" && acceptsCSV(r)) {
				return writeTrendCSV(w, l, tr)
			}
			return writeJSON(w, http.StatusOK, tr)
		})},
	}
}

// dayOrTime reads a time parameter given as a day (2026-01-31, UTC) or a
// time (RFC 3339).
func dayOrTime(q *query, name string) time.Time {
	if d, err := time.Parse(time.DateOnly, strings.TrimSpace(q.v.Get(name))); err == nil {
		q.used[name] = true
		return d
	}
	return q.time(name)
}

// acceptsCSV reports whether the client asks for CSV rather than JSON.
func acceptsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

// writeTrendCSV writes a trend as CSV through the service (the one CSV
// writer of Tresor, which escapes formulas).
func writeTrendCSV(w http.ResponseWriter, l tresor.ListeningService, tr *tresor.ListeningTrend) error {
	var buf bytes.Buffer
	if err := l.WriteTrendCSV(&buf, tr); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="trend.csv"`)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}
