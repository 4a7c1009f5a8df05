package server

import (
	"net/http"
	"strings"
	"time"

	"tresor"
)

// The company's social channels in the workspace (issue [2.2]): their
// state and last error, the posts published and scheduled, a new post, and
// reading the inbox now. Channels are added by an administrator (their
// credentials come out of band, see `tresor channel add`).

func (s *Server) channelPages() []route {
	return []route{
		{"GET", "/channels", SignedIn, s.channelsPage},
		{"GET", "/channels/{id}", SignedIn, s.channelPage},
		{"POST", "/channels/{id}/posts", SignedIn, s.channelPost},
		{"POST", "/channels/{id}/inbox", SignedIn, s.channelInbox},
	}
}

// channelsData is the list of channels.
type channelsData struct {
	Channels []tresor.SocialChannel
	Refusal  string
	Admin    bool
}

// channelData is one channel's page.
type channelData struct {
	Channel  tresor.SocialChannel
	Posts    []*tresor.Post
	Refusal  string
	Problem  string
	Text     string // a post's text kept after an error
	At       string // its time, as typed
	Inbox    *tresor.InboxReport
	Notice   string
	Now      time.Time
	Purposed bool // a purpose is chosen (posting and reading the inbox need one)
}

func (s *Server) channelsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "channels_title", "/channels")
	if err != nil {
		return err
	}
	d := &channelsData{Admin: tresor.ActorFrom(r.Context()).HasRole(tresor.RoleAdmin)}
	cs, err := s.svc.Social.Channels(r.Context())
	switch {
	case err == nil:
		d.Channels = cs
	case statusOf[tresor.ErrorCode(err)] >= 400 && statusOf[tresor.ErrorCode(err)] < 500:
		d.Refusal = pageRefusal(r, err)
	default:
		return err
	}
	v.Data = d
	return s.render(w, r, http.StatusOK, "channels", v)
}

func (s *Server) channelPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderChannel(w, r, http.StatusOK, &channelData{})
}

func (s *Server) renderChannel(w http.ResponseWriter, r *http.Request, status int, d *channelData) error {
	v, err := s.workspaceView(r, "channel_title", "/channels")
	if err != nil {
		return err
	}
	ctx := r.Context()
	cs, err := s.svc.Social.Channels(ctx)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	found := false
	for _, c := range cs {
		if c.ID == id {
			d.Channel, found = c, true
		}
	}
	if !found {
		return tresor.Errorf(tresor.ECNotFound, "There is no channel %q.", id)
	}
	d.Now, d.Purposed = time.Now().UTC(), tresor.PurposeFrom(ctx) != ""
	l, err := s.svc.Social.Posts(ctx, tresor.PostQuery{ChannelID: id, Page: tresor.Page{Limit: 50}})
	switch {
	case err == nil:
		d.Posts = l.Items
	case statusOf[tresor.ErrorCode(err)] >= 400 && statusOf[tresor.ErrorCode(err)] < 500:
		d.Refusal = pageRefusal(r, err)
	default:
		return err
	}
	v.Data = d
	return s.render(w, r, status, "channel", v)
}

// channelPost publishes now or schedules a company post. A post names no
// person: the gate refuses one that mentions somebody.
func (s *Server) channelPost(w http.ResponseWriter, r *http.Request) error {
	d := &channelData{Text: r.PostFormValue("text"), At: r.PostFormValue("publish_at")}
	p := &tresor.Post{ChannelID: r.PathValue("id"), Text: strings.TrimSpace(d.Text)}
	if d.At != "" {
		at, err := time.Parse("2006-01-02T15:04", d.At)
		if err != nil {
			d.Problem = translate(language(r), "channel_bad_time")
			return s.renderChannel(w, r, http.StatusUnprocessableEntity, d)
		}
		p.PublishAt = at.UTC()
	}
	return s.once(w, r, func() (string, error) {
		_, err := s.svc.Social.SchedulePost(r.Context(), p)
		if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && statusOf[code] < 500 && code != tresor.ECNotFound {
			d.Problem = pageRefusal(r, err)
			if e := tresor.AsError(err); e != nil && len(e.Fields) > 0 {
				d.Problem = e.Fields[0].Field + ": " + e.Fields[0].Message
			}
			return "", s.renderChannel(w, r, statusOf[code], d)
		} else if err != nil {
			return "", err
		}
		return "/channels/" + p.ChannelID, nil
	})
}

// channelInbox reads the channel's inbox now, through the gate: mentions
// of known people become interactions, messages cases.
func (s *Server) channelInbox(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.Social.PollInbox(r.Context(), r.PathValue("id"))
	d := &channelData{}
	if code := tresor.ErrorCode(err); err != nil && statusOf[code] >= 400 && code != tresor.ECNotFound && code != tresor.ECInternal {
		d.Problem = pageRefusal(r, err)
		return s.renderChannel(w, r, http.StatusOK, d)
	} else if err != nil {
		return err
	}
	d.Inbox = rep
	return s.renderChannel(w, r, http.StatusOK, d)
}
