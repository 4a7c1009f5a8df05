package server

import (
	"context"
	"net/http"
	"strconv"

	"tresor"
)

// privacyRoutes are the consent ledger, the outbound gate, objection,
// restriction, campaigns and the purpose catalogue.
func (s *Server) privacyRoutes() []route {
	rs := []route{
		{"GET", "/api/v1/purposes", SignedIn, s.purposes},
		{"POST", "/api/v1/contacts/{id}/consents", Purpose, s.recordConsent},
		{"GET", "/api/v1/contacts/{id}/consents", Purpose, s.consents},
		{"GET", "/api/v1/contacts/{id}/reach", SignedIn, s.reach},
		{"POST", "/api/v1/contacts/{id}/objection", Purpose, s.object},
		{"POST", "/api/v1/contacts/{id}/restriction", Purpose, s.restrict},
		{"GET", "/api/v1/campaigns/{id}/audience", Purpose, s.audience},
		{"POST", "/api/v1/campaigns/{id}/send", Purpose, s.sendCampaign},
	}
	return append(rs, crud(s, "/api/v1/campaigns", Purpose, resource[tresor.Campaign]{
		create: s.svc.Campaigns.CreateCampaign, get: s.svc.Campaigns.Campaign,
		update: s.svc.Campaigns.UpdateCampaign, remove: s.svc.Campaigns.DeleteCampaign,
		list: func(ctx context.Context, q query) (any, error) {
			f := tresor.CampaignFilter{Page: q.page()}
			if err := q.err(); err != nil {
				return nil, err
			}
			return pageOf(s.svc.Campaigns.Campaigns(ctx, f))
		},
	})...)
}

// purposes describes the purposes, with what each may store and on which
// grounds, in German and English (R13).
func (s *Server) purposes(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"items": s.opt.Catalogue})
}

func (s *Server) recordConsent(w http.ResponseWriter, r *http.Request) error {
	var in tresor.ConsentRequest
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	st, err := s.svc.Consents.RecordConsent(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if st.State == tresor.ConsentPending {
		status = http.StatusAccepted // waiting for the person's confirmation
	}
	return writeJSON(w, status, st)
}

func (s *Server) consents(w http.ResponseWriter, r *http.Request) error {
	h, err := s.svc.Consents.Consents(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// reach answers whether the contact may be reached: ?purpose=P&channel=C[&advertising=true].
func (s *Server) reach(w http.ResponseWriter, r *http.Request) error {
	q, err := newQuery(r.URL.Query())
	if err != nil {
		return err
	}
	purpose, channel, adv := q.str("purpose"), q.str("channel"), q.str("advertising")
	if err := q.err(); err != nil {
		return err
	}
	if purpose == "" || channel == "" {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the purpose and the channel: ?purpose=marketing&channel=email.")
	}
	advertising := false
	if adv != "" {
		if advertising, err = strconv.ParseBool(adv); err != nil {
			return tresor.Errorf(tresor.ECInvalidParameter, "advertising must be true or false.")
		}
	}
	d, err := s.svc.Consents.Reach(r.Context(), r.PathValue("id"), purpose, tresor.ConsentChannel(channel), advertising)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) object(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Consents.Object(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, c)
}

// restriction is the body of POST /api/v1/contacts/{id}/restriction; lifting
// (restricted false) needs the reason.
type restriction struct {
	Restricted bool   `json:"restricted"`
	Reason     string `json:"reason,omitempty"`
}

func (s *Server) restrict(w http.ResponseWriter, r *http.Request) error {
	var in restriction
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	var c *tresor.Contact
	var err error
	if in.Restricted {
		c, err = s.svc.Consents.Restrict(r.Context(), r.PathValue("id"), true)
	} else {
		c, err = s.svc.Consents.LiftRestriction(r.Context(), r.PathValue("id"), in.Reason)
	}
	if err != nil {
		return err
	}
	return writeObject(w, http.StatusOK, c)
}

func (s *Server) audience(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.Campaigns.Audience(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) sendCampaign(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.Campaigns.SendCampaign(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
