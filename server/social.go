package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"tresor"
)

// ImportBodyLimit is the largest file an import over HTTP accepts.
const ImportBodyLimit = 256 << 20

const importPattern = "/api/v1/imports"

// socialRoutes are imports and the information duties they create.
func (s *Server) socialRoutes() []route {
	return []route{
		{"POST", importPattern, Purpose, s.importFile},
		{"GET", importPattern, Purpose, s.importList},
		{"GET", importPattern + "/{id}", Purpose, s.importGet},
		{"GET", "/api/v1/notices", Purpose, s.notices},
		{"POST", "/api/v1/notices/send", Purpose, s.sendNotices},
		{"POST", "/api/v1/notices/{id}/given", Purpose, s.noticeGiven},
	}
}

// importFile imports the request body: ?format=linkedin|vcard|mastodon-following|csv
// &legal_basis=…[&network=…][&balancing_note=…][&dry_run=true]; for csv the
// mapping comes in the header Tresor-Mapping (JSON).
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	req := tresor.ImportRequest{Format: q.str("format"), LegalBasis: tresor.LegalBasis(q.str("legal_basis")),
		BalancingNote: q.str("balancing_note"), Network: q.str("network"), Mapping: r.Header.Get("Tresor-Mapping")}
	if dry := q.str("dry_run"); dry != "" {
		if req.DryRun, err = strconv.ParseBool(dry); err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "dry_run must be true or false.")
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	if req.Format == "" || req.LegalBasis == "" {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the format (linkedin, vcard, mastodon-following, csv) and the legal_basis.")
	}
	rep, err := s.svc.Imports.Import(r.Context(), r.Body, req)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tresor.Errorf(tresor.ECBodyTooLarge, "The file is larger than %d MiB; split it. The batches of 10,000 rows read before the limit are stored; importing the rest creates no duplicates.", ImportBodyLimit>>20)
	}
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if req.DryRun {
		status = http.StatusOK
	}
	return writeJSON(w, status, rep)
}

// importList lists the history of imports the purpose may see, newest
// first: ?purpose= (only under data_protection for another purpose), ?limit, ?cursor.
func (s *Server) importList(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := tresor.ImportQuery{Purpose: q.str("purpose"), Page: q.page()}
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Imports.Imports(r.Context(), f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// importGet returns one import record, with its progress while it runs.
func (s *Server) importGet(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.svc.Imports.ImportRecord(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

// notices lists the Art. 14 information duties: ?open=true, ?overdue=true.
func (s *Server) notices(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := tresor.NoticeQuery{ContactID: q.id("contact"), Page: q.page()}
	if v := q.str("open"); v != "" {
		if f.Open, err = strconv.ParseBool(v); err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "open must be true or false.")
		}
	}
	if v := q.str("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "overdue must be true or false.")
		}
		if b {
			f.Open, f.DueBefore = true, time.Now()
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Notices.Notices(r.Context(), f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// sendNotices mails the open notices (?overdue=true: only the overdue ones).
func (s *Server) sendNotices(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	due := time.Time{}
	if v := q.str("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "overdue must be true or false.")
		}
		if b {
			due = time.Now()
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	sent, other, err := s.svc.Notices.SendNotices(r.Context(), due)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"sent": sent, "other_channel": other})
}

// noticeGivenRequest is the body of POST /api/v1/notices/{id}/given.
type noticeGivenRequest struct {
	Channel string `json:"channel"`
}

// noticeGiven records a notice given another way than by e-mail.
func (s *Server) noticeGiven(w http.ResponseWriter, r *http.Request) error {
	var in noticeGivenRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	if err := s.svc.Notices.MarkNoticeGiven(r.Context(), r.PathValue("id"), in.Channel); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// channelRoutes are the company's social channels.
func (s *Server) channelRoutes() []route {
	return []route{
		{"POST", "/api/v1/channels", Admin, s.createChannel},
		{"GET", "/api/v1/channels", SignedIn, s.listChannels},
		{"DELETE", "/api/v1/channels/{id}", Admin, s.deleteChannel},
		{"POST", "/api/v1/channels/{id}/posts", Purpose, s.schedulePost},
		{"GET", "/api/v1/channels/{id}/posts", SignedIn, s.listPosts},
		{"POST", "/api/v1/channels/{id}/messages", Purpose, s.sendSocial},
		{"POST", "/api/v1/channels/{id}/inbox", Purpose, s.pollInbox},
		{"GET", "/api/v1/channels/{id}/profile", Purpose, s.socialProfile},
	}
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in tresor.SocialChannelRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	ch, err := s.svc.Social.CreateChannel(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ch)
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	chs, err := s.svc.Social.Channels(r.Context())
	if err != nil {
		return err
	}
	if chs == nil {
		chs = []tresor.SocialChannel{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": chs})
}

func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Social.DeleteChannel(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postRequest is the body of POST /api/v1/channels/{id}/posts.
type postRequest struct {
	Text      string    `json:"text"`
	PublishAt time.Time `json:"publish_at,omitzero"`
}

func (s *Server) schedulePost(w http.ResponseWriter, r *http.Request) error {
	var in postRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	p, err := s.svc.Social.SchedulePost(r.Context(), &tresor.Post{ChannelID: r.PathValue("id"), Text: in.Text, PublishAt: in.PublishAt})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) listPosts(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	f := tresor.PostQuery{ChannelID: r.PathValue("id"), Page: q.page()}
	if err := q.err(); err != nil {
		return err
	}
	out, err := pageOf(s.svc.Social.Posts(r.Context(), f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// messageRequest is the body of POST /api/v1/channels/{id}/messages.
type messageRequest struct {
	ContactID   string `json:"contact_id"`
	Text        string `json:"text"`
	Direct      bool   `json:"direct"`
	Advertising bool   `json:"advertising"`
	InReplyTo   string `json:"in_reply_to,omitempty"`
}

// sendSocial writes to one person; the answer is the outbound gate's decision.
func (s *Server) sendSocial(w http.ResponseWriter, r *http.Request) error {
	var in messageRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	d, err := s.svc.Social.SendSocial(r.Context(), tresor.SocialSend{ChannelID: r.PathValue("id"), ContactID: in.ContactID, Text: in.Text,
		Direct: in.Direct, Advertising: in.Advertising, InReplyTo: in.InReplyTo})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}

func (s *Server) pollInbox(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.Social.PollInbox(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// socialProfile reads a public profile: ?handle=@name@host.
func (s *Server) socialProfile(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	handle := q.str("handle")
	if err := q.err(); err != nil {
		return err
	}
	if handle == "" {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the handle: ?handle=@name@host.")
	}
	p, dropped, err := s.svc.Social.SocialProfile(r.Context(), r.PathValue("id"), handle)
	if err != nil {
		return err
	}
	if dropped == nil {
		dropped = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"profile": p, "dropped": dropped})
}
